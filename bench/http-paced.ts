// The fixed-rate HTTP driver of the exchange benchmark. autocannon limits a rate per connection and second: each
// connection sends its quota for the second back to back and then waits for the next one, so "50 req/s over 16
// connections" arrives as bursts of 16 at once, and its latency counts the queue of the burst (and, correcting for
// coordinated omission with an expected interval of 1 ms, adds samples for it). This driver spaces the requests
// evenly instead, as the gRPC driver does: request k is due at start + k / rate, sent as soon as a connection of the
// keep-alive pool is free, and its latency runs from the send to the end of the answer.
import { Agent, request } from 'node:http';
import { percentile } from './grpc-driver.js';

export interface PacedRequest {
  /** POST with this body; a request without one is a GET. */
  body?: string;
  headers: Record<string, string>;
  /** Default: the URL's path. */
  path?: string;
}

export interface PacedOptions {
  url: string;
  requests: readonly PacedRequest[];
  seconds: number;
  /** Connections at most (requests in flight at once). */
  connections: number;
  rate: number;
  /** Cycle over `requests` (a server that keeps no nonces); otherwise the run ends when they run out. */
  cycle?: boolean;
}

export interface PacedFigures {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  exhausted: boolean;
}

export async function driveHttpPaced(o: PacedOptions): Promise<PacedFigures> {
  const url = new URL(o.url);
  const agent = new Agent({ keepAlive: true, maxSockets: o.connections });
  const latencies: number[] = [];
  let non2xx = 0;
  let errors = 0;
  let next = 0;
  let exhausted = false;
  const interval = 1000 / o.rate;
  const start = performance.now();
  const end = start + o.seconds * 1000;
  let slot = 0;

  const one = (r: PacedRequest): Promise<void> =>
    new Promise((resolve) => {
      const sent = performance.now();
      const req = request(
        {
          agent,
          host: url.hostname,
          port: url.port,
          path: r.path ?? url.pathname,
          method: r.body === undefined ? 'GET' : 'POST',
          headers: r.body === undefined ? r.headers : { ...r.headers, 'content-length': String(Buffer.byteLength(r.body)) },
        },
        (res) => {
          res.on('data', () => undefined);
          res.on('end', () => {
            const done = performance.now();
            if (done <= end) {
              if (res.statusCode! >= 200 && res.statusCode! < 300) latencies.push(done - sent);
              else non2xx++;
            }
            resolve();
          });
        },
      );
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end(r.body);
    });

  const loop = async (): Promise<void> => {
    for (;;) {
      const due = start + slot++ * interval;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      if (performance.now() >= end) return;
      if (next >= o.requests.length) {
        if (!o.cycle) {
          exhausted = true;
          return;
        }
        next = 0;
      }
      await one(o.requests[next++]!);
    }
  };
  await Promise.all(Array.from({ length: o.connections }, loop));
  const elapsed = (Math.min(performance.now(), end) - start) / 1000;
  agent.destroy();
  const sorted = Float64Array.from(latencies).sort();
  const round2 = (ms: number) => Math.round(ms * 100) / 100;
  return { requestsPerSecond: (latencies.length + non2xx) / elapsed, p50: round2(percentile(sorted, 0.5)), p99: round2(percentile(sorted, 0.99)), non2xx, errors, exhausted };
}
