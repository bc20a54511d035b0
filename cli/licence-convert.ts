// `zhengtong licence convert`: stock conversion (存量证照转化) of one licence type's existing licences from a CSV or
// JSON Lines file into signed e-licences (docs/licence-conversion.md). Resumable: run the same command again after
// an interruption or a crash and it goes on after the last committed batch; a finished file is not converted twice.
import { parseArgs } from 'node:util';
import { loadConfig } from '../core/config/index.js';
import { isZtError, ZtError } from '../core/errors/index.js';
import { createLogger } from '../core/logging/index.js';
import { migrate, openDatabase, type Database } from '../core/storage/index.js';
import { loadPlatformCa, PlatformCa, platformCaExists } from '../certs/ca/index.js';
import { openPlatformSigner, type PlatformSigner } from '../exchange/platform-signer.js';
import { DepartmentService, SqlDepartmentStore } from '../registry/departments/index.js';
import { formatDuration, formatProgress, MAX_BATCH_SIZE, StockConverter, type ConversionProgress, type ConversionReport } from '../licences/conversion/index.js';
import { LicenceRegistry, SqlLicenceStore } from '../licences/index.js';

export interface ConvertCommandIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown; isTTY?: boolean };
}

function usage(message: string): never {
  throw new ZtError('ZT_ERR_REQUEST_INVALID', `${message} (zhengtong licence convert --help)`);
}

interface ConvertArgs {
  type: string;
  file: string;
  issuer?: string;
  rejects?: string;
  batch?: number;
  config?: string;
}

function readArgs(argv: string[]): ConvertArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: false,
      options: {
        type: { type: 'string' },
        file: { type: 'string' },
        issuer: { type: 'string' },
        rejects: { type: 'string' },
        batch: { type: 'string' },
        config: { type: 'string' },
      },
    });
  } catch (error) {
    usage((error as Error).message);
  }
  const v = parsed.values;
  if (!v.type || !v.file) usage('licence convert needs --type TYPECODE and --file FILE');
  const args: ConvertArgs = { type: v.type.trim().toUpperCase(), file: v.file };
  if (v.issuer) args.issuer = v.issuer.trim().toUpperCase();
  if (v.rejects) args.rejects = v.rejects;
  if (v.config) args.config = v.config;
  if (v.batch !== undefined) {
    const n = Number(v.batch);
    if (!/^\d+$/.test(v.batch) || n < 1 || n > MAX_BATCH_SIZE) usage(`--batch must be a whole number from 1 to ${MAX_BATCH_SIZE}`);
    args.batch = n;
  }
  return args;
}

/** Progress on standard error: one line rewritten in place on a terminal, a line every few seconds otherwise. */
function progressPrinter(stderr: ConvertCommandIo['stderr']): { intervalMs: number; print(p: ConversionProgress): void; end(): void } {
  const tty = stderr.isTTY === true;
  let shown = false;
  return {
    intervalMs: tty ? 500 : 5000,
    print(p) {
      if (p.done) return;
      const line = `licence convert: ${formatProgress(p)}`;
      if (tty) {
        stderr.write(`\r\x1b[K${line}`);
        shown = true;
      } else {
        stderr.write(`${line}\n`);
      }
    },
    end() {
      if (shown) stderr.write('\r\x1b[K');
      shown = false;
    },
  };
}

function summary(r: ConversionReport, typeName: string, file: string): string {
  const counts = `${r.accepted.toLocaleString('en-GB')} accepted, ${r.skipped.toLocaleString('en-GB')} skipped (already in the registry), ${r.rejected.toLocaleString('en-GB')} rejected`;
  const rejects = r.rejected > 0 ? `; rejected rows in ${r.rejectsFile}` : '';
  const ids = `conversion ${r.conversionId}, file SM3 ${r.sourceSm3}`;
  switch (r.outcome) {
    case 'already-done':
      return `${file} was converted to ${typeName} (${r.typeCode}) before, finished ${r.finishedAt?.toISOString() ?? ''}: ${r.rowsDone.toLocaleString('en-GB')} rows, ${counts}; nothing to do (${ids})\n`;
    case 'interrupted':
      return `interrupted after ${r.rowsDone.toLocaleString('en-GB')} rows of ${file}: ${counts} so far${rejects}; run the same command again to resume (${ids})\n`;
    case 'finished': {
      const resumed = r.resumedFrom > 0 ? `, resumed after row ${r.resumedFrom.toLocaleString('en-GB')}` : '';
      return `converted ${file} to ${typeName} (${r.typeCode}): ${r.rowsDone.toLocaleString('en-GB')} rows in ${formatDuration(r.elapsedMs / 1000)} (${Math.round(r.rowsPerSecond).toLocaleString('en-GB')} rows/s${resumed}): ${counts}${rejects} (${ids})\n`;
    }
  }
}

/**
 * Entry point for `zhengtong licence convert …`; argv may start with "licence" and "convert"; usage is answered by
 * cli/main.ts first. Returns the exit status: 0 converted (or converted before), 1 on an error, 130 when interrupted
 * by SIGINT or SIGTERM.
 */
export async function runLicenceConvertCommand(argv: string[], io: ConvertCommandIo = process, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let args = argv;
  if (args[0] === 'licence') args = args.slice(1);
  if (args[0] === 'convert') args = args.slice(1);
  let db: Database | undefined;
  let platform: PlatformSigner | undefined;
  const stop = new AbortController();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (++signals > 1) {
      io.stderr.write(`\nzhengtong: second ${signal}; stopping without finishing the batch (the next run redoes it)\n`);
      process.exit(130);
    }
    io.stderr.write(`\nzhengtong: ${signal}; stopping after the batch in hand\n`);
    stop.abort();
  };
  const printer = progressPrinter(io.stderr);
  try {
    const parsed = readArgs(args);
    const config = loadConfig({ env, ...(parsed.config ? { file: parsed.config } : {}) });
    if (!platformCaExists(config.caDir)) {
      throw new ZtError('ZT_ERR_CA_NOT_INITIALISED', `no platform CA in ${config.caDir} to sign the licences with; run zhengtong ca init, or set ZT_CA_DIR`);
    }
    db = await openDatabase(config, createLogger({ level: 'warn', instanceId: config.instanceId! }));
    await migrate(db);
    const ca = new PlatformCa({ db, material: loadPlatformCa(config.caDir, config.caPassphrase), certificateDays: config.caCertificateDays, publicUrl: config.publicUrl });
    // The same key as the gateways' (ZT_PLATFORM_KEY_DIR), so converted and issued licences verify alike.
    platform = await openPlatformSigner(ca, config.platformKeyDir, config.platformUscc, `${ca.issuing.subject.match(/O=([^,]+)/)?.[1] ?? '政务数据共享平台'}（数据共享交换）`);
    const signer = platform.signer;
    const departments = new DepartmentService(db, new SqlDepartmentStore(db));
    const store = new SqlLicenceStore(db);
    const registry = new LicenceRegistry({
      db,
      store,
      departments,
      // Conversion takes no department-signed steps; the platform signs what it converts.
      typeAuthority: config.platformUscc,
      signatures: { validate: () => Promise.reject(new ZtError('ZT_ERR_INTERNAL', 'stock conversion checks no step signatures')), windowMs: 0 },
      signer: async () => signer,
      publicUrl: config.publicUrl,
    });
    await registry.load();
    const type = registry.type(parsed.type);
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const converter = new StockConverter({ db, store, registry, departments, signer, platformUscc: config.platformUscc });
    const report = await converter.convert({
      typeCode: type.code,
      file: parsed.file,
      ...(parsed.issuer ? { issuer: parsed.issuer } : {}),
      ...(parsed.rejects ? { rejectsFile: parsed.rejects } : {}),
      ...(parsed.batch ? { batchSize: parsed.batch } : {}),
      onProgress: (p) => printer.print(p),
      progressIntervalMs: printer.intervalMs,
      signal: stop.signal,
    });
    printer.end();
    io.stdout.write(summary(report, type.name, parsed.file));
    return report.outcome === 'interrupted' ? 130 : 0;
  } catch (error) {
    printer.end();
    const code = isZtError(error) ? error.code : 'ZT_ERR_INTERNAL';
    const message = isZtError(error) ? error.message : `unexpected error: ${(error as Error)?.message ?? String(error)}`;
    io.stderr.write(`zhengtong: ${message.replace(/\s*\n\s*/g, ' ')} [${code}]\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await platform?.close().catch(() => undefined);
    await db?.close().catch(() => undefined);
  }
}
