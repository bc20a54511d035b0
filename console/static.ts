// The web console's page, served by the gateway on its own origin at /console (docs/console.md). The page is built
// at `npm install` (scripts/build-console.mjs) into dist/web: index.html, a manifest and content-hashed assets.
// index.html and client-side routes are answered with the page and `no-cache`; a hashed asset never changes, so it is
// cached for a year as immutable. Every answer carries a strict Content-Security-Policy: no inline script or style,
// nothing from another origin. The files are read once, on the first request that finds them (a gateway started
// before the build picks the page up when it appears); until then /console answers 503 saying how to build it.
import { readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { PUBLIC } from '../transport/access.js';

export const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** The headers every console answer carries (the page's and, through consoleSecurityHeaders, the API's). */
export const CONSOLE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': CONSOLE_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
});

/** An onRequest hook for the gateway's root: gives every /console answer (the API's too) the console's headers. */
export function consoleSecurityHeaders(request: FastifyRequest, reply: FastifyReply, done: () => void): void {
  if (request.url === '/console' || request.url.startsWith('/console/') || request.url.startsWith('/console?')) reply.headers(CONSOLE_HEADERS);
  done();
}

const TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.woff2': 'font/woff2',
  '.json': 'application/json; charset=utf-8',
};

export interface ConsoleManifest {
  /** Asset file names (under assets/), content-hashed. */
  files: string[];
  entry: { js: string; css: string | null };
  builtAt: string;
}

interface LoadedConsole {
  index: Buffer;
  assets: Map<string, { body: Buffer; type: string }>;
}

export interface ConsoleStaticOptions {
  /** The built console: dist/web (index.html, manifest.json, assets/). */
  dir: string;
}

const IMMUTABLE = 'public, max-age=31536000, immutable';
const NOT_BUILT = 'ZT_ERR_CONSOLE_NOT_BUILT';

function load(dir: string): LoadedConsole | null {
  let manifest: ConsoleManifest;
  let index: Buffer;
  try {
    manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as ConsoleManifest;
    index = readFileSync(join(dir, 'index.html'));
  } catch {
    return null;
  }
  const assets = new Map<string, { body: Buffer; type: string }>();
  for (const file of manifest.files) {
    // Only plain hashed names from the manifest are served, never a path the request made up.
    if (!/^[A-Za-z0-9_.-]+$/.test(file)) continue;
    assets.set(file, { body: readFileSync(join(dir, 'assets', file)), type: TYPES[extname(file)] ?? 'application/octet-stream' });
  }
  return { index, assets };
}

/** Routes under /console that are not the page: the API and the sign-in redirects answer there, or 404. */
const NOT_PAGE = /^\/console\/(api|assets|auth)(\/|$)/;

export function consoleStatic(options: ConsoleStaticOptions): FastifyPluginAsync {
  let loaded: LoadedConsole | null = null;
  const current = (): LoadedConsole | null => (loaded ??= load(options.dir));

  const notBuilt = (request: FastifyRequest, reply: FastifyReply) =>
    reply
      .code(503)
      .headers(CONSOLE_HEADERS)
      .header('cache-control', 'no-store')
      .send({ code: NOT_BUILT, message: `the web console is not built (no ${join(options.dir, 'index.html')}): run \`npm run build\`, then reload`, requestId: request.id });

  const page = (request: FastifyRequest, reply: FastifyReply) => {
    const c = current();
    if (!c) return notBuilt(request, reply);
    return reply.headers(CONSOLE_HEADERS).header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(c.index);
  };

  const notFound = (request: FastifyRequest, reply: FastifyReply) =>
    reply
      .code(404)
      .headers(CONSOLE_HEADERS)
      .send({ code: 'ZT_ERR_ROUTE_NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}`, requestId: request.id });

  return async (app) => {
    const config = { access: PUBLIC };
    const schema = { hide: true };
    app.get('/console', { config, schema }, (request, reply) => reply.headers(CONSOLE_HEADERS).redirect('/console/', 302));
    app.get('/console/', { config, schema }, page);
    app.get<{ Params: { file: string } }>('/console/assets/:file', { config, schema }, (request, reply) => {
      const c = current();
      if (!c) return notBuilt(request, reply);
      const asset = c.assets.get(request.params.file);
      if (!asset) return notFound(request, reply);
      return reply.headers(CONSOLE_HEADERS).header('cache-control', IMMUTABLE).type(asset.type).send(asset.body);
    });
    // Client-side routes (/console/audit, /console/demands/…) get the page; the router in the page takes it from there.
    app.get('/console/*', { config, schema }, (request, reply) => (NOT_PAGE.test(request.url.split('?')[0]!) ? notFound(request, reply) : page(request, reply)));
  };
}
