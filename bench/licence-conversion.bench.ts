// Stock conversion (存量证照转化) end to end: a generated CSV of N licences (valid resident ID numbers, three fields)
// read, checked, signed one by one with the platform key in the signer's worker threads, and stored in batches, on
// PGlite and, with ZT_BENCH_DATABASE_URL, on PostgreSQL in a schema of its own. The baseline, measured in the same
// run: raw SM2 signatures per second on one core (sm2Sign on this thread). Every converted licence costs one SM2
// signature, so a rate near the one-core figure means the pipeline keeps the signer busy; above it, several
// signing threads at work.
//   tsx bench/licence-conversion.bench.ts [ROWS]      (default 20,000)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { initPlatformCa, loadPlatformCa, PlatformCa } from '../certs/ca/index.js';
import { generateSm2KeyPair, sm2Sign } from '../certs/sm2/sm2.js';
import { migrate, PgDatabase, PgliteDatabase, type Database } from '../core/storage/index.js';
import { ZtError } from '../core/errors/index.js';
import { composeResidentId, composeUscc } from '../exchange/datasets/codes.js';
import { openPlatformSigner } from '../exchange/platform-signer.js';
import { formatCsv } from '../registry/catalogue/csv.js';
import { DepartmentService, SqlDepartmentStore } from '../registry/departments/index.js';
import { StockConverter } from '../licences/conversion/index.js';
import { LicenceRegistry, SqlLicenceStore } from '../licences/index.js';
import { describeMachine } from './machine.js';
import { opsPerSecond } from './sm2.bench.js';

const PLATFORM = composeUscc('11', '210100', 'MB123456');
const ISSUER = composeUscc('11', '210100', '00100045');
const TYPE_CODE = '11100000MB00032322909';
const PUBLIC_URL = 'http://zt.bench.test';

export interface LicenceConversionFigure {
  backend: string;
  rowsPerSecond: number;
  seconds: number;
  accepted: number;
  /** CPU time of this process during the conversion: this thread and the signing threads (not the database's). */
  processCpuSeconds: number;
  /** The largest resident set size seen during the conversion (sampled once a second). */
  peakRssMiB: number;
  /** The conversion rate over the raw one-core sign rate. */
  ratio: number;
}

export interface LicenceConversionBenchResult {
  rows: number;
  machine: string;
  /** Raw SM2 signatures per second on one core (this thread), measured before the conversions. */
  signPerSecondOneCore: number;
  signerThreads: number;
  batchSize: number;
  figures: LicenceConversionFigure[];
}

/** N licences of a person-held type: distinct numbers, valid ID numbers, dates and three fields. */
function writeLicences(path: string, rows: number): void {
  const header = ['licenceNumber', 'holderName', 'holderCode', 'issueDate', 'validTo', 'registeredOn', 'children', 'remarks'];
  const chunk: (string | number)[][] = [header];
  const parts: string[] = [];
  for (let i = 0; i < rows; i++) {
    const year = 2005 + (i % 18);
    const day = `${year}-${String(1 + (i % 12)).padStart(2, '0')}-${String(1 + (i % 28)).padStart(2, '0')}`;
    const birth = `${1950 + (i % 50)}${String(1 + (i % 12)).padStart(2, '0')}${String(1 + (i % 28)).padStart(2, '0')}`;
    chunk.push([
      `SY${String(i).padStart(9, '0')}`,
      `持证人${i}`,
      composeResidentId(['210102', '210103', '210104', '210105', '210106'][i % 5]!, birth, i % 1000),
      day,
      i % 4 === 0 ? `${year + 20}-12-31` : '',
      day,
      i % 3,
      i % 10 === 0 ? '原纸质证照换发，编号见档案' : '',
    ]);
    if (chunk.length === 10_000) {
      parts.push(formatCsv(chunk, { bom: parts.length === 0 }));
      chunk.length = 0;
    }
  }
  if (chunk.length > 0) parts.push(formatCsv(chunk, { bom: parts.length === 0 }));
  writeFileSync(path, parts.join(''));
}

async function convertOn(backend: string, db: Database, caDir: string, file: string, batchSize: number, signWindow: number | undefined): Promise<{ figure: Omit<LicenceConversionFigure, 'ratio'>; threads: number }> {
  await migrate(db);
  const departments = new DepartmentService(db, new SqlDepartmentStore(db));
  await departments.register({ uscc: ISSUER, name: '沈阳市民政局（基准测试）' });
  const ca = new PlatformCa({ db, material: loadPlatformCa(caDir), certificateDays: 365, publicUrl: PUBLIC_URL });
  const platform = await openPlatformSigner(ca, join(caDir, '..', 'platform-keys'), PLATFORM, '政务数据共享平台（基准测试）');
  try {
    const store = new SqlLicenceStore(db);
    const registry = new LicenceRegistry({
      db,
      store,
      departments,
      typeAuthority: '',
      signatures: { validate: () => Promise.reject(new ZtError('ZT_ERR_CA_NOT_INITIALISED', 'no step signatures in a benchmark')), windowMs: 0 },
      signer: async () => platform.signer,
      publicUrl: PUBLIC_URL,
    });
    await registry.defineType({
      code: TYPE_CODE,
      name: '收养登记证（基准测试）',
      definingAuthority: { code: TYPE_CODE.slice(0, 18), name: '民政部门（基准测试）' },
      holderKind: 'person',
      issuers: [ISSUER],
      fields: [
        { code: 'registeredOn', label: '登记日期', kind: 'date', required: true },
        { code: 'children', label: '子女数', kind: 'integer', required: false },
        { code: 'remarks', label: '备注', kind: 'string', required: false, maxLength: 200 },
      ],
    });
    const converter = new StockConverter({ db, store, registry, departments, signer: platform.signer, platformUscc: PLATFORM });
    const started = performance.now();
    const cpu = process.cpuUsage();
    let peakRss = 0;
    const report = await converter.convert({ typeCode: TYPE_CODE, file, issuer: ISSUER, batchSize, ...(signWindow ? { signWindow } : {}), rejectsFile: `${file}.${backend.replace(/\W+/g, '-')}.rejects.jsonl`,
      progressIntervalMs: 1000,
      onProgress: () => (peakRss = Math.max(peakRss, process.memoryUsage.rss())),
    });
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    if (report.rejected > 0 || report.accepted !== report.rowsDone) throw new Error(`the benchmark file should convert whole: ${JSON.stringify(report)}`);
    return {
      figure: { backend, rowsPerSecond: report.rowsDone / seconds, seconds, accepted: report.accepted, processCpuSeconds: (used.user + used.system) / 1e6, peakRssMiB: peakRss / 2 ** 20 },
      threads: platform.signer.concurrency,
    };
  } finally {
    await platform.close();
  }
}

export interface LicenceConversionBenchOptions {
  /** Default ZT_BENCH_DATABASE_URL: also convert on PostgreSQL, in a schema of its own dropped afterwards. */
  databaseUrl?: string;
  /** Default ZT_BENCH_CONVERSION_BATCH or 500. */
  batchSize?: number;
  /** Convert on PGlite too; default true (ZT_BENCH_CONVERSION_PGLITE=0 turns it off). */
  pglite?: boolean;
  /** Signatures requested at once (the converter's default unless ZT_BENCH_CONVERSION_WINDOW). */
  signWindow?: number;
}

export async function benchLicenceConversion(rows: number, options: LicenceConversionBenchOptions = {}): Promise<LicenceConversionBenchResult> {
  const databaseUrl = options.databaseUrl ?? (process.env.ZT_BENCH_DATABASE_URL || undefined);
  const batchSize = options.batchSize ?? Number(process.env.ZT_BENCH_CONVERSION_BATCH ?? 500);
  const signWindow = options.signWindow ?? (Number(process.env.ZT_BENCH_CONVERSION_WINDOW) || undefined);
  const dir = mkdtempSync(join(tmpdir(), 'zt-bench-convert-'));
  try {
    const caDir = join(dir, 'ca');
    await initPlatformCa({ dir: caDir, rootKeyDir: join(dir, 'ca-root'), organisation: '沈阳市大数据管理局', province: '辽宁省', locality: '沈阳市', publicUrl: PUBLIC_URL });
    const file = join(dir, `licences-${rows}.csv`);
    writeLicences(file, rows);
    const { privateKey } = generateSm2KeyPair();
    // What the signer signs per licence: a tree head of one (about 60 bytes).
    const message = Buffer.alloc(62, 7);
    const signPerSecondOneCore = opsPerSecond(() => sm2Sign(privateKey, message), Number(process.env.ZT_BENCH_SECONDS ?? 3));
    const figures: LicenceConversionFigure[] = [];
    let signerThreads = 0;
    const run = async (backend: string, open: () => Promise<Database>, cleanUp: () => Promise<void>) => {
      const db = await open();
      try {
        const { figure, threads } = await convertOn(backend, db, caDir, file, batchSize, signWindow);
        signerThreads = threads;
        figures.push({ ...figure, ratio: figure.rowsPerSecond / signPerSecondOneCore });
      } finally {
        await db.close();
        await cleanUp();
      }
    };
    const pgliteDir = join(dir, 'pglite');
    if (options.pglite ?? process.env.ZT_BENCH_CONVERSION_PGLITE !== '0') await run('PGlite (embedded, on disk)', () => PgliteDatabase.open({ dataDir: pgliteDir }), async () => rmSync(pgliteDir, { recursive: true, force: true }));
    if (databaseUrl) {
      const schema = `zt_bench_lc_${process.pid}`;
      await run(
        'PostgreSQL',
        () => PgDatabase.open({ url: databaseUrl, poolSize: 10, schema }),
        async () => {
          const admin = await PgDatabase.open({ url: databaseUrl, poolSize: 2, schema: undefined });
          try {
            await admin.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
          } finally {
            await admin.close();
          }
        },
      );
    }
    return { rows, machine: describeMachine(), signPerSecondOneCore, signerThreads, batchSize, figures };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function printLicenceConversion(result: LicenceConversionBenchResult): void {
  process.stdout.write(`licence stock conversion: ${result.rows.toLocaleString('en-GB')} rows of CSV, batches of ${result.batchSize}, ${result.signerThreads} signing worker threads\n`);
  process.stdout.write(`  raw SM2 sign on one core (sm2Sign, this thread)   ${result.signPerSecondOneCore.toFixed(0).padStart(7)} signatures/s  (baseline)\n`);
  for (const f of result.figures) {
    process.stdout.write(
      `  conversion on ${f.backend.padEnd(34)} ${f.rowsPerSecond.toFixed(0).padStart(7)} rows/s        (${(f.ratio * 100).toFixed(0)} % of the one-core sign rate; ${f.accepted.toLocaleString('en-GB')} licences in ${f.seconds.toFixed(1)} s;` +
        ` process CPU ${f.processCpuSeconds.toFixed(1)} core-s; peak RSS ${f.peakRssMiB.toFixed(0)} MiB)\n`,
    );
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = Number(process.argv[2] ?? 20_000);
  process.stdout.write(`machine: ${describeMachine()}\n`);
  printLicenceConversion(await benchLicenceConversion(rows));
}
