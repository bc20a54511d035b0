// `zhengtong audit archive …`: the electronic archive (电子档案) of the access log (docs/audit-archive.md).
//   seal     seal old segments into signed archive files (direct database access; signs with the platform key)
//   verify   check archive files offline: no database, only the platform CA's certificates
//   restore  put a sealed segment's records back into the live log from its file
//   list     the sealed segments and their state
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadPlatformCa, PlatformCa, platformCaExists, CA_FILES } from '../certs/ca/index.js';
import { envelopeToJson, signEnvelope } from '../certs/envelope/index.js';
import { exportPem } from '../certs/x509/index.js';
import type { Config } from '../core/config/index.js';
import { isZtError, ZtError } from '../core/errors/index.js';
import { createLogger } from '../core/logging/index.js';
import { openPseudonyms, pseudonymSettings } from '../core/pseudonyms/index.js';
import { migrate, openDatabase, type Database } from '../core/storage/index.js';
import { openPlatformSigner, type PlatformSigner } from '../exchange/platform-signer.js';
import { AuditArchive, verifyArchiveFile, type ArchiveTrust, type ArchiveVerification, type SealReport } from '../audit/archive/index.js';
import type { ConfigLoader } from './common.js';
import { UsageError } from './common.js';

export interface ArchiveCommandIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

function usage(message: string): never {
  throw new UsageError(message);
}

function read(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new ZtError('ZT_ERR_REQUEST_INVALID', `cannot read the ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
  }
}

function strings(value: string | boolean | (string | boolean)[] | undefined): string[] {
  return (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string');
}

/** The platform CA's root and issuing certificates from a CA directory (ZT_CA_DIR, or one copied from it). */
function trustFromDir(dir: string, platformUscc: string): ArchiveTrust {
  return {
    trustAnchors: [read(join(dir, CA_FILES.rootCertificate), 'root CA certificate')],
    intermediates: [read(join(dir, CA_FILES.issuingCertificate), 'issuing CA certificate')],
    platformUscc,
  };
}

export function archiveDirOf(config: Config): string {
  return config.auditArchiveDir || join(config.dataDir, 'archive');
}

function parse(argv: string[], options: NonNullable<ParseArgsConfig['options']>, positionals: boolean) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: positionals, strict: true });
  } catch (error) {
    return usage((error as Error).message);
  }
}

function describeVerification(v: ArchiveVerification): string {
  const h = v.header;
  return (
    `OK ${v.file}\n` +
    `  segment     leaves [${h.leafFrom}, ${h.leafTo}), ${h.records} records (permit ${h.decisions.permit}, deny ${h.decisions.deny}, error ${h.decisions.error}), seq ${h.firstSeq} to ${h.lastSeq}\n` +
    `  period      ${h.firstAt} to ${h.lastAt}\n` +
    `  root        ${h.segmentRoot}, in checkpoint ${v.checkpoint.treeSize} (root ${v.checkpoint.rootHash}, signed ${v.checkpoint.signedAt})\n` +
    `  sealed      ${v.signer.signedAt.toISOString()} by ${v.signer.subject}${v.signer.uscc ? ` (USCC ${v.signer.uscc})` : ''}\n` +
    `  file SM3    ${v.fileSm3.toString('hex')}\n`
  );
}

function verificationJson(v: ArchiveVerification): unknown {
  return { ok: true, file: v.file, fileSm3: v.fileSm3.toString('hex'), header: v.header, checkpoint: v.checkpoint, signer: { ...v.signer, signedAt: v.signer.signedAt.toISOString() } };
}

async function verifyCommand(config: ConfigLoader, argv: string[], io: ArchiveCommandIo): Promise<number> {
  const { values: v, positionals: files } = parse(
    argv,
    { ca: { type: 'string', multiple: true }, intermediate: { type: 'string', multiple: true }, 'ca-dir': { type: 'string' }, 'platform-uscc': { type: 'string' }, json: { type: 'boolean' } },
    true,
  );
  if (files.length === 0) usage('give the archive files to verify: zhengtong audit archive verify FILE...');
  if (files.length > 10_000) usage('at most 10,000 files at once');
  const caFiles = strings(v.ca);
  const intermediates = strings(v.intermediate);
  if (caFiles.length > 0 && typeof v['ca-dir'] === 'string') usage('give --ca (with --intermediate) or --ca-dir, not both');
  if (intermediates.length > 0 && caFiles.length === 0) usage('--intermediate goes with --ca');
  const platformUscc = typeof v['platform-uscc'] === 'string' ? v['platform-uscc'] : config().platformUscc;
  const trust: ArchiveTrust =
    caFiles.length > 0
      ? { trustAnchors: caFiles.map((f) => read(f, 'CA certificate')), intermediates: intermediates.map((f) => read(f, 'intermediate certificate')), platformUscc }
      : trustFromDir(typeof v['ca-dir'] === 'string' ? v['ca-dir'] : config().caDir, platformUscc);
  let failed = 0;
  const results: unknown[] = [];
  for (const file of files) {
    try {
      const verification = await verifyArchiveFile(file, { trust });
      if (v.json) results.push(verificationJson(verification));
      else io.stdout.write(describeVerification(verification));
    } catch (error) {
      failed++;
      const code = isZtError(error) ? error.code : 'ZT_ERR_INTERNAL';
      const message = isZtError(error) ? error.message : `unexpected error: ${(error as Error)?.message ?? String(error)}`;
      if (v.json) results.push({ ok: false, file, error: { code, message, ...(isZtError(error) && error.details ? { details: error.details } : {}) } });
      else io.stdout.write(`FAILED ${file}\n`);
      io.stderr.write(`zhengtong: ${file}: ${message.replace(/\s*\n\s*/g, ' ')} [${code}]\n`);
    }
  }
  if (v.json) io.stdout.write(`${JSON.stringify(results.length === 1 ? results[0] : results, null, 2)}\n`);
  if (files.length > 1 && !v.json) io.stdout.write(`${files.length - failed} of ${files.length} archive files verify\n`);
  return failed === 0 ? 0 : 1;
}

/** The database, the archive service and (lazily) the platform signer, closed together. */
async function openArchive(config: Config, io: ArchiveCommandIo, needSigner: boolean): Promise<{ archive: AuditArchive; db: Database; close(): Promise<void> }> {
  if (!platformCaExists(config.caDir)) {
    throw new ZtError('ZT_ERR_CA_NOT_INITIALISED', `no platform CA in ${config.caDir}: archives are signed and checked with the platform's key and CA; run zhengtong ca init, or set ZT_CA_DIR`);
  }
  const db = await openDatabase(config, createLogger({ level: 'warn', instanceId: config.instanceId! }));
  let platform: Promise<PlatformSigner> | undefined;
  try {
    await migrate(db);
    const material = loadPlatformCa(config.caDir, config.caPassphrase);
    const ca = new PlatformCa({ db, material, certificateDays: config.caCertificateDays, publicUrl: config.publicUrl });
    const archive = new AuditArchive({
      db,
      dir: archiveDirOf(config),
      segmentBits: config.auditArchiveSegmentBits,
      retentionDays: config.auditRetentionDays,
      platformUscc: config.platformUscc,
      trust: { trustAnchors: [exportPem(material.root.certificate)], intermediates: [exportPem(material.issuing.certificate)], platformUscc: config.platformUscc },
      sign: async (payload) => {
        if (!needSigner) throw new ZtError('ZT_ERR_INTERNAL', 'this command signs nothing');
        // The same key as the gateways' (ZT_PLATFORM_KEY_DIR), as gateway/app.ts opens it.
        platform ??= openPlatformSigner(ca, config.platformKeyDir, config.platformUscc, `${ca.issuing.subject.match(/O=([^,]+)/)?.[1] ?? '政务数据共享平台'}（数据共享交换）`);
        return envelopeToJson(await signEnvelope((await platform).signer, payload));
      },
      onProgress: (message) => io.stderr.write(`${message}\n`),
      pseudonyms: () => openPseudonyms(db, pseudonymSettings(config, false)),
    });
    return {
      archive,
      db,
      async close() {
        await (await platform?.catch(() => undefined))?.close().catch(() => undefined);
        await db.close().catch(() => undefined);
      },
    };
  } catch (error) {
    await db.close().catch(() => undefined);
    throw error;
  }
}

function describeSeal(r: SealReport, dir: string): string {
  const lines: string[] = [];
  const p = r.plan;
  if (!p.checkpoint) lines.push('no signed checkpoint yet: nothing can be sealed (the log signs checkpoints as it grows)');
  else lines.push(`checkpoint ${p.checkpoint.treeSize} (signed ${p.checkpoint.signedAt}); records before ${p.cutoff.toISOString()} may be sealed`);
  if (r.dryRun) {
    for (const c of p.eligible) lines.push(`would seal [${c.leafFrom}, ${c.leafTo}): ${c.records} records, the latest at ${c.lastAt?.toISOString()}`);
    lines.push(`${p.eligible.length} segment(s) would be sealed; ${p.young} complete segment(s) are younger than the retention period`);
  } else {
    for (const s of r.sealed) lines.push(`sealed [${s.leafFrom}, ${s.leafTo}): ${s.records} records in ${join(dir, s.fileName)} (SM3 ${s.fileSm3})`);
    for (const s of r.removed) lines.push(`removed [${s.leafFrom}, ${s.leafTo}) from the live log: ${s.records} records`);
    lines.push(`${r.sealed.length} segment(s) sealed, ${r.removed.length} removed; ${p.young} complete segment(s) are younger than the retention period`);
  }
  if (p.incomplete.length > 0) lines.push(`${p.incomplete.length} segment(s) are incomplete (records missing from the log): run zhengtong audit verify`);
  return `${lines.join('\n')}\n`;
}

async function sealCommand(load: ConfigLoader, argv: string[], io: ArchiveCommandIo): Promise<number> {
  const { values: v } = parse(
    argv,
    { remove: { type: 'boolean' }, 'include-restored': { type: 'boolean' }, 'dry-run': { type: 'boolean' }, 'max-segments': { type: 'string' }, json: { type: 'boolean' } },
    false,
  );
  let maxSegments: number | undefined;
  if (typeof v['max-segments'] === 'string') {
    maxSegments = Number(v['max-segments']);
    if (!Number.isSafeInteger(maxSegments) || maxSegments < 1) usage(`--max-segments ${JSON.stringify(v['max-segments'])} is not a positive whole number`);
  }
  if (v['include-restored'] && !v.remove && !load().auditArchiveRemove) usage('--include-restored goes with --remove');
  const config = load();
  const opened = await openArchive(config, io, !v['dry-run']);
  try {
    const report = await opened.archive.seal({
      dryRun: v['dry-run'] === true,
      remove: v.remove === true || config.auditArchiveRemove,
      includeRestored: v['include-restored'] === true,
      ...(maxSegments !== undefined ? { maxSegments } : {}),
    });
    io.stdout.write(v.json ? `${JSON.stringify(report, null, 2)}\n` : describeSeal(report, archiveDirOf(config)));
    return 0;
  } finally {
    await opened.close();
  }
}

async function restoreCommand(load: ConfigLoader, argv: string[], io: ArchiveCommandIo): Promise<number> {
  const { values: v, positionals } = parse(argv, { json: { type: 'boolean' } }, true);
  if (positionals.length !== 1) usage('give one archive file: zhengtong audit archive restore FILE');
  const opened = await openArchive(load(), io, false);
  try {
    const r = await opened.archive.restore(positionals[0]!);
    if (v.json) {
      io.stdout.write(`${JSON.stringify({ ...r, verification: verificationJson(r.verification) }, null, 2)}\n`);
    } else {
      const what = r.inserted === 0 ? 'nothing to restore: every record was in the live log already' : `restored ${r.inserted} records`;
      io.stdout.write(`${what} (segment [${r.leafFrom}, ${r.leafTo}), ${r.alreadyPresent} already present)${r.marked ? '; the segment is marked restored' : ''}\n`);
      if (!r.sameFileAsSealed) io.stdout.write('note: this file verifies but is not byte for byte the one recorded at sealing (another sealing of the same segment)\n');
    }
    return 0;
  } finally {
    await opened.close();
  }
}

async function listCommand(load: ConfigLoader, argv: string[], io: ArchiveCommandIo): Promise<number> {
  const { values: v } = parse(argv, { json: { type: 'boolean' } }, false);
  const opened = await openArchive(load(), io, false);
  try {
    const segments = await opened.archive.list();
    const plan = await opened.archive.plan();
    if (v.json) {
      io.stdout.write(`${JSON.stringify({ segments, eligible: plan.eligible.length, young: plan.young, incomplete: plan.incomplete.length }, null, 2)}\n`);
      return 0;
    }
    const STATE = { sealed: 'sealed, records live', removed: 'sealed, records removed', restored: 'sealed, records restored' } as const;
    for (const s of segments) {
      io.stdout.write(
        `[${s.leafFrom}, ${s.leafTo})  ${STATE[s.state]}  ${s.firstAt?.toISOString() ?? '?'} to ${s.lastAt?.toISOString() ?? '?'}  checkpoint ${s.checkpointSize}  ` +
          `${s.fileName}${s.filePresent ? '' : ' (FILE MISSING)'}  sealed ${s.sealedAt.toISOString()}` +
          `${s.recordsRemovedAt ? `, removed ${s.recordsRemovedAt.toISOString()}` : ''}${s.restoredAt ? `, restored ${s.restoredAt.toISOString()}` : ''}\n`,
      );
    }
    io.stdout.write(`${segments.length} sealed segment(s); ${plan.eligible.length} more can be sealed now, ${plan.young} are younger than the retention period\n`);
    return 0;
  } finally {
    await opened.close();
  }
}

/** The runner of each command; cli/commands.test.ts checks that these are the commands the usage catalogue lists. */
export const ARCHIVE_RUNNERS: Record<string, (config: ConfigLoader, argv: string[], io: ArchiveCommandIo) => Promise<number>> = {
  seal: sealCommand,
  verify: verifyCommand,
  restore: restoreCommand,
  list: listCommand,
};

/**
 * `zhengtong audit archive <sub-command> …`: command is "archive", argv[0] the sub-command; usage is answered by
 * cli/main.ts first. Resolves with the exit status.
 */
export async function runAuditArchiveCommand(config: ConfigLoader, command: string, argv: string[], io: ArchiveCommandIo = process): Promise<number> {
  const sub = argv[0] ?? '';
  const run = Object.hasOwn(ARCHIVE_RUNNERS, sub) ? ARCHIVE_RUNNERS[sub] : undefined;
  if (!run) {
    io.stderr.write(`zhengtong audit ${command}: unknown command "${sub}" (zhengtong audit archive help)\n`);
    return 2;
  }
  try {
    return await run(config, argv.slice(1), io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`zhengtong audit archive ${sub}: ${error.message} (zhengtong audit archive ${sub} --help)\n`);
      return 2;
    }
    const code = isZtError(error) ? error.code : 'ZT_ERR_INTERNAL';
    const message = isZtError(error) ? error.message : `unexpected error: ${(error as Error)?.message ?? String(error)}`;
    io.stderr.write(`zhengtong: ${message.replace(/\s*\n\s*/g, ' ')} [${code}]\n`);
    return 1;
  }
}
