import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ZtError } from '../../../core/errors/index.js';
import type { ConnectorQuery } from '../connector.js';
import { HttpConnector, type HttpConnectorOptions } from './index.js';

/** What the scripted supplier received. */
interface Hit {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** Answers one request; `hit` counts from 1. */
type Script = (res: ServerResponse, hit: number, req: Hit) => void;

let server: Server;
let base: string;
let script: Script;
const hits: Hit[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const hit = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      hits.push(hit);
      script(res, hits.length, hit);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/supplier/v1`;
});

afterAll(async () => {
  server.closeAllConnections();
  server.close();
  await once(server, 'close');
});

const connectors: HttpConnector[] = [];
afterEach(async () => {
  hits.length = 0;
  for (const connector of connectors.splice(0)) await connector.close();
});

function connect(options: Partial<HttpConnectorOptions> = {}): HttpConnector {
  const connector = new HttpConnector({ endpoint: base, timeoutMs: 500, backoffBaseMs: 1, backoffMaxMs: 5, ...options });
  connectors.push(connector);
  return connector;
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

const found = (values: Record<string, unknown>, updatedAt?: string) => (res: ServerResponse) =>
  json(res, 200, updatedAt === undefined ? { found: true, values } : { found: true, values, updatedAt });

const query: ConnectorQuery = {
  resource: '210100-GA-0001',
  subject: { kind: 'person', code: '11010519491231002X' },
  items: ['name', 'address'],
};

async function failure(promise: Promise<unknown>): Promise<ZtError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(ZtError);
  return error as ZtError;
}

describe('HttpConnector: answers', () => {
  it('POSTs the query to {endpoint}/query with the configured headers and returns the record', async () => {
    script = found({ name: '张三', address: { city: '沈阳' } }, '2025-07-01T08:00:00+08:00');
    const connector = connect({ headers: { 'X-Api-Key': 'secret-key' } });
    const before = Date.now();
    const record = await connector.fetch(query);
    expect(record).toEqual({
      values: { name: '张三', address: { city: '沈阳' } },
      retrievedAt: expect.any(Date),
      updatedAt: new Date('2025-07-01T00:00:00Z'),
    });
    expect(record!.retrievedAt.getTime()).toBeGreaterThanOrEqual(before);
    expect(record!.retrievedAt.getTime()).toBeLessThanOrEqual(Date.now());
    expect(hits).toHaveLength(1);
    const hit = hits[0]!;
    expect(hit.method).toBe('POST');
    expect(hit.url).toBe('/supplier/v1/query');
    expect(hit.headers['content-type']).toBe('application/json');
    expect(hit.headers['x-api-key']).toBe('secret-key');
    expect(JSON.parse(hit.body)).toEqual({ resource: '210100-GA-0001', subject: { kind: 'person', code: '11010519491231002X' }, items: ['name', 'address'] });
    expect(connector.source).toBe(`http:${base}`);
  });

  it('takes a trailing slash on the endpoint without doubling it', async () => {
    script = found({ name: '张三' });
    await connect({ endpoint: `${base}/` }).fetch(query);
    expect(hits[0]!.url).toBe('/supplier/v1/query');
  });

  it('returns null for found:false and for 404, without retrying', async () => {
    script = (res) => json(res, 200, { found: false });
    const connector = connect();
    expect(await connector.fetch(query)).toBeNull();
    script = (res) => json(res, 404, { error: 'no such subject' });
    expect(await connector.fetch(query)).toBeNull();
    expect(hits).toHaveLength(2);
    expect(connector.breaker.successes).toBe(2);
    expect(connector.breaker.failures).toBe(0);
  });

  it('drops the items that were not asked for, and items with a null value', async () => {
    script = found({ name: '张三', address: null, ethnicity: '汉' });
    const record = await connect().fetch(query);
    expect(record!.values).toEqual({ name: '张三' });
    expect(record!.updatedAt).toBeUndefined();
  });

  it('keeps an item named __proto__ as data, never as the prototype', async () => {
    script = (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"found":true,"values":{"__proto__":{"polluted":true}}}');
    };
    const record = await connect().fetch({ ...query, items: ['__proto__'] });
    expect(Object.getPrototypeOf(record!.values)).toBe(Object.prototype);
    expect(Object.hasOwn(record!.values, '__proto__')).toBe(true);
  });

  it.each([
    ['not JSON', 'text/html', '<html>Service Unavailable</html>'],
    ['JSON without "found"', 'application/json', '{"values":{}}'],
    ['found:true without values', 'application/json', '{"found":true}'],
    ['values that are an array', 'application/json', '{"found":true,"values":["张三"]}'],
    ['an updatedAt that is not RFC 3339', 'application/json', '{"found":true,"values":{},"updatedAt":"yesterday"}'],
    ['a JSON array', 'application/json', '[]'],
    ['an empty body', 'application/json', ''],
  ])('refuses %s as ZT_ERR_UPSTREAM_BAD_RESPONSE, without retrying', async (_, type, body) => {
    script = (res) => {
      res.writeHead(200, { 'content-type': type });
      res.end(body);
    };
    const connector = connect();
    const error = await failure(connector.fetch(query));
    expect(error.code).toBe('ZT_ERR_UPSTREAM_BAD_RESPONSE');
    expect(hits).toHaveLength(1);
    expect(connector.breaker.failures).toBe(1);
  });

  it('refuses a body that is not UTF-8', async () => {
    script = (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]));
    };
    const error = await failure(connect().fetch(query));
    expect(error.code).toBe('ZT_ERR_UPSTREAM_BAD_RESPONSE');
    expect(error.message).toMatch(/UTF-8/);
  });

  it('refuses a body over maxBodyBytes, whether or not it declares its length', async () => {
    const big = JSON.stringify({ found: true, values: { name: 'x'.repeat(2000) } });
    const connector = connect({ maxBodyBytes: 1024 });
    script = (res) => {
      // Declares its length and stalls: refused on the declaration, before the timeout.
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(big) });
      res.write(big.slice(0, 10));
    };
    expect((await failure(connector.fetch(query))).message).toMatch(/a body of 2\d{3} bytes/);
    script = (res) => {
      res.writeHead(200, { 'content-type': 'application/json' }); // chunked: the length is known only by reading
      res.write(big.slice(0, 1000));
      setTimeout(() => res.end(big.slice(1000)), 10);
    };
    const error = await failure(connector.fetch(query));
    expect(error.code).toBe('ZT_ERR_UPSTREAM_BAD_RESPONSE');
    expect(error.message).toMatch(/1024 bytes/);
    expect(hits).toHaveLength(2);
    // The same body under the limit is accepted.
    expect((await connect({ maxBodyBytes: 4096 }).fetch(query))!.values).toEqual({ name: 'x'.repeat(2000) });
  });

  it('refuses a 4xx other than 404 and 429 at once, as a breaker success (the supplier is up)', async () => {
    script = (res) => json(res, 403, { error: 'bad key' });
    const connector = connect({ retries: 3 });
    const error = await failure(connector.fetch(query));
    expect(error.code).toBe('ZT_ERR_UPSTREAM_BAD_RESPONSE');
    expect(error.message).toMatch(/403/);
    expect(hits).toHaveLength(1);
    expect(connector.breaker.successes).toBe(1);
    expect(connector.breaker.failures).toBe(0);
  });

  it('does not retry a 500, and counts it as a breaker failure', async () => {
    script = (res) => json(res, 500, { error: 'bug' });
    const connector = connect({ retries: 3 });
    expect((await failure(connector.fetch(query))).code).toBe('ZT_ERR_UPSTREAM_UNAVAILABLE');
    expect(hits).toHaveLength(1);
    expect(connector.breaker.failures).toBe(1);
  });

  it('does not follow redirects', async () => {
    script = (res) => {
      res.writeHead(302, { location: '/elsewhere' });
      res.end();
    };
    expect((await failure(connect().fetch(query))).code).toBe('ZT_ERR_UPSTREAM_BAD_RESPONSE');
    expect(hits.map((hit) => hit.url)).toEqual(['/supplier/v1/query']);
  });
});

describe('HttpConnector: retries', () => {
  it('times out a slow answer and succeeds on the retry', async () => {
    script = (res, hit) => {
      if (hit === 1) setTimeout(() => found({ name: '慢' })(res), 400);
      else found({ name: '张三' })(res);
    };
    const started = Date.now();
    const record = await connect({ timeoutMs: 100 }).fetch(query);
    expect(record!.values).toEqual({ name: '张三' });
    expect(hits).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(350);
  });

  it('times out a body that stalls after the headers', async () => {
    script = (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"found":');
    };
    const connector = connect({ timeoutMs: 80, retries: 1 });
    const error = await failure(connector.fetch(query));
    expect(error.code).toBe('ZT_ERR_UPSTREAM_TIMEOUT');
    expect(hits).toHaveLength(2);
  });

  it('gives ZT_ERR_UPSTREAM_TIMEOUT when every attempt times out', async () => {
    script = (res) => setTimeout(() => found({})(res), 300);
    const connector = connect({ timeoutMs: 50, retries: 2 });
    const error = await failure(connector.fetch(query));
    expect(error.code).toBe('ZT_ERR_UPSTREAM_TIMEOUT');
    expect(error.message).toMatch(/3 attempts, 50 ms each/);
    expect(hits).toHaveLength(3);
    expect(connector.breaker.failures).toBe(3);
  });

  it('retries 503 twice and returns the 200 that follows', async () => {
    script = (res, hit) => (hit <= 2 ? json(res, 503, { error: 'busy' }) : found({ name: '张三' })(res));
    const record = await connect({ retries: 2 }).fetch(query);
    expect(record!.values).toEqual({ name: '张三' });
    expect(hits).toHaveLength(3);
  });

  it('gives ZT_ERR_UPSTREAM_UNAVAILABLE when 502/503/504 persist past the retries', async () => {
    const statuses = [502, 503, 504];
    script = (res, hit) => json(res, statuses[hit - 1] ?? 200, {});
    const error = await failure(connect({ retries: 2 }).fetch(query));
    expect(error.code).toBe('ZT_ERR_UPSTREAM_UNAVAILABLE');
    expect(error.message).toMatch(/3 attempts; last: HTTP 504/);
    expect(hits).toHaveLength(3);
  });

  it('retries a connection dropped mid-answer', async () => {
    script = (res, hit) => (hit === 1 ? res.socket!.destroy() : found({ name: '张三' })(res));
    expect((await connect().fetch(query))!.values).toEqual({ name: '张三' });
    expect(hits).toHaveLength(2);
  });

  it('gives ZT_ERR_UPSTREAM_UNAVAILABLE when nothing listens, with the network error as cause', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    closed.close();
    await once(closed, 'close');
    const connector = connect({ endpoint: `http://127.0.0.1:${port}`, retries: 1 });
    const error = await failure(connector.fetch(query));
    expect(error.code).toBe('ZT_ERR_UPSTREAM_UNAVAILABLE');
    expect(error.message).toMatch(/network error/);
    expect(error.cause).toBeInstanceOf(Error);
    expect(connector.breaker.failures).toBe(2);
  });

  it('waits as long as Retry-After says, capped at backoffMaxMs', async () => {
    script = (res, hit) => (hit === 1 ? json(res, 429, {}, { 'retry-after': '1' }) : found({ name: '张三' })(res));
    // Without Retry-After the backoff here would be at most 1 ms; with it uncapped, 1 s.
    let started = Date.now();
    await connect({ backoffBaseMs: 1, backoffMaxMs: 150 }).fetch(query);
    let waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(140);
    expect(waited).toBeLessThan(900);
    expect(hits).toHaveLength(2);

    hits.length = 0;
    script = (res, hit) => (hit === 1 ? json(res, 503, {}, { 'retry-after': '0' }) : found({ name: '张三' })(res));
    started = Date.now();
    await connect({ backoffBaseMs: 1000, backoffMaxMs: 1000, random: () => 0.99 }).fetch(query);
    waited = Date.now() - started;
    expect(waited).toBeLessThan(400); // Retry-After: 0 beats a jittered backoff of up to 990 ms
  });

  it('backs off with full jitter, growing from backoffBaseMs', async () => {
    script = (res) => json(res, 503, {});
    const started = Date.now();
    // random() = 1 stands for the top of each range: 60 ms, then 120 ms.
    await failure(connect({ retries: 2, backoffBaseMs: 60, backoffMaxMs: 1000, random: () => 1 }).fetch(query));
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(175);
    expect(waited).toBeLessThan(600);
  });
});

describe('HttpConnector: circuit breaker', () => {
  it('opens after N failures, then fails fast without touching the network until a trial closes it', async () => {
    const clock = { now: Date.parse('2025-08-01T00:00:00Z') };
    const states: string[] = [];
    script = (res) => json(res, 503, {});
    const connector = connect({
      retries: 0,
      now: () => clock.now,
      breaker: { failureThreshold: 3, coolDownMs: 30_000, onStateChange: (state) => states.push(state) },
    });
    for (let i = 0; i < 3; i++) expect((await failure(connector.fetch(query))).code).toBe('ZT_ERR_UPSTREAM_UNAVAILABLE');
    expect(hits).toHaveLength(3);
    expect(connector.breaker.state).toBe('open');

    const fast = await failure(connector.fetch(query));
    expect(fast.code).toBe('ZT_ERR_UPSTREAM_UNAVAILABLE');
    expect(fast.message).toMatch(/circuit .* is open; it will try again at 2025-08-01T00:00:30.000Z/);
    expect(hits).toHaveLength(3);
    expect(connector.breaker.rejected).toBe(1);

    clock.now += 30_000;
    script = found({ name: '张三' });
    expect((await connector.fetch(query))!.values).toEqual({ name: '张三' });
    expect(hits).toHaveLength(4);
    expect(connector.breaker.state).toBe('closed');
    expect(states).toEqual(['open', 'half-open', 'closed']);
  });

  it('re-opens when the half-open trial fails', async () => {
    const clock = { now: 0 };
    script = (res) => setTimeout(() => json(res, 200, {}), 300);
    const connector = connect({ retries: 0, timeoutMs: 50, now: () => clock.now, breaker: { failureThreshold: 1, coolDownMs: 1000 } });
    expect((await failure(connector.fetch(query))).code).toBe('ZT_ERR_UPSTREAM_TIMEOUT');
    clock.now += 1000;
    expect((await failure(connector.fetch(query))).code).toBe('ZT_ERR_UPSTREAM_TIMEOUT');
    expect(connector.breaker.state).toBe('open');
    expect(hits).toHaveLength(2);
    expect((await failure(connector.fetch(query))).message).toMatch(/circuit/);
    expect(hits).toHaveLength(2);
  });

  it('stops retrying when the circuit opens between attempts', async () => {
    script = (res) => json(res, 503, {});
    const connector = connect({ retries: 5, breaker: { failureThreshold: 2 } });
    const error = await failure(connector.fetch(query));
    expect(error.message).toMatch(/circuit/);
    expect(hits).toHaveLength(2);
  });
});

describe('HttpConnector: the caller and close()', () => {
  it('stops at once when the caller aborts, rejects with its reason, and tells the breaker nothing', async () => {
    script = (res) => setTimeout(() => found({ name: '张三' })(res), 1000);
    const connector = connect({ timeoutMs: 2000 });
    const controller = new AbortController();
    const reason = new Error('deadline passed');
    setTimeout(() => controller.abort(reason), 50);
    const started = Date.now();
    await expect(connector.fetch({ ...query, signal: controller.signal })).rejects.toBe(reason);
    expect(Date.now() - started).toBeLessThan(500);
    expect(hits).toHaveLength(1);
    expect(connector.breaker.failures).toBe(0);
    expect(connector.breaker.successes).toBe(0);
  });

  it('stops during a backoff when the caller aborts', async () => {
    script = (res) => json(res, 503, {}, { 'retry-after': '10' });
    const connector = connect({ backoffMaxMs: 5000 });
    const controller = new AbortController();
    const reason = new Error('gave up');
    setTimeout(() => controller.abort(reason), 100);
    const started = Date.now();
    await expect(connector.fetch({ ...query, signal: controller.signal })).rejects.toBe(reason);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(hits).toHaveLength(1);
  });

  it('does not call out for a signal that is already aborted', async () => {
    script = found({ name: '张三' });
    const reason = new Error('too late');
    await expect(connect().fetch({ ...query, signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(hits).toHaveLength(0);
  });

  it('frees a half-open trial the caller abandoned', async () => {
    const clock = { now: 0 };
    script = (res, hit) => (hit === 1 ? json(res, 503, {}) : setTimeout(() => found({ name: '张三' })(res), 200));
    const connector = connect({ retries: 0, now: () => clock.now, breaker: { failureThreshold: 1, coolDownMs: 1000 } });
    await failure(connector.fetch(query));
    clock.now += 1000;
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('gave up')), 20);
    await expect(connector.fetch({ ...query, signal: controller.signal })).rejects.toThrow('gave up');
    expect(connector.breaker.state).toBe('half-open');
    expect((await connector.fetch(query))!.values).toEqual({ name: '张三' });
    expect(connector.breaker.state).toBe('closed');
  });

  it('close() aborts calls in flight and refuses new ones', async () => {
    script = (res) => setTimeout(() => found({ name: '张三' })(res), 1000);
    const connector = connect({ timeoutMs: 2000 });
    const pending = failure(connector.fetch(query));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    await connector.close();
    const error = await pending;
    expect(Date.now() - started).toBeLessThan(200);
    expect(error.code).toBe('ZT_ERR_UPSTREAM_UNAVAILABLE');
    expect(error.message).toMatch(/closed/);
    expect((await failure(connector.fetch(query))).message).toMatch(/closed/);
    expect(hits).toHaveLength(1);
  });
});

describe('HttpConnector: settings', () => {
  it.each([
    [{ endpoint: 'not a url' }, TypeError],
    [{ endpoint: 'ftp://supplier.example' }, TypeError],
    [{ endpoint: 'https://user:pw@supplier.example' }, TypeError],
    [{ endpoint: 'https://supplier.example/api?x=1' }, TypeError],
    [{ endpoint: 'https://supplier.example', timeoutMs: 0 }, RangeError],
    [{ endpoint: 'https://supplier.example', retries: -1 }, RangeError],
  ])('refuses %j', (options, kind) => {
    expect(() => new HttpConnector(options)).toThrow(kind);
  });
});
