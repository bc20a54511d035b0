// `zhengtong audit verify | checkpoint | checkpoints | proof`: the tamper-evident access log, read from the database of
// the configured ZT_DATABASE_URL / ZT_DATA_DIR directly, as an operator's tool (docs/audit-log.md). Checkpoints are
// checked against the platform CA's certificates in ZT_CA_DIR (or --ca-dir); no private key is needed except by
// `checkpoint`, which signs with the platform key (ZT_PLATFORM_KEY_DIR), as the gateways do.
import { join } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Config } from '../core/config/index.js';
import { isZtError, ZtError } from '../core/errors/index.js';
import { createLogger } from '../core/logging/index.js';
import { migrate, openDatabase, type Database } from '../core/storage/index.js';
import { CA_FILES, loadPlatformCa, PlatformCa, platformCaExists } from '../certs/ca/index.js';
import { leafHash, verifyInclusion } from '../certs/signer/merkle.js';
import { openPlatformSigner, type PlatformSigner } from '../exchange/platform-signer.js';
import { AuditLogService, verifyCheckpoint, verifyLog, type CheckpointAnchors, type LogVerification } from '../audit/log/index.js';
import type { ConfigLoader } from './common.js';

export interface AuditLogIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

function usage(message: string): never {
  throw new ZtError('ZT_ERR_REQUEST_INVALID', message);
}

function integer(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-9]{1,15}$/.test(value)) usage(`--${name} must be a non-negative integer`);
  return Number(value);
}

/** The CA's certificates only (no keys): what a verifier trusts. */
function anchorsFrom(dir: string, platformUscc: string): CheckpointAnchors {
  const root = join(dir, CA_FILES.rootCertificate);
  const issuing = join(dir, CA_FILES.issuingCertificate);
  if (!existsSync(root) || !existsSync(issuing)) {
    throw new ZtError('ZT_ERR_CA_NOT_INITIALISED', `no platform CA certificates in ${dir} (${CA_FILES.rootCertificate}, ${CA_FILES.issuingCertificate}): give --ca-dir, or set ZT_CA_DIR`);
  }
  return { trustAnchors: [readFileSync(root)], intermediates: [readFileSync(issuing)], platformUscc };
}

async function withDatabase<T>(config: Config, fn: (db: Database) => Promise<T>): Promise<T> {
  const db = await openDatabase(config, createLogger({ level: 'warn', instanceId: config.instanceId! }));
  try {
    await migrate(db);
    return await fn(db);
  } finally {
    await db.close().catch(() => undefined);
  }
}

function describe(v: LogVerification): string {
  const lines: string[] = [];
  const c = v.checkpoints;
  lines.push(
    `log: ${v.treeSize} leaves; every seq below ${v.sequencedHorizon} sequenced; ${c.total} checkpoint(s), ${c.valid} valid${c.latest !== null ? `, latest ${c.latest}` : ''}`,
  );
  lines.push(
    `records checked: ${v.leaves.checked}${v.leaves.archived > 0 ? ` (${v.leaves.archived} archived)` : ''}${v.leaves.outOfRange > 0 ? `; ${v.leaves.outOfRange} leaves outside the seq range` : ''}; ` +
      `${v.records.notYetSequenced} record(s) not yet sequenced${v.records.pendingInWatchedGaps > 0 ? `, ${v.records.pendingInWatchedGaps} late in watched gaps` : ''}`,
  );
  if (v.reanchor) {
    const r = v.reanchor;
    const carried = Object.entries(r.carried).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k}`).join(', ');
    lines.push(
      `re-anchored at ${r.treeSize} leaves (migration 0016, identifiers pseudonymised): statement ${r.signed ? (r.signatureChecked ? 'signed, signature checked' : 'signed') : 'unsigned'}; ` +
        `log before: ${r.oldCheckpoints.total} checkpoint(s), ${r.oldCheckpoints.valid} valid against its leaves${carried ? `; leaves carried over: ${carried}` : ''}`,
    );
  }
  for (const p of v.problems) lines.push(`${p.kind.toUpperCase()}: ${p.message}`);
  if (v.truncated > 0) lines.push(`… and ${v.truncated} more problem(s) not listed`);
  const summary = Object.entries(v.counts).map(([k, n]) => `${n} ${k}`).join(', ');
  lines.push(v.ok ? 'OK: the log verifies' : `PROBLEMS: ${summary}`);
  return `${lines.join('\n')}\n`;
}

async function verifyCommand(config: Config, argv: string[], io: AuditLogIo): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { 'from-seq': { type: 'string' }, 'to-seq': { type: 'string' }, json: { type: 'boolean' }, 'ca-dir': { type: 'string' }, config: { type: 'string' } }, strict: true, allowPositionals: false });
  const fromSeq = integer(values['from-seq'], 'from-seq');
  const toSeq = integer(values['to-seq'], 'to-seq');
  if (fromSeq !== undefined && toSeq !== undefined && fromSeq > toSeq) usage('--from-seq may not exceed --to-seq');
  const anchors = anchorsFrom(values['ca-dir'] ?? config.caDir, config.platformUscc);
  const started = Date.now();
  const result = await withDatabase(config, (db) =>
    verifyLog(db, {
      anchors,
      ...(fromSeq !== undefined ? { fromSeq } : {}),
      ...(toSeq !== undefined ? { toSeq } : {}),
      progressEvery: 100_000,
      onProgress: (p) => io.stderr.write(`… ${p.phase}: ${p.leaves} of ${p.treeSize} leaves (${((Date.now() - started) / 1000).toFixed(1)} s)\n`),
    }),
  );
  io.stdout.write(values.json ? `${JSON.stringify(result, null, 2)}\n` : describe(result));
  return result.ok ? 0 : 1;
}

async function checkpointCommand(config: Config, argv: string[], io: AuditLogIo): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { json: { type: 'boolean' }, config: { type: 'string' } }, strict: true, allowPositionals: false });
  if (!platformCaExists(config.caDir)) throw new ZtError('ZT_ERR_CA_NOT_INITIALISED', `no platform CA in ${config.caDir}: checkpoints are signed with the platform's key; run zhengtong ca init, or set ZT_CA_DIR`);
  return withDatabase(config, async (db) => {
    const ca = new PlatformCa({ db, material: loadPlatformCa(config.caDir, config.caPassphrase), certificateDays: config.caCertificateDays, publicUrl: config.publicUrl });
    let platform: Promise<PlatformSigner> | undefined;
    const log = new AuditLogService({
      db,
      // The same key as the gateways' (ZT_PLATFORM_KEY_DIR), opened as gateway/app.ts opens it.
      signer: async () => (await (platform ??= openPlatformSigner(ca, config.platformKeyDir, config.platformUscc, `${ca.issuing.subject.match(/O=([^,]+)/)?.[1] ?? '政务数据共享平台'}（数据共享交换）`))).signer,
      platformUscc: config.platformUscc,
      sequenceMs: 0,
      checkpointSeconds: 0,
      batchSize: config.auditSequenceBatch,
      gapSeconds: config.auditGapSeconds,
      gapWatchSeconds: config.auditGapWatchSeconds,
    });
    try {
      const run = await log.sequence();
      const checkpoint = await log.checkpoint({ force: true });
      const latest = checkpoint ?? (await log.latest());
      if (values.json) io.stdout.write(`${JSON.stringify({ sequenced: run, signed: checkpoint !== null, checkpoint: latest }, null, 2)}\n`);
      else {
        io.stdout.write(`sequenced ${run.appended} record(s)${run.late > 0 ? ` (${run.late} late)` : ''}; the log has ${run.treeSize} leaves${run.waitingFor !== null ? `, waiting for seq ${run.waitingFor}` : ''}\n`);
        io.stdout.write(checkpoint ? `signed checkpoint ${checkpoint.treeSize}: root ${checkpoint.rootHash} at ${checkpoint.signedAt}\n` : `no new checkpoint: the latest (${latest?.treeSize ?? 'none'}) covers the whole log\n`);
      }
      return 0;
    } finally {
      await (await platform?.catch(() => undefined))?.close().catch(() => undefined);
    }
  });
}

async function checkpointsCommand(config: Config, argv: string[], io: AuditLogIo): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { limit: { type: 'string' }, json: { type: 'boolean' }, config: { type: 'string' } }, strict: true, allowPositionals: false });
  const limit = integer(values.limit, 'limit') ?? 20;
  if (limit < 1 || limit > 1000) usage('--limit must be 1 to 1000');
  const list = await withDatabase(config, (db) =>
    new AuditLogService({ db, signer: () => Promise.reject(new Error('no signing here')), platformUscc: config.platformUscc, sequenceMs: 0, checkpointSeconds: 0, batchSize: 1, gapSeconds: 0, gapWatchSeconds: 0 }).checkpoints({ limit }),
  );
  if (values.json) io.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
  else if (list.length === 0) io.stdout.write('no checkpoint signed yet\n');
  else for (const c of list) io.stdout.write(`${String(c.treeSize).padStart(10)}  ${c.rootHash}  ${c.signedAt}  ${c.platform}\n`);
  return 0;
}

async function proofCommand(config: Config, argv: string[], io: AuditLogIo): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { record: { type: 'string' }, 'tree-size': { type: 'string' }, json: { type: 'boolean' }, 'ca-dir': { type: 'string' }, config: { type: 'string' } }, strict: true, allowPositionals: false });
  if (!values.record) usage('--record ID is required');
  const treeSize = integer(values['tree-size'], 'tree-size');
  const anchors = anchorsFrom(values['ca-dir'] ?? config.caDir, config.platformUscc);
  const answer = await withDatabase(config, (db) =>
    new AuditLogService({ db, signer: () => Promise.reject(new Error('no signing here')), platformUscc: config.platformUscc, sequenceMs: 0, checkpointSeconds: 0, batchSize: 1, gapSeconds: 0, gapWatchSeconds: 0 }).inclusion(values.record!, treeSize),
  );
  // Checked here as anyone would: the checkpoint's signature, the leaf from its bytes, the path to the signed root.
  await verifyCheckpoint(answer.checkpoint, anchors);
  const leafMatches = leafHash(Buffer.from(answer.leaf!, 'utf8')).toString('hex') === answer.leafHash;
  const included = verifyInclusion(Buffer.from(answer.leafHash, 'hex'), answer.leafIndex, answer.treeSize, answer.proof.map((p) => Buffer.from(p, 'hex')), Buffer.from(answer.checkpoint.rootHash, 'hex'));
  const ok = leafMatches && included;
  if (values.json) io.stdout.write(`${JSON.stringify({ ok, leafMatchesRecord: leafMatches, included, ...answer }, null, 2)}\n`);
  else {
    io.stdout.write(
      [
        `record ${answer.recordId} (seq ${answer.seq}) is leaf ${answer.leafIndex} of the checkpoint of tree size ${answer.treeSize}`,
        `leaf hash  ${answer.leafHash}${leafMatches ? '' : '  (DOES NOT MATCH the record as stored now: it was edited)'}`,
        `root       ${answer.checkpoint.rootHash} (signed ${answer.checkpoint.signedAt} by ${answer.checkpoint.platform}; signature verified)`,
        'audit path (nearest sibling first):',
        ...answer.proof.map((p, i) => `  ${String(i).padStart(2)} ${p}`),
        ok ? 'OK: the record is in the signed log' : 'FAILED: the proof does not lead to the signed root',
      ].join('\n') + '\n',
    );
  }
  return ok ? 0 : 1;
}

/**
 * Entry point for `zhengtong audit verify | checkpoint | checkpoints | proof`; usage is answered by cli/main.ts first.
 * Resolves with the exit status.
 */
export async function runAuditLogCommand(config: ConfigLoader, command: string, argv: string[], io: AuditLogIo = process): Promise<number> {
  try {
    switch (command) {
      case 'verify':
        return await verifyCommand(config(), argv, io);
      case 'checkpoint':
        return await checkpointCommand(config(), argv, io);
      case 'checkpoints':
        return await checkpointsCommand(config(), argv, io);
      case 'proof':
        return await proofCommand(config(), argv, io);
      default:
        usage(`unknown command "${command}"`);
    }
  } catch (error) {
    const usageError = (isZtError(error) && error.code === 'ZT_ERR_REQUEST_INVALID') || (error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS');
    const code = isZtError(error) ? error.code : usageError ? 'ZT_ERR_REQUEST_INVALID' : 'ZT_ERR_INTERNAL';
    const help = usageError ? ` (zhengtong audit ${command} --help)` : '';
    io.stderr.write(`zhengtong audit ${command}: ${(error as Error).message.replace(/\s*\n\s*/g, ' ')}${help} [${code}]\n`);
    return usageError ? 2 : 1;
  }
}
