// The tamper-evident log end to end below the APIs, on PGlite and on PostgreSQL: sequencing with out-of-order commits
// and gaps, checkpoints and their offline check, and the verifier naming exactly the records tampered with.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isZtError } from '../../core/errors/index.js';
import { migrate, PgDatabase, PgliteDatabase, type Database, type Queryable } from '../../core/storage/index.js';
import { verifyInclusion } from '../../certs/signer/merkle.js';
import { makeLicenceWorld, PLATFORM_USCC, type LicenceWorld } from '../../licences/offline/test-support.js';
import { describeWithService, postgresUrl, uniqueName } from '../../test/support/services.js';
import { accessRecordFromRow, ACCESS_RECORD_COLUMNS, type AccessRecordRow } from '../access-record-row.js';
import { checkpointStatement, latestCheckpoint, signCheckpoint, storeCheckpoint, verifyCheckpoint, type Checkpoint, type CheckpointAnchors } from './checkpoint.js';
import { accessLeafHash } from './leaf.js';
import { AuditLogService } from './service.js';
import { insertRecords } from './test-support.js';
import { verifyLog, type LogVerification } from './verify.js';

let world: LicenceWorld;
let other: LicenceWorld;
let anchors: CheckpointAnchors;

beforeAll(async () => {
  [world, other] = await Promise.all([makeLicenceWorld(), makeLicenceWorld()]);
  anchors = { trustAnchors: [world.pki.root], intermediates: [world.pki.issuing], platformUscc: PLATFORM_USCC };
}, 60_000);

function service(db: Database, overrides: { gapSeconds?: number; gapWatchSeconds?: number; batchSize?: number } = {}): AuditLogService {
  return new AuditLogService({
    db,
    signer: async () => world.signer,
    platformUscc: PLATFORM_USCC,
    sequenceMs: 0,
    checkpointSeconds: 0,
    gapSeconds: 10,
    gapWatchSeconds: 3600,
    batchSize: 1000,
    ...overrides,
  });
}

async function leafSeqs(q: Queryable): Promise<number[]> {
  const { rows } = await q.query<{ record_seq: number }>('SELECT record_seq FROM audit_log_leaves ORDER BY leaf_index');
  return rows.map((r) => Number(r.record_seq));
}

async function recordAt(q: Queryable, seq: number): Promise<AccessRecordRow> {
  const { rows } = await q.query<AccessRecordRow>(`SELECT ${ACCESS_RECORD_COLUMNS} FROM access_record WHERE seq = $1`, [seq]);
  return rows[0]!;
}

/** Runs `fn` with the append-only triggers of `table` off, as its owner could. */
async function tamper(db: Database, table: string, fn: () => Promise<unknown>): Promise<void> {
  const trigger = table === 'access_record' ? 'access_record_append_only' : `${table}_append_only`;
  await db.exec(`ALTER TABLE ${table} DISABLE TRIGGER ${trigger}`);
  try {
    await fn();
  } finally {
    await db.exec(`ALTER TABLE ${table} ENABLE TRIGGER ${trigger}`);
  }
}

const kinds = (v: LogVerification) => v.problems.map((p) => [p.kind, p.seq ?? p.treeSize ?? null]);

function logSuite(open: () => Promise<Database>, close: (db: Database) => Promise<void>): void {
  it('appends in seq order up to a gap, passes an old gap, appends a late row at the end, and stops watching a closed gap', async () => {
    const db = await open();
    try {
      const log = service(db, { gapSeconds: 1 });
      await insertRecords(db, 0, { seqs: [1, 2, 3, 5, 6] });
      let run = await log.sequence();
      expect(run).toMatchObject({ appended: 3, treeSize: 3, waitingFor: 4 });
      // 4 commits late but within the wait: appended in its place.
      await insertRecords(db, 0, { seqs: [4] });
      run = await log.sequence();
      expect(run).toMatchObject({ appended: 3, treeSize: 6, waitingFor: null });
      expect(await leafSeqs(db)).toEqual([1, 2, 3, 4, 5, 6]);

      // 7 missing, 8 and 9 visible: waited for at least gapSeconds (the mark), then passed by.
      await insertRecords(db, 0, { seqs: [8, 9] });
      expect((await log.sequence()).waitingFor).toBe(7);
      await sleep(1100);
      run = await log.sequence();
      if (run.waitingFor === 7) {
        await sleep(1100);
        run = await log.sequence();
      }
      expect(run.skipped).toEqual([[7, 8]]);
      expect(await leafSeqs(db)).toEqual([1, 2, 3, 4, 5, 6, 8, 9]);
      // 7 finally commits: appended at the end, its leaf carrying seq 7.
      await insertRecords(db, 0, { seqs: [7] });
      run = await log.sequence();
      expect(run).toMatchObject({ appended: 1, late: 1 });
      expect(await leafSeqs(db)).toEqual([1, 2, 3, 4, 5, 6, 8, 9, 7]);

      // A gap whose watch has ended: a row appearing there is never logged, and the verifier calls it inserted.
      const quick = service(db, { gapSeconds: 0, gapWatchSeconds: 0 });
      await insertRecords(db, 0, { seqs: [11] });
      expect((await quick.sequence()).skipped).toEqual([[10, 11]]);
      await quick.sequence(); // closes the gap
      await insertRecords(db, 0, { seqs: [10] });
      expect((await quick.sequence()).appended).toBe(0);
      await quick.checkpoint({ force: true });
      const v = await verifyLog(db, { anchors });
      expect(kinds(v)).toEqual([['inserted', 10]]);
    } finally {
      await close(db);
    }
  });

  it('signs checkpoints that verify offline, and serves proofs that lead to their roots', async () => {
    const db = await open();
    try {
      const log = service(db);
      await insertRecords(db, 300);
      await log.sequence();
      const first = (await log.checkpoint({ force: true }))!;
      expect(first.treeSize).toBe(300);
      expect(await log.checkpoint({ force: true })).toBeNull(); // the tree did not grow
      await insertRecords(db, 77);
      await log.sequence();
      const second = (await log.checkpoint({ force: true }))!;
      expect((await verifyCheckpoint(second, anchors)).signer.uscc).toBe(PLATFORM_USCC);
      expect((await latestCheckpoint(db))!.rootHash).toBe(second.rootHash);

      const { rows } = await db.query<{ id: string }>('SELECT id FROM access_record WHERE seq = 123');
      const proof = await log.inclusion(rows[0]!.id);
      expect(proof.leafIndex).toBe(122);
      expect(accessLeafHash(accessRecordFromRow(await recordAt(db, 123))).toString('hex')).toBe(proof.leafHash);
      expect(verifyInclusion(Buffer.from(proof.leafHash, 'hex'), proof.leafIndex, proof.treeSize, proof.proof.map((p) => Buffer.from(p, 'hex')), Buffer.from(second.rootHash, 'hex'))).toBe(true);
      const consistency = await log.consistency(300, 377);
      expect(consistency.firstRoot).toBe(first.rootHash);
      expect(consistency.secondRoot).toBe(second.rootHash);

      const code = async (p: Promise<unknown>) => p.then(() => 'resolved', (e: unknown) => (isZtError(e) ? e.code : String(e)));
      expect(await code(log.consistency(0, 5))).toBe('ZT_ERR_AUDIT_TREE_SIZE_INVALID');
      expect(await code(log.consistency(10, 5))).toBe('ZT_ERR_AUDIT_TREE_SIZE_INVALID');
      expect(await code(log.consistency(10, 378))).toBe('ZT_ERR_AUDIT_TREE_SIZE_INVALID');
      expect(await code(log.inclusion('not-a-uuid'))).toBe('ZT_ERR_AUDIT_QUERY_INVALID');
      expect(await code(log.inclusion('0190d7a4-0000-7000-8000-000000000000'))).toBe('ZT_ERR_AUDIT_RECORD_NOT_FOUND');
      expect(await code(log.inclusion(rows[0]!.id, 301))).toBe('ZT_ERR_AUDIT_CHECKPOINT_NOT_FOUND');
      await insertRecords(db, 1);
      await log.sequence();
      const { rows: last } = await db.query<{ id: string }>('SELECT id FROM access_record ORDER BY seq DESC LIMIT 1');
      expect(await code(log.inclusion(last[0]!.id))).toBe('ZT_ERR_AUDIT_RECORD_NOT_LOGGED');

      expect((await verifyLog(db, { anchors })).ok).toBe(true);
    } finally {
      await close(db);
    }
  });

  it('refuses a forged checkpoint (another key, an altered root, another platform) and the verifier reports it', async () => {
    const db = await open();
    try {
      const log = service(db);
      await insertRecords(db, 40);
      await log.sequence();
      const good = (await log.checkpoint({ force: true }))!;
      const code = async (c: Checkpoint) => verifyCheckpoint(c, anchors).then(() => 'verified', (e: unknown) => (isZtError(e) ? e.code : String(e)));
      const otherKey = await signCheckpoint(other.signer, { treeSize: 40, rootHash: Buffer.from(good.rootHash, 'hex'), platform: PLATFORM_USCC });
      expect(await code(otherKey)).toBe('ZT_ERR_AUDIT_CHECKPOINT_INVALID');
      expect(await code({ ...good, rootHash: good.rootHash.replace(/^./, (c) => (c === '0' ? '1' : '0')) })).toBe('ZT_ERR_AUDIT_CHECKPOINT_INVALID');
      expect(await code({ ...good, treeSize: 41 })).toBe('ZT_ERR_AUDIT_CHECKPOINT_INVALID');
      expect(await code({ ...good, platform: '91350100M000100Y43' })).toBe('ZT_ERR_AUDIT_CHECKPOINT_INVALID');
      expect(await code({ ...good, signedAt: new Date(Date.parse(good.signedAt) + 1).toISOString() })).toBe('ZT_ERR_AUDIT_CHECKPOINT_INVALID');
      expect(await code(good)).toBe('verified');
      expect(checkpointStatement(good).toString()).toContain('zhengtong/audit-checkpoint/v1');

      // In the database: a checkpoint signed by another CA's key for a later size, and the good one's root altered.
      await insertRecords(db, 10);
      await log.sequence();
      const { rows } = await db.query<{ leaf_hash: Buffer }>('SELECT leaf_hash FROM audit_log_leaves ORDER BY leaf_index');
      void rows;
      const forged = await signCheckpoint(other.signer, { treeSize: 50, rootHash: Buffer.alloc(32, 7), platform: PLATFORM_USCC });
      await storeCheckpoint(db, forged);
      await tamper(db, 'audit_checkpoints', () => db.query(`UPDATE audit_checkpoints SET root_hash = '\\x${'ab'.repeat(32)}' WHERE tree_size = 40`));
      const v = await verifyLog(db, { anchors });
      expect(v.ok).toBe(false);
      expect(kinds(v)).toEqual([['checkpoint-invalid', 40], ['checkpoint-invalid', 50]]);
    } finally {
      await close(db);
    }
  });

  it('names exactly the records edited, deleted, inserted and reordered, and rewritten stored hashes', async () => {
    const db = await open();
    try {
      const log = service(db, { gapSeconds: 0 });
      await insertRecords(db, 0, { seqs: Array.from({ length: 200 }, (_, i) => i + 1).filter((s) => s !== 150) });
      await log.sequence();
      await log.checkpoint({ force: true });
      await insertRecords(db, 0, { seqs: [201, 202, 203] });
      await log.sequence();
      await log.checkpoint({ force: true });
      expect((await verifyLog(db, { anchors })).ok).toBe(true);

      const edited = await recordAt(db, 17);
      const deleted = await recordAt(db, 42);
      const [a, b] = [await recordAt(db, 100), await recordAt(db, 101)];
      await tamper(db, 'access_record', async () => {
        await db.query(`UPDATE access_record SET operator = 'someone else' WHERE seq = 17`);
        await db.query('DELETE FROM access_record WHERE seq = 42');
        // Swap two records' places: their seqs.
        await db.query('UPDATE access_record SET seq = -100 WHERE seq = 100');
        await db.query('UPDATE access_record SET seq = 100 WHERE seq = 101');
        await db.query('UPDATE access_record SET seq = 101 WHERE seq = -100');
      });
      // A record slipped into the passed-by seq 150 after its gap closed.
      await db.query(`UPDATE audit_log_gaps SET closed_at = now()`).catch(() => undefined);
      await insertRecords(db, 0, { seqs: [150] });
      const inserted = await recordAt(db, 150);

      const v = await verifyLog(db, { anchors });
      expect(v.ok).toBe(false);
      const named = v.problems.map((p) => ({ kind: p.kind, seq: p.seq, id: p.id }));
      expect(named).toEqual([
        { kind: 'edited', seq: 17, id: edited.id },
        { kind: 'deleted', seq: 42, id: undefined },
        { kind: 'reordered', seq: 101, id: a.id },
        { kind: 'reordered', seq: 100, id: b.id },
        { kind: 'inserted', seq: 150, id: inserted.id },
      ]);
      expect(v.problems.find((p) => p.kind === 'reordered' && p.id === a.id)).toMatchObject({ belongsAtSeq: 100 });
      void deleted;

      // A range check sees only its records (the tree and checkpoints are always checked).
      const ranged = await verifyLog(db, { anchors, fromSeq: 1, toSeq: 20 });
      expect(ranged.problems.map((p) => [p.kind, p.seq])).toEqual([['edited', 17]]);

      // Rewriting the stored leaf hash to match the edit is found against the signed roots, with the range named.
      await tamper(db, 'audit_log_leaves', () =>
        db.query('UPDATE audit_log_leaves SET leaf_hash = $1 WHERE record_seq = 17', [accessLeafHash(accessRecordFromRow({ ...edited, operator: 'someone else' }))]),
      );
      const rewritten = await verifyLog(db, { anchors, fromSeq: 1, toSeq: 20 });
      expect(rewritten.problems.map((p) => p.kind)).toEqual(['root-mismatch', 'root-mismatch', 'node-rewritten']);
      expect(rewritten.problems.find((p) => p.kind === 'root-mismatch')).toMatchObject({ treeSize: 199, leafFrom: 0, leafTo: 199 });
      expect(rewritten.problems[2]).toMatchObject({ level: 1, leafFrom: 16, leafTo: 18 });
    } finally {
      await close(db);
    }
  });
}

describe('tamper-evident log (PGlite)', () => {
  logSuite(
    async () => {
      const db = await PgliteDatabase.open({ dataDir: undefined });
      await migrate(db);
      return db;
    },
    (db) => db.close(),
  );
});

describeWithService('postgres', 'tamper-evident log (PostgreSQL)', () => {
  const schemas: string[] = [];
  const open = async (): Promise<Database> => {
    const schema = uniqueName('zt_auditlog');
    schemas.push(schema);
    const db = await PgDatabase.open({ url: postgresUrl!, poolSize: 4, schema });
    await migrate(db);
    return db;
  };
  afterAll(async () => {
    const admin = await PgDatabase.open({ url: postgresUrl!, poolSize: 1, schema: undefined });
    for (const schema of schemas) await admin.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.close();
  });
  logSuite(open, (db) => db.close());

  it('orders two concurrent transactions that commit out of order, and appends a rolled-back gap\'s late neighbour', async () => {
    const db = await open();
    try {
      const log = service(db, { gapSeconds: 10 });
      let release1!: () => void;
      let release2!: () => void;
      const hold1 = new Promise<void>((r) => (release1 = r));
      const hold2 = new Promise<void>((r) => (release2 = r));
      let inserted1!: () => void;
      const in1 = new Promise<void>((r) => (inserted1 = r));
      // T1 takes the lower seq and commits last; T2 the higher and commits first.
      const t1 = db.transaction(async (tx) => {
        await insertRecords(tx, 1, { tag: 't1-' });
        inserted1();
        await hold1;
      });
      await in1;
      const t2 = db.transaction(async (tx) => {
        await insertRecords(tx, 1, { tag: 't2-' });
        await hold2;
      });
      release2();
      await t2;
      let run = await log.sequence();
      expect(run).toMatchObject({ appended: 0, waitingFor: 1 });
      release1();
      await t1;
      run = await log.sequence();
      expect(run.appended).toBe(2);
      expect(await leafSeqs(db)).toEqual([1, 2]);

      // T3 rolls back (its seq is a gap for ever); T4 is open when the gap is passed, commits later: appended at the end.
      await db.transaction(async (tx) => {
        await insertRecords(tx, 1);
        throw new Error('roll back');
      }).catch(() => undefined);
      let inserted4!: () => void;
      const in4 = new Promise<void>((r) => (inserted4 = r));
      let release4!: () => void;
      const hold4 = new Promise<void>((r) => (release4 = r));
      const t4 = db.transaction(async (tx) => {
        await insertRecords(tx, 1, { tag: 't4-' });
        inserted4();
        await hold4;
      });
      await in4;
      await insertRecords(db, 1, { tag: 't5-' });
      run = await service(db, { gapSeconds: 0 }).sequence();
      expect(run.skipped).toEqual([[3, 5]]);
      expect(await leafSeqs(db)).toEqual([1, 2, 5]);
      release4();
      await t4;
      run = await log.sequence();
      expect(run).toMatchObject({ appended: 1, late: 1 });
      expect(await leafSeqs(db)).toEqual([1, 2, 5, 4]);
      await log.checkpoint({ force: true });
      expect((await verifyLog(db, { anchors })).ok).toBe(true);
    } finally {
      await db.close();
    }
  });
});
