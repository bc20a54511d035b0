// serve with ZT_WORKERS=2 on PostgreSQL and Kafka: one port pair, two gateway instances answering signed exchange
// queries over HTTP and gRPC, a graceful stop on SIGTERM; and the refusal to run several on the embedded database.
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DepartmentKey, ExchangeClient } from '../../client/index.js';
import { PgDatabase } from '../../core/storage/index.js';
import { DEMO_SUBJECTS } from '../../exchange/datasets/index.js';
import { demoKeyFiles } from '../../demo/index.js';
import { describeWithService, kafkaBrokers, postgresUrl, uniqueName } from '../support/services.js';
import { ensureBuilt, freePort, killAll, runCli, spawnCli, tempDir, waitForHttp, type CliProcess } from './process.js';

const YS = '112101000010000537';

describeWithService('kafka', 'serve with two worker processes', () => {
  describeWithService('postgres', 'on PostgreSQL and Kafka', () => {
    const schema = uniqueName('zt_workers');
    const dir = tempDir('zt-e2e-workers-');
    let serve: CliProcess;
    let http = '';
    let grpcAddress = '';

    beforeAll(async () => {
      await ensureBuilt();
      const [httpPort, grpcPort] = [await freePort(), await freePort()];
      http = `http://127.0.0.1:${httpPort}`;
      grpcAddress = `127.0.0.1:${grpcPort}`;
      serve = spawnCli(['serve'], {
        ZT_WORKERS: '2',
        ZT_DATA_DIR: join(dir, 'data'),
        ZT_HTTP_PORT: String(httpPort),
        ZT_GRPC_PORT: String(grpcPort),
        DATABASE_URL: postgresUrl,
        ZT_DATABASE_SCHEMA: schema,
        KAFKA_BROKERS: kafkaBrokers.join(','),
        ZT_KAFKA_TOPIC_PREFIX: `${uniqueName('zt-workers')}.`,
        ZT_LOG_LEVEL: 'warn',
      });
      await serve.waitFor(/serving with 2 worker processes/, 'stderr', 180_000);
      await waitForHttp(`${http}/healthz`, 10_000);
    }, 240_000);

    afterAll(async () => {
      await killAll();
      const admin = await PgDatabase.open({ url: postgresUrl!, poolSize: 1, schema: undefined });
      try {
        await admin.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await admin.close();
      }
    });

    it('answers over HTTP and gRPC from both workers, each recorded as its own instance, and stops cleanly', async () => {
      const data = join(dir, 'data');
      const keys = demoKeyFiles(data, YS);
      const client = new ExchangeClient({
        httpUrl: http,
        grpcAddress,
        signer: DepartmentKey.fromFiles(keys.key, keys.certificate),
        trust: { root: readFileSync(join(data, 'ca', 'root-ca.cert.pem')), issuing: readFileSync(join(data, 'ca', 'issuing-ca.cert.pem')) },
      });
      try {
        const query = (i: number) => ({
          resource: '210100-GA-0001',
          items: ['name'],
          subject: { kind: 'person' as const, code: DEMO_SUBJECTS.applicant.idNumber },
          purpose: { serviceItem: 'QYKB-210100-0009', caseNumber: `WORKERS-${i}` },
        });
        // Fresh connections (HTTP: one per fetch under load; gRPC: a channel) are spread over the workers.
        const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => client.query(query(i), { protocol: i % 2 === 0 ? 'http' : 'grpc' })));
        expect(answers.every((a) => a.result.items.name === DEMO_SUBJECTS.applicant.name)).toBe(true);
      } finally {
        await client.close();
      }
      const db = await PgDatabase.open({ url: postgresUrl!, poolSize: 1, schema });
      try {
        const { rows } = await db.query<{ instance: string }>(`SELECT DISTINCT instance FROM access_record WHERE case_number LIKE 'WORKERS-%'`);
        expect(rows.length).toBe(2);
        expect(rows.every((r) => /-w[12]$/.test(r.instance))).toBe(true);
      } finally {
        await db.close();
      }
      serve.kill('SIGTERM');
      expect((await serve.waitForExit(30_000)).code).toBe(0);
    });

    it('stops, instead of restarting workers forever, when they cannot serve (a port in use)', async () => {
      const busy = createServer().listen(0, '127.0.0.1');
      await new Promise((resolve) => busy.once('listening', resolve));
      try {
        const run = await runCli(
          ['serve'],
          {
            ZT_WORKERS: '2',
            ZT_DATA_DIR: join(dir, 'data'),
            ZT_HTTP_PORT: String((busy.address() as AddressInfo).port),
            ZT_GRPC_PORT: String(await freePort()),
            DATABASE_URL: postgresUrl,
            ZT_DATABASE_SCHEMA: schema,
            KAFKA_BROKERS: kafkaBrokers.join(','),
            ZT_KAFKA_TOPIC_PREFIX: `${uniqueName('zt-workers')}.`,
            ZT_LOG_LEVEL: 'warn',
          },
          120_000,
        );
        expect(run.timedOut).toBe(false);
        expect(run.code).toBe(1);
        expect(run.stderr).toMatch(/ZT_ERR_PORT_IN_USE/);
        expect(run.stderr).toMatch(/exited with 1 before serving; stopping/);
      } finally {
        busy.close();
      }
    }, 180_000);
  });
});

it('refuses ZT_WORKERS > 1 on the embedded database, in one line', async () => {
  await ensureBuilt();
  const run = await runCli(['serve'], { ZT_WORKERS: '2', ZT_DATA_DIR: join(tempDir('zt-e2e-workers-'), 'data') }, 60_000);
  expect(run.code).toBe(1);
  expect(run.stderr.trim()).toMatch(/^zhengtong: ZT_WORKERS=2 needs PostgreSQL \(DATABASE_URL\) and Kafka .*\[ZT_ERR_CONFIG_INVALID\]$/);
}, 240_000);
