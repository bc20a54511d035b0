export type { Database, DatabaseKind, QueryOptions, QueryResult, Queryable, Session } from './port.js';
export { SqlState, sqlState } from './port.js';
export { migrate, readMigrations, defaultMigrationsDir, type Migration, type MigrationReport } from './migrate.js';
export { openDatabase } from './open.js';
export { PgDatabase, advisoryLockId, type PgOptions } from './pg/pg-database.js';
export { PgliteDatabase, type PgliteOptions } from './pglite/pglite-database.js';
