// The two databases the exchange's table tests run on: PGlite in memory, and PostgreSQL in a schema of its own
// (when ZT_TEST_DATABASE_URL is set; see test/support/services.ts). Both come migrated.
import { migrate, PgDatabase, PgliteDatabase, type Database } from '../../core/storage/index.js';
import { postgresUrl, uniqueName } from '../../test/support/services.js';

export interface DatabaseHarness {
  /** A fresh database with every migration applied. */
  open(): Promise<Database>;
  /** Closes what open() made and removes it. */
  dispose(): Promise<void>;
}

export function pgliteHarness(): DatabaseHarness {
  const opened: Database[] = [];
  return {
    async open() {
      const db = await PgliteDatabase.open({ dataDir: undefined });
      opened.push(db);
      await migrate(db);
      return db;
    },
    async dispose() {
      await Promise.all(opened.map((db) => db.close()));
    },
  };
}

export function postgresHarness(prefix: string): DatabaseHarness {
  const opened: Database[] = [];
  const schemas: string[] = [];
  return {
    async open() {
      const schema = uniqueName(prefix);
      schemas.push(schema);
      const db = await PgDatabase.open({ url: postgresUrl!, poolSize: 4, schema });
      opened.push(db);
      await migrate(db);
      return db;
    },
    async dispose() {
      await Promise.all(opened.map((db) => db.close()));
      const admin = await PgDatabase.open({ url: postgresUrl!, poolSize: 1, schema: undefined });
      for (const schema of schemas) await admin.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.close();
    },
  };
}
