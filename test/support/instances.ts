// Two or more gateway instances deployed as in production, for tests that need real PostgreSQL and Kafka: one
// database schema, one topic prefix and one CA directory shared by every instance started here, and removed after.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../../core/config/index.js';
import { PgDatabase } from '../../core/storage/index.js';
import { startTestApp, type TestApp } from './app.js';
import { kafkaBrokers, postgresUrl, uniqueName } from './services.js';

export interface SharedDeployment {
  /** The platform CA directory every instance uses (the first one to start makes the demo CA there). */
  readonly caDir: string;
  /** Starts an instance on the shared database, topics and CA. */
  start(instanceId: string, overrides?: Partial<Config>): Promise<TestApp>;
  /** Drops the schema and the CA directory; close the instances first. */
  remove(): Promise<void>;
}

export function sharedDeployment(name: string): SharedDeployment {
  const schema = uniqueName(`zt_${name}`);
  const topicPrefix = `${uniqueName(`zt-${name}`)}.`;
  const caParent = mkdtempSync(join(tmpdir(), `zt-${name}-ca-`));
  const caDir = join(caParent, 'ca');
  return {
    caDir,
    start: (instanceId, overrides = {}) =>
      startTestApp({ databaseUrl: postgresUrl!, databaseSchema: schema, kafkaBrokers, kafkaTopicPrefix: topicPrefix, caDir, instanceId, ...overrides }),
    async remove() {
      const admin = await PgDatabase.open({ url: postgresUrl!, poolSize: 1, schema: undefined });
      try {
        await admin.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await admin.close();
      }
      rmSync(caParent, { recursive: true, force: true });
    },
  };
}
