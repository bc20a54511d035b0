// The electronic archive (电子档案) of the access log: sealing old segments into signed files, removing their records
// from the live log, restoring them for queries, and listing what is where. An operator's tool: it talks to the
// database directly, under one lock ('audit-archive') so two runs never seal or restore the same segment at once.
//
// A segment [j·2^k, (j+1)·2^k) is sealed when every leaf of it exists, every record of it is older than the
// retention period, it lies inside the latest signed checkpoint, and it is not sealed yet. Its file is written,
// verified again from disk exactly as an offline verifier would, and only then recorded. Removing the records is a
// separate step (same run with --remove), in the transaction that marks the segment, and only after the file on disk
// is found to be the one recorded.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ZtError } from '../../core/errors/index.js';
import type { BlindIndex } from '../../core/pseudonyms/index.js';
import type { Database, Queryable, Session } from '../../core/storage/index.js';
import { ACCESS_RECORD_COLUMNS, accessRecordFromRow, type AccessRecordRow, type StoredAccessRecord } from '../access-record-row.js';
import { accessLeafHash } from '../log/leaf.js';
import { latestCheckpoint, listCheckpoints, verifyCheckpoint, type Checkpoint } from '../log/checkpoint.js';
import { inclusionProofAt, subtreeHash } from '../log/tree.js';
import { MAX_SEGMENT_BITS, MIN_SEGMENT_BITS, type ArchiveHeader } from './format.js';
import { verifyArchiveFile, type ArchiveTrust, type ArchiveVerification } from './verify.js';
import { writeArchiveFile, type ManifestSigner, type SegmentLeaf } from './writer.js';

export const ARCHIVE_LOCK = 'audit-archive';
const PAGE = 1000;
const INSERT_BATCH = 500;
const DAY_MS = 86_400_000;

export interface AuditArchiveOptions {
  db: Database;
  /** Where archive files are written (ZT_AUDIT_ARCHIVE_DIR). */
  dir: string;
  /** Segments hold 2^segmentBits records (ZT_AUDIT_ARCHIVE_SEGMENT_BITS). */
  segmentBits: number;
  /** Records younger than this are never sealed (ZT_AUDIT_RETENTION_DAYS). */
  retentionDays: number;
  platformUscc: string;
  /** The platform CA: each new file is verified against it before it is recorded, and files to restore too. */
  trust: ArchiveTrust;
  /** Signs manifests with the platform key; called only when there is something to seal. */
  sign: ManifestSigner;
  now?: () => Date;
  /** One line of progress at a time (the CLI writes them to standard error). */
  onProgress?: (message: string) => void;
  /**
   * The blind index, opened when needed: a segment sealed before migration 0016 holds its records with identifiers
   * in clear (its file proves them as they were), and they are restored with the index in their place.
   */
  pseudonyms?: () => Promise<BlindIndex>;
}

/** A segment that could be sealed, or could not yet. */
export interface SegmentCandidate {
  leafFrom: number;
  leafTo: number;
  /** Leaves of the segment with their record still in access_record. */
  records: number;
  lastAt: Date | null;
}

export interface SealPlan {
  /** The latest signed checkpoint; nothing beyond it is sealed. */
  checkpoint: { treeSize: number; signedAt: string } | null;
  /** Records at or after this time are kept in the live log. */
  cutoff: Date;
  eligible: SegmentCandidate[];
  /** Complete segments inside the checkpoint with records younger than the cutoff. */
  young: number;
  /** Segments inside the checkpoint whose leaves or records are not all there: the log needs verifying. */
  incomplete: SegmentCandidate[];
}

export interface SealedSegment {
  leafFrom: number;
  leafTo: number;
  fileName: string;
  fileSm3: string;
  fileBytes: number;
  records: number;
  checkpointSize: number;
}

export interface RemovedSegment {
  leafFrom: number;
  leafTo: number;
  records: number;
}

export interface SealReport {
  plan: SealPlan;
  dryRun: boolean;
  sealed: SealedSegment[];
  removed: RemovedSegment[];
}

export type SegmentState = 'sealed' | 'removed' | 'restored';

export interface ArchivedSegment {
  leafFrom: number;
  leafTo: number;
  checkpointSize: number;
  fileName: string;
  fileSm3: string;
  sealedAt: Date;
  recordsRemovedAt: Date | null;
  restoredAt: Date | null;
  firstAt: Date | null;
  lastAt: Date | null;
  state: SegmentState;
  /** Whether the file is in the archive directory under its name. */
  filePresent: boolean;
}

export interface RestoreReport {
  verification: ArchiveVerification;
  leafFrom: number;
  leafTo: number;
  /** Records put back; the others were there already. */
  inserted: number;
  alreadyPresent: number;
  /** The segment was marked restored (it had been removed). */
  marked: boolean;
  /** The file is the one recorded when the segment was sealed (same SM3); a re-sealed copy verifies but differs. */
  sameFileAsSealed: boolean;
}

interface SegmentRow {
  leaf_from: number | string;
  leaf_to: number | string;
  checkpoint_size: number | string;
  file_name: string;
  file_sm3: Uint8Array;
  sealed_at: Date | string;
  records_removed_at: Date | string | null;
  restored_at: Date | string | null;
  first_at: Date | string | null;
  last_at: Date | string | null;
  /** 1: sealed before the log's re-anchor (migration 0016), its records naming subjects in clear. */
  leaf_form?: number | string;
}

const date = (v: Date | string): Date => (v instanceof Date ? v : new Date(v));
const dateOrNull = (v: Date | string | null): Date | null => (v === null ? null : date(v));

function stateOf(row: { records_removed_at: unknown; restored_at: unknown }): SegmentState {
  if (row.records_removed_at === null) return 'sealed';
  return row.restored_at === null ? 'removed' : 'restored';
}

const RECORD_COLUMNS = ACCESS_RECORD_COLUMNS.split(',').map((c) => `r.${c.trim()}`).join(', ');

export async function sm3OfFile(path: string): Promise<Buffer> {
  const hash = createHash('sm3');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest();
}

export class AuditArchive {
  readonly #o: AuditArchiveOptions;
  readonly #size: number;

  constructor(options: AuditArchiveOptions) {
    const bits = options.segmentBits;
    if (!Number.isInteger(bits) || bits < MIN_SEGMENT_BITS || bits > MAX_SEGMENT_BITS) {
      throw new ZtError('ZT_ERR_CONFIG_INVALID', `ZT_AUDIT_ARCHIVE_SEGMENT_BITS must be ${MIN_SEGMENT_BITS} to ${MAX_SEGMENT_BITS}, got ${bits}`);
    }
    this.#o = options;
    this.#size = 2 ** bits;
  }

  get segmentSize(): number {
    return this.#size;
  }

  #progress(message: string): void {
    this.#o.onProgress?.(message);
  }

  /** What a seal would do now. */
  async plan(q: Queryable = this.#o.db): Promise<SealPlan> {
    const cutoff = new Date((this.#o.now?.() ?? new Date()).getTime() - this.#o.retentionDays * DAY_MS);
    const checkpoint = await latestCheckpoint(q);
    const plan: SealPlan = { checkpoint: checkpoint ? { treeSize: checkpoint.treeSize, signedAt: checkpoint.signedAt } : null, cutoff, eligible: [], young: 0, incomplete: [] };
    if (!checkpoint) return plan;
    const covered = Math.floor(checkpoint.treeSize / this.#size) * this.#size;
    if (covered === 0) return plan;
    // One pass over the unsealed leaves inside the checkpoint, grouped by segment.
    const { rows } = await q.query<{ segment: number | string; leaves: number | string; records: number | string; last_at: Date | string | null }>(
      `SELECT l.leaf_index / $1::bigint AS segment, count(*) AS leaves, count(r.seq) AS records, max(r.at) AS last_at
         FROM audit_log_leaves l
         LEFT JOIN access_record r ON r.seq = l.record_seq
        WHERE l.leaf_index < $2::bigint
          AND NOT EXISTS (SELECT 1 FROM audit_archive_segments s WHERE s.leaf_from <= l.leaf_index AND l.leaf_index < s.leaf_to)
        GROUP BY 1 ORDER BY 1`,
      [this.#size, covered],
    );
    for (const row of rows) {
      const leafFrom = Number(row.segment) * this.#size;
      const candidate: SegmentCandidate = { leafFrom, leafTo: leafFrom + this.#size, records: Number(row.records), lastAt: dateOrNull(row.last_at) };
      if (Number(row.leaves) !== this.#size || candidate.records !== this.#size) plan.incomplete.push(candidate);
      else if (candidate.lastAt!.getTime() < cutoff.getTime()) plan.eligible.push(candidate);
      else plan.young++;
    }
    return plan;
  }

  /** Seals every eligible segment; with `remove`, then removes the records of sealed segments from the live log. */
  async seal(options: { dryRun?: boolean; remove?: boolean; includeRestored?: boolean; maxSegments?: number } = {}): Promise<SealReport> {
    return this.#o.db.withLock(ARCHIVE_LOCK, async (session) => {
      const plan = await this.plan(session);
      const report: SealReport = { plan, dryRun: options.dryRun === true, sealed: [], removed: [] };
      for (const c of plan.incomplete) {
        this.#progress(`warning: segment [${c.leafFrom}, ${c.leafTo}) has ${c.records} of its ${this.#size} records: not sealed; run zhengtong audit verify`);
      }
      if (options.dryRun) return report;
      const todo = plan.eligible.slice(0, options.maxSegments ?? plan.eligible.length);
      if (todo.length > 0) {
        const checkpoint = await this.#verifiedCheckpoint(session);
        const covered = todo.filter((c) => c.leafTo <= checkpoint.treeSize);
        for (const c of todo.slice(covered.length)) this.#progress(`segment [${c.leafFrom}, ${c.leafTo}) waits for a valid checkpoint covering it`);
        for (const [i, candidate] of covered.entries()) {
          this.#progress(`sealing segment [${candidate.leafFrom}, ${candidate.leafTo}) (${i + 1} of ${covered.length}) under checkpoint ${checkpoint.treeSize}`);
          const started = Date.now();
          const sealed = await this.#sealSegment(session, candidate, checkpoint);
          report.sealed.push(sealed);
          this.#progress(`sealed ${sealed.records} records into ${sealed.fileName} (${sealed.fileBytes} bytes, SM3 ${sealed.fileSm3}) in ${Date.now() - started} ms`);
        }
      }
      if (options.remove) report.removed = await this.#removeSealed(session, options.includeRestored === true);
      return report;
    });
  }

  /**
   * The newest checkpoint that verifies against the platform CA (of the ten newest): a file is only as good as its
   * checkpoint, and one that does not verify is skipped with a warning rather than sealed into every file.
   */
  async #verifiedCheckpoint(q: Queryable): Promise<Checkpoint> {
    for (const checkpoint of await listCheckpoints(q, { limit: 10 })) {
      try {
        await verifyCheckpoint(checkpoint, this.#o.trust);
        return checkpoint;
      } catch (error) {
        this.#progress(`warning: checkpoint ${checkpoint.treeSize} does not verify, not used: ${(error as Error).message}`);
      }
    }
    throw new ZtError('ZT_ERR_ARCHIVE_STATE', 'none of the ten newest checkpoints verifies against the platform CA in ZT_CA_DIR: nothing can be sealed; run zhengtong audit verify');
  }

  async #sealSegment(session: Session, c: SegmentCandidate, checkpoint: Checkpoint): Promise<SealedSegment> {
    const { leafFrom, leafTo } = c;
    const { rows } = await session.query<{
      n: number | string; permit: number | string; deny: number | string; error: number | string;
      first_seq: number | string; last_seq: number | string; first_at: Date | string; last_at: Date | string;
    }>(
      `SELECT count(*) AS n, count(*) FILTER (WHERE r.decision = 'permit') AS permit, count(*) FILTER (WHERE r.decision = 'deny') AS deny,
              count(*) FILTER (WHERE r.decision = 'error') AS error, min(r.seq) AS first_seq, max(r.seq) AS last_seq,
              min(r.at) AS first_at, max(r.at) AS last_at
         FROM audit_log_leaves l JOIN access_record r ON r.seq = l.record_seq
        WHERE l.leaf_index >= $1 AND l.leaf_index < $2`,
      [leafFrom, leafTo],
    );
    const s = rows[0]!;
    const segmentRoot = await subtreeHash(session, leafFrom, leafTo);
    const segmentPath = (await inclusionProofAt(session, leafFrom, checkpoint.treeSize)).slice(this.#o.segmentBits);
    const header: Omit<ArchiveHeader, 'type' | 'schema' | 'leafSchema'> = {
      leafFrom,
      leafTo,
      segmentBits: this.#o.segmentBits,
      records: Number(s.n),
      decisions: { permit: Number(s.permit), deny: Number(s.deny), error: Number(s.error) },
      firstSeq: Number(s.first_seq),
      lastSeq: Number(s.last_seq),
      firstAt: date(s.first_at).toISOString(),
      lastAt: date(s.last_at).toISOString(),
      segmentRoot: segmentRoot.toString('hex'),
      platformUscc: this.#o.platformUscc,
      sealedAt: (this.#o.now?.() ?? new Date()).toISOString(),
    };
    const written = await writeArchiveFile(this.#o.dir, { header, leaves: this.#leaves(session, leafFrom, leafTo), checkpoint, segmentPath }, this.#o.sign);
    // Read back from disk as a verifier would: what is recorded is a file known to verify.
    try {
      const verified = await verifyArchiveFile(written.path, { trust: this.#o.trust });
      if (!verified.fileSm3.equals(written.fileSm3)) throw new ZtError('ZT_ERR_ARCHIVE_STATE', `${written.path} changed while it was being verified`);
    } catch (error) {
      // Never leave a file that does not verify where a sealed one would be looked for.
      await rm(written.path, { force: true });
      throw error;
    }
    await session.query(
      `INSERT INTO audit_archive_segments (leaf_from, leaf_to, checkpoint_size, file_name, file_sm3, sealed_at, segment_root, first_at, last_at)
       VALUES ($1, $2, $3, $4, $5, now(), $6, $7, $8)`,
      [leafFrom, leafTo, checkpoint.treeSize, written.fileName, written.fileSm3, segmentRoot, header.firstAt, header.lastAt],
    );
    return {
      leafFrom,
      leafTo,
      fileName: written.fileName,
      fileSm3: written.fileSm3.toString('hex'),
      fileBytes: written.fileBytes,
      records: written.records,
      checkpointSize: checkpoint.treeSize,
    };
  }

  /** The segment's leaves with their records, a page at a time, in leaf order. */
  async *#leaves(q: Queryable, from: number, to: number): AsyncGenerator<SegmentLeaf> {
    for (let next = from; next < to; ) {
      const { rows } = await q.query<AccessRecordRow & { leaf_index: number | string; leaf_hash: Uint8Array }>(
        `SELECT l.leaf_index, l.leaf_hash, ${RECORD_COLUMNS}
           FROM audit_log_leaves l JOIN access_record r ON r.seq = l.record_seq
          WHERE l.leaf_index >= $1 AND l.leaf_index < $2 ORDER BY l.leaf_index LIMIT ${PAGE}`,
        [next, to],
      );
      if (rows.length === 0) return;
      for (const row of rows) yield { leafIndex: Number(row.leaf_index), leafHash: Buffer.from(row.leaf_hash), record: accessRecordFromRow(row) };
      next = Number(rows.at(-1)!.leaf_index) + 1;
    }
  }

  async #removeSealed(session: Session, includeRestored: boolean): Promise<RemovedSegment[]> {
    const { rows } = await session.query<SegmentRow>(
      `SELECT * FROM audit_archive_segments WHERE records_removed_at IS NULL ${includeRestored ? 'OR restored_at IS NOT NULL' : ''} ORDER BY leaf_from`,
    );
    // Every file is checked before any record goes: the records go only when their archive is where it should be and
    // is the file that was verified at sealing.
    for (const row of rows) {
      const path = join(this.#o.dir, row.file_name);
      const range = `[${Number(row.leaf_from)}, ${Number(row.leaf_to)})`;
      if (!existsSync(path)) throw new ZtError('ZT_ERR_ARCHIVE_STATE', `the archive of segment ${range} is not in ${this.#o.dir} (${row.file_name}): no records were removed`);
      if (!(await sm3OfFile(path)).equals(Buffer.from(row.file_sm3))) {
        throw new ZtError('ZT_ERR_ARCHIVE_STATE', `${path} is not the file sealed for segment ${range} (its SM3 differs): no records were removed`);
      }
    }
    const removed: RemovedSegment[] = [];
    for (const row of rows) {
      const leafFrom = Number(row.leaf_from);
      const leafTo = Number(row.leaf_to);
      const deleted = await session.transaction(async (tx) => {
        await tx.query(`SELECT set_config('zt.archive_removal', 'on', true)`);
        const { rowCount } = await tx.query(
          `DELETE FROM access_record r USING audit_log_leaves l WHERE r.seq = l.record_seq AND l.leaf_index >= $1 AND l.leaf_index < $2`,
          [leafFrom, leafTo],
        );
        await tx.query(`UPDATE audit_archive_segments SET records_removed_at = now(), restored_at = NULL WHERE leaf_from = $1`, [leafFrom]);
        return rowCount;
      });
      removed.push({ leafFrom, leafTo, records: deleted });
      this.#progress(`removed ${deleted} records of segment [${leafFrom}, ${leafTo}) from the live log (kept in ${row.file_name})`);
    }
    return removed;
  }

  /**
   * Verifies the archive file, then puts its records back into access_record with their seq, id and content; each
   * must give the leaf the log holds for it. Restoring records that are there already changes nothing.
   */
  async restore(file: string): Promise<RestoreReport> {
    return this.#o.db.withLock(ARCHIVE_LOCK, async (session) => {
      this.#progress(`verifying ${file}`);
      const first = await verifyArchiveFile(file, { trust: this.#o.trust });
      const { leafFrom, leafTo } = first.header;
      const { rows: segments } = await session.query<SegmentRow>('SELECT * FROM audit_archive_segments WHERE leaf_from = $1', [leafFrom]);
      const segment = segments[0];
      if (!segment || Number(segment.leaf_to) !== leafTo) {
        throw new ZtError('ZT_ERR_ARCHIVE_STATE', `segment [${leafFrom}, ${leafTo}) is not sealed in this database: only this log's sealed segments can be restored`);
      }
      const { rows: leafRows } = await session.query<{ leaf_index: number | string; record_seq: number | string; leaf_hash: Uint8Array }>(
        'SELECT leaf_index, record_seq, leaf_hash FROM audit_log_leaves WHERE leaf_index >= $1 AND leaf_index < $2',
        [leafFrom, leafTo],
      );
      const leaves = new Map(leafRows.map((r) => [Number(r.leaf_index), { seq: Number(r.record_seq), hash: Buffer.from(r.leaf_hash) }]));
      this.#progress(`restoring ${first.header.records} records of segment [${leafFrom}, ${leafTo})`);
      // A segment sealed before the re-anchor: the file proves each record as it was, in clear; the live log holds it
      // with the blind index instead, and its leaf (carried over from the log of before) is the file's.
      let pseudonyms: BlindIndex | null = null;
      if (Number(segment.leaf_form ?? 2) === 1) {
        if (!this.#o.pseudonyms) throw new ZtError('ZT_ERR_ARCHIVE_STATE', `segment [${leafFrom}, ${leafTo}) was sealed before identifiers were pseudonymised: restoring it needs the pseudonym key (ZT_PSEUDONYM_KEY_FILE)`);
        pseudonyms = await this.#o.pseudonyms();
      }
      let inserted = 0;
      const report = await session.transaction(async (tx) => {
        let batch: StoredAccessRecord[] = [];
        const flush = async (): Promise<void> => {
          if (batch.length === 0) return;
          inserted += await insertRecords(tx, batch);
          batch = [];
        };
        // Verified again while inserting: the file read is the file checked, and any failure rolls everything back.
        const verification = await verifyArchiveFile(file, {
          trust: this.#o.trust,
          onRecord: async (record, leafHash, leafIndex) => {
            const logged = leaves.get(leafIndex);
            if (!logged || logged.seq !== record.seq || !logged.hash.equals(leafHash)) {
              throw new ZtError('ZT_ERR_ARCHIVE_STATE', `leaf ${leafIndex} of this log is not the archive's (seq ${record.seq}): the file belongs to another log`);
            }
            batch.push(pseudonyms && record.subjectCode !== null ? { ...record, subjectCode: pseudonyms.ensure(record.subjectCode) } : record);
            if (batch.length >= INSERT_BATCH) await flush();
          },
        });
        await flush();
        if (!verification.fileSm3.equals(first.fileSm3)) throw new ZtError('ZT_ERR_ARCHIVE_STATE', `${file} changed while it was being restored`);
        await this.#checkRecords(tx, leafFrom, leafTo);
        const { rowCount } = await tx.query(
          'UPDATE audit_archive_segments SET restored_at = now() WHERE leaf_from = $1 AND records_removed_at IS NOT NULL',
          [leafFrom],
        );
        return { verification, marked: rowCount > 0 };
      });
      return {
        verification: report.verification,
        leafFrom,
        leafTo,
        inserted,
        alreadyPresent: leafTo - leafFrom - inserted,
        marked: report.marked,
        sameFileAsSealed: first.fileSm3.equals(Buffer.from(segment.file_sm3)),
      };
    });
  }

  /** Every record of the segment is in access_record and gives its leaf, as read back from the database. */
  async #checkRecords(q: Queryable, from: number, to: number): Promise<void> {
    for (let next = from; next < to; ) {
      const { rows } = await q.query<AccessRecordRow & { leaf_index: number | string; leaf_hash: Uint8Array; carried: string | null }>(
        `SELECT l.leaf_index, l.leaf_hash, c.reason AS carried, ${RECORD_COLUMNS}
           FROM audit_log_leaves l LEFT JOIN access_record r ON r.seq = l.record_seq
           LEFT JOIN audit_log_carried_leaves c ON c.leaf_index = l.leaf_index
          WHERE l.leaf_index >= $1 AND l.leaf_index < $2 ORDER BY l.leaf_index LIMIT ${PAGE}`,
        [next, to],
      );
      for (const row of rows) {
        // A leaf carried over from before the re-anchor hashes the record in clear, which the verified file proved.
        if (row.seq !== null && row.carried === 'archived') continue;
        if (row.seq === null || !accessLeafHash(accessRecordFromRow(row)).equals(Buffer.from(row.leaf_hash))) {
          throw new ZtError('ZT_ERR_ARCHIVE_STATE', `after restoring, leaf ${Number(row.leaf_index)} does not match its record in access_record: nothing was restored`);
        }
      }
      if (rows.length === 0) break;
      next = Number(rows.at(-1)!.leaf_index) + 1;
    }
  }

  /** The sealed segments, oldest first, with their state. */
  async list(): Promise<ArchivedSegment[]> {
    const { rows } = await this.#o.db.query<SegmentRow>('SELECT * FROM audit_archive_segments ORDER BY leaf_from');
    return rows.map((row) => ({
      leafFrom: Number(row.leaf_from),
      leafTo: Number(row.leaf_to),
      checkpointSize: Number(row.checkpoint_size),
      fileName: row.file_name,
      fileSm3: Buffer.from(row.file_sm3).toString('hex'),
      sealedAt: date(row.sealed_at),
      recordsRemovedAt: dateOrNull(row.records_removed_at),
      restoredAt: dateOrNull(row.restored_at),
      firstAt: dateOrNull(row.first_at),
      lastAt: dateOrNull(row.last_at),
      state: stateOf(row),
      filePresent: existsSync(join(this.#o.dir, row.file_name)),
    }));
  }
}

const INSERT_RECORDS = `
INSERT INTO access_record (
  seq, id, at, requester, operator, subject_kind, subject_code, resource, items_requested, items_returned, service_item,
  case_number, decision, rule_ids, policy_revision, error_code, latency_ms, request_digest, response_digest,
  certificate_sm3, instance, protocol)
SELECT seq, id, at, requester, operator, subject_kind, subject_code, resource, items_requested::text[], items_returned::text[],
  service_item, case_number, decision, rule_ids::text[], policy_revision, error_code, latency_ms, decode(request_digest, 'hex'),
  decode(response_digest, 'hex'), decode(certificate_sm3, 'hex'), instance, protocol
FROM unnest(
  $1::bigint[], $2::uuid[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
  $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::real[], $18::text[],
  $19::text[], $20::text[], $21::text[], $22::text[]
) AS r (
  seq, id, at, requester, operator, subject_kind, subject_code, resource, items_requested, items_returned, service_item,
  case_number, decision, rule_ids, policy_revision, error_code, latency_ms, request_digest, response_digest,
  certificate_sm3, instance, protocol)
ON CONFLICT DO NOTHING`;

/** A PostgreSQL array literal of strings, for a text[] column passed inside a text[] of rows. */
function arrayLiteral(values: readonly string[]): string {
  return `{${values.map((v) => `"${v.replace(/["\\]/g, '\\$&')}"`).join(',')}}`;
}

const hex = (b: Buffer | null): string | null => (b === null ? null : b.toString('hex'));

/** Inserts the records as they were (seq and id included); ones already there are left alone. Returns rows inserted. */
async function insertRecords(q: Queryable, records: readonly StoredAccessRecord[]): Promise<number> {
  const col = <T>(f: (r: StoredAccessRecord) => T): T[] => records.map(f);
  const { rowCount } = await q.query(INSERT_RECORDS, [
    col((r) => String(r.seq)),
    col((r) => r.id),
    col((r) => r.at.toISOString()),
    col((r) => r.requester),
    col((r) => r.operator),
    col((r) => r.subjectKind),
    col((r) => r.subjectCode),
    col((r) => r.resource),
    col((r) => arrayLiteral(r.itemsRequested)),
    col((r) => arrayLiteral(r.itemsReturned)),
    col((r) => r.serviceItem),
    col((r) => r.caseNumber),
    col((r) => r.decision),
    col((r) => arrayLiteral(r.ruleIds)),
    col((r) => r.policyRevision),
    col((r) => r.errorCode),
    col((r) => r.latencyMs),
    col((r) => hex(r.requestDigest)),
    col((r) => hex(r.responseDigest)),
    col((r) => hex(r.certificateSm3)),
    col((r) => r.instance),
    col((r) => r.protocol),
  ]);
  return rowCount;
}
