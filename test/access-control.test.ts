// Every route and method declares who may call it, docs/access-control.md says the same as the running gateway, and
// nothing but a public route answers a caller without credentials: no data, no state change.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCatalogue } from '../core/errors/index.js';
import { packageRoot } from '../core/paths.js';
import { grpcInventory, httpInventory, renderAccessDoc } from '../gateway/access-inventory.js';
import { loadProtos } from '../gateway/grpc/protos.js';
import { startTestApp, type TestApp } from './support/app.js';

const DOC = join(packageRoot(), 'docs', 'access-control.md');
let t: TestApp;
let openapi: { paths: Record<string, Record<string, { 'x-zt-access'?: string }>> };

beforeAll(async () => {
  t = await startTestApp();
  openapi = (await (await fetch(`${t.httpUrl}/docs/json`)).json()) as typeof openapi;
}, 120_000);
afterAll(async () => {
  await t?.close();
});

const knownCode = (code: unknown): boolean => typeof code === 'string' && code in errorCatalogue;

describe('the access inventory', () => {
  it('gives every HTTP route and gRPC method an access class, and docs/access-control.md lists them as the gateway has them', () => {
    const http = httpInventory(openapi);
    expect(http.length).toBeGreaterThan(60);
    expect(http.filter((l) => l.access === '(none)').map((l) => l.name)).toEqual([]);
    const methods = grpcInventory(t.app.grpc.access);
    // Every method of every service the server answers (the proto files), none left out.
    const declared = new Set(methods.map((m) => m.name));
    const { root } = loadProtos();
    for (const service of [...t.app.grpc.services, 'zhengtong.v1.AuditService']) {
      for (const method of root.lookupService(service).methodsArray) expect(declared.has(`${service}/${method.name}`), `${service}/${method.name}`).toBe(true);
    }
    expect(methods.length).toBeGreaterThan(50);
    const doc = renderAccessDoc([...http, ...methods]);
    if (process.env.ZT_WRITE_DOCS === '1') writeFileSync(DOC, doc);
    expect(readFileSync(DOC, 'utf8'), 'docs/access-control.md is out of date: ZT_WRITE_DOCS=1 npx vitest run test/access-control.test.ts').toBe(doc);
  });

  it('refuses a route registered without an access class, at start', async () => {
    const { default: Fastify } = await import('fastify');
    const { isAccessClass } = await import('../transport/access.js');
    // The gateway's onRoute rule, on a bare instance: the same check, so a route without a class cannot slip in.
    const app = Fastify();
    app.addHook('onRoute', (route) => {
      if (!isAccessClass(route.config?.access)) throw new Error(`route ${route.url} declares no access class`);
    });
    expect(() => app.get('/v1/undeclared', async () => 'x')).toThrow(/declares no access class/);
  });
});

describe('callers without credentials', () => {
  it('get 401 or 403 with a catalogue code from every non-public HTTP route, and change nothing', async () => {
    const count = async (): Promise<string> =>
      JSON.stringify(
        await Promise.all(['/v1/departments?limit=500', '/v1/catalogue/resources?limit=500', '/v1/catalogue/demands?limit=500'].map(async (p) => (await (await fetch(t.httpUrl + p)).json()) as unknown)),
      );
    const before = await count();
    const refused: string[] = [];
    for (const [path, operations] of Object.entries(openapi.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        if (operation['x-zt-access'] === 'public' || path.startsWith('/docs')) continue;
        const url = t.httpUrl + path.replace(/\{[^}]+\}/g, '11210100001000010R');
        const response = await fetch(url, {
          method: method.toUpperCase(),
          ...(method === 'get' || method === 'delete' ? {} : { headers: { 'content-type': 'application/json' }, body: '{"department":"11210100001000010R","role":"administrator","uscc":"11210100900000007E","name":"冒充局"}' }),
        });
        const body = (await response.json()) as { code?: string };
        expect([401, 403], `${method.toUpperCase()} ${path} answered ${response.status} ${JSON.stringify(body)}`).toContain(response.status);
        expect(knownCode(body.code), `${method.toUpperCase()} ${path}: ${body.code}`).toBe(true);
        refused.push(`${method} ${path}`);
      }
    }
    expect(refused.length).toBeGreaterThan(20);
    expect(await count()).toBe(before);
  });

  it('get UNAUTHENTICATED or PERMISSION_DENIED with a catalogue code from every non-public gRPC method', async () => {
    const client = new grpc.Client(t.grpcAddress, grpc.credentials.createInsecure());
    const identity = (b: Buffer): Buffer => b;
    try {
      let tried = 0;
      for (const [name, access] of t.app.grpc.access) {
        if (access.kind === 'public') continue;
        tried++;
        const error = await new Promise<grpc.ServiceError | null>((resolve) => {
          if (name.endsWith('AuditService/Export')) {
            const stream = client.makeServerStreamRequest(`/${name}`, identity, identity, Buffer.alloc(0), new grpc.Metadata());
            stream.on('data', () => undefined);
            stream.on('error', (e: grpc.ServiceError) => resolve(e));
            stream.on('end', () => resolve(null));
            return;
          }
          client.makeUnaryRequest(`/${name}`, identity, identity, Buffer.alloc(0), new grpc.Metadata(), (e) => resolve(e));
        });
        expect(error, `${name} answered`).not.toBeNull();
        expect([grpc.status.UNAUTHENTICATED, grpc.status.PERMISSION_DENIED], `${name}: ${error!.code} ${error!.details}`).toContain(error!.code);
        expect(knownCode(error!.metadata.get('zt-error-code')[0]), name).toBe(true);
      }
      expect(tried).toBeGreaterThan(20);
    } finally {
      client.close();
    }
  });
});
