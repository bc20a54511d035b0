import { afterAll, expect, it } from 'vitest';
import { storageContract } from '../../../test/contracts/storage.contract.js';
import { describeWithService, postgresUrl, uniqueName } from '../../../test/support/services.js';
import { isZtError } from '../../errors/index.js';
import type { Database } from '../port.js';
import { PgDatabase, splitPool } from './pg-database.js';

describeWithService('postgres', 'PostgreSQL storage adapter: contract', () => {
  const opened: Database[] = [];
  const schemas = new Map<Database, string>();
  const open = async (schema: string): Promise<Database> => {
    const db = await PgDatabase.open({ url: postgresUrl!, poolSize: 4, schema });
    opened.push(db);
    schemas.set(db, schema);
    return db;
  };
  storageContract({
    open: () => open(uniqueName('zt_test')),
    openAnother: (db) => open(schemas.get(db)!),
    async dispose() {
      const admin = await PgDatabase.open({ url: postgresUrl!, poolSize: 1, schema: undefined });
      for (const schema of new Set(schemas.values())) await admin.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.close();
      await Promise.all(opened.map((db) => db.close()));
    },
  });
});

describeWithService('postgres', 'PostgreSQL storage adapter: a connection closed by the server while checked out', () => {
  // Without a listener of its own, the connection's 'error' event ends the process (the vitest worker here).
  const terminate = async (admin: PgDatabase, marker: string) => {
    for (let i = 0; i < 50; i++) {
      const { rows } = await admin.query<{ n: number }>(`SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE query LIKE $1 AND pid <> pg_backend_pid()`, [`%${marker}%`]);
      if (rows[0]!.n > 0) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error('the connection to terminate was not found');
  };

  it('fails the transaction or the locked work, keeps the process up, and serves the next statement on a new connection', async () => {
    const db = await PgDatabase.open({ url: postgresUrl!, poolSize: 2, schema: undefined });
    const admin = await PgDatabase.open({ url: postgresUrl!, poolSize: 1, schema: undefined });
    try {
      for (const run of [(fn: (q: { query: PgDatabase['query'] }) => Promise<void>) => db.transaction(fn), (fn: (q: { query: PgDatabase['query'] }) => Promise<void>) => db.withLock('closed-under-us', fn)]) {
        const marker = `zt_marker_${Math.random().toString(36).slice(2)}`;
        const outcome = run(async (tx) => {
          await tx.query(`SELECT '${marker}'`);
          // Between two statements, the server closes the connection.
          await terminate(admin, marker);
          await new Promise((r) => setTimeout(r, 200));
          await tx.query('SELECT 1');
        }).then(
          () => 'committed',
          () => 'failed',
        );
        expect(await outcome).toBe('failed');
      }
      expect((await db.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one).toBe(1);
    } finally {
      await admin.close();
      await db.close();
    }
  });
});

describeWithService('postgres', 'PostgreSQL storage adapter: the fixed statements', () => {
  // The statement reports how its own prepared statement on this connection has been planned so far.
  const PLANS = (marker: string) => `SELECT generic_plans::int AS generic, custom_plans::int AS custom, current_setting('plan_cache_mode') AS mode,
    current_setting('search_path') AS path FROM pg_prepared_statements WHERE statement LIKE '%' || $1::text || '%' /* ${marker} */`;
  type Plans = { generic: number; custom: number; mode: string; path: string };

  it('plans a prepared statement run on the database once for any parameters, and everything else for its values', async () => {
    const schema = uniqueName('zt_test');
    const db = await PgDatabase.open({ url: postgresUrl!, poolSize: 2, schema });
    try {
      const marker = uniqueName('fixed');
      let last: Plans | undefined;
      for (let i = 0; i < 3; i++) last = (await db.query<Plans>(PLANS(marker), [marker], { prepare: true })).rows[0];
      // Without the setting, the first five executions would each be planned for their values (custom plans).
      expect(last).toEqual({ generic: 3, custom: 0, mode: 'force_generic_plan', path: schema });

      // In a transaction the statement runs on that transaction's connection, with the server's default.
      const inTx = uniqueName('tx');
      const tx = await db.transaction(async (q) => {
        let rows: Plans[] = [];
        for (let i = 0; i < 3; i++) ({ rows } = await q.query<Plans>(PLANS(inTx), [inTx], { prepare: true }));
        return rows[0];
      });
      expect(tx).toEqual({ generic: 0, custom: 3, mode: 'auto', path: schema });
      // Unprepared statements go to the general connections too.
      const plain = await db.query<{ mode: string; path: string }>(`SELECT current_setting('plan_cache_mode') AS mode, current_setting('search_path') AS path WHERE $1::int = 1`, [1]);
      expect(plain.rows[0]).toEqual({ mode: 'auto', path: schema });
    } finally {
      await db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await db.close();
    }
  });

  it('shares the connections of an instance between the two, never leaving one without', () => {
    expect(splitPool(10)).toEqual({ general: 5, fixed: 5 });
    expect(splitPool(5)).toEqual({ general: 3, fixed: 2 });
    expect(splitPool(2)).toEqual({ general: 1, fixed: 1 });
    expect(splitPool(1)).toEqual({ general: 1, fixed: 1 });
  });
});

describeWithService('postgres', 'PostgreSQL storage adapter: connection errors', () => {
  const url = new URL(postgresUrl ?? 'postgres://127.0.0.1:5432/test');

  it('says so in one line when nothing listens', async () => {
    const bad = new URL(url);
    bad.port = '1';
    const error = await PgDatabase.open({ url: bad.toString(), poolSize: 1, schema: undefined }).catch((e: unknown) => e);
    expect(isZtError(error) && error.code).toBe('ZT_ERR_STORAGE_UNAVAILABLE');
    expect((error as Error).message).toMatch(/is PostgreSQL running\?/);
    expect((error as Error).message).not.toMatch(/\n/);
  });

  it('says so when the database does not exist', async () => {
    const bad = new URL(url);
    bad.pathname = '/zt_no_such_database';
    const error = await PgDatabase.open({ url: bad.toString(), poolSize: 1, schema: undefined }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/database does not exist/);
  });

  it('hides the password in messages', async () => {
    const bad = new URL(url);
    bad.port = '1';
    bad.username = 'someone';
    bad.password = 'sekret-pw';
    const error = await PgDatabase.open({ url: bad.toString(), poolSize: 1, schema: undefined }).catch((e: unknown) => e);
    expect((error as Error).message).not.toMatch(/sekret-pw/);
  });

  afterAll(() => undefined);
});
