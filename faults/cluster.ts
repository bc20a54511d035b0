// Gateway instances as they are deployed: separate `zhengtong serve` processes on one PostgreSQL schema, one Kafka
// topic prefix and one platform CA directory (so one platform key and one blind-index key), each with ports of its
// own, as behind a load balancer. The fault suite kills, restarts and watches them like an operator's supervisor
// would; nothing here reaches into a gateway but its signals, its ports and the database.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../core/paths.js';
import { PgDatabase } from '../core/storage/index.js';
import { freePort } from '../bench/process.js';
import { zhengtongEnv } from './report.js';

export interface ClusterOptions {
  databaseUrl: string;
  /** Empty: the in-process event bus of each instance (no events between them). */
  kafkaBrokers: string;
  /** Names the schema, topic prefix and directories (letters, digits, '_'). */
  name: string;
  instances: number;
  /** Settings for every instance (ZT_* variables). */
  env?: Record<string, string>;
}

export class Instance {
  readonly name: string;
  readonly http: string;
  readonly grpc: string;
  readonly dataDir: string;
  #child: ChildProcess | null = null;
  readonly #env: Record<string, string>;
  readonly #output: string[] = [];
  /** Exits the harness did not ask for: a gateway that dies by itself is a finding. */
  unexpectedExits = 0;
  #expectExit = false;

  constructor(name: string, httpPort: number, grpcPort: number, dataDir: string, env: Record<string, string>) {
    this.name = name;
    this.http = `http://127.0.0.1:${httpPort}`;
    this.grpc = `127.0.0.1:${grpcPort}`;
    this.dataDir = dataDir;
    this.#env = { ...env, ZT_HTTP_PORT: String(httpPort), ZT_GRPC_PORT: String(grpcPort), ZT_DATA_DIR: dataDir, ZT_INSTANCE_ID: name };
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get alive(): boolean {
    return this.#child !== null && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** The last lines the process wrote (stdout and stderr), for a failure's report. */
  tail(lines = 20): string {
    return this.#output.slice(-lines).join('\n');
  }

  /** Starts the process and resolves with the milliseconds until /healthz answered. */
  async start(timeoutMs = 120_000): Promise<number> {
    const started = performance.now();
    this.#expectExit = false;
    const child = spawn(process.execPath, [join(packageRoot(), 'bin/zhengtong.js'), 'serve'], { env: zhengtongEnv(this.#env), stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    const keep = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) this.#output.push(line.slice(0, 2000));
      if (this.#output.length > 400) this.#output.splice(0, this.#output.length - 200);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    child.on('exit', () => {
      if (!this.#expectExit) this.unexpectedExits++;
    });
    await this.waitHealthy(timeoutMs);
    return performance.now() - started;
  }

  /** Resolves once /healthz answers 200; rejects when the process exits first or after `timeoutMs`. */
  async waitHealthy(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.alive) throw new Error(`${this.name} exited while starting:\n${this.tail()}`);
      try {
        if ((await fetch(`${this.http}/healthz`, { signal: AbortSignal.timeout(1000) })).ok) return;
      } catch {
        // not yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${this.name} did not answer /healthz within ${timeoutMs} ms:\n${this.tail()}`);
  }

  /** Sends a signal the process lives through (SIGHUP: re-read the negative list). */
  signal(signal: NodeJS.Signals): void {
    if (!this.#child || !this.alive) throw new Error(`${this.name} is not running`);
    this.#child.kill(signal);
  }

  /** Sends `signal` and resolves once the process is gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.#child;
    if (!child || !this.alive) return;
    this.#expectExit = true;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await gone;
  }

  /** A graceful stop (SIGTERM), then SIGKILL after `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    const child = this.#child;
    if (!child || !this.alive) return;
    this.#expectExit = true;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await gone;
    clearTimeout(timer);
  }
}

export class Cluster {
  readonly instances: Instance[];
  readonly schema: string;
  readonly topicPrefix: string;
  /** The CA directory all instances share; the demo departments' keys are under the first instance's data dir. */
  readonly caDir: string;
  readonly #root: string;
  readonly #databaseUrl: string;
  #db: PgDatabase | null = null;

  private constructor(instances: Instance[], schema: string, topicPrefix: string, root: string, caDir: string, databaseUrl: string) {
    this.instances = instances;
    this.schema = schema;
    this.topicPrefix = topicPrefix;
    this.#root = root;
    this.caDir = caDir;
    this.#databaseUrl = databaseUrl;
  }

  /** The first instance's data directory: demoKeyFiles(cluster.dataDir, uscc) are the demo departments' keys. */
  get dataDir(): string {
    return this.instances[0]!.dataDir;
  }

  /**
   * Starts `instances` gateways one after the other: the first seeds the demo data and makes the CA, the others find
   * them. On any failure, what was started is stopped and removed again.
   */
  static async start(o: ClusterOptions): Promise<Cluster> {
    const tag = `${o.name}_${process.pid}_${Date.now().toString(36)}`;
    const schema = `zt_faults_${tag}`.toLowerCase();
    const topicPrefix = `zt-faults-${tag}.`.toLowerCase();
    const root = mkdtempSync(join(tmpdir(), `zt-faults-${o.name}-`));
    const caDir = join(root, 'i1', 'ca');
    const shared: Record<string, string> = {
      DATABASE_URL: o.databaseUrl,
      ZT_DATABASE_SCHEMA: schema,
      KAFKA_BROKERS: o.kafkaBrokers,
      ZT_KAFKA_TOPIC_PREFIX: topicPrefix,
      ZT_CA_DIR: caDir,
      ZT_LOG_LEVEL: 'warn',
      ZT_WORKERS: '1',
      ...o.env,
    };
    const instances: Instance[] = [];
    for (let i = 1; i <= o.instances; i++) instances.push(new Instance(`i${i}`, await freePort(), await freePort(), join(root, `i${i}`), shared));
    const cluster = new Cluster(instances, schema, topicPrefix, root, caDir, o.databaseUrl);
    try {
      for (const instance of instances) await instance.start();
    } catch (error) {
      await cluster.close();
      throw error;
    }
    return cluster;
  }

  /** A statement on the cluster's schema, through a connection of the harness's own. */
  async query<R = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
    this.#db ??= await PgDatabase.open({ url: this.#databaseUrl, poolSize: 2, schema: this.schema });
    return (await this.#db.query<R>(sql, params)).rows;
  }

  /** Drops the harness's own connection (before the database is restarted under it). */
  async disconnect(): Promise<void> {
    const db = this.#db;
    this.#db = null;
    await db?.close().catch(() => undefined);
  }

  /** Stops every instance, drops the schema and removes the directories. */
  async close(): Promise<void> {
    await Promise.all(this.instances.map((i) => i.stop()));
    await this.disconnect();
    const admin = await PgDatabase.open({ url: this.#databaseUrl, poolSize: 1, schema: undefined }).catch(() => null);
    try {
      await admin?.exec(`DROP SCHEMA IF EXISTS ${this.schema} CASCADE`);
    } finally {
      await admin?.close();
    }
    rmSync(this.#root, { recursive: true, force: true });
  }
}
