// Slow clients: a connection that trickles its headers or its body is answered 408 ZT_ERR_REQUEST_TIMEOUT and closed
// once ZT_HTTP_HEADERS_TIMEOUT_MS or ZT_HTTP_REQUEST_TIMEOUT_MS has passed, however steadily it keeps sending.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test/support/app.js';

const HEADERS_MS = 400;
const REQUEST_MS = 1200;

/** Sends `head` at once, then `drip` every 100 ms until the gateway answers and closes; what it said, and when. */
function trickle(url: string, head: string, drip: string): Promise<{ status: number; code: unknown; elapsedMs: number }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const chunks: Buffer[] = [];
    const socket = connect({ host: hostname, port: Number(port) }, () => socket.write(head, 'latin1'));
    const timer = setInterval(() => socket.writable && socket.write(drip, 'latin1'), 100);
    const giveUp = setTimeout(() => socket.destroy(new Error('the gateway held the connection for 10 s')), 10_000);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => undefined); // a write racing the close
    socket.on('close', () => {
      clearInterval(timer);
      clearTimeout(giveUp);
      const raw = Buffer.concat(chunks).toString('utf8');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(raw);
      if (!m) return reject(new Error(`no HTTP answer before the close: ${JSON.stringify(raw.slice(0, 200))}`));
      const body = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as { code?: unknown };
      resolve({ status: Number(m[1]), code: body.code, elapsedMs: performance.now() - started });
    });
  });
}

describe('gateway over HTTP: slow clients', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ httpHeadersTimeoutMs: HEADERS_MS, httpRequestTimeoutMs: REQUEST_MS }, { seedDemo: false });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('cuts off a client that trickles its headers', async () => {
    const r = await trickle(t.httpUrl, 'GET /healthz HTTP/1.1\r\nHost: gateway\r\n', 'X-Slow: 1\r\n');
    expect(r).toMatchObject({ status: 408, code: 'ZT_ERR_REQUEST_TIMEOUT' });
    expect(r.elapsedMs).toBeGreaterThanOrEqual(HEADERS_MS - 50);
    expect(r.elapsedMs).toBeLessThan(HEADERS_MS + 2000);
  });

  it('cuts off a client that trickles its body', async () => {
    const head = 'POST /v1/exchange/query HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{';
    const r = await trickle(t.httpUrl, head, ' ');
    expect(r).toMatchObject({ status: 408, code: 'ZT_ERR_REQUEST_TIMEOUT' });
    expect(r.elapsedMs).toBeGreaterThanOrEqual(REQUEST_MS - 50);
    expect(r.elapsedMs).toBeLessThan(REQUEST_MS + 2000);
  });

  it('still answers a client that sends its request in time', async () => {
    const response = await fetch(`${t.httpUrl}/healthz`);
    expect(response.status).toBe(200);
  });
});
