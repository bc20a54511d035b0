// Shutdown of the real process under load, with Kafka: a SIGTERM loses no accepted event (every 201 has its
// department.registered event on the topic after exit 0), and events left in the outbox by a SIGKILL are published
// by the next start. Runs against PostgreSQL when ZT_TEST_DATABASE_URL is set, else the embedded PGlite.
import { randomInt } from 'node:crypto';
import { rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../core/config/index.js';
import { KafkaEventBus } from '../../core/events/kafka/kafka-bus.js';
import { usccCheckCharacter } from '../../core/identifiers/index.js';
import { enqueueEvent } from '../../core/outbox/index.js';
import { migrate, openDatabase } from '../../core/storage/index.js';
import { DEPARTMENT_EVENTS_TOPIC } from '../../registry/departments/index.js';
import { describeWithService, kafkaBrokers, postgresUrl, uniqueName } from '../support/services.js';
import { ensureBuilt, freePort, killAll, runCli, spawnCli, tempDir, waitForHttp, type CliProcess } from './process.js';
import { join } from 'node:path';
import { DepartmentKey } from '../../client/department-key.js';
import { signHttpRequest } from '../../client/request-signing.js';
import type { Signer } from '../../certs/signer/index.js';

const CONCURRENCY = 32;
const PLATFORM_USCC = '11210100001000088R'; // the default ZT_PLATFORM_USCC: the first administrator

/** Valid, unique codes of government bodies (registration authority 1, type 1) in area 210100. */
function usccFactory(): () => string {
  const run = randomInt(0, 10_000);
  let n = 0;
  return () => {
    const first17 = `11210100${String(run).padStart(4, '0')}${String(n++).padStart(5, '0')}`;
    return first17 + usccCheckCharacter(first17)!;
  };
}

type Outcome = { status: number; error?: undefined } | { status?: undefined; error: string };

/** Registering a department is the platform administrator's: each request is signed with its key. */
async function postDepartment(agent: Agent, port: number, uscc: string, admin: Signer): Promise<Outcome> {
  const body = JSON.stringify({ uscc, name: `端到端测试部门 ${uscc}` });
  const { headers: signature } = await signHttpRequest({ method: 'POST', path: '/v1/departments', body: Buffer.from(body, 'utf8'), signer: admin });
  return new Promise((resolve) => {
    const req = request(
      {
        agent,
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/v1/departments',
        headers: { ...signature, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        timeout: 30_000,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
        res.on('error', (error) => resolve({ error: (error as NodeJS.ErrnoException).code ?? error.message }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('client timeout')));
    req.on('error', (error) => resolve({ error: (error as NodeJS.ErrnoException).code ?? error.message }));
    req.end(body);
  });
}

interface LoadReport {
  /** Codes whose registration answered 201. */
  accepted: Set<string>;
  acceptedAfterSignal: number;
  /** Statuses other than 201 seen before the signal (there should be none). */
  badBeforeSignal: string[];
  /** Requests answered 503 or failed at the connection after the signal. */
  refusedAfterSignal: number;
  startedBeforeSignalFinishedAfter: number;
  total: number;
  statuses: Record<string, number>;
}

/**
 * Fires registrations with CONCURRENCY in flight; after loadMs sends the signal to the process and keeps firing
 * until every worker has had its connection refused (or the process is gone and stays so).
 */
async function loadThenSignal(p: CliProcess, port: number, loadMs: number, signal: NodeJS.Signals, admin: Signer): Promise<LoadReport> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const nextUscc = usccFactory();
  const report: LoadReport = {
    accepted: new Set(),
    acceptedAfterSignal: 0,
    badBeforeSignal: [],
    refusedAfterSignal: 0,
    startedBeforeSignalFinishedAfter: 0,
    total: 0,
    statuses: {},
  };
  let signalled = false;
  const hardStop = Date.now() + loadMs + 60_000;

  const worker = async (): Promise<void> => {
    let failuresAfterSignal = 0;
    while (Date.now() < hardStop) {
      const uscc = nextUscc();
      const before = signalled;
      const outcome = await postDepartment(agent, port, uscc, admin);
      report.total++;
      const label = outcome.error ?? String(outcome.status);
      report.statuses[label] = (report.statuses[label] ?? 0) + 1;
      if (!before && signalled) report.startedBeforeSignalFinishedAfter++;
      if (outcome.status === 201) {
        report.accepted.add(uscc);
        if (signalled) report.acceptedAfterSignal++;
        continue;
      }
      if (!signalled) {
        report.badBeforeSignal.push(label);
        continue;
      }
      report.refusedAfterSignal++;
      if (outcome.error !== undefined) {
        // Connection refused or reset: the server is gone for this worker once it keeps failing.
        failuresAfterSignal++;
        if (failuresAfterSignal >= 3 || outcome.error === 'ECONNREFUSED') return;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  };

  const workers = Array.from({ length: CONCURRENCY }, () => worker());
  await new Promise((r) => setTimeout(r, loadMs));
  signalled = true;
  p.kill(signal);
  await Promise.all(workers);
  agent.destroy();
  return report;
}

/** Reads department.registered events of the topic from the beginning, with a fresh group, until every expected code is seen. */
async function readRegisteredEvents(topicPrefix: string, expected: Set<string>, timeoutMs: number): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  const bus = await KafkaEventBus.connect({ brokers: kafkaBrokers, clientId: 'zt-e2e-reader', topicPrefix, connectTimeoutMs: 10_000 });
  let done!: () => void;
  const complete = new Promise<void>((r) => (done = r));
  const check = (): void => {
    for (const uscc of expected) if (!seen.has(uscc)) return;
    done();
  };
  try {
    const subscription = await bus.subscribe({
      topics: [DEPARTMENT_EVENTS_TOPIC],
      group: uniqueName('e2e_reader'),
      fromBeginning: true,
      handler: async (event) => {
        const value = JSON.parse(event.value.toString('utf8')) as { type?: string; department?: { uscc?: string } };
        const uscc = value.department?.uscc;
        if (value.type === 'department.registered' && uscc) seen.set(uscc, (seen.get(uscc) ?? 0) + 1);
        check();
      },
    });
    check();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([complete, new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    await subscription.close();
  } finally {
    await bus.close();
  }
  return seen;
}

function missingFrom(seen: Map<string, number>, expected: Iterable<string>): string[] {
  return [...expected].filter((uscc) => !seen.has(uscc));
}

describeWithService('kafka', 'shutdown of zhengtong serve under load (Kafka)', () => {
  const dirs: string[] = [];
  const schemas: string[] = [];

  /** Storage of one test: a fresh PostgreSQL schema when a server is configured, else a fresh PGlite directory. */
  function storage(): Record<string, string> {
    const dataDir = tempDir('zt-e2e-shutdown-');
    dirs.push(dataDir);
    if (!postgresUrl) return { ZT_DATA_DIR: dataDir };
    const schema = uniqueName('zt_e2e_shutdown');
    schemas.push(schema);
    return { ZT_DATA_DIR: dataDir, DATABASE_URL: postgresUrl, ZT_DATABASE_SCHEMA: schema };
  }

  async function serveSettings(store: Record<string, string>, topicPrefix: string): Promise<Record<string, string>> {
    return {
      ...store,
      ZT_HTTP_PORT: String(await freePort()),
      ZT_GRPC_PORT: String(await freePort()),
      KAFKA_BROKERS: kafkaBrokers.join(','),
      ZT_KAFKA_TOPIC_PREFIX: topicPrefix,
      ZT_SEED_DEMO: 'false',
      ZT_LOG_LEVEL: 'warn',
    };
  }

  /**
   * A platform CA for the storage, and a certificate of the platform operator (the first administrator, who may
   * register departments), made with the CLI before serve starts.
   */
  async function administrator(store: Record<string, string>): Promise<Signer> {
    const init = await runCli(['ca', 'init'], { ...store, ZT_LOG_LEVEL: 'warn' }, 120_000);
    expect(init.code, init.stderr).toBe(0);
    const key = join(store.ZT_DATA_DIR!, 'admin.key.pem');
    const cert = join(store.ZT_DATA_DIR!, 'admin.cert.pem');
    const enrol = await runCli(['ca', 'enrol', '--uscc', PLATFORM_USCC, '--name', '平台运营方', '--generate', '--key-out', key, '--out', cert], { ...store, ZT_LOG_LEVEL: 'warn' }, 120_000);
    expect(enrol.code, enrol.stderr).toBe(0);
    return DepartmentKey.fromFiles(key, cert);
  }

  async function startServe(settings: Record<string, string>): Promise<CliProcess> {
    const p = spawnCli(['serve'], settings);
    await waitForHttp(`http://127.0.0.1:${settings.ZT_HTTP_PORT}/healthz`, 90_000, () => p.child.exitCode === null && p.child.signalCode === null);
    return p;
  }

  beforeAll(async () => {
    await ensureBuilt();
  }, 240_000);

  afterEach(async () => {
    await killAll();
  });

  afterAll(async () => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    if (postgresUrl && schemas.length > 0) {
      const client = new pg.Client({ connectionString: postgresUrl });
      await client.connect();
      try {
        for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await client.end();
      }
    }
  });

  it('SIGTERM during load loses no accepted event', async () => {
    const topicPrefix = `${uniqueName('zt_e2e_term')}.`;
    const store = storage();
    const admin = await administrator(store);
    const settings = await serveSettings(store, topicPrefix);
    const p = await startServe(settings);

    const load = await loadThenSignal(p, Number(settings.ZT_HTTP_PORT), 2500, 'SIGTERM', admin);
    const exit = await p.waitForExit(60_000);
    const summary = JSON.stringify({ ...load, accepted: load.accepted.size });
    console.info(`[e2e] SIGTERM under load: ${summary}`);

    expect(exit, `stderr:\n${p.stderr()}\nstdout:\n${p.stdout().slice(-4000)}`).toEqual({ code: 0, signal: null, timedOut: false });
    expect(p.stderr()).not.toMatch(/^\s+at /m);
    expect(load.badBeforeSignal, summary).toEqual([]);
    expect(load.accepted.size, summary).toBeGreaterThan(0);
    // The signal arrived while requests were in flight, and the server then refused new work.
    expect(load.startedBeforeSignalFinishedAfter, summary).toBeGreaterThan(0);
    expect(load.refusedAfterSignal, summary).toBeGreaterThan(0);

    const seen = await readRegisteredEvents(topicPrefix, load.accepted, 60_000);
    const missing = missingFrom(seen, load.accepted);
    expect(missing, `${missing.length} of ${load.accepted.size} accepted registrations have no event on ${topicPrefix}${DEPARTMENT_EVENTS_TOPIC}`).toEqual([]);
  }, 180_000);

  it('events left in the outbox by SIGKILL are published on the next start', async () => {
    const topicPrefix = `${uniqueName('zt_e2e_kill')}.`;
    const store = storage();
    const admin = await administrator(store);
    const first = await serveSettings(store, topicPrefix);
    const p = await startServe(first);
    const load = await loadThenSignal(p, Number(first.ZT_HTTP_PORT), 1500, 'SIGKILL', admin);
    const exit = await p.waitForExit(30_000);
    expect(exit.signal).toBe('SIGKILL');
    expect(load.accepted.size, JSON.stringify(load.statuses)).toBeGreaterThan(0);

    // Events committed to the outbox but not yet published when the process died: whatever the relay had not sent
    // yet, plus a few written here the way the service writes them (so there is always something to recover).
    const config = loadConfig({ env: { ...store, ZT_LOG_LEVEL: 'silent' } });
    const db = await openDatabase(config);
    const extra = new Set<string>();
    let leftByKill: number;
    try {
      await migrate(db);
      const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM zt_outbox');
      leftByKill = rows[0]!.n;
      const nextUscc = usccFactory();
      await db.transaction(async (tx) => {
        for (let i = 0; i < 5; i++) {
          const uscc = nextUscc();
          extra.add(uscc);
          await enqueueEvent(tx, DEPARTMENT_EVENTS_TOPIC, {
            key: uscc,
            value: JSON.stringify({ type: 'department.registered', department: { uscc, name: 'outbox only', shortName: null, areaCode: '210100', createdAt: new Date().toISOString() } }),
            headers: { 'zt-event-type': 'department.registered' },
          });
        }
      });
    } finally {
      await db.close();
    }
    console.info(`[e2e] SIGKILL under load: accepted ${load.accepted.size}, ${leftByKill} events left in the outbox, ${extra.size} added`);

    const second = await serveSettings(store, topicPrefix);
    const again = await startServe(second);
    const expected = new Set([...load.accepted, ...extra]);
    const seen = await readRegisteredEvents(topicPrefix, expected, 60_000);
    again.kill('SIGTERM');
    const secondExit = await again.waitForExit(60_000);
    expect(secondExit, again.stderr()).toEqual({ code: 0, signal: null, timedOut: false });

    const missing = missingFrom(seen, expected);
    expect(missing, `${missing.length} of ${expected.size} committed events were not published after the restart`).toEqual([]);

    const reopened = await openDatabase(config);
    try {
      const { rows } = await reopened.query<{ n: number }>('SELECT count(*)::int AS n FROM zt_outbox');
      expect(rows[0]!.n).toBe(0);
    } finally {
      await reopened.close();
    }
  }, 240_000);
});
