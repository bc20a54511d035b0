// The exchange's hot path end to end: signed queries through the real gateway (signature, certificate, nonce, grant,
// negative list, table connector, masking, batch-signed answer, group-committed access record), over HTTP
// (POST /v1/exchange/query, driven by autocannon) and gRPC (zhengtong.v1.ExchangeService/Query, driven by
// bench/grpc-driver.ts), with requests signed by the client SDK's signing functions before each run (a fresh nonce
// each, every nonce used once). The gateway runs in its own process on the embedded PGlite or on PostgreSQL
// (ZT_BENCH_DATABASE_URL). Each protocol runs at its peak, then at half of that peak at a fixed rate, then at 50 req/s;
// the fixed rates are evenly spaced (bench/http-paced.ts for HTTP), not autocannon's bursts per second.
//
// Baselines, in the same run with the same drivers and connections (bench/baseline-exchange-server.ts):
//   A  a bare server that verifies the request signature and SM2-signs an answer of the same size in a worker pool;
//   B  the same verification, answering a constant body.
// npm run bench also runs A at half of its own peak and at the low rate (baselineLatency), so that the exchange's
// latency targets stand beside what the same SM2 work gives on a bare route here.
// Beside the peak: the gateway main thread's idle share and its process CPU (scraped from /metrics before and after),
// and the whole machine's CPU (/proc/stat), so a figure says whether the box was saturated.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import autocannon from 'autocannon';
import { dropSchema, freePort, removeServerData, stop, waitForHttp } from './process.js';
import { compare, cpuPerRequest, isLocalPostgres, probe, residentBytes, scrapeMetrics, slope, type ProbeFigures } from './gateway-probe.js';
import { driveGrpc, type PresignedCall } from './grpc-driver.js';
import { driveHttpPaced } from './http-paced.js';
import type { RunFigures as LicenceRunFigures } from './licence-verify.bench.js';
import { EXCHANGE_GRPC_PATH, EXCHANGE_HTTP_PATH, encodeQueryJson, encodeQueryRequest, signGrpcRequest, signHttpRequest, type QueryInput } from '../client/index.js';
import { LocalSm2Signer } from '../certs/signer/index.js';
import { parseCertificate } from '../certs/x509/index.js';
import { generateSm2KeyPair, sm2Sign, sm2Verify } from '../certs/sm2/sm2.js';
import { packageRoot } from '../core/paths.js';
import { DEMO_SUBJECTS } from '../exchange/datasets/index.js';
import { demoKeyFiles } from '../demo/index.js';

const YS = '112101000010000537';
const QUERY: QueryInput = {
  resource: '210100-GA-0001',
  items: ['name', 'idNumber', 'address'],
  subject: { kind: 'person', code: DEMO_SUBJECTS.applicant.idNumber },
  purpose: { serviceItem: 'QYKB-210100-0009', caseNumber: 'BENCH-000001' },
};
/** Requests sent to warm a gateway up (signer pool, caches, JIT); their rate sizes the peak run's presigned set. */
const WARM_UP_REQUESTS = 1500;

export type Protocol = 'HTTP' | 'gRPC';
export type Backend = 'PGlite' | 'PostgreSQL';

/** non2xx counts, over gRPC, statuses other than OK. */
export interface RunFigures extends LicenceRunFigures {
  /** The presigned requests ran out before the time was up (the run was cut short). */
  exhausted: boolean;
}

export interface ProtocolRuns {
  protocol: Protocol;
  peak: RunFigures;
  /** The gateway and the machine during the peak run. */
  atPeak: ProbeFigures;
  half: RunFigures & { rate: number };
  /** The gateway and the machine during the run at half of the peak. */
  atHalf: ProbeFigures;
  low: (RunFigures & { rate: number }) | null;
}

export interface BackendRuns {
  backend: Backend;
  runs: ProtocolRuns[];
  /** The gateway's resident memory after start-up and after the runs, in bytes. */
  rss: { before: number | null; after: number | null };
}

export type Variant = 'A' | 'B' | 'C';

export interface BaselineRuns {
  protocol: Protocol;
  A: RunFigures | null;
  B: RunFigures | null;
  /** A with one durable PostgreSQL commit per request (only with a database URL). */
  C: RunFigures | null;
  /**
   * Baselines A and C at fixed rates (options.baselineLatency): what a bare route doing the same SM2 work (and, for
   * C, the same kind of commit) gives at half of its own peak and at the low rate, evenly spaced. The exchange's
   * latency targets stand beside these.
   */
  aHalf?: RunFigures & { rate: number };
  aLow?: RunFigures & { rate: number };
  cHalf?: RunFigures & { rate: number };
  cLow?: RunFigures & { rate: number };
  /** The baseline server and the machine during each variant's peak: its CPU per request beside the exchange's. */
  atPeak: Partial<Record<Variant, ProbeFigures>>;
}

export interface ScalingRuns {
  workers: number;
  one: RunFigures;
  many: RunFigures;
}

export interface SoakSample {
  minutes: number;
  rss: number | null;
  heapUsed: number | null;
}

export interface SoakRuns {
  seconds: number;
  rate: number;
  samples: SoakSample[];
  run: RunFigures;
}

export interface ExchangeBenchResult {
  seconds: number;
  /** The gateway's fixed-rate run was at this set rate, not at half of its peak. */
  fixedRate: number | null;
  connections: number;
  fixedConnections: number;
  verifyPerSecondOneCore: number;
  backends: BackendRuns[];
  baselines: BaselineRuns[];
  scaling: ScalingRuns | null;
  soak: SoakRuns | null;
}

export interface ExchangeBenchOptions {
  seconds: number;
  connections: number;
  /** PostgreSQL: measured there too (and only there when backends says so). */
  databaseUrl?: string;
  /** Default: PGlite, and PostgreSQL when databaseUrl is given. */
  backends?: Backend[];
  /** Default: both. */
  protocols?: Protocol[];
  /** Default: A and B, and C when databaseUrl is given (C needs it: it records in that database). */
  baselines?: Variant[];
  /** The fixed-rate run as a share of the peak (default 0.5). */
  fixedShare?: number;
  /**
   * The gateway's fixed-rate run at this rate instead of a share of its peak: the CPU per exchange of two builds
   * compares best at one rate, while their peaks swing with the machine. Its p99 is then not judged.
   */
  fixedRate?: number;
  /** The low fixed rate (default 50 req/s); 0 skips that run. */
  lowRate?: number;
  /** Scrape the gateway's metrics and /proc around the peak (default true). */
  probe?: boolean;
  /** Also run baseline A at half of its peak and at the low rate, for the latency targets (default false). */
  baselineLatency?: boolean;
  /** With kafkaBrokers and databaseUrl: PostgreSQL + Kafka on 1 and on this many gateway processes. */
  workers?: number;
  kafkaBrokers?: string;
  /** Run the PostgreSQL exchange this long at half of its peak, and follow its memory (0: no). */
  soakSeconds?: number;
  /** How long to measure the SM2 verify rate of one core, printed for the machine's speed (0: not measured). */
  cryptoSeconds?: number;
}

/** SM2 verifications per second on this thread (one core), over 200-byte messages: the machine's speed. */
function verifyRate(seconds: number): number {
  const { privateKey, publicKey } = generateSm2KeyPair();
  const message = Buffer.alloc(200, 7);
  const signature = sm2Sign(privateKey, message);
  const start = performance.now();
  const end = start + seconds * 1000;
  let n = 0;
  while (performance.now() < end) {
    for (let i = 0; i < 50; i++) sm2Verify(publicKey, message, signature);
    n += 50;
  }
  return n / ((performance.now() - start) / 1000);
}

interface HttpRequest {
  body: string;
  headers: Record<string, string>;
}

/** Signs requests in the department's LocalSm2Signer pool, so presigning takes both cores and little time. */
class Presigner {
  readonly #signer: LocalSm2Signer;
  readonly #certificateBase64: string;
  readonly #httpBody: Buffer;
  readonly #grpcBody: Buffer;

  private constructor(signer: LocalSm2Signer) {
    this.#signer = signer;
    this.#certificateBase64 = Buffer.from(signer.certificate!.der).toString('base64');
    this.#httpBody = encodeQueryJson(QUERY, YS);
    this.#grpcBody = encodeQueryRequest(QUERY, YS);
  }

  static async open(dataDir: string): Promise<Presigner> {
    const files = demoKeyFiles(dataDir, YS);
    const certificate = new Uint8Array(parseCertificate(readFileSync(files.certificate)).rawData);
    return new Presigner(await LocalSm2Signer.start({ privateKey: readFileSync(files.key), certificate }));
  }

  async http(count: number): Promise<HttpRequest[]> {
    const body = this.#httpBody.toString('utf8');
    return this.#many(count, async () => {
      const { headers } = await signHttpRequest({ body: this.#httpBody, signer: this.#signer });
      // One certificate string for all: the requests held in memory stay small.
      return { body, headers: { 'content-type': 'application/json', ...headers, 'zt-certificate': this.#certificateBase64 } };
    });
  }

  async grpc(count: number): Promise<PresignedCall[]> {
    return this.#many(count, async () => ({ body: this.#grpcBody, metadata: (await signGrpcRequest({ body: this.#grpcBody, signer: this.#signer })).metadata }));
  }

  async #many<T>(count: number, one: () => Promise<T>): Promise<T[]> {
    const out: T[] = [];
    while (out.length < count) out.push(...(await Promise.all(Array.from({ length: Math.min(512, count - out.length) }, one))));
    return out;
  }

  close(): Promise<void> {
    return this.#signer.close();
  }
}

interface DriveOptions {
  seconds?: number;
  amount?: number;
  connections: number;
  overallRate?: number;
  /** Cycle over the requests (a baseline keeps no nonces). */
  cycle?: boolean;
}

async function driveHttp(url: string, requests: readonly HttpRequest[], o: DriveOptions): Promise<RunFigures & { total: number; duration: number }> {
  if (o.overallRate) {
    // Evenly spaced, not autocannon's bursts per connection and second (bench/http-paced.ts).
    const seconds = o.seconds ?? 1;
    const r = await driveHttpPaced({ url, requests, seconds, connections: o.connections, rate: o.overallRate, ...(o.cycle ? { cycle: true } : {}) });
    return { ...r, total: Math.round(r.requestsPerSecond * seconds), duration: seconds };
  }
  let next = 0;
  let exhausted = false;
  let instance: autocannon.Instance | undefined;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    instance = autocannon(
      {
        url,
        connections: o.connections,
        ...(o.amount ? { amount: o.amount } : { duration: o.seconds ?? 1 }),
        ...(o.overallRate ? { overallRate: o.overallRate } : {}),
        requests: [
          {
            method: 'POST',
            setupRequest: (request) => {
              if (next >= requests.length) {
                if (!o.cycle && !exhausted) {
                  exhausted = true;
                  instance?.stop();
                }
                next = 0;
              }
              const r = requests[next++]!;
              return { ...request, body: r.body, headers: r.headers };
            },
          },
        ],
      },
      (error, r) => (error ? reject(error) : resolve(r)),
    );
  });
  return {
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    exhausted,
    total: result.requests.total,
    duration: result.duration,
  };
}

async function runGrpc(address: string, calls: readonly PresignedCall[], o: DriveOptions): Promise<RunFigures> {
  const r = await driveGrpc({ address, method: EXCHANGE_GRPC_PATH, calls, seconds: o.seconds ?? 1, concurrency: o.connections, ...(o.overallRate ? { overallRate: o.overallRate } : {}), ...(o.cycle ? { cycle: true } : {}) });
  return { requestsPerSecond: r.requestsPerSecond, p50: r.p50, p99: r.p99, non2xx: r.nonOk, errors: r.errors, exhausted: r.exhausted };
}

/** A gateway in a process of its own, with its data directory and (on PostgreSQL) its schema, removed by close(). */
class Gateway {
  readonly process: ChildProcess;
  readonly http: string;
  readonly grpc: string;
  readonly dataDir: string;
  readonly #databaseUrl: string | undefined;
  readonly #schema: string | undefined;

  private constructor(child: ChildProcess, httpPort: number, grpcPort: number, dataDir: string, databaseUrl: string | undefined, schema: string | undefined) {
    this.process = child;
    this.http = `http://127.0.0.1:${httpPort}`;
    this.grpc = `127.0.0.1:${grpcPort}`;
    this.dataDir = dataDir;
    this.#databaseUrl = databaseUrl;
    this.#schema = schema;
  }

  static async start(env: Record<string, string>): Promise<Gateway> {
    const dataDir = mkdtempSync(join(tmpdir(), 'zt-bench-x-'));
    const [httpPort, grpcPort] = [await freePort(), await freePort()];
    // ZT_BENCH_PROFILE_DIR: write a CPU profile of each gateway process there (open it in Chrome's DevTools).
    const profile = process.env.ZT_BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.ZT_BENCH_PROFILE_DIR}`] : [];
    const child = spawn(process.execPath, [...profile, join(packageRoot(), 'bin/zhengtong.js'), 'serve'], {
      env: { ...process.env, ZT_DATA_DIR: dataDir, ZT_HTTP_PORT: String(httpPort), ZT_GRPC_PORT: String(grpcPort), ZT_LOG_LEVEL: 'warn', KAFKA_BROKERS: '', ZT_WORKERS: '1', ...env },
      stdio: 'ignore',
    });
    const gateway = new Gateway(child, httpPort, grpcPort, dataDir, env.DATABASE_URL || undefined, env.ZT_DATABASE_SCHEMA);
    try {
      await waitForHttp(`${gateway.http}/healthz`, child, 120_000);
    } catch (error) {
      await gateway.close();
      throw error;
    }
    return gateway;
  }

  /** What probe() reads beside the metrics: the gateway's main thread, and PostgreSQL when it runs here. */
  get probed(): { postgres: boolean; pid?: number } {
    return { postgres: this.onLocalPostgres, ...(this.process.pid !== undefined ? { pid: this.process.pid } : {}) };
  }

  /** Whether its database is a PostgreSQL server on this machine, whose processes' CPU can be read. */
  get onLocalPostgres(): boolean {
    return isLocalPostgres(this.#databaseUrl);
  }

  async close(): Promise<void> {
    await stop(this.process);
    await removeServerData(this.dataDir, this.#databaseUrl, this.#schema);
  }
}

/** The exchange's answers to one request over each protocol: the baselines send answers of this size and shape. */
async function captureAnswers(gateway: Gateway, presigner: Presigner): Promise<{ http: string; grpc: Buffer }> {
  const [h] = await presigner.http(1);
  const response = await fetch(gateway.http + EXCHANGE_HTTP_PATH, { method: 'POST', body: h!.body, headers: h!.headers });
  const http = await response.text();
  if (response.status !== 200) throw new Error(`the exchange refused the bench's query: HTTP ${response.status} ${http}`);
  const [g] = await presigner.grpc(1);
  const client = new grpc.Client(gateway.grpc, grpc.credentials.createInsecure());
  try {
    const identity = (b: Buffer): Buffer => b;
    const answer = await new Promise<Buffer>((resolve, reject) =>
      client.makeUnaryRequest(EXCHANGE_GRPC_PATH, identity, identity, g!.body, g!.metadata, {}, (error, r) => (error || !r ? reject(error ?? new Error('no answer')) : resolve(r))),
    );
    return { http, grpc: answer };
  } finally {
    client.close();
  }
}

/** The presigned set for a run at up to `rate` req/s for `seconds`, with room to spare. */
function enough(rate: number, seconds: number): number {
  return Math.max(500, Math.ceil(rate * seconds * 1.3) + 200);
}

interface ProtocolPlan {
  connections: number;
  fixedConnections: number;
  seconds: number;
  fixedShare: number;
  fixedRate: number | null;
  lowRate: number;
  probe: boolean;
}

/** Warm-up, then the peak (probed): over one protocol on one gateway. */
async function warmAndPeak(gateway: Gateway, presigner: Presigner, protocol: Protocol, plan: ProtocolPlan): Promise<{ peak: RunFigures; atPeak: ProbeFigures }> {
  const url = gateway.http + EXCHANGE_HTTP_PATH;
  // Warm-up: a fixed number of requests; its rate sizes the peak's first presigned set.
  const warmSet = protocol === 'HTTP' ? await presigner.http(WARM_UP_REQUESTS) : await presigner.grpc(WARM_UP_REQUESTS);
  const warmStart = performance.now();
  if (protocol === 'HTTP') await driveHttp(url, warmSet as HttpRequest[], { amount: WARM_UP_REQUESTS, connections: plan.connections });
  else await runGrpc(gateway.grpc, warmSet as PresignedCall[], { seconds: 60, connections: plan.connections });
  const warmRate = WARM_UP_REQUESTS / ((performance.now() - warmStart) / 1000);
  const metricsUrl = plan.probe ? `${gateway.http}/metrics` : null;
  // The warm-up runs while the JIT and the caches are still cold, so its rate can be a third of the peak's or less.
  // A peak whose presigned requests run out is cut short (and autocannon sends a few of them again, as replays): it
  // is run again with twice as many.
  let peakRequests = Math.max(2000, Math.ceil(warmRate * plan.seconds * 3));
  for (let attempt = 1; ; attempt++) {
    const set = protocol === 'HTTP' ? await presigner.http(peakRequests) : await presigner.grpc(peakRequests);
    const before = await probe(metricsUrl, gateway.probed);
    const peak = protocol === 'HTTP' ? strip(await driveHttp(url, set as HttpRequest[], { seconds: plan.seconds, connections: plan.connections })) : await runGrpc(gateway.grpc, set as PresignedCall[], { seconds: plan.seconds, connections: plan.connections });
    const atPeak = compare(before, await probe(metricsUrl, gateway.probed));
    if (!peak.exhausted || attempt === 3) return { peak, atPeak };
    peakRequests *= 2;
  }
}

/** Warm-up, peak (probed), half of peak, low rate: over one protocol on one gateway. */
async function runProtocol(gateway: Gateway, presigner: Presigner, protocol: Protocol, plan: ProtocolPlan): Promise<ProtocolRuns> {
  const url = gateway.http + EXCHANGE_HTTP_PATH;
  const fixed = async (rate: number): Promise<RunFigures & { rate: number }> => {
    const o = { seconds: plan.seconds, connections: plan.fixedConnections, overallRate: rate };
    const count = enough(rate, plan.seconds);
    return { rate, ...strip(protocol === 'HTTP' ? await driveHttp(url, await presigner.http(count), o) : await runGrpc(gateway.grpc, await presigner.grpc(count), o)) };
  };
  const { peak, atPeak } = await warmAndPeak(gateway, presigner, protocol, plan);
  // Probed like the peak: the CPU an exchange costs at a rate the machine is not saturated by.
  const halfRate = plan.fixedRate ?? Math.max(1, Math.round(peak.requestsPerSecond * plan.fixedShare));
  const metricsUrl = plan.probe ? `${gateway.http}/metrics` : null;
  const beforeHalf = await probe(metricsUrl, gateway.probed);
  const half = await fixed(halfRate);
  const atHalf = compare(beforeHalf, await probe(metricsUrl, gateway.probed));
  const low = plan.lowRate > 0 ? await fixed(plan.lowRate) : null;
  return { protocol, peak, atPeak, half, atHalf, low };
}

/** Only the figures (driveHttp adds its totals). */
function strip<T extends RunFigures>(r: T): T {
  const { total: _total, duration: _duration, ...rest } = r as T & { total?: number; duration?: number };
  return rest as T;
}

/** Baselines A and B over the protocols asked for, each at peak with the exchange's connections. */
async function runBaselines(
  answers: { http: string; grpc: Buffer },
  presigner: Presigner,
  protocols: Protocol[],
  which: Variant[],
  plan: ProtocolPlan,
  latency: boolean,
  databaseUrl: string | undefined,
): Promise<BaselineRuns[]> {
  const { seconds, connections } = plan;
  // The baselines keep no nonces: a few thousand requests, cycled.
  const httpSet = protocols.includes('HTTP') ? await presigner.http(5000) : [];
  const grpcSet = protocols.includes('gRPC') ? await presigner.grpc(5000) : [];
  const out: BaselineRuns[] = protocols.map((protocol) => ({ protocol, A: null, B: null, C: null, atPeak: {} }));
  for (const variant of which) {
    if (variant === 'C' && !databaseUrl) continue;
    const [port, grpcPort] = [await freePort(), await freePort()];
    const recordSchema = `zt_bench_c_${process.pid}`;
    const record = variant === 'C' ? { ZT_BASELINE_RECORD_URL: databaseUrl!, ZT_BASELINE_RECORD_SCHEMA: recordSchema } : {};
    const server = spawn(process.execPath, ['--import', 'tsx', join(packageRoot(), 'bench/baseline-exchange-server.ts')], {
      env: {
        ...process.env,
        PORT: String(port),
        GRPC_PORT: String(grpcPort),
        ZT_BASELINE_SIGN: variant === 'B' ? '0' : '1',
        ZT_BASELINE_HTTP_ANSWER: answers.http,
        ZT_BASELINE_GRPC_ANSWER: answers.grpc.toString('base64'),
        ...record,
      },
      stdio: 'ignore',
    });
    try {
      await waitForHttp(`http://127.0.0.1:${port}/healthz`, server, 30_000);
      for (const entry of out) {
        const drive = (o: DriveOptions) => (entry.protocol === 'HTTP' ? driveHttp(`http://127.0.0.1:${port}${EXCHANGE_HTTP_PATH}`, httpSet, o) : runGrpc(`127.0.0.1:${grpcPort}`, grpcSet, o));
        await drive({ seconds: 2, connections, cycle: true }); // warm-up
        // The server's process from /proc (it has no metrics), and for C the PostgreSQL it commits to.
        const probed = { postgres: variant === 'C' && isLocalPostgres(databaseUrl), ...(server.pid !== undefined ? { pid: server.pid } : {}) };
        const before = await probe(null, probed);
        const peak = strip(await drive({ seconds, connections, cycle: true }));
        entry.atPeak[variant] = compare(before, await probe(null, probed));
        entry[variant] = peak;
        if (variant !== 'B' && latency) {
          const rate = Math.max(1, Math.round(peak.requestsPerSecond * plan.fixedShare));
          const half = { rate, ...strip(await drive({ seconds, connections: plan.fixedConnections, overallRate: rate, cycle: true })) };
          const low = plan.lowRate > 0 ? { rate: plan.lowRate, ...strip(await drive({ seconds, connections: plan.fixedConnections, overallRate: plan.lowRate, cycle: true })) } : undefined;
          if (variant === 'A') [entry.aHalf, entry.aLow] = [half, low];
          else [entry.cHalf, entry.cLow] = [half, low];
        }
      }
    } finally {
      await stop(server);
      // The server drops its schema as it stops; this is for one that did not get to.
      if (variant === 'C') await dropSchema(databaseUrl!, recordSchema);
    }
  }
  return out;
}

/** Half of the PostgreSQL peak for `seconds`, a minute at a time; memory read at the start and after each minute. */
async function soak(gateway: Gateway, presigner: Presigner, rate: number, seconds: number, connections: number): Promise<SoakRuns> {
  const url = gateway.http + EXCHANGE_HTTP_PATH;
  const sample = async (start: number): Promise<SoakSample> => {
    let heapUsed: number | null = null;
    try {
      heapUsed = (await scrapeMetrics(`${gateway.http}/metrics`)).get('zt_nodejs_heap_size_used_bytes') ?? null;
    } catch {
      heapUsed = null;
    }
    return { minutes: (performance.now() - start) / 60_000, rss: residentBytes(gateway.process.pid), heapUsed };
  };
  const start = performance.now();
  const samples = [await sample(start)];
  const totals = { requests: 0, seconds: 0, p50: 0, p99: 0, non2xx: 0, errors: 0, exhausted: false };
  for (let done = 0; done < seconds; ) {
    const chunk = Math.min(60, seconds - done);
    // Signed just before their minute (a pause of a few seconds), so no request nears the signature window's edge.
    const r = await driveHttp(url, await presigner.http(enough(rate, chunk)), { seconds: chunk, connections, overallRate: rate });
    totals.requests += r.total;
    totals.seconds += r.duration;
    totals.p50 = Math.max(totals.p50, r.p50);
    totals.p99 = Math.max(totals.p99, r.p99);
    totals.non2xx += r.non2xx;
    totals.errors += r.errors;
    totals.exhausted ||= r.exhausted;
    done += chunk;
    samples.push(await sample(start));
  }
  return {
    seconds,
    rate,
    samples,
    run: { requestsPerSecond: totals.requests / totals.seconds, p50: totals.p50, p99: totals.p99, non2xx: totals.non2xx, errors: totals.errors, exhausted: totals.exhausted },
  };
}

export async function benchExchange(options: ExchangeBenchOptions): Promise<ExchangeBenchResult> {
  const { seconds, connections, databaseUrl } = options;
  const protocols = options.protocols ?? ['HTTP', 'gRPC'];
  const backends = options.backends ?? (databaseUrl ? ['PGlite', 'PostgreSQL'] : ['PGlite']);
  if (backends.includes('PostgreSQL') && !databaseUrl) throw new Error('the exchange bench on PostgreSQL needs a database URL');
  const plan: ProtocolPlan = {
    connections,
    fixedConnections: Math.min(connections, 16),
    seconds,
    fixedShare: options.fixedShare ?? 0.5,
    fixedRate: options.fixedRate ?? null,
    lowRate: options.lowRate ?? 50,
    probe: options.probe ?? true,
  };
  const result: ExchangeBenchResult = {
    seconds,
    fixedRate: plan.fixedRate,
    connections,
    fixedConnections: plan.fixedConnections,
    verifyPerSecondOneCore: (options.cryptoSeconds ?? 2) > 0 ? verifyRate(options.cryptoSeconds ?? 2) : 0,
    backends: [],
    baselines: [],
    scaling: null,
    soak: null,
  };
  const env = (backend: Backend, tag: string): Record<string, string> =>
    backend === 'PGlite' ? { DATABASE_URL: '' } : { DATABASE_URL: databaseUrl!, ZT_DATABASE_SCHEMA: `zt_bench_${tag}_${process.pid}` };
  const which = options.baselines ?? (databaseUrl ? ['A', 'B', 'C'] : ['A', 'B']);
  // The baselines run after the first gateway has stopped, with the answers it gave and its department's signer (the
  // key files go with the gateway's data directory; the signer pool holds the key).
  let answers: { http: string; grpc: Buffer } | null = null;
  let baselineSigner: Presigner | null = null;
  try {
    for (const backend of backends) {
      const gateway = await Gateway.start(env(backend, 'x'));
      const presigner = await Presigner.open(gateway.dataDir).catch(async (error: unknown) => {
        await gateway.close();
        throw error;
      });
      try {
        if (!answers && which.length > 0) {
          answers = await captureAnswers(gateway, presigner);
          baselineSigner = presigner;
        }
        const rss = { before: residentBytes(gateway.process.pid), after: null as number | null };
        const runs: ProtocolRuns[] = [];
        for (const protocol of protocols) runs.push(await runProtocol(gateway, presigner, protocol, plan));
        rss.after = residentBytes(gateway.process.pid);
        result.backends.push({ backend, runs, rss });
        const http = runs.find((r) => r.protocol === 'HTTP');
        if (backend === 'PostgreSQL' && (options.soakSeconds ?? 0) > 0 && http) {
          result.soak = await soak(gateway, presigner, http.half.rate, options.soakSeconds!, plan.fixedConnections);
        }
      } finally {
        if (presigner !== baselineSigner) await presigner.close();
        await gateway.close();
      }
      if (answers && baselineSigner) {
        result.baselines = await runBaselines(answers, baselineSigner, protocols, which, plan, options.baselineLatency ?? false, databaseUrl);
        await baselineSigner.close();
        baselineSigner = null;
      }
    }
  } finally {
    await baselineSigner?.close();
  }
  const workers = options.workers ?? 1;
  if (databaseUrl && workers > 1 && options.kafkaBrokers) result.scaling = await scaling(databaseUrl, options.kafkaBrokers, workers, plan);
  return result;
}

/** PostgreSQL + Kafka, HTTP at peak, on one gateway process and on `workers` (serve with ZT_WORKERS). */
async function scaling(databaseUrl: string, kafkaBrokers: string, workers: number, plan: ProtocolPlan): Promise<ScalingRuns> {
  const peakOn = async (processes: number): Promise<RunFigures> => {
    const tag = `w${processes}`;
    const gateway = await Gateway.start({
      DATABASE_URL: databaseUrl,
      ZT_DATABASE_SCHEMA: `zt_bench_${tag}_${process.pid}`,
      KAFKA_BROKERS: kafkaBrokers,
      ZT_KAFKA_TOPIC_PREFIX: `zt-bench-${process.pid}-${tag}.`,
      ZT_WORKERS: String(processes),
    });
    const presigner = await Presigner.open(gateway.dataDir).catch(async (error: unknown) => {
      await gateway.close();
      throw error;
    });
    try {
      // Per-process metrics come from whichever process answers: here only the throughput is reported.
      return (await warmAndPeak(gateway, presigner, 'HTTP', { ...plan, probe: false })).peak;
    } finally {
      await presigner.close();
      await gateway.close();
    }
  };
  return { workers, one: await peakOn(1), many: await peakOn(workers) };
}

const TARGETS = {
  ofBaselineA: 1,
  ofBaselineB: 0.7,
  p99AtHalfMs: 10,
  p50AtLowMs: 3,
  pgliteOfPostgres: 0.5,
  mainThreadIdle: 0.15,
};

const pct = (share: number): string => `${(share * 100).toFixed(0)} %`;
const verdict = (pass: boolean): string => (pass ? 'PASS' : 'MISS');
const mb = (bytes: number | null): string => (bytes === null ? 'n/a' : `${(bytes / 2 ** 20).toFixed(0)} MB`);

function figures(r: RunFigures, protocol: Protocol): string {
  const refusals = protocol === 'HTTP' ? 'non-2xx' : 'non-OK';
  return (
    `${r.requestsPerSecond.toFixed(0).padStart(6)} req/s  p50 ${r.p50} ms  p99 ${r.p99} ms  (${refusals} ${r.non2xx}, errors ${r.errors})` +
    (r.exhausted ? '  [the presigned requests ran out: the run was cut short]' : '')
  );
}

/**
 * The CPU one exchange cost during a run, in milliseconds: the gateway process (its threads included), its main
 * thread, and the local PostgreSQL server. Steadier than a rate on a shared machine: compare these between builds.
 */
function perExchange(figures: ProbeFigures, requestsPerSecond: number, process = 'gateway'): string | null {
  const cpu = cpuPerRequest(figures, requestsPerSecond);
  const parts = [
    cpu.gatewayMs !== null ? `${process} ${cpu.gatewayMs.toFixed(2)} ms` + (cpu.mainThreadMs !== null ? ` (main thread ${cpu.mainThreadMs.toFixed(2)} ms)` : '') : null,
    cpu.postgresMs !== null ? `PostgreSQL ${cpu.postgresMs.toFixed(2)} ms` : null,
  ].filter(Boolean);
  return parts.length > 0 ? parts.join(', ') : null;
}

export function printExchange(r: ExchangeBenchResult): void {
  const out: string[] = [];
  out.push(
    `exchange query (POST ${EXCHANGE_HTTP_PATH}, gRPC ${EXCHANGE_GRPC_PATH}), ${r.seconds} s per run, ${r.connections} connections at peak, ${r.fixedConnections} at a fixed rate;`,
    `  requests presigned before each run, a fresh nonce each; HTTP driven by autocannon, gRPC by bench/grpc-driver.ts (one channel), both in this process`,
  );
  if (r.verifyPerSecondOneCore > 0) out.push(`  SM2 verify, one core, same run ${r.verifyPerSecondOneCore.toFixed(0)} /s`);
  const baselineRuns = (protocol: Protocol): BaselineRuns | undefined => r.baselines.find((b) => b.protocol === protocol);
  const baseline = (protocol: Protocol, variant: Variant): RunFigures | null => baselineRuns(protocol)?.[variant] ?? null;
  if (r.baselines.length > 0) {
    out.push('  baselines, same drivers and connections (bench/baseline-exchange-server.ts), at peak and, for A and C, at fixed rates:');
    for (const b of r.baselines) {
      const p = b.protocol.padEnd(4);
      const label = (text: string): string => `    ${p} ${text.padEnd(54)}`;
      const fixed = (variant: Variant, run: (RunFigures & { rate: number }) | undefined, what: string): void => {
        if (run) out.push(label(`${variant} at ${what} (${run.rate} req/s)`) + figures(run, b.protocol));
      };
      // A variant's peak, and the CPU each request cost its server there.
      const peak = (variant: Variant, what: string): void => {
        const run = b[variant];
        if (!run) return;
        out.push(label(`${variant}: ${what}`) + figures(run, b.protocol));
        const at = b.atPeak[variant];
        const per = at ? perExchange(at, run.requestsPerSecond, 'server') : null;
        if (per) out.push(`         CPU per request at peak: ${per}`);
      };
      peak('A', 'verify + SM2-sign the answer in a worker pool');
      fixed('A', b.aHalf, 'half of its peak');
      fixed('A', b.aLow, 'a low rate');
      peak('B', 'verify, constant answer');
      peak('C', 'A, answering once a row is committed to PostgreSQL');
      fixed('C', b.cHalf, 'half of its peak');
      fixed('C', b.cLow, 'a low rate');
    }
  }
  for (const backend of r.backends) {
    out.push(`  ${backend.backend}:`);
    for (const run of backend.runs) {
      const p = run.protocol.padEnd(4);
      const ratios = (['A', 'B', 'C'] as const).flatMap((variant) => {
        const base = baseline(run.protocol, variant);
        return base ? [`${pct(run.peak.requestsPerSecond / base.requestsPerSecond)} of ${variant}`] : [];
      });
      out.push(`    ${p} peak                          ${figures(run.peak, run.protocol)}${ratios.length > 0 ? `  = ${ratios.join(', ')}` : ''}`);
      const at = run.atPeak;
      if (at.mainThreadIdle !== null) {
        out.push(`         main thread idle ${pct(at.mainThreadIdle)} at peak (target < ${pct(TARGETS.mainThreadIdle)}: ${verdict(at.mainThreadIdle < TARGETS.mainThreadIdle)})`);
      }
      const load = [at.gatewayCores !== null ? `gateway process ${at.gatewayCores.toFixed(2)} cores` : null, at.machineBusy !== null ? `whole machine ${pct(at.machineBusy)} busy` : null].filter(Boolean);
      if (load.length > 0) out.push(`         CPU at peak: ${load.join(', ')}`);
      const perPeak = perExchange(run.atPeak, run.peak.requestsPerSecond);
      if (perPeak) out.push(`         CPU per exchange at peak: ${perPeak}`);
      const base = baselineRuns(run.protocol);
      // The baselines' own figures at the same share of their peaks and at the same low rate, beside each target.
      const beside = (a: RunFigures | undefined, c: RunFigures | undefined, pick: (f: RunFigures) => number): string => {
        const parts = [a ? `A ${pick(a)} ms` : null, c ? `C ${pick(c)} ms` : null].filter(Boolean);
        return parts.length > 0 ? ` (${parts.join(', ')})` : '';
      };
      const halfName = r.fixedRate === null ? 'half of peak' : 'the set rate';
      const judged = r.fixedRate === null ? `  p99 target ≤ ${TARGETS.p99AtHalfMs} ms: ${verdict(run.half.p99 <= TARGETS.p99AtHalfMs)}${beside(base?.aHalf, base?.cHalf, (f) => f.p99)}` : '';
      out.push(`    ${p} at ${halfName} (${run.half.rate} req/s)${' '.repeat(Math.max(1, 9 - String(run.half.rate).length))}${figures(run.half, run.protocol)}${judged}`);
      const perHalf = perExchange(run.atHalf, run.half.requestsPerSecond);
      if (perHalf) out.push(`         CPU per exchange at ${halfName}: ${perHalf}`);
      if (run.low) {
        out.push(
          `    ${p} at ${run.low.rate} req/s${' '.repeat(Math.max(1, 22 - String(run.low.rate).length))}${figures(run.low, run.protocol)}  p50 target ≤ ${TARGETS.p50AtLowMs} ms: ${verdict(run.low.p50 <= TARGETS.p50AtLowMs)}${beside(base?.aLow, base?.cLow, (f) => f.p50)}`,
        );
      }
    }
    if (backend.rss.before !== null) out.push(`    gateway RSS ${mb(backend.rss.before)} after start-up, ${mb(backend.rss.after)} after the runs`);
  }
  // The throughput targets, judged on PostgreSQL.
  const pg = r.backends.find((b) => b.backend === 'PostgreSQL');
  const pglite = r.backends.find((b) => b.backend === 'PGlite');
  out.push('  throughput targets (informational):');
  if (!pg) out.push('    on PostgreSQL: not measured (set ZT_BENCH_DATABASE_URL)');
  for (const run of pg?.runs ?? []) {
    const p = run.protocol.padEnd(4);
    for (const [variant, target] of [['A', TARGETS.ofBaselineA], ['B', TARGETS.ofBaselineB]] as const) {
      const base = baseline(run.protocol, variant);
      if (!base) continue;
      const share = run.peak.requestsPerSecond / base.requestsPerSecond;
      out.push(`    ${p} PostgreSQL peak ≥ ${pct(target)} of baseline ${variant}: ${pct(share)} (${run.peak.requestsPerSecond.toFixed(0)} against ${base.requestsPerSecond.toFixed(0)} req/s) ${verdict(share >= target)}`);
    }
    const c = baseline(run.protocol, 'C');
    if (c) out.push(`    ${p} PostgreSQL peak against baseline C (A with a durable commit per request, no target): ${pct(run.peak.requestsPerSecond / c.requestsPerSecond)}`);
    // What the peak is bound by on a machine the load generator shares: the CPU each request costs, all told.
    const total = (at: ProbeFigures | undefined, rps: number): number | null => {
      if (!at) return null;
      const cpu = cpuPerRequest(at, rps);
      return cpu.gatewayMs === null ? null : cpu.gatewayMs + (cpu.postgresMs ?? 0);
    };
    const costs: string[] = [];
    const exchangeMs = total(run.atPeak, run.peak.requestsPerSecond);
    if (exchangeMs !== null) costs.push(`exchange ${exchangeMs.toFixed(2)} ms`);
    for (const variant of ['A', 'C'] as const) {
      const base = baseline(run.protocol, variant);
      const ms = base ? total(baselineRuns(run.protocol)?.atPeak[variant], base.requestsPerSecond) : null;
      if (ms !== null) costs.push(`${variant} ${ms.toFixed(2)} ms`);
    }
    if (costs.length > 1) out.push(`    ${p} CPU per request at peak, server and PostgreSQL (no target): ${costs.join(', ')}`);
    const lite = pglite?.runs.find((x) => x.protocol === run.protocol);
    if (lite) {
      const share = lite.peak.requestsPerSecond / run.peak.requestsPerSecond;
      out.push(`    ${p} PGlite ≥ ${pct(TARGETS.pgliteOfPostgres)} of PostgreSQL: ${pct(share)} (${lite.peak.requestsPerSecond.toFixed(0)} against ${run.peak.requestsPerSecond.toFixed(0)} req/s) ${verdict(share >= TARGETS.pgliteOfPostgres)}`);
    }
  }
  if (r.scaling) {
    const s = r.scaling;
    out.push(
      `  PostgreSQL + Kafka, HTTP at peak, by gateway processes (ZT_WORKERS):`,
      `    1 process    ${figures(s.one, 'HTTP')}`,
      `    ${s.workers} processes  ${figures(s.many, 'HTTP')}`,
      `    ${s.workers} processes give ${(s.many.requestsPerSecond / s.one.requestsPerSecond).toFixed(2)} × one process's throughput`,
    );
  }
  if (r.soak) {
    const s = r.soak;
    out.push(`  soak: PostgreSQL, HTTP at ${s.rate} req/s for ${s.seconds} s  ${figures(s.run, 'HTTP')} (p50 and p99: the worst minute's)`);
    for (const x of s.samples) out.push(`    ${x.minutes.toFixed(1).padStart(5)} min  RSS ${mb(x.rss)}  heap used ${mb(x.heapUsed)}`);
    const rss = slope(s.samples.filter((x) => x.rss !== null).map((x) => [x.minutes, x.rss! / 2 ** 20]));
    const heap = slope(s.samples.filter((x) => x.heapUsed !== null).map((x) => [x.minutes, x.heapUsed! / 2 ** 20]));
    out.push(`    slope: RSS ${rss === null ? 'n/a' : `${rss.toFixed(2)} MB/min`}, heap used ${heap === null ? 'n/a' : `${heap.toFixed(2)} MB/min`}`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
}
