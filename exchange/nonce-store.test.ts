// Nonce claims survive a restart, and a crash: the signed-request verifier releases nothing before the claim is
// answered (signed-request.ts), so a claim answered must already be on disk. Claims stay batched, one statement each.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../core/paths.js';
import { migrate, PgDatabase, PgliteDatabase, type Database, type Queryable } from '../core/storage/index.js';
import { describeWithService, postgresUrl, uniqueName } from '../test/support/services.js';
import { NonceStore } from './nonce-store.js';

const key = () => randomBytes(32).toString('hex');
const later = () => new Date(Date.now() + 600_000);

/** Claims a nonce, closes the store's database (a restart), opens it again: the nonce is refused, a new one is not. */
async function survivesRestart(open: () => Promise<Database>): Promise<void> {
  const nonce = key();
  const before = await open();
  await migrate(before);
  expect(await new NonceStore(before).claim(nonce, later())).toBe(true);
  await before.close();

  const after = await open();
  try {
    const store = new NonceStore(after); // a new instance: nothing in its local cache
    expect(await store.claim(nonce, later())).toBe(false);
    expect(await store.claim(key(), later())).toBe(true);
  } finally {
    await after.close();
  }
}

/** Counts what the store sends: statements, and transactions (each one more round trips). */
function counting(db: Database): { db: Database; statements: () => number; transactions: () => number } {
  let statements = 0;
  let transactions = 0;
  const wrapped = Object.create(db) as Database;
  wrapped.query = ((sql: string, params?: readonly unknown[]) => {
    statements++;
    return db.query(sql, params);
  }) as Queryable['query'];
  wrapped.transaction = ((fn: (tx: Queryable) => Promise<unknown>) => {
    transactions++;
    return db.transaction(fn);
  }) as Database['transaction'];
  return { db: wrapped, statements: () => statements, transactions: () => transactions };
}

describe('NonceStore on PGlite', () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'zt-nonces-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('a claimed nonce is refused after the database is closed and opened again', async () => {
    const dataDir = tempDir();
    await survivesRestart(() => PgliteDatabase.open({ dataDir }));
  });

  it('a nonce whose claim was answered is refused after the process is killed (SIGKILL, no shutdown)', async () => {
    const dataDir = tempDir();
    const nonce = key();
    // Node itself with tsx's loader (not the tsx command, whose own child would outlive the kill).
    const child = spawn(process.execPath, ['--import', 'tsx', join(packageRoot(), 'test', 'support', 'nonce-claim-child.ts'), dataDir, nonce], {
      cwd: packageRoot(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    const answer = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => resolve(chunk.toString().trim()));
      child.on('exit', (code) => reject(new Error(`the child exited (${code}) before answering: ${stderr}`)));
    });
    expect(answer).toBe('claimed');
    // Killed the moment the answer is out, as a crash would: no close, no checkpoint, nothing flushed on the way out.
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    const db = await PgliteDatabase.open({ dataDir });
    try {
      await migrate(db);
      expect(await new NonceStore(db).claim(nonce, later())).toBe(false);
    } finally {
      await db.close();
    }
  }, 60_000);

  it('claims made together go in few statements, none of them a transaction of several round trips', async () => {
    const db = await PgliteDatabase.open({ dataDir: undefined });
    try {
      await migrate(db);
      const spy = counting(db);
      const store = new NonceStore(spy.db);
      const keys = Array.from({ length: 500 }, key);
      const answers = await Promise.all([...keys, keys[0]!, keys[1]!].map((k) => store.claim(k, later())));
      expect(answers.filter(Boolean)).toHaveLength(500); // the two repeats are refused
      expect(spy.transactions()).toBe(0);
      expect(spy.statements()).toBeLessThanOrEqual(3); // the first claim alone, then the rest as one batch (or two)
    } finally {
      await db.close();
    }
  });
});

describeWithService('postgres', 'NonceStore on PostgreSQL', () => {
  const schema = uniqueName('zt_nonces');
  afterAll(async () => {
    const admin = await PgDatabase.open({ url: postgresUrl!, poolSize: 1, schema: undefined });
    await admin.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.close();
  });

  it('a claimed nonce is refused after the pool is closed and a new one opened', async () => {
    await survivesRestart(() => PgDatabase.open({ url: postgresUrl!, poolSize: 2, schema }));
  });

  it('the claim is committed with synchronous_commit on (waits for the WAL on disk), in one statement per batch', async () => {
    const db = await PgDatabase.open({ url: postgresUrl!, poolSize: 1, schema });
    try {
      // The server's setting for this database is what the claim's commit uses: it must not be off.
      const { rows } = await db.query<{ synchronous_commit: string }>('SHOW synchronous_commit');
      expect(rows[0]!.synchronous_commit).not.toBe('off');
      const spy = counting(db);
      const store = new NonceStore(spy.db);
      const keys = Array.from({ length: 300 }, key);
      expect((await Promise.all(keys.map((k) => store.claim(k, later())))).every(Boolean)).toBe(true);
      expect(spy.transactions()).toBe(0);
      expect(spy.statements()).toBeLessThanOrEqual(3);
    } finally {
      await db.close();
    }
  });
});
