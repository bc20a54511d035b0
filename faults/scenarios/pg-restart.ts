// Scenario 3: PostgreSQL stops under load and starts again. While it is down, a request must be refused with a 503
// and a stable code (never a 500, never an answer slower than the client's timeout), because without its record
// nothing may be released; once it is back, every instance must serve again by itself within 5 s; and nothing
// committed may be lost: every answer given before, during or after has its record, and the log verifies. The
// database is stopped and started with pg_ctlcluster (or ZT_FAULTS_PG_STOP / ZT_FAULTS_PG_START).
import { existsSync, readdirSync } from 'node:fs';
import { Cluster } from '../cluster.js';
import { ExchangeLoad } from '../load.js';
import { awaitLeaves, checkpointAndVerify, unrecordedAnswers } from '../checks.js';
import { countBy, percentile, runShell, sleep, slowest } from '../report.js';
import type { Scenario, ScenarioContext, ScenarioResult } from '../scenario.js';

/** The Debian cluster to restart: the newest version under /etc/postgresql, cluster main. */
function pgctl(verb: 'stop' | 'start'): string {
  const given = verb === 'stop' ? process.env.ZT_FAULTS_PG_STOP : process.env.ZT_FAULTS_PG_START;
  if (given) return given;
  if (!existsSync('/etc/postgresql')) throw new Error('no /etc/postgresql: give ZT_FAULTS_PG_STOP and ZT_FAULTS_PG_START, the commands that stop and start the database');
  const version = readdirSync('/etc/postgresql').sort((a, b) => Number(a) - Number(b)).at(-1);
  return `pg_ctlcluster --skip-systemctl-redirect ${version} main ${verb}${verb === 'stop' ? ' -m fast' : ''}`;
}

/**
 * The codes a request may be refused with while the database is away: the gateway's own storage, or the supplier's
 * source behind a table connector (in the demo it lives in the same database), which is the supplier's outage.
 */
const UNAVAILABLE = new Set(['ZT_ERR_STORAGE_UNAVAILABLE', 'ZT_ERR_UPSTREAM_UNAVAILABLE']);

async function run(ctx: ScenarioContext): Promise<ScenarioResult> {
  const [before, outage, after] = ctx.quick ? [6, 6, 12] : [20, 20, 40];
  const rate = ctx.quick ? 40 : 100;
  const failures: string[] = [];
  const notes: string[] = [];
  const [stop, start] = [pgctl('stop'), pgctl('start')];
  ctx.log('starting two instances on PostgreSQL and Kafka');
  const cluster = await Cluster.start({ databaseUrl: ctx.databaseUrl, kafkaBrokers: ctx.kafkaBrokers, name: 'pg', instances: 2, env: { ZT_LICENCE_ANONYMOUS_RATE: '0', ZT_AUDIT_CHECKPOINT_SECONDS: '5', ZT_AUDIT_GAP_SECONDS: '5' } });
  const load = await ExchangeLoad.open(cluster.dataDir);
  let databaseDown = false;
  let downAt = 0 as number;
  let upAt = 0 as number;
  try {
    const started = performance.now();
    const seconds = before + outage + after;
    const elapsed = () => (performance.now() - started) / 1000;
    const faults = (async () => {
      await sleep(before * 1000);
      await cluster.disconnect();
      ctx.log(`stopping PostgreSQL at ${elapsed().toFixed(1)} s (${stop})`);
      databaseDown = true;
      const stopped = await runShell(stop);
      downAt = elapsed();
      if (stopped.status !== 0) throw new Error(`PostgreSQL did not stop: ${stopped.output.trim().slice(-500)}`);
      await sleep(Math.max(0, (before + outage - elapsed()) * 1000));
      ctx.log(`starting PostgreSQL at ${elapsed().toFixed(1)} s`);
      // Readiness is polled while the start command runs: that command returns some time after the server accepts.
      const starting = runShell(start);
      const url = new URL(ctx.databaseUrl);
      for (let i = 0; i < 600 && (await runShell(`pg_isready -q -h ${url.hostname} -p ${url.port || 5432}`)).status !== 0; i++) await sleep(100);
      upAt = elapsed();
      const up = await starting;
      if (up.status !== 0) throw new Error(`PostgreSQL did not start again: ${up.output.trim().slice(-500)}`);
      databaseDown = false;
      ctx.log(`PostgreSQL accepts connections again at ${upAt.toFixed(1)} s`);
    })();
    ctx.log(`holding ${rate} signed queries a second for ${seconds} s; the database stops from ${before} s for ${outage} s`);
    const sent = await load.run({ targets: () => cluster.instances, rate, seconds, timeoutMs: 15_000 });
    await faults;

    const answered = sent.filter((s) => s.status === 200);
    const serverErrors = sent.filter((s) => s.status !== null && s.status >= 500 && s.status !== 503);
    const refused = sent.filter((s) => s.status === 503);
    const other = sent.filter((s) => s.status !== null && s.status !== 200 && s.status !== 503 && s.status < 500);
    const hangs = sent.filter((s) => s.status === null);
    for (const [what, n] of countBy(serverErrors, (s) => `${s.status} ${s.code ?? ''}`)) failures.push(`${n} answer(s) ${what}`);
    for (const [what, n] of countBy(other, (s) => `${s.status} ${s.code ?? ''}`)) failures.push(`${n} answer(s) ${what}`);
    for (const [what, n] of countBy(refused.filter((s) => !UNAVAILABLE.has(s.code ?? '')), (s) => `503 ${s.code ?? ''}`)) failures.push(`${n} answer(s) ${what}, not a code of an unavailable database`);
    for (const [what, n] of countBy(hangs, (s) => s.transportError ?? '?')) failures.push(`${n} request(s) without an answer (${what})`);
    const lateRefusals = refused.filter((s) => s.at / 1000 > upAt + 5);
    if (lateRefusals.length > 0) failures.push(`${lateRefusals.length} refusal(s) more than 5 s after the database was back`);

    // Every instance serves again within 5 s of the database's return.
    const recoveries: number[] = [];
    for (const instance of cluster.instances) {
      const first = answered.find((s) => s.instance === instance.name && s.at / 1000 >= upAt);
      if (!first) failures.push(`${instance.name} answered nothing after the database came back`);
      else {
        recoveries.push(first.at / 1000 - upAt);
        if (first.at / 1000 - upAt > 5) failures.push(`${instance.name} first answered ${(first.at / 1000 - upAt).toFixed(1)} s after the database came back (more than 5 s)`);
      }
      if (instance.unexpectedExits > 0) failures.push(`${instance.name} exited by itself:\n${instance.tail(10)}`);
    }

    // Nothing committed is lost: every answer has its record and its leaf, and the log verifies.
    const { ids, lost } = await unrecordedAnswers(cluster, answered);
    if (lost > 0) failures.push(`${lost} answer(s) without their access record`);
    const leaves = await awaitLeaves(cluster, ids, 60_000);
    if (leaves < ids.length) failures.push(`${ids.length - leaves} answered record(s) without a leaf after 60 s`);
    const log = await checkpointAndVerify(cluster, ctx.databaseUrl);
    if (log.problem) failures.push(log.problem);

    const during = sent.filter((s) => s.at / 1000 >= downAt && s.at / 1000 < upAt);
    const refusalLatency = Float64Array.from(refused.map((s) => s.latencyMs ?? 0)).sort();
    notes.push(
      `answered ${answered.length} of ${sent.length}; refused 503 ${refused.length} (${[...countBy(refused, (s) => s.code ?? '?')].map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}), refusal latency p50 ${percentile(refusalLatency, 0.5).toFixed(1)} ms, p99 ${percentile(refusalLatency, 0.99).toFixed(1)} ms`,
      `slowest answers ${slowest(sent)}`,
      `database down ${downAt.toFixed(1)}–${upAt.toFixed(1)} s: ${during.length} requests sent then, ${during.filter((s) => s.status === 200).length} answered`,
      `first answer after the return: ${recoveries.map((r) => `${r.toFixed(1)} s`).join(', ')}; records found ${answered.length - lost} of ${answered.length}; leaves ${leaves} of ${ids.length}; log ${log.problem ? 'NOT verified' : 'verified'}`,
    );
    return {
      load: `2 instances, ${rate} req/s for ${seconds} s`,
      faults: `PostgreSQL stopped ${outage} s`,
      requests: sent.length,
      lost,
      serverErrors: serverErrors.length,
      recoverySeconds: recoveries.length ? Math.max(...recoveries) : null,
      failures,
      notes,
    };
  } finally {
    if (databaseDown) {
      ctx.log('starting PostgreSQL again after a failure');
      await runShell(start);
    }
    await load.close();
    await cluster.close();
  }
}

export const pgRestart: Scenario = {
  name: 'pg-restart',
  title: 'PostgreSQL stops under load: 503 with a stable code meanwhile, every instance serves again within 5 s, nothing committed lost',
  run,
};
