import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ZtError } from '../errors/index.js';
import { packageRoot } from '../paths.js';
import type { Database, Session } from './port.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrationReport {
  applied: Migration[];
  /** Schema version after the run. */
  version: number;
}

const FILE = /^(\d{4})_([a-z0-9_]+)\.sql$/;
const LOCK_KEY = 'zhengtong.migrations';

export function defaultMigrationsDir(): string {
  return join(packageRoot(), 'migrations');
}

/** Reads NNNN_name.sql files in version order; versions must run 1, 2, 3… without gaps. */
export function readMigrations(dir: string = defaultMigrationsDir()): Migration[] {
  const migrations = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .map((file) => {
      const m = FILE.exec(file);
      if (!m) throw new ZtError('ZT_ERR_STORAGE_MIGRATION', `migration file ${file} is not named NNNN_name.sql`);
      const sql = readFileSync(join(dir, file), 'utf8');
      return { version: Number(m[1]), name: m[2]!, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    })
    .sort((a, b) => a.version - b.version);
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new ZtError('ZT_ERR_STORAGE_MIGRATION', `migration versions must run 1, 2, 3… without gaps; found ${m.version} at position ${i + 1}`);
  });
  return migrations;
}

async function appliedMigrations(session: Session): Promise<Map<number, { name: string; checksum: string }>> {
  await session.exec(`CREATE TABLE IF NOT EXISTS zt_schema_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`);
  const { rows } = await session.query<{ version: number; name: string; checksum: string }>(
    'SELECT version, name, checksum FROM zt_schema_migrations ORDER BY version',
  );
  return new Map(rows.map((r) => [r.version, { name: r.name, checksum: r.checksum }]));
}

/**
 * Brings the schema up to date. Safe to run from several instances at once: they queue on one lock, and those
 * that come later find nothing left to do. Each migration and its bookkeeping row commit together.
 */
export async function migrate(db: Database, migrations: Migration[] = readMigrations()): Promise<MigrationReport> {
  return db.withLock(LOCK_KEY, async (session) => {
    const done = await appliedMigrations(session);
    const known = migrations.length;
    for (const [version, row] of done) {
      const m = migrations[version - 1];
      if (!m) {
        throw new ZtError(
          'ZT_ERR_STORAGE_MIGRATION',
          `the database schema is at version ${Math.max(...done.keys())}, newer than this build of zhengtong knows (${known}); upgrade zhengtong`,
        );
      }
      if (m.checksum !== row.checksum) {
        throw new ZtError(
          'ZT_ERR_STORAGE_MIGRATION',
          `migration ${String(version).padStart(4, '0')}_${m.name}.sql was changed after it was applied; restore it and add a new migration instead`,
        );
      }
    }
    const applied: Migration[] = [];
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      try {
        await session.transaction(async (tx) => {
          await tx.exec(m.sql);
          await tx.query('INSERT INTO zt_schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [m.version, m.name, m.checksum]);
        });
      } catch (error) {
        throw new ZtError('ZT_ERR_STORAGE_MIGRATION', `migration ${String(m.version).padStart(4, '0')}_${m.name}.sql failed: ${(error as Error).message}`, {
          cause: error,
        });
      }
      applied.push(m);
    }
    return { applied, version: known };
  });
}
