// Scenario 1: kill -9 under load. Two instances on one database and broker take signed exchange queries and licence verifications; one of them
// is killed with SIGKILL at a random moment and started again, several times. Afterwards every answer a client
// received must have its access record (same id, same request digest) and, once sequenced, its leaf in the
// tamper-evident log; the log must verify; no answered request may be replayed; and each restarted instance must
// serve again with nobody's help.
import { Cluster, type Instance } from '../cluster.js';
import { ExchangeLoad, type Sent } from '../load.js';
import type { Scenario, ScenarioContext, ScenarioResult } from '../scenario.js';
import { awaitLeaves, checkpointAndVerify, unrecordedAnswers } from '../checks.js';
import { countBy, percentile, slowest } from '../report.js';

async function run(ctx: ScenarioContext): Promise<ScenarioResult> {
  const kills = ctx.quick ? 1 : 3;
  const seconds = ctx.quick ? 24 : 120;
  const rate = Number(process.env.ZT_FAULTS_RATE ?? (ctx.quick ? 60 : 150));
  const failures: string[] = [];
  const notes: string[] = [];
  ctx.log('starting two instances on PostgreSQL and Kafka');
  const cluster = await Cluster.start({
    databaseUrl: ctx.databaseUrl,
    kafkaBrokers: ctx.kafkaBrokers,
    name: 'kill9',
    instances: 2,
    // Anonymous checks unlimited; the log sequenced and checkpointed often; a seq burnt by a killed transaction
    // skipped after 5 s instead of 10.
    env: { ZT_LICENCE_ANONYMOUS_RATE: '0', ZT_AUDIT_CHECKPOINT_SECONDS: '5', ZT_AUDIT_GAP_SECONDS: '5' },
  });
  // Every third request verifies a licence for the department's case instead of querying: recorded the same way.
  const [licence] = await cluster.query<{ identifier: string }>(`SELECT identifier FROM licences WHERE status = 'active' ORDER BY identifier LIMIT 1`);
  const load = await ExchangeLoad.open(cluster.dataDir, { verifies: licence!.identifier });
  const restarts: { instance: string; killedAt: number; healthyAfterMs: number }[] = [];
  try {
    const started = performance.now();
    // Kill moments spread over the middle of the run, each at a random point of its own slice.
    const slice = (seconds * 0.7) / kills;
    const moments = Array.from({ length: kills }, (_, i) => seconds * 0.15 + slice * i + Math.random() * slice * 0.6);
    const faults = (async () => {
      for (const moment of moments) {
        const wait = started + moment * 1000 - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const victim: Instance = cluster.instances[Math.floor(Math.random() * cluster.instances.length)]!;
        const killedAt = (performance.now() - started) / 1000;
        ctx.log(`kill -9 ${victim.name} (pid ${victim.pid}) at ${killedAt.toFixed(1)} s`);
        await victim.kill('SIGKILL');
        const healthyAfterMs = await victim.start();
        ctx.log(`${victim.name} answers /healthz again ${(healthyAfterMs / 1000).toFixed(1)} s after its restart`);
        restarts.push({ instance: victim.name, killedAt, healthyAfterMs });
      }
    })();
    ctx.log(`holding ${rate} signed requests a second (2 queries to 1 licence verification) for ${seconds} s, alternating between the instances`);
    const sent = await load.run({ targets: () => cluster.instances, rate, seconds });
    await faults;

    const answered = sent.filter((s) => s.status === 200);
    const serverErrors = sent.filter((s) => s.status !== null && s.status >= 500);
    const unanswered = sent.filter((s) => s.status === null);
    const hangs = unanswered.filter((s) => s.transportError === 'timeout');
    const refused = sent.filter((s) => s.status !== null && s.status !== 200 && s.status < 500);
    if (hangs.length > 0) failures.push(`${hangs.length} request(s) had no answer within 10 s (a hang, not a refused connection)`);
    for (const [code, n] of countBy(serverErrors, (s) => `${s.status} ${s.code ?? ''}`)) failures.push(`${n} answer(s) ${code}`);
    for (const [code, n] of countBy(refused, (s) => `${s.status} ${s.code ?? ''}`)) failures.push(`${n} refusal(s) ${code} of well-formed signed requests`);

    // Every answer has its record, with the digest of the request it answered.
    const { ids, lost, permitted } = await unrecordedAnswers(cluster, answered);
    if (lost > 0) failures.push(`${lost} answer(s) without their access record`);
    // Records of answers never received: allowed (the record is committed before the answer leaves), counted.
    const prefix = `FAULTS-${process.pid}-%`;
    const [allPermitted] = await cluster.query<{ n: string }>(`SELECT count(*)::text AS n FROM access_record WHERE case_number LIKE $1 AND decision = 'permit'`, [prefix]);
    const recordsWithoutAnswer = Number(allPermitted!.n) - permitted;

    // Every answered record gets its leaf, and the log verifies from its first checkpoint to a new last one.
    ctx.log('waiting for the answered records to be sequenced');
    const leaves = await awaitLeaves(cluster, ids, 90_000);
    if (leaves < ids.length) failures.push(`${ids.length - leaves} answered record(s) without a leaf in the tamper-evident log after 90 s`);
    const log = await checkpointAndVerify(cluster, ctx.databaseUrl);
    if (log.problem) failures.push(log.problem);
    else notes.push(`log verified: ${log.treeSize} leaves, ${log.checkpoints}`);

    // No answered request can be replayed, on either instance.
    const replays = answered.filter((_, i) => i % Math.max(1, Math.floor(answered.length / 40)) === 0).slice(0, 40);
    let replayRefused = 0;
    const t0 = performance.now();
    for (const [i, s] of replays.entries()) {
      const target = cluster.instances[i % cluster.instances.length]!;
      const again: Sent = await ExchangeLoad.send(target, s, t0);
      if (again.status === 409 && again.code === 'ZT_ERR_REQUEST_REPLAYED') replayRefused++;
      else failures.push(`a replayed request got ${again.status ?? again.transportError} ${again.code ?? ''} from ${target.name}, not 409 ZT_ERR_REQUEST_REPLAYED`);
    }

    // Each restarted instance answered again.
    for (const r of restarts) {
      const after = answered.filter((s) => s.instance === r.instance && s.at / 1000 > r.killedAt + r.healthyAfterMs / 1000);
      if (after.length === 0 && r.killedAt + r.healthyAfterMs / 1000 < seconds - 2) failures.push(`${r.instance}, restarted at ${r.killedAt.toFixed(1)} s, answered nothing afterwards`);
    }
    for (const instance of cluster.instances) {
      if (instance.unexpectedExits > 0) failures.push(`${instance.name} exited ${instance.unexpectedExits} time(s) by itself:\n${instance.tail(10)}`);
    }

    const latencies = Float64Array.from(answered.map((s) => s.latencyMs ?? 0)).sort();
    notes.push(
      `answers ${answered.length} of ${sent.length} requests (${answered.filter((s) => s.path !== undefined).length} of them licence verifications); their records found ${answered.length - lost} of ${answered.length}; records of answers never received ${recordsWithoutAnswer}`,
      `no answer ${unanswered.length} (${[...countBy(unanswered, (s) => s.transportError ?? '?')].map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}); answered latency p50 ${percentile(latencies, 0.5).toFixed(1)} ms, p99 ${percentile(latencies, 0.99).toFixed(1)} ms`,
      `leaves for answered records ${leaves} of ${ids.length}; log size ${log.treeSize}`,
      `slowest answers ${slowest(sent)}`,
      `replays refused ${replayRefused} of ${replays.length}`,
      `restarts: ${restarts.map((r) => `${r.instance} killed at ${r.killedAt.toFixed(1)} s, healthy ${(r.healthyAfterMs / 1000).toFixed(1)} s later`).join('; ')}`,
    );
    return {
      load: `2 instances, ${rate} req/s for ${seconds} s`,
      faults: `kill -9 × ${kills}`,
      requests: sent.length,
      lost,
      serverErrors: serverErrors.length,
      recoverySeconds: restarts.length ? Math.max(...restarts.map((r) => r.healthyAfterMs / 1000)) : null,
      failures,
      notes,
    };
  } finally {
    await load.close();
    await cluster.close();
  }
}

export const kill9: Scenario = {
  name: 'kill-9',
  title: 'kill -9 an instance under load: every answer has its record and leaf, the log verifies, no replay, the instance serves again',
  run,
};
