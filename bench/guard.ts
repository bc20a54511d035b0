// The benchmark guard of the registry's hot path (licence verification by identifier, warm cache). It measures the
// hot path and the raw SM2 verify rate of one core in the same run, and compares their ratio (requests per SM2
// verification: a figure that a faster or slower machine moves much less than raw throughput) and the p99 latency at
// a fixed load with the baseline in bench/baselines/licence-verify.json. Exit status 1 on a regression beyond the
// tolerance, 0 otherwise.
//
//   npm run bench:guard                  compare with the baseline
//   npm run bench:guard -- --record      measure and write the baseline (on a quiet machine, and say so in the commit)
//   ZT_GUARD_SECONDS=10                  longer runs (default 5 s each)
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../core/paths.js';
import { benchLicenceVerify } from './licence-verify.bench.js';
import { describeMachine } from './machine.js';

interface Baseline {
  /** Warm-cache verifications per second, divided by SM2 verifications per second on one core. */
  ratio: number;
  /** p99 latency at the fixed load, in milliseconds. */
  p99AtFixedMs: number;
  /** The fixed load, as a share of the peak measured in the same run. */
  fixedShare: number;
  /** How far the ratio may fall (a share of it) before the guard fails. */
  ratioTolerance: number;
  /** The p99 may grow to baseline × this factor plus latencySlackMs. */
  p99Factor: number;
  latencySlackMs: number;
  measured: { on: string; at: string; requestsPerSecond: number; verifyPerSecondOneCore: number };
}

const file = join(packageRoot(), 'bench/baselines/licence-verify.json');
const record = process.argv.includes('--record');
const seconds = Number(process.env.ZT_GUARD_SECONDS ?? 5);
const previous: Baseline | null = (() => {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Baseline;
  } catch {
    return null;
  }
})();
if (!previous && !record) {
  process.stderr.write(`bench:guard: no baseline in ${file}; record one with npm run bench:guard -- --record\n`);
  process.exit(2);
}
const fixedShare = previous?.fixedShare ?? 0.5;

process.stdout.write(`machine: ${describeMachine()}\nguard: licence verification by identifier, warm cache, ${seconds} s per run\n`);
// The fixed load is set from this run's peak, so a slower machine is not held to a faster one's rate.
const [r] = await benchLicenceVerify({ seconds, connections: 32, coldLicences: 0, cryptoSeconds: 2, fixedShare, bareBaseline: false });
const ratio = r!.warm.requestsPerSecond / r!.verifyPerSecondOneCore;
process.stdout.write(
  `  SM2 verify, one core      ${r!.verifyPerSecondOneCore.toFixed(0).padStart(7)} /s\n` +
    `  warm peak                 ${r!.warm.requestsPerSecond.toFixed(0).padStart(7)} req/s  p50 ${r!.warm.p50} ms  p99 ${r!.warm.p99} ms  (non-2xx ${r!.warm.non2xx}, errors ${r!.warm.errors})\n` +
    `  ratio                     ${ratio.toFixed(3).padStart(7)} verifications per SM2 verify\n` +
    `  at ${r!.fixed.rate} req/s${' '.repeat(Math.max(1, 15 - String(r!.fixed.rate).length))}${r!.fixed.requestsPerSecond.toFixed(0).padStart(7)} req/s  p50 ${r!.fixed.p50} ms  p99 ${r!.fixed.p99} ms\n`,
);
if (r!.warm.non2xx > 0 || r!.warm.errors > 0 || r!.fixed.non2xx > 0 || r!.fixed.errors > 0) {
  process.stderr.write('bench:guard: FAIL: the hot path answered with errors during the run\n');
  process.exit(1);
}

if (record) {
  const baseline: Baseline = {
    ratio: Number(ratio.toFixed(4)),
    p99AtFixedMs: r!.fixed.p99,
    fixedShare,
    ratioTolerance: previous?.ratioTolerance ?? 0.35,
    p99Factor: previous?.p99Factor ?? 3,
    latencySlackMs: previous?.latencySlackMs ?? 5,
    measured: { on: describeMachine(), at: new Date().toISOString(), requestsPerSecond: Math.round(r!.warm.requestsPerSecond), verifyPerSecondOneCore: Math.round(r!.verifyPerSecondOneCore) },
  };
  writeFileSync(file, `${JSON.stringify(baseline, null, 2)}\n`);
  process.stdout.write(`bench:guard: baseline recorded in ${file}\n`);
  process.exit(0);
}

const b = previous!;
const floor = b.ratio * (1 - b.ratioTolerance);
const ceiling = b.p99AtFixedMs * b.p99Factor + b.latencySlackMs;
const failures: string[] = [];
if (ratio < floor) failures.push(`throughput ratio ${ratio.toFixed(3)} is below ${floor.toFixed(3)} (baseline ${b.ratio} − ${b.ratioTolerance * 100} %)`);
if (r!.fixed.p99 > ceiling) failures.push(`p99 at the fixed load ${r!.fixed.p99} ms is above ${ceiling.toFixed(1)} ms (baseline ${b.p99AtFixedMs} ms × ${b.p99Factor} + ${b.latencySlackMs} ms)`);
process.stdout.write(`  baseline                  ratio ${b.ratio} (floor ${floor.toFixed(3)}), p99 ${b.p99AtFixedMs} ms (ceiling ${ceiling.toFixed(1)} ms); recorded ${b.measured.at.slice(0, 10)} on ${b.measured.on}\n`);
if (failures.length > 0) {
  process.stderr.write(`bench:guard: FAIL: ${failures.join('; ')}\n`);
  process.exit(1);
}
process.stdout.write('bench:guard: ok\n');
