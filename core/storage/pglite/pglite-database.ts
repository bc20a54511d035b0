import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { ZtError } from '../../errors/index.js';
import type { Database, QueryResult, Queryable, Session } from '../port.js';

export interface PgliteOptions {
  /** Directory for the database files; undefined keeps the database in memory (tests). */
  dataDir: string | undefined;
}

// Both adapters hand back the same JavaScript types: bigint (int8) as number, numeric as string, bytea as Buffer.
const BYTEA = 17;
const parsers = {
  [BYTEA]: (text: string) => Buffer.from(text.slice(2), 'hex'),
};

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * PGlite keeps no lock of its own, and two processes writing one directory corrupt it.
 * A pid file guards the directory; a stale one (its process gone) is taken over.
 */
function lockDataDir(dir: string): () => void {
  const lockPath = join(dir, 'zhengtong.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(lockPath, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number.parseInt(readFileSync(lockPath, 'utf8'), 10);
      if (Number.isInteger(holder) && holder !== process.pid && pidAlive(holder)) {
        throw new ZtError(
          'ZT_ERR_DATA_DIR_LOCKED',
          `the embedded database in ${dir} is in use by process ${holder}; stop it, or set ZT_DATA_DIR to another directory, or DATABASE_URL to share a PostgreSQL server`,
        );
      }
      rmSync(lockPath, { force: true });
    }
  }
  throw new ZtError('ZT_ERR_DATA_DIR_LOCKED', `could not lock the embedded database in ${dir}`);
}

class PgliteQueryable implements Queryable {
  constructor(protected readonly target: PGlite | Transaction) {}

  async query<R>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
    const result = await this.target.query<R>(sql, params as unknown[]);
    // Like pg: a statement that returns rows counts them; others count the rows they changed.
    return { rows: result.rows, rowCount: result.fields.length > 0 ? result.rows.length : (result.affectedRows ?? 0) };
  }

  async exec(sql: string): Promise<void> {
    await this.target.exec(sql);
  }
}

export class PgliteDatabase extends PgliteQueryable implements Database {
  readonly kind = 'pglite' as const;
  readonly location: string;
  #closed = false;
  #unlock: (() => void) | null;
  #locks = new Map<string, Promise<void>>();

  private constructor(
    private readonly db: PGlite,
    location: string,
    unlock: (() => void) | null,
  ) {
    super(db);
    this.location = location;
    this.#unlock = unlock;
  }

  static async open(options: PgliteOptions): Promise<PgliteDatabase> {
    if (options.dataDir === undefined) {
      const db = await PGlite.create({ parsers });
      return new PgliteDatabase(db, 'in memory (PGlite)', null);
    }
    const dir = resolve(options.dataDir);
    mkdirSync(dir, { recursive: true });
    const unlock = lockDataDir(dir);
    try {
      const db = await PGlite.create(join(dir, 'pglite'), { parsers });
      return new PgliteDatabase(db, `${join(dir, 'pglite')} (PGlite)`, unlock);
    } catch (error) {
      unlock();
      throw new ZtError('ZT_ERR_STORAGE_UNAVAILABLE', `the embedded database in ${dir} cannot be opened: ${(error as Error).message}`, { cause: error });
    }
  }

  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) => fn(new PgliteQueryable(tx)));
  }

  async withLock<T>(key: string, fn: (session: Session) => Promise<T>): Promise<T> {
    // One process owns a PGlite database, so a promise chain per key is a complete lock.
    const previous = this.#locks.get(key) ?? Promise.resolve();
    let release!: () => void;
    const current = new Promise<void>((r) => (release = r));
    const tail = previous.then(() => current);
    this.#locks.set(key, tail);
    await previous;
    try {
      return await fn(this);
    } finally {
      release();
      if (this.#locks.get(key) === tail) this.#locks.delete(key);
    }
  }

  async ping(): Promise<void> {
    if (this.#closed) throw new ZtError('ZT_ERR_STORAGE_UNAVAILABLE', 'the embedded database is closed');
    try {
      await this.db.query('SELECT 1');
    } catch (error) {
      throw new ZtError('ZT_ERR_STORAGE_UNAVAILABLE', `the embedded database does not answer: ${(error as Error).message}`, { cause: error });
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.db.close();
    } finally {
      this.#unlock?.();
      this.#unlock = null;
    }
  }
}
