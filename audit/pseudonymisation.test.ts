// Migration 0016's data step on a database written before it: identifiers in clear in the access log, its Merkle
// log (signed checkpoints over leaves that hashed them), the exchange's keys, the analytics, the record of queries and
// the outbox. After the step none of them holds an identifier, the log is re-anchored with a signed statement, the
// verifier checks the part before and the part after, an edit made before the conversion is still reported, and the
// sequencer goes on. Run on PGlite and on PostgreSQL.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PlatformCa } from '../certs/ca/index.js';
import { envelopeToJson, signEnvelope } from '../certs/envelope/index.js';
import { exportPem } from '../certs/x509/index.js';
import { BlindIndex } from '../core/pseudonyms/index.js';
import { migrate, PgDatabase, PgliteDatabase, readMigrations, type Database } from '../core/storage/index.js';
import { openPlatformSigner, type PlatformSigner } from '../exchange/platform-signer.js';
import { makeTestCaDir, TEST_PUBLIC_URL, type TestCaDir } from '../test/support/ca.js';
import { describeWithService, postgresUrl, uniqueName } from '../test/support/services.js';
import { AccessLogWriter } from './access-log-writer.js';
import { AuditArchive } from './archive/index.js';
import { ACCESS_RECORD_COLUMNS, accessRecordFromRow, type AccessRecordRow } from './access-record-row.js';
import { ACCESS_RECORD_TOPIC } from './access-record.js';
import { signCheckpoint, storeCheckpoint } from './log/checkpoint.js';
import { accessLeafHash } from './log/leaf.js';
import type { ReanchorStatement } from './log/reanchor.js';
import { appendLeafHashes } from './log/sequencer.js';
import { AuditLogService } from './log/service.js';
import { verifyLog } from './log/verify.js';
import { pseudonymiseStoredIdentifiers } from './pseudonymisation.js';
import { AccessSearchStore } from './search/access-search-store.js';

const PLATFORM = '11210100001000088R';
const PEOPLE = ['11010519491231002X', '210103198503120312', '210105198709230421'] as const;
const ORGANISATION = '9144030071526726XG';
const EXTRACT = '0190d7a4-0000-7000-8000-00000000e001';

/** Writes what a gateway of before 0016 wrote: access records naming subjects in clear, and everything downstream. */
async function writeBefore(db: Database, platform: PlatformSigner): Promise<void> {
  const digest = Buffer.alloc(32, 7);
  for (let i = 0; i < 23; i++) {
    const subject = i % 5 === 4 ? ORGANISATION : PEOPLE[i % 3]!;
    const permit = i % 7 !== 6;
    await db.query(
      `INSERT INTO access_record (id, at, requester, operator, subject_kind, subject_code, resource, items_requested, items_returned, service_item,
         case_number, decision, rule_ids, policy_revision, error_code, latency_ms, request_digest, response_digest, certificate_sm3, instance, protocol)
       VALUES ($1, $2, '11210100001000029N', '张三', $3, $4, '210100-GA-0001', '{name}', $5, 'SI-1', $6, $7, '{}', 'r1', $8, 1.5, $9, $9, $9, 'gw', 'http')`,
      [
        `0190d7a4-0000-7000-8000-${String(i).padStart(12, '0')}`,
        new Date(Date.UTC(2026, 2, 1, 1, i)),
        i % 5 === 4 ? 'organisation' : 'person',
        i === 20 ? null : subject,
        permit ? ['name'] : [],
        `C-${i}`,
        permit ? 'permit' : 'deny',
        permit ? null : 'ZT_ERR_ACCESS_DENIED',
        digest,
      ],
    );
  }
  // The log of before: every record a leaf (hashing the identifier in clear), two signed checkpoints.
  const { rows } = await db.query<AccessRecordRow>(`SELECT ${ACCESS_RECORD_COLUMNS} FROM access_record ORDER BY seq`);
  const records = rows.map(accessRecordFromRow);
  await db.transaction(async (tx) => {
    await appendLeafHashes(tx, 0, records.map((r) => ({ seq: r.seq, hash: accessLeafHash(r) })));
    await tx.query('UPDATE audit_log_state SET tree_size = $1, next_seq = $2', [records.length, records.at(-1)!.seq + 1]);
  });
  const { rootAt } = await import('./log/tree.js');
  for (const size of [16, 23]) {
    await storeCheckpoint(db, await signCheckpoint(platform.signer, { treeSize: size, rootHash: await rootAt(db, size), platform: PLATFORM }));
  }
  // An edit made before the conversion, by someone who could turn the append-only trigger off: the log shows it.
  await db.exec(`ALTER TABLE access_record DISABLE TRIGGER access_record_append_only;
    UPDATE access_record SET operator = '李四' WHERE case_number = 'C-5';
    UPDATE access_record SET operator = '王五' WHERE case_number = 'C-20';
    ALTER TABLE access_record ENABLE TRIGGER access_record_append_only`);
  // Downstream of the log: an exchange record keyed in clear, the analytics' subjects, queries, an outbox event.
  await db.query(
    `INSERT INTO exchange_extracts (id, resource, supplier_uscc, subject_kind, row_count, record_count, content_sm3, loaded_at)
     VALUES ($1, 'T-GA-0001', '11210100001000010R', 'person', 1, 1, $2, now())`,
    [EXTRACT, 'ab'.repeat(32)],
  );
  await db.query(`INSERT INTO exchange_records (resource, subject_code, subject_kind, "values", loaded_at, extract_id) VALUES ('T-GA-0001', $1, 'person', $2, now(), $3)`, [
    PEOPLE[1],
    { idNumber: PEOPLE[1], name: '刘志强' },
    EXTRACT,
  ]);
  await db.query(`INSERT INTO audit_analytics_operator_subject (day, requester, operator, subject_code) VALUES ('2026-03-01', '11210100001000029N', '张三', $1), ('2026-03-01', '11210100001000029N', '张三', $2)`, [
    PEOPLE[0],
    PEOPLE[1],
  ]);
  await db.query(
    `INSERT INTO audit_queries (at, requester, role, kind, filters, rows, protocol) VALUES
       (now(), '11210100001000096L', 'supervisor', 'search', $1, 3, 'http'),
       (now(), '11210100001000109A', 'portal', 'subject', $2, 2, 'http'),
       (now(), '11210100001000029N', 'none', 'forbidden', $3, 0, 'http')`,
    [{ subject: PEOPLE[0], from: '2026-03-01T00:00:00.000Z' }, { subject: PEOPLE[1].toLowerCase() }, { path: `/v1/audit/search?subject=${PEOPLE[2]}&requester=11210100001000029N`, needed: 'supervisor' }],
  );
  await db.query(`INSERT INTO zt_outbox (topic, event_key, value, headers) VALUES ($1, $2, $3, '{}')`, [
    ACCESS_RECORD_TOPIC,
    PEOPLE[2],
    Buffer.from(JSON.stringify({ type: 'access.recorded', record: { id: 'x', subjectCode: PEOPLE[2] } })),
  ]);
}

/** Every row of the tables the step converts, as text: no identifier may remain. */
async function everything(db: Database): Promise<string> {
  const parts: string[] = [];
  for (const table of ['access_record', 'audit_analytics_operator_subject', 'audit_queries']) {
    const { rows } = await db.query(`SELECT t::text AS row FROM ${table} t`);
    parts.push(...rows.map((r) => String(r.row)));
  }
  const { rows: keys } = await db.query<{ subject_code: string }>('SELECT subject_code FROM exchange_records');
  const { rows: outbox } = await db.query<{ event_key: string; value: Buffer }>('SELECT event_key, value FROM zt_outbox');
  return [...parts, ...keys.map((k) => k.subject_code), ...outbox.map((o) => `${o.event_key} ${Buffer.from(o.value).toString('utf8')}`)].join('\n').toUpperCase();
}

function contract(open: () => Promise<Database>, close: () => Promise<void>): void {
  let db: Database;
  let caDir: TestCaDir;
  let platform: PlatformSigner;
  const pseudonyms = new BlindIndex([{ version: 1, key: randomBytes(32) }]);
  let anchors: { trustAnchors: string[]; intermediates: string[]; platformUscc: string };
  let statement: ReanchorStatement | null = null;
  let dir: string;
  const archiveOf = () =>
    new AuditArchive({
      db,
      dir,
      segmentBits: 2,
      retentionDays: 30,
      platformUscc: PLATFORM,
      trust: anchors,
      sign: async (payload) => envelopeToJson(await signEnvelope(platform.signer, payload)),
      now: () => new Date('2027-01-01T00:00:00Z'),
      pseudonyms: async () => pseudonyms,
    });

  beforeAll(async () => {
    db = await open();
    await migrate(db, readMigrations().slice(0, 15));
    caDir = await makeTestCaDir();
    const ca = new PlatformCa({ db, material: caDir.material, certificateDays: 730, publicUrl: TEST_PUBLIC_URL });
    platform = await openPlatformSigner(ca, caDir.platformKeyDir, PLATFORM, '沈阳市大数据管理局（数据共享交换）');
    anchors = { trustAnchors: [exportPem(caDir.material.root.certificate)], intermediates: [exportPem(caDir.material.issuing.certificate)], platformUscc: PLATFORM };
    await writeBefore(db, platform);
    // Before 0016 the archive sealed leaves [0, 4) and removed their records into the file, identifiers in clear.
    dir = mkdtempSync(join(tmpdir(), 'zt-pseudonymise-archive-'));
    const sealed = await archiveOf().seal({ remove: true, maxSegments: 1 });
    expect(sealed.removed.map((r) => r.records)).toEqual([4]);
  });
  afterAll(async () => {
    await platform?.close();
    caDir?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
    await close();
  });

  it('moves the log aside at migration, and the sequencer waits for the re-anchor', async () => {
    await migrate(db);
    const { rows } = await db.query<{ reanchor_pending: boolean; tree_size: string }>('SELECT reanchor_pending, tree_size FROM audit_log_state');
    expect(rows[0]).toMatchObject({ reanchor_pending: true });
    expect(Number(rows[0]!.tree_size)).toBe(23);
    const log = new AuditLogService({ db, signer: async () => platform.signer, platformUscc: PLATFORM, sequenceMs: 0, checkpointSeconds: 0, gapSeconds: 0, gapWatchSeconds: 0, batchSize: 100 });
    expect((await log.sequence()).appended).toBe(0);
    expect(await log.checkpoint({ force: true })).toBeNull();
    expect((await verifyLog(db)).counts).toEqual({ 'reanchor-pending': 1 });
  });

  it('replaces every identifier by its index and re-anchors the log with a signed statement', async () => {
    const report = await pseudonymiseStoredIdentifiers({ db, pseudonyms, signer: async () => platform.signer, platformUscc: PLATFORM, batchSize: 4 });
    expect(report.converted).toEqual({ accessRecords: 18, editedBeforeConversion: 1, exchangeRecords: 1, analyticsSubjects: 2, auditQueries: 3, outboxEvents: 1 });
    const all = await everything(db);
    for (const code of [...PEOPLE, ORGANISATION]) expect(all).not.toContain(code);
    expect(report.reanchor).toMatchObject({
      schema: 'zhengtong/audit-reanchor/v1',
      epoch: 2,
      old: { treeSize: 23, lastCheckpoint: { treeSize: 23 } },
      new: { treeSize: 23 },
      // C-5 edited before (its subject's leaf no longer matched), C-20 edited too (no subject, so checked at rebuild).
      // Leaves [0, 4) are archived: carried over, their file proves them.
      leaves: { carried: { archived: 4, missing: 0, edited: 2 }, unchanged: 0, recomputed: 17 },
    });
    expect(report.reanchor!.new.rootHash).not.toBe(report.reanchor!.old.rootHash);
    statement = report.reanchor;
    const { rows } = await db.query<{ subject_code: string }>(`SELECT subject_code FROM access_record WHERE case_number = 'C-7'`);
    expect(rows[0]!.subject_code).toBe(pseudonyms.of(PEOPLE[1]!));
    const queries = await db.query<{ filters: Record<string, string> }>('SELECT filters FROM audit_queries ORDER BY seq');
    expect(queries.rows.map((r) => r.filters.subject ?? r.filters.path)).toEqual([pseudonyms.of(PEOPLE[0]!), pseudonyms.of(PEOPLE[1]!), `/v1/audit/search?subject=${pseudonyms.of(PEOPLE[2]!)}&requester=11210100001000029N`]);
    // Searching by the ID number finds the converted records.
    const page = await new AccessSearchStore(db, pseudonyms).page({ subject: PEOPLE[0]! }, null, 50);
    expect(page.records.map((r) => r.record.caseNumber).sort()).toEqual(['C-12', 'C-15', 'C-18', 'C-21', 'C-6'].sort());
  });

  it('verifies the part before against its checkpoints and the statement, the part after against the records', async () => {
    const result = await verifyLog(db, { anchors });
    expect(result.reanchor).toEqual({ epoch: 2, treeSize: 23, signed: true, signatureChecked: true, oldCheckpoints: { total: 2, valid: 2 }, carried: { archived: 4, missing: 0, edited: 2 } });
    expect(result.leaves.archived).toBe(4);
    // The only problems are the two edits made before the conversion.
    expect(result.counts).toEqual({ edited: 2 });
    expect(result.problems.map((p) => p.id)).toEqual(['0190d7a4-0000-7000-8000-000000000005', '0190d7a4-0000-7000-8000-000000000020']);
    // The first checkpoint of the new tree is the statement's new root.
    const { rows } = await db.query<{ tree_size: string; root_hash: Buffer }>('SELECT tree_size, root_hash FROM audit_checkpoints');
    expect(rows.map((r) => [Number(r.tree_size), Buffer.from(r.root_hash).toString('hex')])).toEqual([[23, statement!.new.rootHash]]);
  });

  it('finds a forged statement and a rewritten leaf of the part before', async () => {
    const { rows } = await db.query<{ statement: Record<string, unknown> }>('SELECT statement FROM audit_log_reanchors');
    const forged = { ...rows[0]!.statement, old: { ...(rows[0]!.statement.old as object), rootHash: 'ab'.repeat(32) } };
    await db.query('ALTER TABLE audit_log_reanchors RENAME TO audit_log_reanchors_real');
    await db.query('CREATE TABLE audit_log_reanchors AS SELECT * FROM audit_log_reanchors_real');
    await db.query('UPDATE audit_log_reanchors SET statement = $1', [JSON.stringify(forged)]);
    try {
      const result = await verifyLog(db, { anchors });
      expect(result.counts['reanchor-invalid']).toBeGreaterThanOrEqual(2);
      expect(result.problems.map((p) => p.message).join('\n')).toMatch(/signature does not hold|gives root/);
    } finally {
      await db.query('DROP TABLE audit_log_reanchors');
      await db.query('ALTER TABLE audit_log_reanchors_real RENAME TO audit_log_reanchors');
    }
  });

  it('restores a segment archived before, with the index in place of the identifier, its file proving the records', async () => {
    const [file] = readdirSync(dir).filter((f) => f.endsWith('.gz'));
    const restored = await archiveOf().restore(join(dir, file!));
    expect(restored.inserted).toBe(4);
    const { rows } = await db.query<{ subject_code: string }>(`SELECT subject_code FROM access_record WHERE case_number = ANY('{C-0,C-1,C-2,C-3}') ORDER BY seq`);
    expect(rows.map((r) => r.subject_code)).toEqual([pseudonyms.of(PEOPLE[0]!), pseudonyms.of(PEOPLE[1]!), pseudonyms.of(PEOPLE[2]!), pseudonyms.of(PEOPLE[0]!)]);
    expect(await everything(db)).not.toContain(PEOPLE[0]);
    const result = await verifyLog(db, { anchors });
    expect(result.counts).toEqual({ edited: 2 });
    expect(result.leaves.archived).toBe(4);
  });

  it('does nothing on a second start, and the log goes on growing from where it was', async () => {
    const again = await pseudonymiseStoredIdentifiers({ db, pseudonyms, signer: async () => platform.signer, platformUscc: PLATFORM });
    expect(again.alreadyDone).toBe(true);
    const writer = new AccessLogWriter(db, { pseudonyms, instance: 'gw' });
    await writer.write({ decision: 'deny', errorCode: 'ZT_ERR_ACCESS_DENIED', protocol: 'http', latencyMs: 1, subjectKind: 'person', subjectCode: PEOPLE[0]!, requester: '11210100001000029N' });
    await writer.close();
    const log = new AuditLogService({ db, signer: async () => platform.signer, platformUscc: PLATFORM, sequenceMs: 0, checkpointSeconds: 0, gapSeconds: 0, gapWatchSeconds: 0, batchSize: 100 });
    expect((await log.sequence()).treeSize).toBe(24);
    expect((await log.checkpoint({ force: true }))?.treeSize).toBe(24);
    const result = await verifyLog(db, { anchors });
    expect(result.counts).toEqual({ edited: 2 });
    expect(result.checkpoints).toMatchObject({ total: 2, valid: 2, latest: 24 });
    // A clear identifier can no longer be written, by the writer or by hand.
    await expect(db.query(`INSERT INTO audit_analytics_operator_subject VALUES ('2026-03-02', 'x', 'y', $1)`, [PEOPLE[0]])).rejects.toThrow(/pseudonymous/);
  });
}

describe('pseudonymising a database written before migration 0016 (PGlite)', () => {
  let db: PgliteDatabase | undefined;
  contract(
    async () => (db = await PgliteDatabase.open({ dataDir: undefined })),
    async () => db?.close(),
  );
});

describeWithService('postgres', 'pseudonymising a database written before migration 0016 (PostgreSQL)', () => {
  const schema = uniqueName('zt_pseudonymise');
  let db: PgDatabase | undefined;
  contract(
    async () => (db = await PgDatabase.open({ url: postgresUrl!, poolSize: 4, schema })),
    async () => {
      await db?.close();
      const admin = await PgDatabase.open({ url: postgresUrl!, poolSize: 1, schema: undefined });
      await admin.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).finally(() => admin.close());
    },
  );
});
