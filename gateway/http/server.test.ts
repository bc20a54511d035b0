import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCatalogue } from '../../core/errors/index.js';
import { usccCheckCharacter } from '../../core/identifiers/index.js';
import type { DeliveredEvent } from '../../core/events/index.js';
import { DEMO_DEPARTMENTS } from '../../demo/index.js';
import { startTestApp, type TestApp } from '../../test/support/app.js';
import { demoSigner, platformOperatorKey, signedHeaders } from '../../test/support/signing.js';

let t: TestApp;
const received: DeliveredEvent[] = [];

beforeAll(async () => {
  t = await startTestApp();
  await t.app.ctx.bus.subscribe({ topics: ['registry.departments'], group: 'http-test', fromBeginning: true, handler: async (e) => void received.push(e) });
});
afterAll(async () => {
  await t?.close();
});

async function call(method: string, path: string, init: { body?: string; headers?: Record<string, string> } = {}) {
  const response = await fetch(t.httpUrl + path, { method, body: init.body, headers: init.headers });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json: json as Record<string, unknown> };
}

/** A POST signed by the platform administrator (the platform operator's key), as registering a department needs. */
const postJson = async (path: string, body: unknown) => {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return call('POST', path, { body: text, headers: await signedHeaders(platformOperatorKey(t.config), 'POST', path, text) });
};

function expectError(r: { status: number; json: Record<string, unknown> }, status: number, code: keyof typeof errorCatalogue): void {
  expect(r.status).toBe(status);
  expect(r.json.code).toBe(code);
  expect(typeof r.json.message).toBe('string');
  expect(typeof r.json.requestId).toBe('string');
  expect(errorCatalogue[code].http).toBe(status);
}

/** Writes `text` to a fresh connection and reads the one answer (the gateway closes the connection after it). */
function rawAnswer(text: string): Promise<{ status: number; body: unknown }> {
  const url = new URL(t.httpUrl);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host: url.hostname, port: Number(url.port) }, () => socket.write(text, 'latin1'));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => undefined); // the gateway may reset after its answer
    socket.on('close', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(raw);
      if (!m) return reject(new Error(`not an HTTP answer: ${JSON.stringify(raw.slice(0, 200))}`));
      resolve({ status: Number(m[1]), body: JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) });
    });
  });
}

function newUscc(serial: number): string {
  const first17 = `112101009${String(serial).padStart(8, '0')}`;
  return first17 + usccCheckCharacter(first17);
}

describe('HTTP service endpoints', () => {
  it('answers liveness and readiness', async () => {
    expect((await call('GET', '/healthz')).json).toEqual({ status: 'ok' });
    const ready = await call('GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.json).toEqual({ status: 'ready', checks: { database: { status: 'up', kind: 'pglite' }, eventBus: { status: 'up', kind: 'memory' } } });
  });

  it('stays ready, degraded, while the event bus is down, saying how many events wait; not ready without its database', async () => {
    const other = await startTestApp({}, { seedDemo: false });
    try {
      const ctx = other.app.ctx as unknown as { bus: { ping(): Promise<void> }; db: { ping(): Promise<void> } };
      const [busPing, dbPing] = [ctx.bus.ping.bind(ctx.bus), ctx.db.ping.bind(ctx.db)];
      ctx.bus.ping = () => Promise.reject(new Error('the broker is down'));
      const degraded = await fetch(`${other.httpUrl}/readyz`);
      expect(degraded.status).toBe(200);
      const body = (await degraded.json()) as { status: string; checks: { eventBus: { status: string; error: string; outboxWaiting: number } } };
      expect(body.status).toBe('degraded');
      expect(body.checks.eventBus).toMatchObject({ status: 'down', error: 'the broker is down' });
      expect(body.checks.eventBus.outboxWaiting).toBeGreaterThanOrEqual(0);
      ctx.db.ping = () => Promise.reject(new Error('the database is down'));
      const down = await fetch(`${other.httpUrl}/readyz`);
      expect(down.status).toBe(503);
      expect(((await down.json()) as { status: string }).status).toBe('not-ready');
      [ctx.bus.ping, ctx.db.ping] = [busPing, dbPing];
      expect((await fetch(`${other.httpUrl}/readyz`)).status).toBe(200);
    } finally {
      await other.close();
    }
  });

  it('echoes a well-formed request id and makes one up otherwise', async () => {
    const given = await call('GET', '/healthz', { headers: { 'x-request-id': 'case-2026-0001' } });
    expect(given.headers.get('x-request-id')).toBe('case-2026-0001');
    const made = await call('GET', '/nope', { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(made.json.requestId).toBe(made.headers.get('x-request-id'));
  });

  it('reports build information', async () => {
    const r = await call('GET', '/v1/info');
    expect(r.json).toMatchObject({ name: 'zhengtong', database: 'pglite', eventBus: 'memory' });
  });

  it('serves an OpenAPI document generated from the route schemas, and a browsable UI', async () => {
    const doc = await call('GET', '/docs/json');
    expect(doc.status).toBe(200);
    const paths = doc.json.paths as Record<string, Record<string, unknown>>;
    expect(Object.keys(paths)).toEqual(expect.arrayContaining(['/healthz', '/readyz', '/metrics', '/v1/info', '/v1/departments', '/v1/departments/{uscc}']));
    expect(paths['/v1/departments']!.post).toBeDefined();
    expect(JSON.stringify(doc.json)).toContain('ErrorBody');
    const ui = await call('GET', '/docs/');
    expect(ui.status).toBe(200);
    expect(ui.text).toMatch(/swagger/i);
  });

  it('exposes Prometheus metrics per route, and health gauges', async () => {
    await call('GET', '/v1/departments');
    const r = await call('GET', '/metrics');
    expect(r.headers.get('content-type')).toMatch(/text\/plain/);
    expect(r.text).toMatch(/zt_http_request_duration_seconds_count\{[^}]*method="GET",route="\/v1\/departments",status="200"\} \d+/);
    expect(r.text).toMatch(/zt_database_up\{[^}]*\} 1/);
    expect(r.text).toMatch(/zt_event_bus_up\{[^}]*\} 1/);
    expect(r.text).toContain('zt_outbox_backlog_events');
  });

  it('says how busy the main thread is: idle and active seconds that only grow, and the utilisation between scrapes', async () => {
    const read = (text: string, name: string): number => {
      const line = text.split('\n').find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
      expect(line, name).toBeDefined();
      return Number(line!.slice(line!.lastIndexOf(' ') + 1));
    };
    const first = (await call('GET', '/metrics')).text;
    // Busy for a while on the event loop, then idle for a while. Just after start-up the gateway's own background
    // work (the event bus joining, indexes built) can keep the loop busy through one short pause, so the idle time is
    // read again after each further pause, for up to a few seconds.
    const end = performance.now() + 30;
    while (performance.now() < end);
    let second = '';
    for (let pause = 0; pause < 100; pause++) {
      await new Promise((r) => setTimeout(r, 30));
      second = (await call('GET', '/metrics')).text;
      if (read(second, 'zt_event_loop_idle_seconds_total') > read(first, 'zt_event_loop_idle_seconds_total')) break;
    }
    for (const name of ['zt_event_loop_idle_seconds_total', 'zt_event_loop_active_seconds_total']) {
      expect(read(second, name)).toBeGreaterThan(read(first, name));
    }
    const utilisation = read(second, 'zt_event_loop_utilization');
    expect(utilisation).toBeGreaterThan(0);
    expect(utilisation).toBeLessThanOrEqual(1);
  });
});

describe('HTTP bad input gets the catalogue body', () => {
  it('unknown route', async () => {
    expectError(await call('GET', '/v1/nothing-here'), 404, 'ZT_ERR_ROUTE_NOT_FOUND');
  });

  it('malformed JSON', async () => {
    expectError(await postJson('/v1/departments', '{"uscc": '), 400, 'ZT_ERR_REQUEST_MALFORMED_JSON');
  });

  it('empty JSON body', async () => {
    expectError(await call('POST', '/v1/departments', { headers: { 'content-type': 'application/json' } }), 400, 'ZT_ERR_REQUEST_MALFORMED_JSON');
  });

  it('unsupported content type', async () => {
    expectError(await call('POST', '/v1/departments', { body: 'uscc=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415, 'ZT_ERR_REQUEST_UNSUPPORTED_MEDIA_TYPE');
  });

  it('body that does not fit the schema, with details', async () => {
    const r = await postJson('/v1/departments', { uscc: newUscc(1), name: 'x', extra: true });
    expectError(r, 400, 'ZT_ERR_REQUEST_INVALID');
    expect(r.json.details).toBeInstanceOf(Array);
    expectError(await postJson('/v1/departments', [1, 2]), 400, 'ZT_ERR_REQUEST_INVALID');
    expectError(await call('GET', '/v1/departments?limit=100000'), 400, 'ZT_ERR_REQUEST_INVALID');
  });

  it('huge payload', async () => {
    const r = await postJson('/v1/departments', { uscc: newUscc(2), name: 'x'.repeat(t.config.bodyLimitBytes) });
    expectError(r, 413, 'ZT_ERR_REQUEST_TOO_LARGE');
    expectError(await call('GET', `/v1/departments/${newUscc(2)}`), 404, 'ZT_ERR_DEPARTMENT_NOT_FOUND');
  });

  it('a broken percent-escape, or a path parameter over the router\'s limit', async () => {
    expectError(await call('GET', '/v1/departments/%zz'), 400, 'ZT_ERR_REQUEST_INVALID');
    expectError(await call('GET', '/v1/catalogue/resources/%C3/items'), 400, 'ZT_ERR_REQUEST_INVALID');
    expectError(await call('GET', `/v1/departments/${'9'.repeat(200)}`), 400, 'ZT_ERR_REQUEST_INVALID');
  });

  it('framing node:http cannot parse, and headers over its limit', async () => {
    const garbage = await rawAnswer('\u0001GARBAGE\r\n\r\n');
    expect(garbage.status).toBe(400);
    expect(garbage.body).toMatchObject({ code: 'ZT_ERR_REQUEST_INVALID', message: expect.any(String), requestId: expect.any(String) });
    const twoLengths = await rawAnswer('POST /v1/departments HTTP/1.1\r\nHost: g\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}');
    expect(twoLengths.body).toMatchObject({ code: 'ZT_ERR_REQUEST_INVALID' });
    const overflow = await rawAnswer(`GET /v1/info HTTP/1.1\r\nHost: g\r\nzt-certificate: ${'A'.repeat(65536)}\r\n\r\n`);
    expect(overflow.status).toBe(431);
    expect(overflow.body).toMatchObject({ code: 'ZT_ERR_REQUEST_HEADERS_TOO_LARGE', requestId: expect.any(String) });
    expect(errorCatalogue.ZT_ERR_REQUEST_HEADERS_TOO_LARGE.http).toBe(431);
  });

  it('a value the database cannot take (a NUL byte, a number past its column) is a 400, not a 500', async () => {
    expectError(await call('GET', '/v1/catalogue/demands?serviceItem=a%00b'), 400, 'ZT_ERR_REQUEST_INVALID');
    expectError(await call('GET', '/v1/licence-status-lists/a%00b/1'), 400, 'ZT_ERR_REQUEST_INVALID');
    expectError(await call('GET', '/v1/licence-status-lists/112101000010000537/112101000010000537'), 400, 'ZT_ERR_REQUEST_INVALID');
  });

  it('identifier with a wrong check character', async () => {
    const good = newUscc(3);
    const bad = good.slice(0, 17) + (good[17] === '0' ? '1' : '0');
    expectError(await postJson('/v1/departments', { uscc: bad, name: '测试局' }), 400, 'ZT_ERR_ID_INVALID_USCC');
    expectError(await call('GET', `/v1/departments/${bad}`), 400, 'ZT_ERR_ID_INVALID_USCC');
  });
});

describe('departments over HTTP', () => {
  it('lists the seeded demo departments a page at a time', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    do {
      const r = await call('GET', `/v1/departments?limit=3${after ? `&after=${after}` : ''}`);
      expect(r.status).toBe(200);
      const page = r.json as { items: { uscc: string }[]; next: string | null };
      seen.push(...page.items.map((d) => d.uscc));
      after = page.next;
    } while (after);
    expect(seen).toEqual(DEMO_DEPARTMENTS.map((d) => d.uscc).sort());
  });

  it('registers a department, refuses a duplicate, and publishes one event', async () => {
    const uscc = newUscc(4);
    // Only the platform administrator registers departments: anyone else is refused and nothing is stored.
    const text = JSON.stringify({ uscc, name: '冒充局' });
    expectError(await call('POST', '/v1/departments', { body: text, headers: { 'content-type': 'application/json' } }), 401, 'ZT_ERR_REQUEST_UNSIGNED');
    const department = demoSigner(t.config.dataDir, DEMO_DEPARTMENTS[0]!.uscc);
    expectError(await call('POST', '/v1/departments', { body: text, headers: await signedHeaders(department, 'POST', '/v1/departments', text) }), 403, 'ZT_ERR_ACCESS_FORBIDDEN');
    expectError(await call('GET', `/v1/departments/${uscc}`), 404, 'ZT_ERR_DEPARTMENT_NOT_FOUND');
    const created = await postJson('/v1/departments', { uscc, name: '沈阳市测试局', shortName: '测试局' });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ uscc, name: '沈阳市测试局', shortName: '测试局', areaCode: '210100' });
    expect(Date.parse(created.json.createdAt as string)).not.toBeNaN();

    expectError(await postJson('/v1/departments', { uscc, name: '另一个名字' }), 409, 'ZT_ERR_DEPARTMENT_EXISTS');
    const fetched = await call('GET', `/v1/departments/${uscc}`);
    expect(fetched.json.name).toBe('沈阳市测试局');

    const deadline = Date.now() + 5000;
    const mine = () => received.filter((e) => e.key === uscc);
    while (mine().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(mine()).toHaveLength(1);
    const event = JSON.parse(mine()[0]!.value.toString()) as { type: string; department: { uscc: string } };
    expect(event.type).toBe('department.registered');
    expect(event.department.uscc).toBe(uscc);
    expect(mine()[0]!.headers['zt-event-id']).toMatch(/^\d+$/);
  });
});

describe('graceful shutdown', () => {
  it('fails readiness and refuses new requests once closing', async () => {
    const other = await startTestApp({}, { seedDemo: false });
    other.app.ctx.lifecycle.closing = true;
    const ready = await fetch(`${other.httpUrl}/readyz`);
    expect(ready.status).toBe(503);
    const refused = await fetch(`${other.httpUrl}/v1/departments`);
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { code: string }).code).toBe('ZT_ERR_SHUTTING_DOWN');
    other.app.ctx.lifecycle.closing = false;
    await other.close();
  });
});
