import type { Database } from '../../core/storage/index.js';
import type { DepartmentService } from '../departments/index.js';
import { DEMO_DEPARTMENTS } from './departments.js';

export interface SeedReport {
  /** False when the database had been seeded before and nothing was done. */
  seeded: boolean;
  departments: number;
}

const MARKER = 'demo-data-seeded';

/**
 * Loads the demo city's data once. Running it again does nothing, so `serve` can call it on every start and
 * only the first start of an empty database is seeded. Goes through the services, so events are published too.
 */
export async function seedDemoData(db: Database, departments: DepartmentService, options: { force?: boolean } = {}): Promise<SeedReport> {
  return db.withLock('zhengtong.seed', async (session) => {
    const { rows } = await session.query('SELECT 1 FROM zt_installation WHERE key = $1', [MARKER]);
    if (rows.length > 0 && !options.force) return { seeded: false, departments: 0 };
    let added = 0;
    for (const d of DEMO_DEPARTMENTS) {
      const exists = await session.query('SELECT 1 FROM departments WHERE uscc = $1', [d.uscc]);
      if (exists.rowCount > 0) continue;
      await departments.register(d);
      added++;
    }
    await session.query(
      `INSERT INTO zt_installation (key, value) VALUES ($1, $2)
       ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
      [MARKER, { at: new Date().toISOString(), departments: added }],
    );
    return { seeded: true, departments: added };
  });
}
