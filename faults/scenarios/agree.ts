// Scenario 6: two instances agree. Under a steady signed load on both instances, four changes are made the way an
// operator or a department makes them, and both instances are probed every few milliseconds until each enforces the
// change; the instance that did not make it must do so within 1 s of the change taking effect:
//   - a department certificate revoked with `zhengtong ca revoke` (another process: neither instance made it);
//   - a grant withdrawn by its requester through instance 1 (signed POST /v1/catalogue/demands/:id/withdraw);
//   - the negative list changed on disk and reloaded on instance 1 (SIGHUP);
//   - a licence revoked by its issuer through instance 1 (signed POST /v1/licences/:id/revoke).
// A probe is a real request (signed where the route is signed); its answer says whether the change is in force there.
// The instance that acknowledged a withdrawal or a revocation must enforce it for every request sent after the
// acknowledgement. Once an instance enforces a change, every later probe must too (no flapping back). The load must
// go on unrefused: none of the changes touches its department's certificate or grant.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DepartmentKey, envelopeToJson, LicenceClient, signTransition } from '../../client/index.js';
import { parseCertificate } from '../../certs/x509/index.js';
import { packageRoot } from '../../core/paths.js';
import { demoKeyFiles } from '../../demo/index.js';
import { Cluster, type Instance } from '../cluster.js';
import { applicantQuery, ExchangeLoad, LOAD_REQUESTER, type Sent } from '../load.js';
import { countBy, percentile, runCli, sleep } from '../report.js';
import type { Scenario, ScenarioContext, ScenarioResult } from '../scenario.js';

/** What the issue asks of the instance that did not make the change. */
const LIMIT_MS = 1000;
/** Time between one probe's answer and the next probe, per instance. */
const PROBE_GAP_MS = 20;
/** Probing goes on this long after an instance first enforces, to see that it stays enforced. */
const HOLD_MS = 1000;
/** A change not enforced after this long is reported as not enforced. */
const GIVE_UP_MS = 15_000;

const CIVIL_AFFAIRS = '11210100001000045C';
const SERVICE_CENTRE = '11210100001000109A';
const MARKET = '11210100001000029N';

/** What a probe found: the change not yet in force, in force, or an answer that is neither (a failure). */
type Verdict = { state: 'before' } | { state: 'after' } | { state: 'other'; what: string };

interface Probe {
  instance: string;
  /** performance.now() when it was sent and when its answer came. */
  sentAt: number;
  answeredAt: number;
  verdict: Verdict;
}

interface Agreement {
  change: string;
  /** Per instance: when the change was first in force there, from the change (ms); null: never. */
  enforcedAfterMs: Map<string, number | null>;
  probes: number;
  failures: string[];
}

/** How an answer reads: `before` and `after` are the two expected answers, anything else is a failure. */
function classify(status: number | null, code: string | undefined, before: (s: number, c?: string) => boolean, after: (s: number, c?: string) => boolean): Verdict {
  if (status !== null && before(status, code)) return { state: 'before' };
  if (status !== null && after(status, code)) return { state: 'after' };
  return { state: 'other', what: `${status ?? 'no answer'} ${code ?? ''}`.trim() };
}

/**
 * Probes every instance in a loop of its own, makes the change, and watches until each instance has enforced it
 * and held it for HOLD_MS. `change` resolves with the moment (performance.now()) the change took effect: a commit
 * acknowledged, a signal sent, or a database timestamp converted.
 */
async function watch(
  name: string,
  instances: readonly Instance[],
  probe: (instance: Instance) => Promise<Verdict>,
  change: () => Promise<number>,
  actor: { name: string; atOnce: boolean } | null,
): Promise<Agreement> {
  const failures: string[] = [];
  for (const instance of instances) {
    const first = await probe(instance);
    if (first.state !== 'before') failures.push(`${name}: before the change, ${instance.name} answered ${first.state === 'other' ? first.what : 'as if it were made'}`);
  }
  if (failures.length > 0) return { change: name, enforcedAfterMs: new Map(instances.map((i) => [i.name, null])), probes: instances.length, failures };

  const probes: Probe[] = [];
  let changedAt: number | null = null;
  let stop = false;
  const firstAfter = new Map<string, number>();
  const loops = instances.map(async (instance) => {
    while (!stop) {
      const sentAt = performance.now();
      const verdict = await probe(instance);
      const answeredAt = performance.now();
      probes.push({ instance: instance.name, sentAt, answeredAt, verdict });
      if (verdict.state === 'after' && !firstAfter.has(instance.name)) firstAfter.set(instance.name, answeredAt);
      const enforced = firstAfter.get(instance.name);
      if (enforced !== undefined && answeredAt - enforced >= HOLD_MS) return;
      if (changedAt !== null && answeredAt - changedAt > GIVE_UP_MS) return;
      await sleep(PROBE_GAP_MS);
    }
  });
  try {
    changedAt = await change();
  } finally {
    // A change that failed stops the probes at once; otherwise they end by themselves.
    if (changedAt === null) stop = true;
    await Promise.all(loops);
  }
  const enforcedAfterMs = new Map<string, number | null>();
  for (const instance of instances) {
    const own = probes.filter((p) => p.instance === instance.name);
    const others = own.filter((p) => p.verdict.state === 'other');
    for (const [what, n] of countBy(others, (p) => (p.verdict as { what: string }).what)) failures.push(`${name}: ${instance.name} answered ${n} probe(s) with ${what}`);
    const enforced = firstAfter.get(instance.name);
    if (enforced === undefined) {
      enforcedAfterMs.set(instance.name, null);
      failures.push(`${name}: ${instance.name} did not enforce the change within ${GIVE_UP_MS / 1000} s`);
      continue;
    }
    // The change is in force there by the first enforcing probe's answer: an upper bound, to a probe's round trip.
    const after = Math.max(0, enforced - changedAt);
    enforcedAfterMs.set(instance.name, after);
    const flaps = own.filter((p) => p.sentAt > enforced && p.verdict.state === 'before').length;
    if (flaps > 0) failures.push(`${name}: ${instance.name} went back to the old answer ${flaps} time(s) after enforcing the change`);
    if (instance.name !== actor?.name && after > LIMIT_MS) failures.push(`${name}: ${instance.name} enforced it ${after.toFixed(0)} ms after the change (limit ${LIMIT_MS} ms)`);
    // Where a change was acknowledged, a request sent after the acknowledgement must see it.
    const stale = instance.name === actor?.name && actor.atOnce ? own.filter((p) => p.sentAt > changedAt! && p.verdict.state === 'before').length : 0;
    if (stale > 0) failures.push(`${name}: ${instance.name}, which acknowledged the change, answered ${stale} later request(s) the old way`);
  }
  return { change: name, enforcedAfterMs, probes: probes.length, failures };
}

/** A signed exchange query's answer, as `before` (200) or `after` (a refusal with `code`). */
function queryProbe(querier: ExchangeLoad, code: string): (instance: Instance) => Promise<Verdict> {
  return async (instance) => {
    const s = await ExchangeLoad.send({ name: instance.name, http: instance.http }, await querier.sign(), 0);
    return classify(s.status, s.code, (status) => status === 200, (status, c) => status >= 400 && status < 500 && c === code);
  };
}

const NEGATIVE_LIST_ADDITION = `
  # Added by the fault suite's agreement scenario: the service centre may no longer read addresses.
  - id: NL-FAULTS-0001
    title: 社保转移不再调取住址(故障演练)
    effect: deny
    legalBasis:
      title: 《中华人民共和国个人信息保护法》
      article: 第六条
    match:
      resources: [210100-GA-0001]
      items: [address]
      purposes: ["SBZY-*"]
`;

async function run(ctx: ScenarioContext): Promise<ScenarioResult> {
  const rate = Number(process.env.ZT_FAULTS_RATE ?? (ctx.quick ? 60 : 150));
  const failures: string[] = [];
  const notes: string[] = [];
  const work = mkdtempSync(join(tmpdir(), 'zt-faults-agree-'));
  const policyDir = join(work, 'policies');
  mkdirSync(policyDir);
  const listFile = join(policyDir, 'negative-list.yaml');
  copyFileSync(join(packageRoot(), 'policies/default/negative-list.yaml'), listFile);

  ctx.log('starting two instances on PostgreSQL and Kafka, with one policy directory');
  const cluster = await Cluster.start({
    databaseUrl: ctx.databaseUrl,
    kafkaBrokers: ctx.kafkaBrokers,
    name: 'agree',
    instances: 2,
    env: { ZT_LICENCE_ANONYMOUS_RATE: '0', ZT_POLICY_DIR: policyDir },
  });
  const [i1] = cluster.instances as [Instance, Instance];
  const cli = {
    DATABASE_URL: ctx.databaseUrl,
    ZT_DATABASE_SCHEMA: cluster.schema,
    ZT_CA_DIR: cluster.caDir,
    ZT_DATA_DIR: join(work, 'cli'),
    KAFKA_BROKERS: ctx.kafkaBrokers,
    ZT_KAFKA_TOPIC_PREFIX: cluster.topicPrefix,
    ZT_LOG_LEVEL: 'warn',
  };
  const closers: (() => Promise<unknown>)[] = [];
  const open = async (who: Parameters<typeof ExchangeLoad.open>[1]): Promise<ExchangeLoad> => {
    const querier = await ExchangeLoad.open(cluster.dataDir, who);
    closers.push(() => querier.close(false));
    return querier;
  };
  const agreements: Agreement[] = [];
  let sent: Sent[] = [];
  let loadDone = false;
  let loadRun: Promise<Sent[]> | null = null;
  try {
    // What the changes need, made before the load starts: a second certificate of the load's department (the
    // operator's CLI enrols it, as for a new client machine), and the ids of the grant and the licence.
    const keyFile = join(work, 'second.key.pem');
    const certificateFile = join(work, 'second.cert.pem');
    const enrol = await runCli(['ca', 'enrol', '--uscc', LOAD_REQUESTER, '--name', '沈阳市医疗保障局', '--generate', '--key-out', keyFile, '--out', certificateFile], cli);
    if (enrol.status !== 0) throw new Error(`zhengtong ca enrol exited ${enrol.status}: ${enrol.stderr.trim().slice(0, 500)}`);
    const serial = parseCertificate(readFileSync(certificateFile)).serialNumber.toUpperCase();
    const [grant] = await cluster.query<{ id: string }>(`SELECT id::text AS id FROM demands WHERE requester_uscc = $1 AND resource_code = '210100-GA-0001' AND service_item = 'HYDJ-210100-0011'`, [CIVIL_AFFAIRS]);
    const [licence] = await cluster.query<{ identifier: string }>(`SELECT identifier FROM licences WHERE issuer_code = $1 AND status = 'active' ORDER BY identifier LIMIT 1`, [MARKET]);
    if (!grant || !licence) throw new Error('the demo data lacks the civil affairs grant or an active licence of 市场监管局');

    const secondKey = await open({ keyFile, certificateFile, query: (n) => applicantQuery('QYKB-210100-0009', ['name'], `AGREE-CERT-${n}`) });
    const civil = await open({ requester: CIVIL_AFFAIRS, query: (n) => applicantQuery('HYDJ-210100-0011', ['name'], `AGREE-GRANT-${n}`) });
    const centre = await open({ requester: SERVICE_CENTRE, query: (n) => applicantQuery('SBZY-210100-0012', ['address'], `AGREE-POLICY-${n}`) });
    const caFiles = { root: readFileSync(join(cluster.caDir, 'root-ca.cert.pem')), issuing: readFileSync(join(cluster.caDir, 'issuing-ca.cert.pem')) };
    const marketFiles = demoKeyFiles(cluster.dataDir, MARKET);
    const market = new LicenceClient({ httpUrl: i1.http, signer: DepartmentKey.fromFiles(marketFiles.key, marketFiles.certificate), trust: caFiles });
    closers.push(() => market.close());
    const civilFiles = demoKeyFiles(cluster.dataDir, CIVIL_AFFAIRS);
    const civilSigner = DepartmentKey.fromFiles(civilFiles.key, civilFiles.certificate);

    const load = await ExchangeLoad.open(cluster.dataDir);
    closers.push(() => load.close(true));
    // The load runs until the last change is watched; its length is a ceiling.
    loadRun = load.run({ targets: () => cluster.instances, rate, seconds: 600, done: () => loadDone });
    ctx.log(`holding ${rate} signed queries a second on both instances while four changes are made`);
    await sleep(3000);

    ctx.log(`revoking certificate ${serial} of ${LOAD_REQUESTER} with zhengtong ca revoke`);
    agreements.push(
      await watch('certificate revoked (CLI)', cluster.instances, queryProbe(secondKey, 'ZT_ERR_CERT_REVOKED'), async () => {
        const revoke = await runCli(['ca', 'revoke', '--serial', serial, '--reason', 'keyCompromise'], cli);
        if (revoke.status !== 0) throw new Error(`zhengtong ca revoke exited ${revoke.status}: ${revoke.stderr.trim().slice(0, 500)}`);
        // In force from its commit: the revocation time in the database, on the harness's clock.
        const [row] = await cluster.query<{ ms: string }>(`SELECT (extract(epoch FROM revoked_at) * 1000)::text AS ms FROM issued_certificates WHERE serial = $1`, [serial]);
        return performance.now() - (Date.now() - Number(row!.ms));
      }, null),
    );

    ctx.log(`withdrawing grant ${grant.id} of ${CIVIL_AFFAIRS} through ${i1.name}`);
    agreements.push(
      await watch('grant withdrawn', cluster.instances, queryProbe(civil, 'ZT_ERR_NO_GRANT'), async () => {
        const input = { actor: CIVIL_AFFAIRS, reason: '故障演练:撤回共享申请' };
        const signature = envelopeToJson(await signTransition(civilSigner, { kind: 'withdraw', demandId: grant.id, actor: CIVIL_AFFAIRS, content: input }));
        const response = await fetch(`${i1.http}/v1/catalogue/demands/${grant.id}/withdraw`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...input, signature }) });
        const at = performance.now();
        if (response.status !== 200) throw new Error(`the withdrawal answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
        return at;
      }, { name: i1.name, atOnce: true }),
    );

    ctx.log(`changing the negative list on disk and sending SIGHUP to ${i1.name}`);
    agreements.push(
      await watch('negative list reloaded (SIGHUP)', cluster.instances, queryProbe(centre, 'ZT_ERR_ACCESS_DENIED'), async () => {
        const text = readFileSync(listFile, 'utf8').replace(/^revision: "([^"]+)"/m, 'revision: "$1-faults"');
        writeFileSync(listFile, `${text.trimEnd()}\n${NEGATIVE_LIST_ADDITION}`);
        const at = performance.now();
        i1.signal('SIGHUP');
        return at;
      }, { name: i1.name, atOnce: false }),
    );

    ctx.log(`revoking licence ${licence.identifier} of ${MARKET} through ${i1.name}`);
    agreements.push(
      await watch(
        'licence revoked',
        cluster.instances,
        async (instance) => {
          try {
            const response = await fetch(`${instance.http}/v1/licences/${licence.identifier}/verification`, { signal: AbortSignal.timeout(5000) });
            const body = (await response.json()) as { result?: { status?: string }; code?: string };
            const status = body.result?.status;
            return classify(response.status, status ?? body.code, (s, c) => s === 200 && c === 'valid', (s, c) => s === 200 && c === 'revoked');
          } catch (error) {
            return { state: 'other', what: (error as Error).message };
          }
        },
        async () => {
          await market.revoke(licence.identifier, { reason: '故障演练:依法注销' });
          return performance.now();
        },
        { name: i1.name, atOnce: true },
      ),
    );
    loadDone = true;
    sent = await loadRun;
  } finally {
    loadDone = true;
    await loadRun?.catch(() => undefined);
    for (const close of closers.reverse()) await close().catch(() => undefined);
    await cluster.close();
    rmSync(work, { recursive: true, force: true });
  }

  const serverErrors = sent.filter((s) => s.status !== null && s.status >= 500);
  const refused = sent.filter((s) => s.status !== 200);
  for (const [what, n] of countBy(refused, (s) => `${s.status ?? s.transportError} ${s.code ?? ''}`)) failures.push(`the load: ${n} request(s) answered ${what}`);
  for (const a of agreements) failures.push(...a.failures);
  for (const instance of cluster.instances) if (instance.unexpectedExits > 0) failures.push(`${instance.name} exited ${instance.unexpectedExits} time(s) by itself`);

  const latencies = Float64Array.from(sent.filter((s) => s.status === 200).map((s) => s.latencyMs ?? 0)).sort();
  for (const a of agreements) {
    notes.push(`${a.change}: ${[...a.enforcedAfterMs].map(([name, ms]) => `${name} ${ms === null ? 'never' : `${ms.toFixed(0)} ms`}`).join(', ')} (${a.probes} probes)`);
  }
  notes.push(`the load: ${sent.length} requests, ${sent.filter((s) => s.status === 200).length} answered 200; p50 ${percentile(latencies, 0.5).toFixed(1)} ms, p99 ${percentile(latencies, 0.99).toFixed(1)} ms`);
  const worst = Math.max(0, ...agreements.flatMap((a) => [...a.enforcedAfterMs.values()].map((ms) => ms ?? Infinity)));
  return {
    load: `2 instances, ${rate} req/s`,
    faults: `${agreements.length} changes`,
    requests: sent.length + agreements.reduce((n, a) => n + a.probes, 0),
    lost: 0,
    serverErrors: serverErrors.length,
    recoverySeconds: Number.isFinite(worst) ? worst / 1000 : null,
    failures,
    notes,
  };
}

export const agree: Scenario = {
  name: 'agree',
  title: 'two instances agree within 1 s under load: a certificate revoked, a grant withdrawn, the negative list reloaded, a licence revoked',
  run,
};
