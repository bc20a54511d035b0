// Batch signing throughput and latency: BatchSigner over the LocalSm2Signer worker pool at 1, 16 and 256
// concurrent callers (each awaiting its result, then signing again), next to one SM2 signature per payload through
// the same pool and through sm2Sign on this thread. 1 KiB payloads.
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { BatchSigner } from '../certs/signer/batch-signer.js';
import { LocalSm2Signer } from '../certs/signer/local-sm2-signer.js';
import { leafHash } from '../certs/signer/merkle.js';
import { generateSm2KeyPair, sm2Sign } from '../certs/sm2/sm2.js';
import { describeMachine } from './machine.js';
import { opsPerSecond } from './sm2.bench.js';

export interface LoadFigures {
  name: string;
  callers: number;
  perSecond: number;
  p50: number;
  p99: number;
  /** Mean payloads per signature, for the batch signer. */
  meanBatch?: number;
}

const PAYLOAD_BYTES = 1024;

function percentile(sorted: Float64Array, p: number): number {
  return sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** `callers` closed loops calling `op` for `seconds`; operations per second and latency in milliseconds. */
async function closedLoop(callers: number, seconds: number, op: (payload: Buffer) => Promise<unknown>): Promise<Omit<LoadFigures, 'name'>> {
  const payloads = Array.from({ length: callers }, () => randomBytes(PAYLOAD_BYTES));
  const warmEnd = performance.now() + 300;
  await Promise.all(payloads.map(async (p) => {
    while (performance.now() < warmEnd) await op(p);
  }));
  const latencies: number[] = [];
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(
    payloads.map(async (p) => {
      for (let t0 = performance.now(); t0 < end; t0 = performance.now()) {
        await op(p);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  const sorted = Float64Array.from(latencies).sort();
  return { callers, perSecond: latencies.length / elapsed, p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

export async function benchBatchSigner(seconds: number, callerCounts: readonly number[] = [1, 16, 256]): Promise<{ singleCore: number; workers: number; figures: LoadFigures[] }> {
  const { privateKey } = generateSm2KeyPair();
  const head = randomBytes(62);
  const singleCore = opsPerSecond(() => sm2Sign(privateKey, head), seconds);
  const signer = await LocalSm2Signer.start({ privateKey });
  const figures: LoadFigures[] = [];
  try {
    for (const callers of callerCounts) {
      // One signature per payload: what signing without batching costs (hash the payload, sign the hash).
      figures.push({ name: 'pool, one signature per payload', ...(await closedLoop(callers, seconds, (p) => signer.sign(leafHash(p)))) });
      const batch = new BatchSigner(signer);
      figures.push({ name: 'BatchSigner over the pool', ...(await closedLoop(callers, seconds, (p) => batch.sign(p))) });
      const { batches, payloads } = batch.stats();
      figures[figures.length - 1]!.meanBatch = payloads / batches;
      await batch.close();
    }
  } finally {
    await signer.close();
  }
  return { singleCore, workers: signer.concurrency, figures };
}

export function printBatchSigner(result: Awaited<ReturnType<typeof benchBatchSigner>>, seconds: number): void {
  process.stdout.write(`batch signer: ${seconds} s per run, ${PAYLOAD_BYTES}-byte payloads, ${result.workers} signing worker threads\n`);
  process.stdout.write(`  raw SM2 sign on one core (sm2Sign, this thread)                       ${result.singleCore.toFixed(0).padStart(8)} signatures/s\n`);
  for (const f of result.figures) {
    process.stdout.write(
      `  ${String(f.callers).padStart(3)} callers  ${f.name.padEnd(34)} ${f.perSecond.toFixed(0).padStart(8)} payloads/s  p50 ${f.p50.toFixed(2).padStart(6)} ms  p99 ${f.p99.toFixed(2).padStart(6)} ms` +
        `${f.meanBatch === undefined ? '' : `  (mean batch ${f.meanBatch.toFixed(1)})`}\n`,
    );
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const seconds = Number(process.env.ZT_BENCH_SECONDS ?? 3);
  process.stdout.write(`machine: ${describeMachine()}\n`);
  printBatchSigner(await benchBatchSigner(seconds), seconds);
}
