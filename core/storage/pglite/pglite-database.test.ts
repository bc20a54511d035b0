import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { storageContract } from '../../../test/contracts/storage.contract.js';
import { isZtError } from '../../errors/index.js';
import type { Database } from '../port.js';
import { PgliteDatabase } from './pglite-database.js';

describe('PGlite storage adapter: contract', () => {
  const opened: Database[] = [];
  const dirs: string[] = [];
  storageContract({
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'zt-pglite-'));
      dirs.push(dir);
      const db = await PgliteDatabase.open({ dataDir: dir });
      opened.push(db);
      return db;
    },
    // One process owns a PGlite directory, so "another instance" is the same handle.
    async openAnother(db) {
      return db;
    },
    async dispose() {
      await Promise.all(opened.map((db) => db.close()));
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    },
  });
});

describe('PGlite storage adapter: data directory', () => {
  it('keeps data across a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zt-pglite-'));
    const first = await PgliteDatabase.open({ dataDir: dir });
    await first.exec("CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here');");
    await first.close();
    const second = await PgliteDatabase.open({ dataDir: dir });
    expect((await second.query('SELECT v FROM kept')).rows).toEqual([{ v: 'still here' }]);
    await second.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a directory that another live process holds, and takes over a stale lock', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zt-pglite-'));
    // PID 1 is always alive: pretend it holds the directory.
    writeFileSync(join(dir, 'zhengtong.lock'), '1');
    const error = await PgliteDatabase.open({ dataDir: dir }).catch((e: unknown) => e);
    expect(isZtError(error) && error.code).toBe('ZT_ERR_DATA_DIR_LOCKED');
    expect((error as Error).message).toMatch(/in use by process 1/);

    writeFileSync(join(dir, 'zhengtong.lock'), '999999999');
    const db = await PgliteDatabase.open({ dataDir: dir });
    await db.ping();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
