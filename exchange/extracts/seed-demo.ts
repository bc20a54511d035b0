// Loads the generated demo datasets into the exchange's tables, as the four supplier departments of the demo
// catalogue would deliver them: one extract each.
import type { BlindIndex } from '../../core/pseudonyms/index.js';
import type { Database } from '../../core/storage/index.js';
import { DEMO_RESOURCES } from '../../demo/catalogue.js';
import { generateDemoDatasets, type DemoDatasetOptions, type DemoDatasets } from '../datasets/index.js';
import type { ExtractRow, SubjectKind } from './extract.js';
import { loadExtract, type ExtractReport } from './load.js';

/** Which dataset feeds which demo resource, and what identifies its subjects. */
export const DEMO_DATASET_RESOURCES = [
  { dataset: 'persons', resource: '210100-GA-0001', subjectKind: 'person', subjectItem: 'idNumber' },
  { dataset: 'enterprises', resource: '210100-SC-0001', subjectKind: 'organisation', subjectItem: 'uscc' },
  { dataset: 'insurance', resource: '210100-RS-0001', subjectKind: 'person', subjectItem: 'idNumber' },
  { dataset: 'marriages', resource: '210100-MZ-0001', subjectKind: 'person', subjectItem: ['maleIdNumber', 'femaleIdNumber'] },
] as const satisfies readonly {
  dataset: keyof Pick<DemoDatasets, 'persons' | 'enterprises' | 'insurance' | 'marriages'>;
  resource: string;
  subjectKind: SubjectKind;
  subjectItem: string | readonly string[];
}[];

export interface DemoDatasetSeedOptions {
  /** The blind index the records are keyed by. */
  pseudonyms: BlindIndex;
  /** How much to generate, and from which seed (see generateDemoDatasets). */
  datasets?: DemoDatasetOptions;
  /** Load again even if the datasets were loaded before (records are upserted, so this is safe). */
  force?: boolean;
  /** The load time recorded; default now. */
  at?: Date;
  /** Records per INSERT; default that of loadExtract. */
  batchSize?: number;
}

export interface DemoDatasetSeedReport {
  /** False when the datasets had been loaded before and nothing was done. */
  seeded: boolean;
  /** One per resource loaded by this run. */
  extracts: ExtractReport[];
  /** Milliseconds spent generating and loading. */
  generateMs: number;
  loadMs: number;
}

const MARKER = 'demo-exchange-datasets-seeded';
const LOCK = 'zhengtong.seed.exchange';

/**
 * Generates the demo datasets and loads each as an extract of its supplier, once: a database that has them
 * already (a marker in zt_installation says so) is left alone unless `force` is set. Instances that start together
 * queue on a lock, and only the first loads.
 */
export async function seedDemoDatasets(db: Database, options: DemoDatasetSeedOptions): Promise<DemoDatasetSeedReport> {
  return db.withLock(LOCK, async (session) => {
    const report: DemoDatasetSeedReport = { seeded: false, extracts: [], generateMs: 0, loadMs: 0 };
    if (!options.force) {
      const { rowCount } = await session.query('SELECT 1 FROM zt_installation WHERE key = $1', [MARKER]);
      if (rowCount > 0) return report;
    }
    let started = performance.now();
    const datasets = generateDemoDatasets(options.datasets);
    report.generateMs = performance.now() - started;
    started = performance.now();
    const at = options.at ?? new Date();
    for (const spec of DEMO_DATASET_RESOURCES) {
      const resource = DEMO_RESOURCES.find((r) => r.code === spec.resource)!;
      report.extracts.push(
        await loadExtract(session, {
          resource: spec.resource,
          supplier: resource.provider,
          pseudonyms: options.pseudonyms,
          items: resource.items,
          subjectKind: spec.subjectKind,
          subjectItem: spec.subjectItem,
          rows: datasets[spec.dataset] as readonly ExtractRow[],
          at,
          ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
        }),
      );
    }
    report.loadMs = performance.now() - started;
    await session.query(
      `INSERT INTO zt_installation (key, value) VALUES ($1, $2)
       ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
      [MARKER, { at: at.toISOString(), ...datasets.options, extracts: Object.fromEntries(report.extracts.map((e) => [e.resource, { id: e.id, rows: e.rows, records: e.records }])) }],
    );
    report.seeded = true;
    return report;
  });
}
