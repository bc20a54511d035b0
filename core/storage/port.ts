// The storage port. Both adapters speak PostgreSQL's SQL (PGlite is PostgreSQL compiled to WebAssembly), so the port
// is SQL with parameters; what differs is connection handling, locking and health. One contract suite
// (test/contracts/storage.contract.ts) holds both adapters to the same behaviour.

export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

export interface QueryOptions {
  /**
   * Keep the statement prepared on each connection (PostgreSQL), so that running it again skips parsing and planning:
   * for the few fixed statements of the hot paths, never for SQL built per call. Run on the database itself (not in
   * a transaction or a locked session), it goes to connections that plan it once for any parameters (a generic
   * plan), so only for statements whose best plan does not depend on the values. PGlite ignores it.
   */
  prepare?: boolean;
}

export interface Queryable {
  /** One statement with $1… parameters. */
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[], options?: QueryOptions): Promise<QueryResult<R>>;
  /** A script of several statements without parameters (migrations, DDL). */
  exec(sql: string): Promise<void>;
}

export interface Session extends Queryable {
  /**
   * Runs fn in a transaction: committed when fn resolves, rolled back when it throws (the error is rethrown).
   * Inside fn use only the given transaction, never the outer database (on PGlite that would wait for the
   * transaction to end, i.e. forever).
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
}

export type DatabaseKind = 'pglite' | 'postgres';

export interface Database extends Session {
  readonly kind: DatabaseKind;
  /** Human-readable place of the data, with any password hidden. */
  readonly location: string;
  /**
   * Runs fn on one session while holding a lock named by key across every instance that shares the database
   * (a PostgreSQL advisory lock; in PGlite, which one process owns, an in-process mutex).
   */
  withLock<T>(key: string, fn: (session: Session) => Promise<T>): Promise<T>;
  /** Resolves when the database answers a trivial query; rejects with ZT_ERR_STORAGE_UNAVAILABLE otherwise. */
  ping(): Promise<void>;
  /** Waits for running queries, then releases connections or the data directory. Idempotent. */
  close(): Promise<void>;
}

/** SQLSTATE codes that callers commonly branch on. */
export const SqlState = {
  uniqueViolation: '23505',
  foreignKeyViolation: '23503',
  checkViolation: '23514',
  serializationFailure: '40001',
} as const;

/** The SQLSTATE of a database error from either adapter, if it has one. */
export function sqlState(error: unknown): string | undefined {
  if (error && typeof error === 'object' && 'code' in error && typeof (error as { code: unknown }).code === 'string') {
    const code = (error as { code: string }).code;
    return /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
  }
  return undefined;
}
