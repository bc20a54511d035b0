// The benchmark guard of two hot paths, each measured against a baseline taken in the same run, so that a faster or
// slower machine moves the compared figure much less than it moves raw throughput:
//   - the registry's licence verification by identifier (warm cache): its throughput per SM2 verification of one
//     core, and its p99 at a fixed load, against bench/baselines/licence-verify.json;
//   - the signed exchange query over HTTP: its peak throughput as a share of baseline A (a bare server that verifies
//     the request signature and signs an answer, bench/baseline-exchange-server.ts), and its p99 at a fixed load,
//     against bench/baselines/exchange.json, which holds one baseline per database (PostgreSQL with
//     ZT_GUARD_DATABASE_URL, else the embedded PGlite).
// Exit status 1 on a regression beyond the tolerance, or on any error or non-2xx answer during the runs; 0 otherwise.
//
//   npm run bench:guard                          compare with the baselines
//   npm run bench:guard -- --record              measure and write both baselines (on a quiet machine, and say so in the commit)
//   npm run bench:guard -- --record=exchange     only the exchange's (or --record=licence-verify)
//   ZT_GUARD_SECONDS=10                          longer runs (default 5 s each)
//   ZT_GUARD_ATTEMPTS=1                          fail on the first run beyond the tolerance (default: up to 3 runs, failing only if each is beyond it)
//   ZT_GUARD_DATABASE_URL=postgres://…           the exchange on PostgreSQL (a schema of its own, dropped after)
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../core/paths.js';
import { benchExchange, type Backend } from './exchange.bench.js';
import { benchLicenceVerify } from './licence-verify.bench.js';
import { describeMachine } from './machine.js';

interface Baseline {
  /** The compared throughput ratio: licence verification per SM2 verify; the exchange's share of baseline A. */
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
  measured: { on: string; at: string; requestsPerSecond: number; verifyPerSecondOneCore?: number; baselineARequestsPerSecond?: number };
}

const DEFAULTS = { fixedShare: 0.5, ratioTolerance: 0.35, p99Factor: 3, latencySlackMs: 5 };

const recordArgument = process.argv.find((a) => a === '--record' || a.startsWith('--record='));
const recording = (name: string): boolean => recordArgument === '--record' || recordArgument === `--record=${name}`;
const seconds = Number(process.env.ZT_GUARD_SECONDS ?? 5);
const databaseUrl = process.env.ZT_GUARD_DATABASE_URL || undefined;
const failures: string[] = [];
/** Runs a guarded path may take before a result beyond the tolerance fails the guard (see settle). */
const ATTEMPTS = Math.max(1, Number(process.env.ZT_GUARD_ATTEMPTS ?? 3));

function readJson<T>(file: string): T | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return null;
  }
}

/** Compares a measurement with its baseline: what is beyond the tolerance, one line each. */
function judge(b: Baseline, ratio: number, p99: number, ratioName: string): string[] {
  const problems: string[] = [];
  const floor = b.ratio * (1 - b.ratioTolerance);
  const ceiling = b.p99AtFixedMs * b.p99Factor + b.latencySlackMs;
  if (ratio < floor) problems.push(`${ratioName} ${ratio.toFixed(3)} is below ${floor.toFixed(3)} (baseline ${b.ratio} − ${b.ratioTolerance * 100} %)`);
  if (p99 > ceiling) problems.push(`p99 at the fixed load ${p99} ms is above ${ceiling.toFixed(1)} ms (baseline ${b.p99AtFixedMs} ms × ${b.p99Factor} + ${b.latencySlackMs} ms)`);
  process.stdout.write(`  baseline                  ratio ${b.ratio} (floor ${floor.toFixed(3)}), p99 ${b.p99AtFixedMs} ms (ceiling ${ceiling.toFixed(1)} ms); recorded ${b.measured.at.slice(0, 10)} on ${b.measured.on}\n`);
  return problems;
}

/**
 * Whether a guarded path is settled after this attempt. A run beyond the tolerance is measured again, up to ATTEMPTS
 * runs in all, and fails the guard only if every run is: a regression shows in each run, while a neighbour's burst
 * on a shared machine rarely lasts through three. Errors and non-2xx answers fail at once and are never retried.
 */
function settle(what: string, problems: string[], attempt: number): boolean {
  if (problems.length === 0) return true;
  if (attempt < ATTEMPTS) {
    process.stdout.write(`  run ${attempt} of at most ${ATTEMPTS} beyond the tolerance (${problems.join('; ')}); measuring again\n`);
    return false;
  }
  failures.push(...problems.map((p) => `${what}: ${p} (in each of ${ATTEMPTS} runs)`));
  return true;
}

const licenceFile = join(packageRoot(), 'bench/baselines/licence-verify.json');
const exchangeFile = join(packageRoot(), 'bench/baselines/exchange.json');
const licencePrevious = readJson<Baseline>(licenceFile);
const exchangePrevious = readJson<Partial<Record<Backend, Baseline>>>(exchangeFile) ?? {};
const backend: Backend = databaseUrl ? 'PostgreSQL' : 'PGlite';
if (!licencePrevious && !recording('licence-verify')) {
  process.stderr.write(`bench:guard: no baseline in ${licenceFile}; record one with npm run bench:guard -- --record\n`);
  process.exit(2);
}
if (!exchangePrevious[backend] && !recording('exchange')) {
  process.stderr.write(`bench:guard: no ${backend} baseline in ${exchangeFile}; record one with npm run bench:guard -- --record=exchange${databaseUrl ? '' : ' (PostgreSQL: with ZT_GUARD_DATABASE_URL)'}\n`);
  process.exit(2);
}

process.stdout.write(`machine: ${describeMachine()}\n`);

// Licence verification by identifier. The fixed load is set from this run's peak, so a slower machine is not held to
// a faster one's rate.
for (let attempt = 1; ; attempt++) {
  const fixedShare = licencePrevious?.fixedShare ?? DEFAULTS.fixedShare;
  // Every answer made and signed anew (ZT_LICENCE_ANSWER_REUSE_MS=0): the signing path is what can regress; a shared
  // answer costs little more than the HTTP layer.
  if (attempt === 1) process.stdout.write(`guard: licence verification by identifier, warm cache, every answer signed anew, ${seconds} s per run\n`);
  const [r] = await benchLicenceVerify({ seconds, connections: 32, coldLicences: 0, cryptoSeconds: 2, fixedShare, bareBaseline: false, answerReuseMs: 0 });
  const ratio = r!.warm.requestsPerSecond / r!.verifyPerSecondOneCore;
  process.stdout.write(
    `  SM2 verify, one core      ${r!.verifyPerSecondOneCore.toFixed(0).padStart(7)} /s\n` +
      `  warm peak                 ${r!.warm.requestsPerSecond.toFixed(0).padStart(7)} req/s  p50 ${r!.warm.p50} ms  p99 ${r!.warm.p99} ms  (non-2xx ${r!.warm.non2xx}, errors ${r!.warm.errors})\n` +
      `  ratio                     ${ratio.toFixed(3).padStart(7)} verifications per SM2 verify\n` +
      `  at ${r!.fixed.rate} req/s${' '.repeat(Math.max(1, 15 - String(r!.fixed.rate).length))}${r!.fixed.requestsPerSecond.toFixed(0).padStart(7)} req/s  p50 ${r!.fixed.p50} ms  p99 ${r!.fixed.p99} ms\n`,
  );
  if (r!.warm.non2xx > 0 || r!.warm.errors > 0 || r!.fixed.non2xx > 0 || r!.fixed.errors > 0) {
    failures.push('licence verification: the hot path answered with errors during the run');
    break;
  } else if (recording('licence-verify')) {
    const baseline: Baseline = {
      ratio: Number(ratio.toFixed(4)),
      p99AtFixedMs: r!.fixed.p99,
      fixedShare,
      ratioTolerance: licencePrevious?.ratioTolerance ?? DEFAULTS.ratioTolerance,
      p99Factor: licencePrevious?.p99Factor ?? DEFAULTS.p99Factor,
      latencySlackMs: licencePrevious?.latencySlackMs ?? DEFAULTS.latencySlackMs,
      measured: { on: describeMachine(), at: new Date().toISOString(), requestsPerSecond: Math.round(r!.warm.requestsPerSecond), verifyPerSecondOneCore: Math.round(r!.verifyPerSecondOneCore) },
    };
    writeFileSync(licenceFile, `${JSON.stringify(baseline, null, 2)}\n`);
    process.stdout.write(`bench:guard: baseline recorded in ${licenceFile}\n`);
    break;
  } else if (settle('licence verification', judge(licencePrevious!, ratio, r!.fixed.p99, 'throughput ratio'), attempt)) {
    break;
  }
}

// The signed exchange query over HTTP, against baseline A measured in the same run.
for (let attempt = 1; ; attempt++) {
  const previous = exchangePrevious[backend];
  const fixedShare = previous?.fixedShare ?? DEFAULTS.fixedShare;
  if (attempt === 1) process.stdout.write(`guard: signed exchange query over HTTP on ${backend}, against baseline A (verify + sign), ${seconds} s per run\n`);
  const r = await benchExchange({
    seconds,
    connections: 32,
    ...(databaseUrl ? { databaseUrl } : {}),
    backends: [backend],
    protocols: ['HTTP'],
    baselines: ['A'],
    fixedShare,
    lowRate: 0,
    probe: false,
    cryptoSeconds: 0,
  });
  const run = r.backends[0]!.runs[0]!;
  const a = r.baselines[0]!.A!;
  const ratio = run.peak.requestsPerSecond / a.requestsPerSecond;
  const line = (label: string, f: { requestsPerSecond: number; p50: number; p99: number; non2xx: number; errors: number }) =>
    `  ${label.padEnd(25)} ${f.requestsPerSecond.toFixed(0).padStart(7)} req/s  p50 ${f.p50} ms  p99 ${f.p99} ms  (non-2xx ${f.non2xx}, errors ${f.errors})\n`;
  process.stdout.write(
    line('baseline A, peak', a) +
      line('exchange, peak', run.peak) +
      `  ratio                     ${ratio.toFixed(3).padStart(7)} of baseline A\n` +
      line(`at ${run.half.rate} req/s`, run.half),
  );
  const runs = [a, run.peak, run.half];
  if (runs.some((f) => f.non2xx > 0 || f.errors > 0 || f.exhausted)) {
    failures.push('exchange: errors or non-2xx answers during the run (or its presigned requests ran out)');
    break;
  } else if (recording('exchange')) {
    const baseline: Baseline = {
      ratio: Number(ratio.toFixed(4)),
      p99AtFixedMs: run.half.p99,
      fixedShare,
      ratioTolerance: previous?.ratioTolerance ?? DEFAULTS.ratioTolerance,
      p99Factor: previous?.p99Factor ?? DEFAULTS.p99Factor,
      latencySlackMs: previous?.latencySlackMs ?? DEFAULTS.latencySlackMs,
      measured: { on: describeMachine(), at: new Date().toISOString(), requestsPerSecond: Math.round(run.peak.requestsPerSecond), baselineARequestsPerSecond: Math.round(a.requestsPerSecond) },
    };
    // Re-read: the other database's baseline stays as it is.
    const all = readJson<Partial<Record<Backend, Baseline>>>(exchangeFile) ?? {};
    writeFileSync(exchangeFile, `${JSON.stringify({ ...all, [backend]: baseline }, null, 2)}\n`);
    process.stdout.write(`bench:guard: ${backend} baseline recorded in ${exchangeFile}\n`);
    break;
  } else if (settle('exchange', judge(previous!, ratio, run.half.p99, 'share of baseline A'), attempt)) {
    break;
  }
}

if (failures.length > 0) {
  process.stderr.write(`bench:guard: FAIL: ${failures.join('; ')}\n`);
  process.exit(1);
}
process.stdout.write('bench:guard: ok\n');
