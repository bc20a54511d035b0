// One contract for every storage adapter: PGlite and PostgreSQL must behave alike wherever callers can tell.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { isZtError } from '../../core/errors/index.js';
import { migrate, readMigrations, sqlState, type Database } from '../../core/storage/index.js';

export interface StorageHarness {
  /** A fresh, empty store (no migrations applied). */
  open(): Promise<Database>;
  /** A second handle on the same store as `db` (another pool, or the same instance where only one can exist). */
  openAnother(db: Database): Promise<Database>;
  /** Closes what open() and openAnother() made and removes the store. */
  dispose(): Promise<void>;
}

export function storageContract(harness: StorageHarness): void {
  let db: Database;

  beforeAll(async () => {
    db = await harness.open();
    await db.exec('CREATE TABLE items (id serial PRIMARY KEY, code text UNIQUE NOT NULL, doc jsonb, n bigint, amount numeric, blob bytea, at timestamptz)');
  });
  afterAll(async () => {
    await harness.dispose();
  });

  it('answers a ping', async () => {
    await expect(db.ping()).resolves.toBeUndefined();
  });

  it('runs parameterised statements and reports affected rows', async () => {
    const insert = await db.query('INSERT INTO items (code, n) VALUES ($1, $2), ($3, $4)', ['a', 1, 'b', 2]);
    expect(insert.rowCount).toBe(2);
    const { rows } = await db.query<{ code: string; n: number }>('SELECT code, n FROM items WHERE code = ANY($1) ORDER BY code', [['a', 'b']]);
    expect(rows).toEqual([
      { code: 'a', n: 1 },
      { code: 'b', n: 2 },
    ]);
    const update = await db.query('UPDATE items SET n = n + 1 WHERE code IN ($1, $2)', ['a', 'zzz']);
    expect(update.rowCount).toBe(1);
  });

  it('returns the same JavaScript types from both adapters', async () => {
    const at = new Date('2025-08-01T00:00:00.000Z');
    await db.query('INSERT INTO items (code, doc, n, amount, blob, at) VALUES ($1, $2, $3, $4, $5, $6)', [
      'types',
      { 部门: '市场监督管理局', list: [1, 2] },
      9007199254740991,
      '12.50',
      Buffer.from([0, 1, 254, 255]),
      at,
    ]);
    const { rows } = await db.query<Record<string, unknown>>(
      'SELECT doc, n, amount, blob, at, (SELECT count(*) FROM items) AS total FROM items WHERE code = $1',
      ['types'],
    );
    const row = rows[0]!;
    expect(row.doc).toEqual({ 部门: '市场监督管理局', list: [1, 2] });
    expect(row.n).toBe(9007199254740991);
    expect(row.amount).toBe('12.50');
    expect(Buffer.isBuffer(row.blob)).toBe(true);
    expect([...(row.blob as Buffer)]).toEqual([0, 1, 254, 255]);
    expect(row.at).toBeInstanceOf(Date);
    expect((row.at as Date).toISOString()).toBe(at.toISOString());
    expect(typeof row.total).toBe('number');
  });

  it('runs multi-statement scripts', async () => {
    await db.exec("CREATE TABLE script_a (x int); CREATE TABLE script_b (y int); INSERT INTO script_a VALUES (1);");
    const { rows } = await db.query('SELECT x FROM script_a');
    expect(rows).toEqual([{ x: 1 }]);
  });

  it('commits a transaction whose function resolves', async () => {
    const result = await db.transaction(async (tx) => {
      await tx.query('INSERT INTO items (code) VALUES ($1)', ['tx-commit']);
      return 'done';
    });
    expect(result).toBe('done');
    const { rowCount } = await db.query('SELECT 1 FROM items WHERE code = $1', ['tx-commit']);
    expect(rowCount).toBe(1);
  });

  it('rolls back a transaction whose function throws, and rethrows', async () => {
    const boom = new Error('boom');
    await expect(
      db.transaction(async (tx) => {
        await tx.query('INSERT INTO items (code) VALUES ($1)', ['tx-rollback']);
        throw boom;
      }),
    ).rejects.toBe(boom);
    const { rowCount } = await db.query('SELECT 1 FROM items WHERE code = $1', ['tx-rollback']);
    expect(rowCount).toBe(0);
  });

  it('rolls back a transaction that fails inside the database and stays usable', async () => {
    await db.query('INSERT INTO items (code) VALUES ($1)', ['dup']);
    const error = await db
      .transaction(async (tx) => {
        await tx.query('INSERT INTO items (code) VALUES ($1)', ['tx-before-dup']);
        await tx.query('INSERT INTO items (code) VALUES ($1)', ['dup']);
      })
      .catch((e: unknown) => e);
    expect(sqlState(error)).toBe('23505');
    expect((await db.query('SELECT 1 FROM items WHERE code = $1', ['tx-before-dup'])).rowCount).toBe(0);
    expect((await db.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('keeps concurrent transactions apart', async () => {
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        db.transaction(async (tx) => {
          await tx.query('INSERT INTO items (code, n) VALUES ($1, $2)', [`conc-${i}`, i]);
          await sleep(5);
          const { rows } = await tx.query<{ n: number }>('SELECT n FROM items WHERE code = $1', [`conc-${i}`]);
          expect(rows[0]?.n).toBe(i);
        }),
      ),
    );
    const { rows } = await db.query<{ c: number }>("SELECT count(*) AS c FROM items WHERE code LIKE 'conc-%'");
    expect(rows[0]?.c).toBe(8);
  });

  it('serialises work under one lock key across handles', async () => {
    const other = await harness.openAnother(db);
    let inside = 0;
    let maxInside = 0;
    const work = (handle: Database) =>
      handle.withLock('contract-lock', async (session) => {
        inside++;
        maxInside = Math.max(maxInside, inside);
        await session.query('SELECT 1');
        await sleep(20);
        inside--;
      });
    await Promise.all([work(db), work(other), work(db), work(other)]);
    expect(maxInside).toBe(1);
  });

  it('applies migrations once, even when two instances start together', async () => {
    const fresh = await harness.open();
    const twin = await harness.openAnother(fresh);
    const [a, b] = await Promise.all([migrate(fresh), migrate(twin)]);
    const all = readMigrations();
    expect(a.applied.length + b.applied.length).toBe(all.length);
    expect(a.version).toBe(all.length);
    const again = await migrate(fresh);
    expect(again.applied).toEqual([]);
    const { rows } = await fresh.query<{ version: number }>('SELECT version FROM zt_schema_migrations ORDER BY version');
    expect(rows.map((r) => r.version)).toEqual(all.map((m) => m.version));
  });

  it('refuses a migration that changed after it was applied, and a schema newer than the build', async () => {
    const fresh = await harness.open();
    const dir = mkdtempSync(join(tmpdir(), 'zt-migrations-'));
    writeFileSync(join(dir, '0001_first.sql'), 'CREATE TABLE m1 (x int);');
    await migrate(fresh, readMigrations(dir));
    writeFileSync(join(dir, '0001_first.sql'), 'CREATE TABLE m1 (x int, y int);');
    const changed = await migrate(fresh, readMigrations(dir)).catch((e: unknown) => e);
    expect(isZtError(changed) && changed.code).toBe('ZT_ERR_STORAGE_MIGRATION');
    expect((changed as Error).message).toMatch(/changed after it was applied/);

    writeFileSync(join(dir, '0001_first.sql'), 'CREATE TABLE m1 (x int);');
    writeFileSync(join(dir, '0002_second.sql'), 'CREATE TABLE m2 (x int);');
    await migrate(fresh, readMigrations(dir));
    const older = readMigrations(dir).slice(0, 1);
    const newer = await migrate(fresh, older).catch((e: unknown) => e);
    expect((newer as Error).message).toMatch(/newer than this build/);
  });

  it('rolls back a failing migration entirely and names it', async () => {
    const fresh = await harness.open();
    const dir = mkdtempSync(join(tmpdir(), 'zt-migrations-'));
    writeFileSync(join(dir, '0001_broken.sql'), 'CREATE TABLE half_done (x int); SELECT no_such_function();');
    const error = await migrate(fresh, readMigrations(dir)).catch((e: unknown) => e);
    expect(isZtError(error) && error.code).toBe('ZT_ERR_STORAGE_MIGRATION');
    expect((error as Error).message).toMatch(/0001_broken\.sql failed/);
    const { rows } = await fresh.query<{ t: string | null }>("SELECT to_regclass('half_done')::text AS t");
    expect(rows[0]?.t).toBeNull();
  });

  it('reports itself unavailable once closed', async () => {
    const fresh = await harness.open();
    await fresh.close();
    await fresh.close();
    const error = await fresh.ping().catch((e: unknown) => e);
    expect(isZtError(error) && error.code).toBe('ZT_ERR_STORAGE_UNAVAILABLE');
  });
}
