import { createHash } from 'node:crypto';
import pg from 'pg';
import { redactUrl } from '../../config/index.js';
import { ZtError } from '../../errors/index.js';
import type { Database, QueryOptions, QueryResult, Queryable, Session } from '../port.js';

export interface PgOptions {
  url: string;
  poolSize: number;
  /** Schema to work in (created if missing); undefined keeps the server's search_path. */
  schema: string | undefined;
  /** How long to wait for a connection before reporting the database unreachable. */
  connectTimeoutMs?: number;
  /** Receives errors of idle connections (a restarted server, a dropped network), which pg reports out of band. */
  onIdleError?: (error: Error) => void;
}

// Both adapters hand back the same JavaScript types: bigint (int8) as number, numeric as string, bytea as Buffer.
const INT8 = 20;
const types = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8 ? (text: string) => Number(text) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** Turns driver and network failures into one actionable line. */
export function describeConnectError(error: unknown, location: string): ZtError {
  const e = error as NodeJS.ErrnoException & { code?: string };
  let reason: string;
  switch (e?.code) {
    case 'ECONNREFUSED':
      reason = 'nothing accepts connections there; is PostgreSQL running?';
      break;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      reason = 'the host name does not resolve';
      break;
    case '28P01':
    case '28000':
      reason = 'authentication failed; check the user and password';
      break;
    case '3D000':
      reason = 'the database does not exist; create it (createdb) or fix the name';
      break;
    case '3F000':
      reason = 'the schema does not exist';
      break;
    default:
      reason = e instanceof Error ? e.message : String(error);
  }
  return new ZtError('ZT_ERR_STORAGE_UNAVAILABLE', `cannot connect to PostgreSQL at ${location}: ${reason}`, { cause: error });
}

/** A 64-bit advisory lock id derived from a readable key, so different features never collide by accident. */
export function advisoryLockId(key: string): string {
  return createHash('sha256').update(key).digest().readBigInt64BE(0).toString();
}

/**
 * How the instance's connections are shared. The fixed statements of the hot paths (`prepare: true` outside a
 * transaction: the exchange's read, the nonce claim, the access record) get connections of their own, on which
 * PostgreSQL plans each statement once for any parameters (plan_cache_mode=force_generic_plan). On the others it
 * would plan the exchange's read (`subject_code = ANY($2)`) anew at every execution, 0.23 ms of 0.28, because a plan
 * made for the values always looks cheaper; the generic plan is the same index scan. SQL built per call (the audit
 * search with its optional filters) keeps plans made for its values on the general connections. Half of the
 * connections each, the general pool taking the odd one: the hot statements are batched, so a few connections carry
 * them at the peak.
 */
export function splitPool(size: number): { general: number; fixed: number } {
  const fixed = Math.max(1, Math.floor(size / 2));
  return { general: Math.max(1, size - fixed), fixed };
}

/** Names of prepared statements, by their SQL: the same name on every connection, prepared there on first use. */
const preparedNames = new Map<string, string>();

function queryConfig(sql: string, params: readonly unknown[], options: QueryOptions | undefined): pg.QueryConfig {
  if (!options?.prepare) return { text: sql, values: params as unknown[] };
  let name = preparedNames.get(sql);
  if (name === undefined) {
    name = `zt_${createHash('sha256').update(sql).digest('hex').slice(0, 24)}`;
    preparedNames.set(sql, name);
  }
  return { name, text: sql, values: params as unknown[] };
}

class ClientQueryable implements Queryable {
  constructor(protected readonly client: pg.PoolClient) {}

  async query<R>(sql: string, params: readonly unknown[] = [], options?: QueryOptions): Promise<QueryResult<R>> {
    const result = await this.client.query(queryConfig(sql, params, options));
    return { rows: result.rows as R[], rowCount: result.rowCount ?? result.rows.length };
  }

  async exec(sql: string): Promise<void> {
    // Without parameters pg uses the simple query protocol, which accepts several statements.
    await this.client.query(sql);
  }
}

async function inTransaction<T>(client: pg.PoolClient, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await fn(new ClientQueryable(client));
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

class ClientSession extends ClientQueryable implements Session {
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return inTransaction(this.client, fn);
  }
}

export class PgDatabase implements Database {
  readonly kind = 'postgres' as const;
  readonly location: string;
  #closed = false;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly fixed: pg.Pool,
    location: string,
    private readonly schema: string | undefined,
  ) {
    this.location = location;
  }

  static async open(options: PgOptions): Promise<PgDatabase> {
    const location = redactUrl(options.url);
    if (options.schema !== undefined && !IDENTIFIER.test(options.schema)) {
      throw new ZtError('ZT_ERR_CONFIG_INVALID', `ZT_DATABASE_SCHEMA must be a lower-case SQL identifier, got ${JSON.stringify(options.schema)}`);
    }
    const split = splitPool(options.poolSize);
    const poolOf = (max: number, settings: string[]): pg.Pool => {
      const pool = new pg.Pool({
        connectionString: options.url,
        max,
        connectionTimeoutMillis: options.connectTimeoutMs ?? 10000,
        idleTimeoutMillis: 30000,
        application_name: 'zhengtong',
        types,
        ...(settings.length > 0 ? { options: settings.map((s) => `-c ${s}`).join(' ') } : {}),
      });
      pool.on('error', (error) => options.onIdleError?.(error));
      return pool;
    };
    const searchPath = options.schema ? [`search_path=${options.schema}`] : [];
    const pool = poolOf(split.general, searchPath);
    // The fixed statements' connections plan each statement once, for any parameters (see splitPool).
    const fixed = poolOf(split.fixed, [...searchPath, 'plan_cache_mode=force_generic_plan']);
    try {
      const client = await pool.connect();
      try {
        if (options.schema) await client.query(`CREATE SCHEMA IF NOT EXISTS ${options.schema}`);
      } finally {
        client.release();
      }
    } catch (error) {
      await Promise.all([pool.end(), fixed.end()]).catch(() => undefined);
      throw describeConnectError(error, location);
    }
    return new PgDatabase(pool, fixed, options.schema ? `${location} schema ${options.schema}` : location, options.schema);
  }

  async query<R>(sql: string, params: readonly unknown[] = [], options?: QueryOptions): Promise<QueryResult<R>> {
    const result = await (options?.prepare ? this.fixed : this.pool).query(queryConfig(sql, params, options));
    return { rows: result.rows as R[], rowCount: result.rowCount ?? result.rows.length };
  }

  async exec(sql: string): Promise<void> {
    await this.pool.query(sql);
  }

  /**
   * A client of the pool for a while, with a listener for its 'error' event. The pool listens only to idle
   * clients: a checked-out connection that the server closes between two statements (a restart, an administrator's
   * pg_terminate_backend) emits 'error' with nobody listening, and Node ends the process. Here the error is kept,
   * the next statement fails with it, and the connection is destroyed rather than returned to the pool.
   */
  async #checkout(): Promise<{ client: pg.PoolClient; release: (destroy?: boolean) => void }> {
    const client = await this.pool.connect();
    let lost = false;
    const onError = (): void => {
      lost = true;
    };
    client.on('error', onError);
    return {
      client,
      release: (destroy = false) => {
        client.off('error', onError);
        client.release(destroy || lost);
      },
    };
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const { client, release } = await this.#checkout();
    try {
      return await inTransaction(client, fn);
    } finally {
      release();
    }
  }

  async withLock<T>(key: string, fn: (session: Session) => Promise<T>): Promise<T> {
    const id = advisoryLockId(`${this.schema ?? ''}:${key}`);
    const { client, release } = await this.#checkout();
    let broken = false;
    try {
      await client.query('SELECT pg_advisory_lock($1::bigint)', [id]);
      try {
        return await fn(new ClientSession(client));
      } finally {
        await client.query('SELECT pg_advisory_unlock($1::bigint)', [id]).catch((error: unknown) => {
          broken = true;
          throw error;
        });
      }
    } finally {
      // A connection whose unlock failed may still hold the lock: destroy it so the server releases it.
      release(broken);
    }
  }

  async ping(): Promise<void> {
    if (this.#closed) throw new ZtError('ZT_ERR_STORAGE_UNAVAILABLE', 'the database connection pool is closed');
    try {
      await this.pool.query('SELECT 1');
    } catch (error) {
      throw describeConnectError(error, this.location);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([this.pool.end(), this.fixed.end()]);
  }
}
