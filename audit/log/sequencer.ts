// The sequencer: appends a leaf to the tamper-evident log for every committed access record, in one transaction per
// batch, under one database lock (any instance may run it; one at a time does).
//
// access_record.seq is a bigserial: a transaction takes its seq when it inserts and becomes visible when it commits,
// so a lower seq can appear after a higher one, and a rolled-back transaction leaves a gap for ever. The tree must
// never change behind a signed checkpoint, so leaves are only ever appended:
//   • rows are appended in seq order up to the first missing seq (next_seq, the horizon);
//   • a missing seq is passed by once a higher seq has been visible for ZT_AUDIT_GAP_SECONDS (a transaction that has
//     held its seq that long is rolled back or stuck); the passed range is recorded in audit_log_gaps;
//   • a row that later appears in a watched gap is appended at the end of the tree (its leaf carries its seq, so its
//     position says nothing false); once the gap is closed (ZT_AUDIT_GAP_WATCH_SECONDS) such a row is never logged
//     and the verifier reports it as inserted.
// Gap age uses a mark: the highest seq seen and when; once the mark is ZT_AUDIT_GAP_SECONDS old, every seq below it
// may be passed (skip_below) and a new mark is taken. So several gaps in a row cost one wait, not one wait each.
import { setImmediate as nextTurn } from 'node:timers/promises';
import { nodeHash } from '../../certs/signer/merkle.js';
import type { Queryable } from '../../core/storage/index.js';
import { ACCESS_RECORD_COLUMNS, accessRecordFromRow, type AccessRecordRow } from '../access-record-row.js';
import { accessLeafHashFast as accessLeafHash } from './leaf.js';
import { alignedPieces, fetchNodes } from './tree.js';

export interface SequencerOptions {
  /** Seconds a missing seq is waited for once a later seq is visible. */
  gapSeconds: number;
  /** Seconds a passed-by gap stays watched for late rows. */
  gapWatchSeconds: number;
  /** Most rows appended in one transaction. */
  batchSize: number;
}

export interface SequenceReport {
  /** Leaves appended in this batch (in seq order and late arrivals). */
  appended: number;
  /** Of those, rows that filled a watched gap (appended at the end). */
  late: number;
  /** Seq ranges [from, to) passed by in this batch. */
  skipped: [number, number][];
  treeSize: number;
  nextSeq: number;
  /** The missing seq the sequencer is waiting for, if it stopped at one. */
  waitingFor: number | null;
  /** Whether the batch was full (there may be more to append now). */
  more: boolean;
}

interface StateRow {
  reanchor_pending: boolean;
  tree_size: number | string;
  next_seq: number | string;
  skip_below: number | string;
  mark_seq: number | string | null;
  mark_seen_at: Date | string | null;
  now: Date | string;
  max_seq: number | string | null;
}

interface Frontier {
  level: number;
  idx: number;
  hash: Buffer;
}

const time = (v: Date | string): number => (v instanceof Date ? v.getTime() : Date.parse(v));

/** One batch, inside the caller's transaction (which must hold the 'audit-log' lock). */
export async function sequenceBatch(tx: Queryable, options: SequencerOptions): Promise<SequenceReport> {
  const { rows: stateRows } = await tx.query<StateRow>(
    `SELECT reanchor_pending, tree_size, next_seq, skip_below, mark_seq, mark_seen_at, now() AS now,
            (SELECT max(seq) FROM access_record) AS max_seq
       FROM audit_log_state FOR UPDATE`,
  );
  const state = stateRows[0];
  if (!state) throw new Error('audit_log_state has no row: migration 0010 was not applied');
  // Migration 0016 moved the tree aside until the data step re-anchors it (audit/pseudonymisation.ts): nothing is
  // appended before, so the new tree starts with the old one's leaves, recomputed, in their order.
  if (state.reanchor_pending) {
    return { appended: 0, late: 0, skipped: [], treeSize: Number(state.tree_size), nextSeq: Number(state.next_seq), waitingFor: Number(state.next_seq), more: false };
  }
  const now = time(state.now);
  let treeSize = Number(state.tree_size);
  let nextSeq = Number(state.next_seq);
  let skipBelow = Number(state.skip_below);
  let markSeq = state.mark_seq === null ? null : Number(state.mark_seq);
  let markSeenAt = state.mark_seen_at === null ? null : time(state.mark_seen_at);
  const maxSeq = state.max_seq === null ? 0 : Number(state.max_seq);
  // The mark: once it is gapSeconds old, every seq below it may be passed by, and a new mark is taken. A gap is
  // thus passed between gapSeconds and twice that after a later seq became visible.
  if (options.gapSeconds === 0) skipBelow = Math.max(skipBelow, maxSeq + 1);
  else if (markSeq !== null && markSeenAt !== null && now - markSeenAt >= options.gapSeconds * 1000) {
    skipBelow = Math.max(skipBelow, markSeq);
    markSeq = null;
  }
  if (markSeq === null) {
    markSeq = maxSeq;
    markSeenAt = now;
  }

  await tx.query(`UPDATE audit_log_gaps SET closed_at = now() WHERE closed_at IS NULL AND skipped_at <= now() - make_interval(secs => $1)`, [options.gapWatchSeconds]);

  // Late rows first: they are older than anything beyond the horizon.
  const { rows: lateRows } = await tx.query<AccessRecordRow>(
    `SELECT ${prefixed('a')} FROM audit_log_gaps g JOIN access_record a ON a.seq >= g.seq_from AND a.seq < g.seq_to
      WHERE g.closed_at IS NULL AND NOT EXISTS (SELECT 1 FROM audit_log_leaves l WHERE l.record_seq = a.seq)
      ORDER BY a.seq LIMIT $1`,
    [options.batchSize],
  );
  const room = options.batchSize - lateRows.length;
  const { rows: newRows } =
    room > 0
      ? await tx.query<AccessRecordRow>(`SELECT ${ACCESS_RECORD_COLUMNS} FROM access_record WHERE seq >= $1 ORDER BY seq LIMIT $2`, [nextSeq, room])
      : { rows: [] as AccessRecordRow[] };

  const toAppend: AccessRecordRow[] = [...lateRows];
  const skipped: [number, number][] = [];
  let waitingFor: number | null = null;
  for (const row of newRows) {
    const seq = Number(row.seq);
    if (seq > nextSeq) {
      const skipTo = Math.min(seq, skipBelow);
      if (skipTo > nextSeq) {
        skipped.push([nextSeq, skipTo]);
        nextSeq = skipTo;
      }
      if (seq > nextSeq) {
        waitingFor = nextSeq;
        break;
      }
    }
    toAppend.push(row);
    nextSeq = seq + 1;
  }

  if (toAppend.length > 0) treeSize = await appendLeaves(tx, treeSize, toAppend);
  if (skipped.length > 0) {
    await tx.query(
      `INSERT INTO audit_log_gaps (seq_from, seq_to) SELECT * FROM unnest($1::bigint[], $2::bigint[])`,
      [skipped.map(([f]) => f), skipped.map(([, t]) => t)],
    );
  }
  await tx.query(
    `UPDATE audit_log_state SET tree_size = $1, next_seq = $2, skip_below = $3, mark_seq = $4, mark_seen_at = $5, updated_at = now()`,
    [treeSize, nextSeq, skipBelow, markSeq, markSeenAt === null ? null : new Date(markSeenAt)],
  );
  return {
    appended: toAppend.length,
    late: lateRows.length,
    skipped,
    treeSize,
    nextSeq,
    waitingFor,
    more: lateRows.length + newRows.length >= options.batchSize && waitingFor === null,
  };
}

function prefixed(alias: string): string {
  return ACCESS_RECORD_COLUMNS.split(',')
    .map((c) => `${alias}.${c.trim()}`)
    .join(', ');
}

/**
 * Leaves hashed, or pushed on the tree's edge, between two turns of the event loop. The sequencer runs on the
 * gateway's event loop, and at the exchange's peak a tick appends a second's records, two thousand or more: hashed
 * in one go they held the loop for 10–30 ms once a second, and the requests that arrived meanwhile made the
 * exchange's p99 (at 800 req/s, slow requests came in clusters a sequencer tick apart).
 */
export const SEQUENCE_SLICE = 128;

/**
 * Appends the rows' leaves at treeSize…, and every node they complete. The right edge of the tree (its aligned
 * pieces) is read once; each new leaf is pushed on it and equal-sized neighbours merged, so each node is written once.
 */
async function appendLeaves(tx: Queryable, treeSize: number, rows: readonly AccessRecordRow[]): Promise<number> {
  const leaves: { seq: number; hash: Buffer }[] = [];
  for (let i = 0; i < rows.length; i++) {
    if (i > 0 && i % SEQUENCE_SLICE === 0) await nextTurn();
    const record = accessRecordFromRow(rows[i]!);
    leaves.push({ seq: record.seq, hash: accessLeafHash(record) });
  }
  return appendLeafHashes(tx, treeSize, leaves);
}

/**
 * Appends leaves whose hashes are given (the re-anchor carries some over from the tree before it) at treeSize…,
 * and every node they complete; returns the new size. Yields to the event loop every SEQUENCE_SLICE leaves.
 */
export async function appendLeafHashes(tx: Queryable, treeSize: number, leaves: readonly { seq: number; hash: Buffer }[]): Promise<number> {
  const pieces = alignedPieces(0, treeSize)!;
  const stored = pieces.length > 0 ? await fetchNodes(tx, pieces) : new Map<string, Buffer>();
  const frontier: Frontier[] = pieces.map((p) => ({ ...p, hash: stored.get(`${p.level}:${p.idx}`)! }));
  const leafIndex: number[] = [];
  const leafSeq: number[] = [];
  const leafHex: string[] = [];
  const nodeLevel: number[] = [];
  const nodeIdx: number[] = [];
  const nodeHex: string[] = [];
  let size = treeSize;
  for (let i = 0; i < leaves.length; i++) {
    if (i > 0 && i % SEQUENCE_SLICE === 0) await nextTurn();
    const { seq, hash } = leaves[i]!;
    leafIndex.push(size);
    leafSeq.push(seq);
    leafHex.push(hash.toString('hex'));
    frontier.push({ level: 0, idx: size, hash });
    size++;
    for (let top = frontier.length - 1; top > 0 && frontier[top]!.level === frontier[top - 1]!.level; top--) {
      const right = frontier.pop()!;
      const left = frontier.pop()!;
      const merged: Frontier = { level: right.level + 1, idx: Math.floor(right.idx / 2), hash: nodeHash(left.hash, right.hash) };
      frontier.push(merged);
      nodeLevel.push(merged.level);
      nodeIdx.push(merged.idx);
      nodeHex.push(merged.hash.toString('hex'));
    }
  }
  await tx.query(
    `INSERT INTO audit_log_leaves (leaf_index, record_seq, leaf_hash)
     SELECT i, s, decode(h, 'hex') FROM unnest($1::bigint[], $2::bigint[], $3::text[]) AS t(i, s, h)`,
    [leafIndex, leafSeq, leafHex],
  );
  if (nodeLevel.length > 0) {
    await tx.query(
      `INSERT INTO audit_log_nodes (level, idx, hash)
       SELECT l, i, decode(h, 'hex') FROM unnest($1::smallint[], $2::bigint[], $3::text[]) AS t(l, i, h)`,
      [nodeLevel, nodeIdx, nodeHex],
    );
  }
  return size;
}
