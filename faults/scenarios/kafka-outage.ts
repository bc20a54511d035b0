// Scenario 2: the broker stops under load. The exchange must keep answering (each record's event waits in the
// outbox, committed with the record), /readyz must say "degraded" and what waits rather than take the instances
// out of rotation, and once the broker is back every event must reach its topic exactly once and the analytics
// projection must catch up. The broker is stopped and started with scripts/kafka.sh (or ZT_FAULTS_KAFKA_STOP /
// ZT_FAULTS_KAFKA_START for a broker of another kind).
import { ACCESS_RECORD_TOPIC } from '../../audit/access-record.js';
import { Cluster } from '../cluster.js';
import { ExchangeLoad } from '../load.js';
import { countBy, percentile, runShell, sleep, slowest } from '../report.js';
import type { Scenario, ScenarioContext, ScenarioResult } from '../scenario.js';
import { readTopic } from '../topic.js';

const stopCommand = () => process.env.ZT_FAULTS_KAFKA_STOP ?? 'bash scripts/kafka.sh stop';
const startCommand = () => process.env.ZT_FAULTS_KAFKA_START ?? 'bash scripts/kafka.sh start';

interface ReadySample {
  at: number;
  instance: string;
  status: number | null;
  body: { status?: string; checks?: { eventBus?: { status?: string; outboxWaiting?: number } } } | null;
}

async function outboxWaiting(cluster: Cluster): Promise<number> {
  const [row] = await cluster.query<{ n: string }>('SELECT count(*)::text AS n FROM zt_outbox');
  return Number(row!.n);
}

async function run(ctx: ScenarioContext): Promise<ScenarioResult> {
  const [before, outage, after] = ctx.quick ? [6, 15, 12] : [20, 60, 40];
  const rate = ctx.quick ? 40 : 100;
  const failures: string[] = [];
  const notes: string[] = [];
  ctx.log('starting two instances on PostgreSQL and Kafka');
  const cluster = await Cluster.start({ databaseUrl: ctx.databaseUrl, kafkaBrokers: ctx.kafkaBrokers, name: 'kafka', instances: 2, env: { ZT_LICENCE_ANONYMOUS_RATE: '0' } });
  const load = await ExchangeLoad.open(cluster.dataDir);
  let brokerDown = false;
  const samples: ReadySample[] = [];
  let brokerBackAt = 0 as number;
  let outboxEmptyAt = null as number | null;
  let maxWaiting = 0;
  try {
    const started = performance.now();
    const seconds = before + outage + after;
    const elapsed = () => (performance.now() - started) / 1000;
    const watching = { on: true };
    // Readiness of every instance, each second, all along.
    const watch = (async () => {
      while (watching.on) {
        for (const instance of cluster.instances) {
          const at = elapsed();
          try {
            const response = await fetch(`${instance.http}/readyz`, { signal: AbortSignal.timeout(5000) });
            samples.push({ at, instance: instance.name, status: response.status, body: (await response.json()) as ReadySample['body'] });
          } catch {
            samples.push({ at, instance: instance.name, status: null, body: null });
          }
        }
        await sleep(1000);
      }
    })();
    const faults = (async () => {
      await sleep(before * 1000);
      ctx.log(`stopping the broker at ${elapsed().toFixed(1)} s`);
      brokerDown = true;
      const stopped = await runShell(stopCommand());
      if (stopped.status !== 0) throw new Error(`the broker did not stop (${stopCommand()}): ${stopped.output.trim().slice(-500)}`);
      await sleep(Math.max(0, (before + outage - elapsed()) * 1000));
      ctx.log(`starting the broker at ${elapsed().toFixed(1)} s`);
      const up = await runShell(startCommand());
      if (up.status !== 0) throw new Error(`the broker did not start again (${startCommand()}): ${up.output.trim().slice(-500)}`);
      brokerDown = false;
      brokerBackAt = elapsed();
      ctx.log(`the broker answers again at ${brokerBackAt.toFixed(1)} s; waiting for the outbox's backlog to drain`);
      // Under load a few events always wait for the relay's next pass; the backlog is gone when no more than half
      // a second's worth do.
      const drained = Math.max(20, rate / 2);
      for (;;) {
        const waiting = await outboxWaiting(cluster);
        maxWaiting = Math.max(maxWaiting, waiting);
        if (waiting <= drained) {
          outboxEmptyAt = elapsed();
          break;
        }
        if (elapsed() > brokerBackAt + 180) break;
        await sleep(250);
      }
    })();
    ctx.log(`holding ${rate} signed queries a second for ${seconds} s; the broker stops from ${before} s to ${before + outage} s`);
    const sent = await load.run({ targets: () => cluster.instances, rate, seconds });
    await faults;
    // What the last seconds of load wrote, published too.
    const finalDeadline = Date.now() + 60_000;
    while ((await outboxWaiting(cluster)) > 0 && Date.now() < finalDeadline) await sleep(250);
    const leftInOutbox = await outboxWaiting(cluster);
    if (leftInOutbox > 0) failures.push(`${leftInOutbox} event(s) still in the outbox 60 s after the load ended`);
    watching.on = false;
    await watch;

    // The exchange kept answering.
    const during = sent.filter((s) => s.at / 1000 >= before + 1 && s.at / 1000 < before + outage);
    const duringSet = new Set(during);
    const answeredDuring = during.filter((s) => s.status === 200).length;
    const answered = sent.filter((s) => s.status === 200);
    const serverErrors = sent.filter((s) => s.status !== null && s.status >= 500);
    for (const [what, n] of countBy(sent.filter((s) => s.status !== 200), (s) => `${s.status ?? s.transportError} ${s.code ?? ''}`)) failures.push(`${n} request(s) answered ${what}`);
    if (answeredDuring < during.length) failures.push(`during the outage ${answeredDuring} of ${during.length} requests were answered`);

    // Readiness said degraded, never 503.
    const outageSamples = samples.filter((s) => s.at >= before + 5 && s.at < before + outage);
    const degraded = outageSamples.filter((s) => s.status === 200 && s.body?.status === 'degraded' && s.body.checks?.eventBus?.status === 'down');
    const unready = samples.filter((s) => s.status !== 200);
    if (unready.length > 0) failures.push(`/readyz answered ${[...countBy(unready, (s) => String(s.status ?? 'nothing'))].map(([k, n]) => `${k} × ${n}`).join(', ')} (an instance taken out of rotation)`);
    if (outageSamples.length > 0 && degraded.length === 0) failures.push('/readyz never said "degraded" while the broker was down');
    const waitingSeen = Math.max(0, ...samples.map((s) => s.body?.checks?.eventBus?.outboxWaiting ?? 0));
    const lastDegraded = Math.max(0, ...samples.filter((s) => s.body?.status === 'degraded').map((s) => s.at));
    const readyAgain = samples.filter((s) => s.at > lastDegraded && s.body?.status === 'ready');
    if (readyAgain.length === 0) failures.push('/readyz did not say "ready" again after the broker came back');

    // Every answered record's event reached the topic exactly once.
    if (outboxEmptyAt === null) failures.push('the outbox\'s backlog did not drain within 180 s of the broker\'s return');
    ctx.log('reading the access-record topic from its beginning');
    const messages = await readTopic(ctx.kafkaBrokers, `${cluster.topicPrefix}${ACCESS_RECORD_TOPIC}`);
    const perRecord = new Map<string, number>();
    for (const m of messages) {
      try {
        const id = (JSON.parse(m.value.toString('utf8')) as { record?: { id?: string } }).record?.id;
        if (id) perRecord.set(id, (perRecord.get(id) ?? 0) + 1);
      } catch {
        failures.push('a message on the access-record topic is not JSON');
      }
    }
    const ids = answered.map((s) => s.accessId!).filter(Boolean);
    const missing = ids.filter((id) => !perRecord.has(id)).length;
    const twice = ids.filter((id) => (perRecord.get(id) ?? 0) > 1).length;
    const [recordCount] = await cluster.query<{ n: string }>('SELECT count(*)::text AS n FROM access_record');
    const records = Number(recordCount!.n);
    if (missing > 0) failures.push(`${missing} answered record(s) have no event on the topic`);
    if (twice > 0) failures.push(`${twice} answered record(s) have more than one event on the topic`);
    if (perRecord.size !== records) failures.push(`the topic holds events of ${perRecord.size} records, the database ${records}`);

    // The analytics projection caught up.
    const caughtUpBy = Date.now() + 120_000;
    let applied = 0;
    for (;;) {
      const [row] = await cluster.query<{ n: string }>('SELECT count(*)::text AS n FROM audit_analytics_applied WHERE record_id = ANY($1::uuid[])', [ids]);
      applied = Number(row!.n);
      if (applied >= ids.length || Date.now() > caughtUpBy) break;
      await sleep(1000);
    }
    const analyticsAt = elapsed();
    if (applied < ids.length) failures.push(`the analytics projection applied ${applied} of ${ids.length} answered records within 120 s`);
    for (const instance of cluster.instances) if (instance.unexpectedExits > 0) failures.push(`${instance.name} exited by itself:\n${instance.tail(10)}`);

    const latency = (list: typeof sent) => {
      const sorted = Float64Array.from(list.filter((s) => s.status === 200).map((s) => s.latencyMs ?? 0)).sort();
      return `p50 ${percentile(sorted, 0.5).toFixed(1)} ms, p99 ${percentile(sorted, 0.99).toFixed(1)} ms`;
    };
    const recovery = outboxEmptyAt !== null ? outboxEmptyAt - brokerBackAt : null;
    notes.push(
      `answered ${answered.length} of ${sent.length}; during the outage ${answeredDuring} of ${during.length} (${latency(during)}; otherwise ${latency(sent.filter((s) => !duringSet.has(s)))})`,
      `slowest answers ${slowest(sent)}`,
      `/readyz during the outage: ${degraded.length} of ${outageSamples.length} samples "degraded" with the bus down; most events waiting seen ${waitingSeen} (outbox at most ${maxWaiting} after the return)`,
      `topic ${cluster.topicPrefix}${ACCESS_RECORD_TOPIC}: ${messages.length} messages for ${perRecord.size} records; database ${records} records; answered records missing ${missing}, duplicated ${twice}`,
      `outbox backlog drained ${recovery === null ? 'never' : `${recovery.toFixed(1)} s`} after the broker's return; analytics applied ${applied} of ${ids.length} answered records by ${(analyticsAt - brokerBackAt).toFixed(1)} s after it`,
    );
    return {
      load: `2 instances, ${rate} req/s for ${seconds} s`,
      faults: `broker stopped ${outage} s`,
      requests: sent.length,
      lost: missing,
      serverErrors: serverErrors.length,
      recoverySeconds: recovery,
      failures,
      notes,
    };
  } finally {
    if (brokerDown) {
      ctx.log('starting the broker again after a failure');
      await runShell(startCommand());
    }
    await load.close();
    await cluster.close();
  }
}

export const kafkaOutage: Scenario = {
  name: 'kafka-outage',
  title: 'the broker stops under load: the exchange answers, /readyz says degraded, every event reaches its topic once, analytics catch up',
  run,
};
