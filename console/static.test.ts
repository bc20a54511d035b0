// The console's static serving: the page and client-side routes with no-cache, hashed assets as immutable, the
// strict CSP on every answer, every route public, and a 503 saying how to build when nothing is built.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isAccessClass } from '../transport/access.js';
import { CONSOLE_CSP, consoleSecurityHeaders, consoleStatic } from './static.js';

let dir: string;
let app: FastifyInstance;
const routes: { url: string; access: unknown }[] = [];

function build(files: boolean): void {
  if (!files) return;
  mkdirSync(join(dir, 'assets'), { recursive: true });
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>console</title><script type="module" src="/console/assets/main-ABC123.js"></script>');
  writeFileSync(join(dir, 'assets', 'main-ABC123.js'), 'console.log(1)');
  writeFileSync(join(dir, 'assets', 'main-DEF456.css'), 'body{}');
  writeFileSync(join(dir, 'assets', 'stray.js'), 'not in the manifest');
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ files: ['main-ABC123.js', 'main-DEF456.css'], entry: { js: 'main-ABC123.js', css: 'main-DEF456.css' }, builtAt: new Date().toISOString() }));
}

async function start(files: boolean): Promise<void> {
  build(files);
  app = Fastify();
  app.addHook('onRoute', (r) => {
    routes.push({ url: r.url, access: r.config?.access });
  });
  app.addHook('onRequest', consoleSecurityHeaders);
  await app.register(consoleStatic({ dir }));
  app.get('/console/api/session', { config: { access: { kind: 'public' } } }, async () => ({ person: null }));
  await app.ready();
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'zt-console-'));
  routes.length = 0;
});
afterEach(async () => {
  await app?.close();
  rmSync(dir, { recursive: true, force: true });
});

const strict = (headers: Record<string, unknown>) => {
  expect(headers['content-security-policy']).toBe(CONSOLE_CSP);
  expect(headers['x-content-type-options']).toBe('nosniff');
  expect(headers['referrer-policy']).toBe('no-referrer');
};

describe('consoleStatic', () => {
  it('redirects /console to /console/ and serves the page with no-cache', async () => {
    await start(true);
    const redirect = await app.inject('/console');
    expect(redirect.statusCode).toBe(302);
    expect(redirect.headers.location).toBe('/console/');
    strict(redirect.headers);
    const page = await app.inject('/console/');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['cache-control']).toBe('no-cache');
    expect(page.body).toContain('main-ABC123.js');
    strict(page.headers);
  });

  it('answers client-side routes with the page', async () => {
    await start(true);
    for (const url of ['/console/audit', '/console/audit/records/0199-abc', '/console/me/licences?x=1']) {
      const r = await app.inject(url);
      expect(r.statusCode, url).toBe(200);
      expect(r.body).toContain('<title>console</title>');
      expect(r.headers['cache-control']).toBe('no-cache');
    }
  });

  it('serves hashed assets as immutable, and only the manifest’s', async () => {
    await start(true);
    const js = await app.inject('/console/assets/main-ABC123.js');
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toMatch(/^text\/javascript/);
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    strict(js.headers);
    expect((await app.inject('/console/assets/main-DEF456.css')).headers['content-type']).toMatch(/^text\/css/);
    for (const url of ['/console/assets/stray.js', '/console/assets/..%2Fmanifest.json', '/console/assets/nope.js']) {
      const r = await app.inject(url);
      expect(r.statusCode, url).toBe(404);
      expect(r.json().code).toBe('ZT_ERR_ROUTE_NOT_FOUND');
    }
  });

  it('leaves the API and sign-in paths alone: their routes answer, unknown ones are 404 JSON, never the page', async () => {
    await start(true);
    const api = await app.inject('/console/api/session');
    expect(api.json()).toEqual({ person: null });
    strict(api.headers); // the root hook gives the API the console's headers too
    for (const url of ['/console/api/nothing', '/console/auth/unknown', '/console/api']) {
      const r = await app.inject(url);
      expect(r.statusCode, url).toBe(404);
      expect(r.body).not.toContain('<title>');
    }
  });

  it('declares every route public', async () => {
    await start(true);
    const own = routes.filter((r) => r.url.startsWith('/console') && !r.url.startsWith('/console/api'));
    expect([...new Set(own.map((r) => r.url))].sort()).toEqual(['/console', '/console/', '/console/*', '/console/assets/:file']);
    for (const r of own) {
      expect(isAccessClass(r.access)).toBe(true);
      expect(r.access).toMatchObject({ kind: 'public' });
    }
  });

  it('answers 503 saying how to build when the console is not built, and picks it up once built', async () => {
    await start(false);
    for (const url of ['/console/', '/console/audit', '/console/assets/main-ABC123.js']) {
      const r = await app.inject(url);
      expect(r.statusCode, url).toBe(503);
      expect(r.json().code).toBe('ZT_ERR_CONSOLE_NOT_BUILT');
      expect(r.json().message).toContain('npm run build');
      strict(r.headers);
    }
    build(true);
    expect((await app.inject('/console/')).statusCode).toBe(200);
  });
});
