// The archive against a real log, on PGlite and on PostgreSQL: records written through AccessLogWriter with old
// times, sequenced into the Merkle log and checkpointed by the log's own service, then sealed, verified offline,
// removed, restored, and the append-only rule held everywhere else.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PlatformCa } from '../../certs/ca/index.js';
import { envelopeToJson, signEnvelope } from '../../certs/envelope/index.js';
import { exportPem } from '../../certs/x509/index.js';
import { isZtError } from '../../core/errors/index.js';
import { BlindIndex } from '../../core/pseudonyms/index.js';
import { migrate, PgDatabase, type Database } from '../../core/storage/index.js';
import { openPlatformSigner, type PlatformSigner } from '../../exchange/platform-signer.js';
import { makeTestCaDir, openMigratedDatabase, TEST_PUBLIC_URL, type TestCaDir } from '../../test/support/ca.js';
import { describeWithService, postgresUrl, uniqueName } from '../../test/support/services.js';
import { AccessLogWriter } from '../access-log-writer.js';
import type { AccessRecordInput } from '../access-record.js';
import { ACCESS_RECORD_COLUMNS, accessRecordFromRow, type AccessRecordRow, type StoredAccessRecord } from '../access-record-row.js';
import { accessLeafHash } from '../log/leaf.js';
import { AuditLogService } from '../log/service.js';
import { verifyLog } from '../log/verify.js';
import { AuditArchive, type ArchiveTrust } from './index.js';

const PLATFORM_USCC = '11210100001000088R';
const BITS = 2; // segments of 4 records
const DAY = 86_400_000;
const NOW = new Date();

function input(i: number, at: Date): AccessRecordInput {
  return i % 4 === 3
    ? { decision: 'error', errorCode: 'ZT_ERR_INTERNAL', protocol: 'grpc', latencyMs: 0.25, at, operator: `操作员${i}` }
    : {
        decision: 'permit',
        protocol: 'http',
        latencyMs: 9000.5 + i / 7, // float4 values that three decimals would not give back
        at,
        requester: '11210100001000029N',
        operator: '张三',
        subjectKind: 'person',
        subjectCode: '11010519491231002X',
        resource: '210100-GA-0001',
        itemsRequested: ['name', 'address', 'photo "small"'],
        itemsReturned: ['name'],
        serviceItem: '210100-SB-0001',
        caseNumber: `BJ-2025-${String(i).padStart(6, '0')}`,
        ruleIds: ['GA-PHOTO-1'],
        policyRevision: '2025-08-01.1',
        requestDigest: randomBytes(32),
        responseDigest: randomBytes(32),
        certificateSm3: randomBytes(32),
      };
}

async function rows(db: Database, where = 'TRUE'): Promise<StoredAccessRecord[]> {
  const { rows } = await db.query<AccessRecordRow>(`SELECT ${ACCESS_RECORD_COLUMNS} FROM access_record WHERE ${where} ORDER BY seq`);
  return rows.map(accessRecordFromRow);
}

async function leafHashes(db: Database): Promise<Map<number, string>> {
  const { rows } = await db.query<{ record_seq: string | number; leaf_hash: Uint8Array }>('SELECT record_seq, leaf_hash FROM audit_log_leaves');
  return new Map(rows.map((r) => [Number(r.record_seq), Buffer.from(r.leaf_hash).toString('hex')]));
}

async function sqlError(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the statement to be refused');
}

/** A checkpoint of everything sequenced so far. */
async function checkpointNow(log: AuditLogService): Promise<void> {
  await log.checkpoint({ force: true });
}

interface Harness {
  open(): Promise<Database>;
  dispose(): Promise<void>;
}

function archiveContract(harness: Harness): void {
  let db: Database;
  let caDir: TestCaDir;
  let platform: PlatformSigner;
  let dir: string;
  let archive: AuditArchive;
  let trust: ArchiveTrust;
  let originals: StoredAccessRecord[];
  let log: AuditLogService;
  const progress: string[] = [];

  beforeAll(async () => {
    db = await harness.open();
    caDir = await makeTestCaDir();
    const ca = new PlatformCa({ db, material: caDir.material, certificateDays: 730, publicUrl: TEST_PUBLIC_URL });
    platform = await openPlatformSigner(ca, caDir.platformKeyDir, PLATFORM_USCC, '沈阳市大数据管理局（数据共享交换）');
    dir = mkdtempSync(join(tmpdir(), 'zt-archive-'));
    trust = { trustAnchors: [exportPem(caDir.material.root.certificate)], intermediates: [exportPem(caDir.material.issuing.certificate)], platformUscc: PLATFORM_USCC };
    // 10 records 200 days old, then 3 from yesterday: segments [0,4) and [4,8) are old, [8,12) is not all old.
    const writer = new AccessLogWriter(db, { pseudonyms: new BlindIndex([{ version: 1, key: randomBytes(32) }]), instance: 'gw-test' });
    for (let i = 0; i < 13; i++) {
      const at = i < 10 ? new Date(NOW.getTime() - 200 * DAY + i * 60_000) : new Date(NOW.getTime() - DAY + i * 60_000);
      await writer.write(input(i, at));
    }
    await writer.close();
    log = new AuditLogService({
      db,
      signer: async () => platform.signer,
      platformUscc: PLATFORM_USCC,
      sequenceMs: 0,
      checkpointSeconds: 0,
      gapSeconds: 0,
      gapWatchSeconds: 0,
      batchSize: 1000,
    });
    await log.sequence();
    await checkpointNow(log);
    originals = await rows(db);
    archive = new AuditArchive({
      db,
      dir,
      segmentBits: BITS,
      retentionDays: 180,
      platformUscc: PLATFORM_USCC,
      trust,
      sign: async (payload) => envelopeToJson(await signEnvelope(platform.signer, payload)),
      now: () => NOW,
      onProgress: (m) => void progress.push(m),
    });
  });

  afterAll(async () => {
    await platform?.close();
    await harness.dispose();
    caDir?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('plans only complete segments under the checkpoint whose records are all past retention', async () => {
    const plan = await archive.plan();
    expect(plan.checkpoint?.treeSize).toBe(13);
    expect(plan.eligible.map((c) => [c.leafFrom, c.leafTo])).toEqual([[0, 4], [4, 8]]);
    expect(plan.young).toBe(1); // [8, 12): two of its records are from yesterday
    expect(plan.incomplete).toEqual([]);
    const dry = await archive.seal({ dryRun: true });
    expect(dry.sealed).toEqual([]);
    expect(await archive.list()).toEqual([]);
  });

  it('seals the old segments into files that verify offline', async () => {
    const report = await archive.seal();
    expect(report.sealed.map((s) => [s.leafFrom, s.leafTo, s.records, s.checkpointSize])).toEqual([[0, 4, 4, 13], [4, 8, 4, 13]]);
    expect(progress.some((m) => m.startsWith('sealing segment [0, 4) (1 of 2)'))).toBe(true);
    const listed = await archive.list();
    expect(listed.map((s) => [s.leafFrom, s.state, s.filePresent])).toEqual([[0, 'sealed', true], [4, 'sealed', true]]);
    for (const s of report.sealed) {
      const { verifyArchiveFile } = await import('./verify.js');
      const v = await verifyArchiveFile(join(dir, s.fileName), { trust });
      expect(v.fileSm3.toString('hex')).toBe(s.fileSm3);
      expect(v.header.lastAt < new Date(NOW.getTime() - 180 * DAY).toISOString()).toBe(true);
    }
    // Nothing more to seal: the young segment stays, sealed ones are not sealed twice.
    expect((await archive.seal()).sealed).toEqual([]);
  });

  it('refuses a DELETE without the archive setting, or outside a sealed segment, and every UPDATE', async () => {
    const sealedSeq = originals[0]!.seq;
    const youngSeq = originals[9]!.seq; // leaf 9: in no sealed segment
    expect(await sqlError(db.query('DELETE FROM access_record WHERE seq = $1', [sealedSeq]))).toMatch(/append-only/);
    expect(
      await sqlError(
        db.transaction(async (tx) => {
          await tx.query(`SELECT set_config('zt.archive_removal', 'on', true)`);
          await tx.query('DELETE FROM access_record WHERE seq = $1', [youngSeq]);
        }),
      ),
    ).toMatch(/append-only: DELETE of seq/);
    expect(
      await sqlError(
        db.transaction(async (tx) => {
          await tx.query(`SELECT set_config('zt.archive_removal', 'on', true)`);
          await tx.query(`UPDATE access_record SET operator = 'x' WHERE seq = $1`, [sealedSeq]);
        }),
      ),
    ).toMatch(/append-only: UPDATE/);
    expect(await sqlError(db.query('TRUNCATE access_record'))).toMatch(/append-only: TRUNCATE/);
    // The setting is transaction-local: a later plain DELETE on the same database is refused again.
    expect(await sqlError(db.query('DELETE FROM access_record WHERE seq = $1', [sealedSeq]))).toMatch(/append-only/);
    expect(await rows(db)).toEqual(originals);
  });

  it('removes sealed records from the live log, and the log verifier counts them archived', async () => {
    const report = await archive.seal({ remove: true });
    expect(report.sealed).toEqual([]);
    expect(report.removed.map((r) => [r.leafFrom, r.records])).toEqual([[0, 4], [4, 4]]);
    const left = await rows(db);
    expect(left.map((r) => r.seq)).toEqual(originals.slice(8).map((r) => r.seq));
    expect((await archive.list()).map((s) => [s.leafFrom, s.state])).toEqual([[0, 'removed'], [4, 'removed']]);
    const verification = await verifyLog(db);
    expect(verification.ok).toBe(true);
    expect(verification.leaves.archived).toBe(8);
    // Removing again finds nothing to do.
    expect((await archive.seal({ remove: true })).removed).toEqual([]);
  });

  it('restores a segment from its file: the same rows, each giving its leaf; twice is harmless', async () => {
    const [first] = await archive.list();
    const before = await leafHashes(db);
    const restored = await archive.restore(join(dir, first!.fileName));
    expect(restored).toMatchObject({ leafFrom: 0, leafTo: 4, inserted: 4, alreadyPresent: 0, marked: true, sameFileAsSealed: true });
    const back = await rows(db, 'seq <= $1'.replace('$1', String(originals[3]!.seq)));
    expect(back).toEqual(originals.slice(0, 4));
    expect(back.map((r) => accessLeafHash(r).toString('hex'))).toEqual(originals.slice(0, 4).map((r) => before.get(r.seq)));
    expect((await archive.list()).map((s) => [s.leafFrom, s.state])).toEqual([[0, 'restored'], [4, 'removed']]);
    const again = await archive.restore(join(dir, first!.fileName));
    expect(again).toMatchObject({ inserted: 0, alreadyPresent: 4 });
    expect((await verifyLog(db)).ok).toBe(true);
    // A later seal --remove leaves a restored segment alone unless asked.
    expect((await archive.seal({ remove: true })).removed).toEqual([]);
    expect((await archive.seal({ remove: true, includeRestored: true })).removed.map((r) => r.leafFrom)).toEqual([0]);
    expect((await archive.list())[0]!.state).toBe('removed');
    await archive.restore(join(dir, first!.fileName));
  });

  it('refuses to restore a tampered file, and inserts nothing', async () => {
    const second = (await archive.list())[1]!;
    const lines = gunzipSync(readFileSync(join(dir, second.fileName))).toString('utf8').split('\n');
    lines[2] = lines[2]!.replace('"gw-test"', '"gw-tost"');
    const tampered = join(dir, 'tampered.jsonl.gz');
    writeFileSync(tampered, gzipSync(lines.join('\n')));
    const count = (await rows(db)).length;
    try {
      await archive.restore(tampered);
      throw new Error('expected the restore to be refused');
    } catch (error) {
      expect(isZtError(error) && error.code).toBe('ZT_ERR_ARCHIVE_INVALID');
      expect((error as Error).message).toMatch(/^line 3: the record of leaf 5 .* was altered/);
    }
    expect((await rows(db)).length).toBe(count);
    expect((await archive.list())[1]!.state).toBe('removed');
  });

  it('keeps the records when the sealed file is missing or changed', async () => {
    const second = (await archive.list())[1]!;
    const path = join(dir, second.fileName);
    await archive.restore(path);
    const saved = readFileSync(path);
    writeFileSync(path, Buffer.concat([saved, Buffer.from([0])]));
    try {
      await archive.seal({ remove: true, includeRestored: true }).then(
        () => {
          throw new Error('expected the removal to be refused');
        },
        (error: unknown) => {
          expect(isZtError(error) && error.code).toBe('ZT_ERR_ARCHIVE_STATE');
          expect((error as Error).message).toMatch(/SM3 differs/);
        },
      );
    } finally {
      writeFileSync(path, saved);
    }
    expect(existsSync(path)).toBe(true);
    expect((await rows(db)).map((r) => r.seq)).toEqual(originals.map((r) => r.seq));
  });
}

describe('audit archive on PGlite', () => {
  let db: Database | undefined;
  archiveContract({
    open: async () => (db = await openMigratedDatabase()),
    dispose: async () => db?.close(),
  });
});

describeWithService('postgres', 'audit archive on PostgreSQL', () => {
  const schema = uniqueName('zt_archive');
  let db: Database | undefined;
  archiveContract({
    async open() {
      db = await PgDatabase.open({ url: postgresUrl!, poolSize: 4, schema });
      await migrate(db);
      return db;
    },
    async dispose() {
      await db?.close();
      const admin = await PgDatabase.open({ url: postgresUrl!, poolSize: 1, schema: undefined });
      await admin.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.close();
    },
  });
});
