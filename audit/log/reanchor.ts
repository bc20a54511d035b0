// Re-anchoring the tamper-evident log (migration 0016, docs/audit-log.md). Leaves hash whole access records, so when
// the records' subject identifiers were replaced by their blind index, every leaf written before stopped matching its
// record. The tree as it stood was moved aside (audit_log_v1_leaves, _nodes, _checkpoints: kept, append-only, with
// their signed checkpoints); this writes the tree anew in the same leaf order, leaf i for the same record as before:
//   • a record converted to the index: its leaf is recomputed, after the data step checked that the record in clear
//     still gave its old leaf (one that did not was edited before: audit_log_reanchor_mismatches);
//   • a record without a subject: unchanged, so the same leaf, once it is checked to still give it;
//   • otherwise the old leaf hash is carried over (audit_log_carried_leaves says why): the record is archived (a
//     sealed segment's file proves it, against the old checkpoint in the file), missing, or was edited before the
//     re-anchor (the verifier goes on reporting it).
// Then the platform signs a re-anchor statement binding the old tree (its size, root and last signed checkpoint) to
// the new tree's first root, and the first checkpoint of the new tree; the sequencer resumes where the old one was.
import { canonicalJson } from '../../core/canonical-json.js';
import { ZtError } from '../../core/errors/index.js';
import type { Logger } from '../../core/logging/index.js';
import type { Queryable, Session } from '../../core/storage/index.js';
import { envelopeToJson, signEnvelope, type EnvelopeJson } from '../../certs/envelope/index.js';
import { merkleRoot, nodeHash } from '../../certs/signer/merkle.js';
import type { Signer } from '../../certs/signer/index.js';
import { ACCESS_RECORD_COLUMNS, accessRecordFromRow, type AccessRecordRow } from '../access-record-row.js';
import { signCheckpoint, storeCheckpoint, verifyPlatformStatement, type CheckpointAnchors, type CheckpointCertificateCache } from './checkpoint.js';
import { accessLeafHashFast as accessLeafHash } from './leaf.js';
import { appendLeafHashes } from './sequencer.js';
import { rootAt } from './tree.js';

export const REANCHOR_SCHEMA = 'zhengtong/audit-reanchor/v1';

/** What the platform signs when it re-anchors the log. */
export interface ReanchorStatement {
  schema: typeof REANCHOR_SCHEMA;
  /** 2: the first re-anchor (identifiers in clear before it, blind indexes after). */
  epoch: number;
  platform: string;
  signedAt: string;
  /** The tree before: its size, the root of all its leaves, and its last signed checkpoint (null: none was signed). */
  old: { treeSize: number; rootHash: string; lastCheckpoint: { treeSize: number; rootHash: string } | null };
  /** The tree after, at the same size: its root, over the recomputed and carried leaves. */
  new: { treeSize: number; rootHash: string };
  /** How the new leaves were made. */
  leaves: { recomputed: number; unchanged: number; carried: { archived: number; missing: number; edited: number } };
  /** The pseudonym key version the records were converted with. */
  pseudonymKeyVersion: number;
}

export interface StoredReanchor {
  epoch: number;
  oldTreeSize: number;
  completedAt: Date | null;
  statement: ReanchorStatement | null;
  envelope: EnvelopeJson | null;
}

export type CarryReason = 'archived' | 'missing' | 'edited';

/** The bytes the platform signs: the statement's canonical JSON. */
export function reanchorStatementBytes(statement: ReanchorStatement): Buffer {
  return Buffer.from(canonicalJson(statement as unknown as Record<string, unknown>), 'utf8');
}

/** Whether the tree of before the re-anchor is kept in this database (a log that had leaves when 0016 ran). */
export async function oldTreeKept(q: Queryable): Promise<boolean> {
  const { rows } = await q.query<{ kept: boolean }>(`SELECT to_regclass('audit_log_v1_leaves') IS NOT NULL AS kept`);
  return rows[0]?.kept === true;
}

export async function reanchors(q: Queryable): Promise<StoredReanchor[]> {
  const { rows } = await q.query<{ epoch: number; old_tree_size: string | number; completed_at: Date | string | null; statement: ReanchorStatement | string | null; envelope: EnvelopeJson | string | null }>(
    'SELECT epoch, old_tree_size, completed_at, statement, envelope FROM audit_log_reanchors ORDER BY epoch',
  );
  const json = <T>(v: T | string | null): T | null => (v === null ? null : typeof v === 'string' ? (JSON.parse(v) as T) : v);
  return rows.map((r) => ({
    epoch: Number(r.epoch),
    oldTreeSize: Number(r.old_tree_size),
    completedAt: r.completed_at === null ? null : new Date(r.completed_at),
    statement: json(r.statement),
    envelope: json(r.envelope),
  }));
}

interface OldLeafRow extends Partial<AccessRecordRow> {
  leaf_index: string | number;
  record_seq: string | number;
  leaf_hash: Buffer;
  mismatched: boolean;
}

interface Segment {
  from: number;
  to: number;
}

/** Segments whose leaves keep their old hash: records removed into a file, or sealed into one before the re-anchor. */
async function archivedSegments(q: Queryable): Promise<Segment[]> {
  const { rows } = await q.query<{ leaf_from: string | number; leaf_to: string | number }>(
    'SELECT leaf_from, leaf_to FROM audit_archive_segments WHERE records_removed_at IS NOT NULL OR leaf_form = 1 ORDER BY leaf_from',
  );
  return rows.map((r) => ({ from: Number(r.leaf_from), to: Number(r.leaf_to) }));
}

export interface RebuildReport {
  /** Leaves of the new tree written by this run. */
  appended: number;
  treeSize: number;
}

/**
 * Writes the new tree's leaves [current size, oldTreeSize) from the old tree's, in batches, each its own transaction
 * (resumable: a run picks up at the new tree's size). Every access record with a subject must be converted first.
 */
export async function rebuildLeaves(session: Session, oldTreeSize: number, options: { batchSize?: number; onProgress?: (done: number, of: number) => void } = {}): Promise<RebuildReport> {
  const batchSize = options.batchSize ?? 5000;
  const segments = await archivedSegments(session);
  const inArchived = (leaf: number): boolean => segments.some((s) => s.from <= leaf && leaf < s.to);
  const columns = ACCESS_RECORD_COLUMNS.split(',').map((c) => `a.${c.trim()}`).join(', ');
  let appended = 0;
  for (;;) {
    const done = await session.transaction(async (tx) => {
      const { rows: size } = await tx.query<{ n: string | number | null }>('SELECT max(leaf_index) + 1 AS n FROM audit_log_leaves');
      const from = Number(size[0]?.n ?? 0);
      if (from >= oldTreeSize) return 0;
      const { rows } = await tx.query<OldLeafRow>(
        `SELECT l.leaf_index, l.record_seq, l.leaf_hash, (m.record_seq IS NOT NULL) AS mismatched, ${columns}
           FROM audit_log_v1_leaves l
           LEFT JOIN access_record a ON a.seq = l.record_seq
           LEFT JOIN audit_log_reanchor_mismatches m ON m.record_seq = l.record_seq
          WHERE l.leaf_index >= $1 AND l.leaf_index < $2 ORDER BY l.leaf_index`,
        [from, Math.min(oldTreeSize, from + batchSize)],
      );
      const leaves: { seq: number; hash: Buffer }[] = [];
      const carried: { leaf: number; seq: number; reason: CarryReason }[] = [];
      let expected = from;
      for (const row of rows) {
        const leaf = Number(row.leaf_index);
        if (leaf !== expected) throw new ZtError('ZT_ERR_STORAGE_MIGRATION', `the log of before the re-anchor lacks leaf ${expected}: run zhengtong audit verify on a backup of it; the re-anchor cannot go on`);
        expected++;
        const seq = Number(row.record_seq);
        const old = Buffer.from(row.leaf_hash);
        let hash: Buffer;
        let reason: CarryReason | null = null;
        if (inArchived(leaf)) reason = 'archived';
        else if (row.id === null || row.id === undefined) reason = 'missing';
        else if (row.mismatched) reason = 'edited';
        if (reason !== null) hash = old;
        else {
          hash = accessLeafHash(accessRecordFromRow(row as AccessRecordRow));
          // A record without a subject was not converted: it must still give its old leaf, or it was edited before.
          if (row.subject_code === null && !hash.equals(old)) {
            reason = 'edited';
            hash = old;
          }
        }
        if (reason !== null) carried.push({ leaf, seq, reason });
        leaves.push({ seq, hash });
      }
      if (expected !== Math.min(oldTreeSize, from + batchSize)) {
        throw new ZtError('ZT_ERR_STORAGE_MIGRATION', `the log of before the re-anchor lacks leaves from ${expected}: the re-anchor cannot go on`);
      }
      await appendLeafHashes(tx, from, leaves);
      if (carried.length > 0) {
        await tx.query(
          `INSERT INTO audit_log_carried_leaves (leaf_index, record_seq, reason) SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[])`,
          [carried.map((c) => c.leaf), carried.map((c) => c.seq), carried.map((c) => c.reason)],
        );
      }
      options.onProgress?.(from + leaves.length, oldTreeSize);
      return leaves.length;
    });
    if (done === 0) break;
    appended += done;
  }
  const { rows } = await session.query<{ n: string | number | null }>('SELECT max(leaf_index) + 1 AS n FROM audit_log_leaves');
  return { appended, treeSize: Number(rows[0]?.n ?? 0) };
}

/** The root of the old tree's first `size` leaves, folded from its stored leaves (streamed in pages). */
export async function oldTreeRoot(q: Queryable, size: number, onCheckpointSize?: (treeSize: number, root: string) => void, sizes: readonly number[] = []): Promise<string> {
  if (size === 0) return merkleRoot([]).toString('hex');
  const frontier: { level: number; hash: Buffer }[] = [];
  const wanted = new Set(sizes);
  const fold = (): string => {
    let acc = frontier[frontier.length - 1]!.hash;
    for (let i = frontier.length - 2; i >= 0; i--) acc = nodeHash(frontier[i]!.hash, acc);
    return acc.toString('hex');
  };
  for (let next = 0; next < size; ) {
    const { rows } = await q.query<{ leaf_index: string | number; leaf_hash: Buffer }>(
      'SELECT leaf_index, leaf_hash FROM audit_log_v1_leaves WHERE leaf_index >= $1 AND leaf_index < $2 ORDER BY leaf_index',
      [next, Math.min(size, next + 10_000)],
    );
    if (rows.length === 0) throw new ZtError('ZT_ERR_AUDIT_CHECKPOINT_INVALID', `the old tree lacks leaf ${next}`);
    for (const row of rows) {
      if (Number(row.leaf_index) !== next) throw new ZtError('ZT_ERR_AUDIT_CHECKPOINT_INVALID', `the old tree lacks leaf ${next}`);
      frontier.push({ level: 0, hash: Buffer.from(row.leaf_hash) });
      while (frontier.length > 1 && frontier[frontier.length - 1]!.level === frontier[frontier.length - 2]!.level) {
        const right = frontier.pop()!;
        const left = frontier.pop()!;
        frontier.push({ level: right.level + 1, hash: nodeHash(left.hash, right.hash) });
      }
      next++;
      if (wanted.has(next)) onCheckpointSize?.(next, fold());
    }
  }
  return fold();
}

export interface CompleteReanchorOptions {
  /** The platform's signing key; null when this instance has none (then a log that had signed checkpoints waits). */
  signer: (() => Promise<Signer>) | null;
  platformUscc: string;
  pseudonymKeyVersion: number;
  logger?: Logger;
  now?: () => Date;
}

/**
 * Rebuilds what is left of the new tree, then signs and stores the re-anchor statement and the new tree's first
 * checkpoint, and lets the sequencer go on; all under the caller's lock. Returns the statement, or null when the
 * re-anchor must wait (the old log had signed checkpoints and no platform key is at hand).
 */
export async function completeReanchor(session: Session, pending: StoredReanchor, options: CompleteReanchorOptions): Promise<ReanchorStatement | null> {
  const rebuilt = await rebuildLeaves(session, pending.oldTreeSize, {
    onProgress: (done, of) => {
      if (done % 100_000 < 5000 || done === of) options.logger?.info({ done, of }, 'log leaves recomputed for the re-anchor');
    },
  });
  if (rebuilt.treeSize !== pending.oldTreeSize) {
    throw new ZtError('ZT_ERR_STORAGE_MIGRATION', `the re-anchored log has ${rebuilt.treeSize} leaves, the log before it had ${pending.oldTreeSize}`);
  }
  const { rows: lastRows } = await session.query<{ tree_size: string | number; root_hash: Buffer }>('SELECT tree_size, root_hash FROM audit_log_v1_checkpoints ORDER BY tree_size DESC LIMIT 1');
  const last = lastRows[0] ? { treeSize: Number(lastRows[0].tree_size), rootHash: Buffer.from(lastRows[0].root_hash).toString('hex') } : null;
  let signer: Signer | null = null;
  if (options.signer) {
    try {
      signer = await options.signer();
    } catch (error) {
      if (last) {
        options.logger?.warn({ err: error }, 'the access log waits for its re-anchor: the log before it was signed, and the platform key cannot be opened here; start an instance that has it');
        return null;
      }
    }
  } else if (last) {
    options.logger?.warn('the access log waits for its re-anchor: the log before it was signed, and this instance has no platform key');
    return null;
  }
  const { rows: carriedRows } = await session.query<{ reason: CarryReason; n: string | number }>('SELECT reason, count(*) AS n FROM audit_log_carried_leaves GROUP BY reason');
  const carried = { archived: 0, missing: 0, edited: 0 };
  for (const r of carriedRows) carried[r.reason] = Number(r.n);
  const { rows: unchangedRows } = await session.query<{ n: string | number }>(
    `SELECT count(*) AS n FROM audit_log_leaves l JOIN audit_log_v1_leaves o USING (leaf_index)
      WHERE l.leaf_hash = o.leaf_hash AND NOT EXISTS (SELECT 1 FROM audit_log_carried_leaves c WHERE c.leaf_index = l.leaf_index)`,
  );
  const unchanged = Number(unchangedRows[0]?.n ?? 0);
  const size = pending.oldTreeSize;
  const now = options.now?.() ?? new Date();
  const signedAt = new Date(Math.floor(now.getTime())).toISOString();
  const statement: ReanchorStatement = {
    schema: REANCHOR_SCHEMA,
    epoch: pending.epoch,
    platform: options.platformUscc,
    signedAt,
    old: { treeSize: size, rootHash: await oldTreeRoot(session, size), lastCheckpoint: last },
    new: { treeSize: size, rootHash: (await rootAt(session, size)).toString('hex') },
    leaves: { recomputed: size - carried.archived - carried.missing - carried.edited - unchanged, unchanged, carried },
    pseudonymKeyVersion: options.pseudonymKeyVersion,
  };
  const envelope = signer ? envelopeToJson(await signEnvelope(signer, reanchorStatementBytes(statement), { signingTime: new Date(signedAt) })) : null;
  const checkpoint = signer ? await signCheckpoint(signer, { treeSize: size, rootHash: Buffer.from(statement.new.rootHash, 'hex'), platform: options.platformUscc, now }) : null;
  await session.transaction(async (tx) => {
    if (checkpoint) await storeCheckpoint(tx, checkpoint);
    await tx.query('UPDATE audit_log_reanchors SET completed_at = now(), statement = $2::jsonb, envelope = $3::jsonb WHERE epoch = $1', [
      pending.epoch,
      JSON.stringify(statement),
      envelope === null ? null : JSON.stringify(envelope),
    ]);
    await tx.query('UPDATE audit_log_state SET reanchor_pending = false, updated_at = now()');
  });
  options.logger?.info({ treeSize: size, oldRoot: statement.old.rootHash, newRoot: statement.new.rootHash, carried, signed: envelope !== null }, 'access log re-anchored');
  return statement;
}

function reanchorInvalid(message: string, cause?: unknown): ZtError {
  return new ZtError('ZT_ERR_AUDIT_CHECKPOINT_INVALID', `the re-anchor statement does not verify: ${message}`, cause === undefined ? {} : { cause });
}

/** Checks the signature of a re-anchor statement against the platform CA; throws ZT_ERR_AUDIT_CHECKPOINT_INVALID. */
export async function verifyReanchorStatement(statement: ReanchorStatement, envelope: EnvelopeJson, anchors: CheckpointAnchors & { cache?: CheckpointCertificateCache }): Promise<void> {
  if (statement.schema !== REANCHOR_SCHEMA) throw reanchorInvalid(`its schema is ${JSON.stringify(statement.schema)}`);
  await verifyPlatformStatement(
    envelope,
    reanchorStatementBytes(statement),
    { platform: statement.platform, signedAt: statement.signedAt, what: `old root ${statement.old.rootHash}, new root ${statement.new.rootHash}` },
    anchors,
    reanchorInvalid,
  );
}
