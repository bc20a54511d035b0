import type { Config } from '../config/index.js';
import type { Logger } from '../logging/index.js';
import { PgDatabase } from './pg/pg-database.js';
import { PgliteDatabase } from './pglite/pglite-database.js';
import type { Database } from './port.js';

/** PostgreSQL through pg when DATABASE_URL is set, else the embedded PGlite under the data directory. */
export function openDatabase(config: Config, logger?: Logger): Promise<Database> {
  if (config.databaseUrl) {
    return PgDatabase.open({
      url: config.databaseUrl,
      poolSize: config.databasePoolSize,
      schema: config.databaseSchema,
      onIdleError: (error) => logger?.warn({ err: error }, 'idle PostgreSQL connection failed'),
    });
  }
  return PgliteDatabase.open({ dataDir: config.dataDir });
}
