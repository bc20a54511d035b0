import type { Database } from '../core/storage/index.js';
import type { CatalogueService, DemandService } from '../registry/catalogue/index.js';
import type { DemoSigners } from './keys.js';
import type { DepartmentService } from '../registry/departments/index.js';
import { seedDemoCatalogue } from './catalogue.js';
import { DEMO_DEPARTMENTS } from './departments.js';
import type { LicenceRegistry } from '../licences/licence-registry.js';
import { seedDemoLicences } from './licences.js';

export interface SeedReport {
  /** False when the database had been seeded before and nothing was done. */
  seeded: boolean;
  departments: number;
  /** Data resources published and demands registered by this run. */
  resources: number;
  demands: number;
  /** Licence types defined and licences issued by this run. */
  licenceTypes: number;
  licences: number;
}

export interface SeedOptions {
  /** Add whatever demo data is missing even when the database was seeded before. */
  force?: boolean;
  /** The catalogue's services, as the application wired them. */
  catalogue: { catalogue: CatalogueService; demands: DemandService };
  /** The demo departments' keys: every demo step is signed by the department taking it. */
  signers: DemoSigners;
  /** The e-licence registry, when the demo licences are to be seeded too. */
  licences?: LicenceRegistry;
}

const MARKER = 'demo-data-seeded';
// A second marker, so that a database seeded before the catalogue existed gets the demo catalogue on its next start.
const CATALOGUE_MARKER = 'demo-catalogue-seeded';
const LICENCE_MARKER = 'demo-licences-seeded';

/** Whether the demo catalogue has been seeded into this database. */
export async function demoSeeded(db: Database): Promise<boolean> {
  return (await db.query('SELECT 1 FROM zt_installation WHERE key = $1', [CATALOGUE_MARKER])).rows.length > 0;
}

/**
 * Loads the demo city's data once. Running it again does nothing, so `serve` can call it on every start and
 * only the first start of an empty database is seeded. Goes through the services, so events are published too.
 */
export async function seedDemoData(db: Database, departments: DepartmentService, options: SeedOptions): Promise<SeedReport> {
  return db.withLock('zhengtong.seed', async (session) => {
    const marked = async (key: string) => !options.force && (await session.query('SELECT 1 FROM zt_installation WHERE key = $1', [key])).rows.length > 0;
    const mark = (key: string, value: Record<string, unknown>) =>
      session.query(
        `INSERT INTO zt_installation (key, value) VALUES ($1, $2)
         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
        [key, { at: new Date().toISOString(), ...value }],
      );
    const report: SeedReport = { seeded: false, departments: 0, resources: 0, demands: 0, licenceTypes: 0, licences: 0 };
    const addMissingDepartments = async () => {
      for (const d of DEMO_DEPARTMENTS) {
        const exists = await session.query('SELECT 1 FROM departments WHERE uscc = $1', [d.uscc]);
        if (exists.rowCount > 0) continue;
        await departments.register(d);
        report.departments++;
      }
    };
    if (!(await marked(MARKER))) {
      await addMissingDepartments();
      await mark(MARKER, { departments: report.departments });
      report.seeded = true;
    }
    if (!(await marked(CATALOGUE_MARKER))) {
      // The demo catalogue names the demo departments: make sure they are there.
      await addMissingDepartments();
      // Every demo department gets its key and certificate, whether or not the demo has it take a step.
      await options.signers.enrolAll();
      const added = await seedDemoCatalogue(session, options.catalogue, options.signers);
      report.resources = added.resources;
      report.demands = added.demands;
      await mark(CATALOGUE_MARKER, { ...added });
      report.seeded = true;
    }
    if (options.licences && !(await marked(LICENCE_MARKER))) {
      await addMissingDepartments();
      await options.signers.enrolAll();
      const added = await seedDemoLicences(options.licences, options.signers);
      report.licenceTypes = added.types;
      report.licences = added.licences;
      await mark(LICENCE_MARKER, { ...added });
      report.seeded = true;
    }
    return report;
  });
}
