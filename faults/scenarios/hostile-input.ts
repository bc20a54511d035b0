// Scenario 5, hostile input: one real gateway on PostgreSQL and Kafka, fed what an attacker or a broken client
// sends. Every route of its OpenAPI document gets generated malformed requests (fast-check), every gRPC method
// malformed protobuf and garbage metadata, the wire gets broken framing, cut-off, oversized and trickling bodies,
// and the exchange gets adversarially signed queries. The promises: no 5xx (no INTERNAL or UNKNOWN), no crash,
// every error a JSON { code, message, requestId } with a code from the catalogue, every refused exchange query in
// the access log with its code, and the gateway ready at the end.
import { Cluster } from '../cluster.js';
import type { Scenario, ScenarioContext, ScenarioResult } from '../scenario.js';
import type { Signer } from '../../certs/signer/index.js';
import { DepartmentKey } from '../../client/index.js';
import { demoKeyFiles } from '../../demo/index.js';
import { Findings } from './hostile-input/findings.js';
import { closeAgent } from './hostile-input/http-wire.js';
import { fuzzRoutes, hostileWire, type OpenApi } from './hostile-input/http-fuzz.js';
import { fuzzGrpc } from './hostile-input/grpc-fuzz.js';
import { signedAttacks } from './hostile-input/signed-attacks.js';

/** Small, so that bodies over it are cheap to send; large enough for 50,000 levels of nesting. */
const BODY_LIMIT = 256 * 1024;
/** 营商局: a department with demo grants (signs department routes and the exchange queries). */
const YS = '112101000010000537';
/** 政数局: the demo supervisor (signs role routes). */
const SUPERVISOR = '11210100001000096L';

async function run(ctx: ScenarioContext): Promise<ScenarioResult> {
  const started = performance.now();
  // A failure names its seed; ZT_FAULTS_SEED replays it.
  const seed = process.env.ZT_FAULTS_SEED ? Number(process.env.ZT_FAULTS_SEED) : Date.now() % 2 ** 31;
  const httpRuns = ctx.quick ? 8 : 120;
  const grpcRuns = ctx.quick ? 8 : 100;
  const f = new Findings();
  const cluster = await Cluster.start({ databaseUrl: ctx.databaseUrl, kafkaBrokers: ctx.kafkaBrokers, name: 'hostile_input', instances: 1, env: { ZT_BODY_LIMIT_BYTES: String(BODY_LIMIT) } });
  const instance = cluster.instances[0]!;
  const base = new URL(instance.http);
  ctx.log(`gateway up in ${Math.round((performance.now() - started) / 1000)} s at ${instance.http} and ${instance.grpc}; fast-check seed ${seed}`);
  const signers = new Map<string, Signer>();
  const signer = (uscc: string): Signer => {
    let s = signers.get(uscc);
    if (!s) {
      const files = demoKeyFiles(cluster.dataDir, uscc);
      signers.set(uscc, (s = DepartmentKey.fromFiles(files.key, files.certificate)));
    }
    return s;
  };
  // Who signs for an access class (x-zt-access): a person's console session cannot be signed for.
  const signerFor = (access: string): Signer | null => (access.startsWith('person') ? null : access.startsWith('role') ? signer(SUPERVISOR) : signer(YS));
  const phases: string[] = [];
  const phase = async <T>(name: string, body: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    const before = f.requests;
    const result = await body();
    phases.push(`${name}: ${f.requests - before} requests in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    ctx.log(phases.at(-1)!);
    return result;
  };
  try {
    const records = async (): Promise<number> => Number((await cluster.query<{ n: number }>('SELECT count(*)::int AS n FROM access_record'))[0]!.n);
    const recordsBefore = await records();
    const doc = (await (await fetch(new URL('/docs/json', base))).json()) as OpenApi;
    let exchangeAnswers = 0;
    exchangeAnswers += (await phase('HTTP routes', () => fuzzRoutes(base, doc, { runs: httpRuns, seed, signerFor, findings: f, log: ctx.log }))).exchangeAnswers;
    exchangeAnswers += (await phase('HTTP wire', () => hostileWire(base, { bodyLimit: BODY_LIMIT, quick: ctx.quick, findings: f, log: ctx.log }))).exchangeAnswers;
    exchangeAnswers += (
      await phase('gRPC methods', () => fuzzGrpc(instance.grpc, { runs: grpcRuns, seed, bodyLimit: BODY_LIMIT, signerFor: (service) => signer(service.startsWith('Audit') ? SUPERVISOR : YS), findings: f, log: ctx.log }))
    ).exchangeAnswers;
    const attacks = await phase('signed attacks', () => signedAttacks({ base, grpc: instance.grpc }, { dataDir: cluster.dataDir, query: (sql, params) => cluster.query(sql, params), findings: f, log: ctx.log }));
    exchangeAnswers += attacks.exchangeAnswers;

    // Every answered exchange query, permitted or refused, has its access record.
    const recorded = (await records()) - recordsBefore;
    if (recorded < exchangeAnswers) f.problem('exchange unrecorded', `the exchange answered ${exchangeAnswers} queries (HTTP and gRPC) but the access log gained ${recorded} records`);

    if (!instance.alive || instance.unexpectedExits > 0) f.problem('crash', `the gateway exited (${instance.unexpectedExits} unexpected exits):\n${instance.tail(30)}`);
    else {
      const ready = await fetch(new URL('/readyz', base), { signal: AbortSignal.timeout(5000) }).then((r) => r.status, (e: Error) => e.message);
      if (ready !== 200) f.problem('not ready', `GET /readyz at the end: ${ready}`);
    }
    return {
      load: `1 instance, 8 at a time, ${httpRuns} per route and ${grpcRuns} per gRPC method`,
      faults: `malformed HTTP, gRPC and signed input × ${f.requests}`,
      requests: f.requests,
      // Nothing hostile input can reach is stored except access records, and those are checked above.
      lost: 0,
      serverErrors: f.serverErrors,
      recoverySeconds: null,
      failures: f.failures,
      notes: [`fast-check seed ${seed}`, ...phases, ...f.notes(), `exchange answers ${exchangeAnswers}, access records gained ${recorded}`, ...attacks.codes.map((c) => `attack ${c}`)],
    };
  } finally {
    closeAgent();
    await Promise.all([...signers.values()].map((s) => s.close()));
    await cluster.close();
  }
}

export const hostileInput: Scenario = {
  name: 'hostile-input',
  title: 'Malformed HTTP, gRPC and adversarially signed input: catalogued 4xx answers, no 5xx, no crash, every refused exchange query recorded',
  run,
};
