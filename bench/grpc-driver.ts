// A closed-loop load driver for unary gRPC calls, the gRPC counterpart of autocannon in the exchange benchmark:
// `concurrency` calls in flight over one channel (HTTP/2 streams on one connection, as a department's client has
// them), each call a presigned request sent once, for `seconds`; with `overallRate`, calls start no faster than that
// (a call whose turn has come waits for a free slot, as autocannon's overallRate does). Latency runs from the send to
// the answer, kept as a sorted sample for p50 and p99.
import * as grpc from '@grpc/grpc-js';

export interface PresignedCall {
  body: Buffer;
  metadata: grpc.Metadata;
}

export interface GrpcDriveOptions {
  address: string;
  /** The full method name, e.g. /zhengtong.v1.ExchangeService/Query. */
  method: string;
  calls: readonly PresignedCall[];
  /** Cycle over `calls` (a server that keeps no nonces); otherwise each is sent once and the run ends when they run out. */
  cycle?: boolean;
  seconds: number;
  concurrency: number;
  overallRate?: number;
}

export interface GrpcRunFigures {
  /** Answers per second, refusals included (as autocannon counts non-2xx answers). */
  requestsPerSecond: number;
  /** Milliseconds. */
  p50: number;
  p99: number;
  /** Calls the server answered with a status other than OK. */
  nonOk: number;
  /** Calls that never reached an answer (UNAVAILABLE, DEADLINE_EXCEEDED, CANCELLED). */
  errors: number;
  /** The status codes of the failed calls, by name. */
  codes: Record<string, number>;
  /** True when the presigned calls ran out before the time was up. */
  exhausted: boolean;
}

const identity = (b: Buffer): Buffer => b;
const TRANSPORT = new Set([grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED, grpc.status.CANCELLED]);

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

export async function driveGrpc(options: GrpcDriveOptions): Promise<GrpcRunFigures> {
  const client = new grpc.Client(options.address, grpc.credentials.createInsecure());
  await new Promise<void>((resolve, reject) => client.waitForReady(Date.now() + 10_000, (error) => (error ? reject(error) : resolve())));
  const { calls } = options;
  const latencies: number[] = [];
  const codes: Record<string, number> = {};
  let nonOk = 0;
  let errors = 0;
  let next = 0;
  let exhausted = false;
  const start = performance.now();
  const end = start + options.seconds * 1000;
  const interval = options.overallRate ? 1000 / options.overallRate : 0;
  let slot = 0;

  const one = (call: PresignedCall): Promise<void> =>
    new Promise((resolve) => {
      const sent = performance.now();
      client.makeUnaryRequest(options.method, identity, identity, call.body, call.metadata, {}, (error) => {
        const done = performance.now();
        if (done <= end) {
          if (!error) latencies.push(done - sent);
          else {
            const name = grpc.status[error.code] ?? String(error.code);
            codes[name] = (codes[name] ?? 0) + 1;
            if (TRANSPORT.has(error.code)) errors++;
            else nonOk++;
          }
        }
        resolve();
      });
    });

  const loop = async (): Promise<void> => {
    for (;;) {
      if (interval > 0) {
        const due = start + slot++ * interval;
        const wait = due - performance.now();
        if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      }
      if (performance.now() >= end) return;
      if (next >= calls.length) {
        if (!options.cycle) {
          exhausted = true;
          return;
        }
        next = 0;
      }
      await one(calls[next++]!);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, loop));
  const elapsed = (Math.min(performance.now(), end) - start) / 1000;
  client.close();
  const sorted = Float64Array.from(latencies).sort();
  return {
    requestsPerSecond: (latencies.length + nonOk) / elapsed,
    p50: round2(percentile(sorted, 0.5)),
    p99: round2(percentile(sorted, 0.99)),
    nonOk,
    errors,
    codes,
    exhausted,
  };
}

function round2(ms: number): number {
  return Math.round(ms * 100) / 100;
}
