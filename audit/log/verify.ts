// The verifier of the tamper-evident log (zhengtong audit verify): reads the database directly, as an operator's
// tool, in pages (constant memory), and names every problem it finds:
//   checkpoint-invalid       a stored checkpoint whose signature, signer or statement does not verify (forged, altered)
//   checkpoints-inconsistent two consecutive valid checkpoints with no consistency proof between them in the stored tree
//   root-mismatch            the stored leaves give another root than a signed checkpoint: stored hashes were rewritten
//                            somewhere in the checkpoint's range (after the last checkpoint that still matched)
//   node-rewritten           a stored node that is not the hash of its children (proofs served from it would lie)
//   leaves-missing           leaf indices missing from the stored tree
//   edited                   a record that no longer matches its leaf (seq and id named)
//   deleted                  a leaf whose record is gone, and not archived
//   inserted                 a record below the sequenced horizon that is in no leaf and in no watched gap
//   reordered                a record whose content matches another leaf (its seq was changed)
//   reanchor-pending         migration 0016 moved the tree aside and the data step has not re-anchored it yet
//   reanchor-invalid         the re-anchor statement does not verify, or the tree of before it does not give the roots
//                            it and its own checkpoints were signed over
//
// A log re-anchored by migration 0016 (audit/log/reanchor.ts) is checked in two parts. The tree of before is kept
// (audit_log_v1_*): its checkpoints are checked against its stored leaves, and its root against the signed re-anchor
// statement; its leaves hashed records that named subjects in clear, which no longer exist, so they are checked
// against records only by the old verifier on a backup from before. The re-anchor statement's new root is then one
// more signed root of the new tree, checked like a checkpoint, and the new tree is checked as a whole against the
// records; a leaf carried over because its record is archived is proved by its archive file instead.
import { merkleRoot, nodeHash, verifyConsistency } from '../../certs/signer/merkle.js';
import type { Queryable } from '../../core/storage/index.js';
import { ACCESS_RECORD_COLUMNS, accessRecordFromRow, type AccessRecordRow } from '../access-record-row.js';
import { checkpointFromRow, checkpointsAfter, verifyCheckpoint, type Checkpoint, type CheckpointAnchors, type CheckpointCertificateCache } from './checkpoint.js';
import { oldTreeKept, oldTreeRoot, reanchors, verifyReanchorStatement } from './reanchor.js';
import { accessLeafHashFast as accessLeafHash } from './leaf.js';
import { consistencyProofAt } from './tree.js';

export type LogProblemKind =
  | 'checkpoint-invalid'
  | 'checkpoints-inconsistent'
  | 'root-mismatch'
  | 'node-rewritten'
  | 'leaves-missing'
  | 'edited'
  | 'deleted'
  | 'inserted'
  | 'reordered'
  | 'reanchor-pending'
  | 'reanchor-invalid';

export interface LogProblem {
  kind: LogProblemKind;
  message: string;
  seq?: number;
  id?: string;
  leafIndex?: number;
  /** For reordered: the leaf the record's content belongs to, and that leaf's seq. */
  belongsAtLeaf?: number;
  belongsAtSeq?: number;
  /** For checkpoint problems: the tree sizes concerned; for root-mismatch, the leaf range [from, to) suspected. */
  treeSize?: number;
  fromTreeSize?: number;
  leafFrom?: number;
  leafTo?: number;
  level?: number;
  idx?: number;
}

export interface VerifyLogOptions {
  /** The platform CA to check checkpoints against; without it checkpoint signatures are not checked (reported). */
  anchors?: CheckpointAnchors | null;
  /** Only records with seq in [fromSeq, toSeq] are compared with their leaves (the tree and checkpoints always are). */
  fromSeq?: number;
  toSeq?: number;
  /** Page size of each read. */
  pageSize?: number;
  /** Called every `progressEvery` leaves with what has been done. */
  onProgress?: (progress: { leaves: number; treeSize: number; phase: string }) => void;
  progressEvery?: number;
  /** Most problems listed (all are counted). */
  maxProblems?: number;
}

export interface LogVerification {
  ok: boolean;
  treeSize: number;
  /** Every seq below it has a leaf or lies in a gap. */
  sequencedHorizon: number;
  checkpoints: { total: number; valid: number; latest: number | null; signaturesChecked: boolean };
  leaves: { checked: number; archived: number; outOfRange: number };
  records: { notYetSequenced: number; pendingInWatchedGaps: number };
  /** The re-anchor of migration 0016, when the log had one. */
  reanchor: {
    epoch: number;
    treeSize: number;
    /** Whether the statement carried a platform signature, and whether it was checked against the CA. */
    signed: boolean;
    signatureChecked: boolean;
    /** Checkpoints of the tree of before, and how many verified (signature, when anchors are given, and root). */
    oldCheckpoints: { total: number; valid: number };
    carried: { archived: number; missing: number; edited: number };
  } | null;
  counts: Partial<Record<LogProblemKind, number>>;
  problems: LogProblem[];
  /** Problems found beyond maxProblems, counted but not listed. */
  truncated: number;
}

/** Unmatched leaves and rows kept for the reorder search; beyond this they are reported as edited/deleted/inserted. */
const MAX_REORDER_CANDIDATES = 512;

interface LeafRow extends Partial<AccessRecordRow> {
  leaf_index: number | string;
  record_seq: number | string;
  leaf_hash: Buffer;
  in_range: boolean;
  carried: 'archived' | 'missing' | 'edited' | null;
}

interface Frontier {
  level: number;
  idx: number;
  hash: Buffer;
}

interface UnmatchedLeaf {
  leafIndex: number;
  seq: number;
  hash: Buffer;
  /** The row at that seq, when there is one (edited), else deleted. */
  row: AccessRecordRow | null;
}

export async function verifyLog(q: Queryable, options: VerifyLogOptions = {}): Promise<LogVerification> {
  const pageSize = options.pageSize ?? 5000;
  const fromSeq = options.fromSeq ?? 1;
  const toSeq = options.toSeq ?? Number.MAX_SAFE_INTEGER;
  const maxProblems = options.maxProblems ?? 10_000;
  const progressEvery = options.progressEvery ?? 100_000;
  const problems: LogProblem[] = [];
  const counts: Partial<Record<LogProblemKind, number>> = {};
  let truncated = 0;
  const report = (p: LogProblem): void => {
    counts[p.kind] = (counts[p.kind] ?? 0) + 1;
    if (problems.length < maxProblems) problems.push(p);
    else truncated++;
  };

  const { rows: stateRows } = await q.query<{ tree_size: number | string; next_seq: number | string; reanchor_pending: boolean }>('SELECT tree_size, next_seq, reanchor_pending FROM audit_log_state');
  const treeSize = Number(stateRows[0]?.tree_size ?? 0);
  const horizon = Number(stateRows[0]?.next_seq ?? 1);
  if (stateRows[0]?.reanchor_pending) {
    report({ kind: 'reanchor-pending', message: 'the log waits for its re-anchor (migration 0016): start zhengtong serve with the platform key, which converts the records and re-anchors the log; verify after' });
    return {
      ok: false,
      treeSize,
      sequencedHorizon: horizon,
      checkpoints: { total: 0, valid: 0, latest: null, signaturesChecked: Boolean(options.anchors) },
      leaves: { checked: 0, archived: 0, outOfRange: 0 },
      records: { notYetSequenced: 0, pendingInWatchedGaps: 0 },
      reanchor: null,
      counts,
      problems,
      truncated,
    };
  }
  const reanchor = await checkReanchor(q, options.anchors ?? null, report);

  // 1. Checkpoints: signatures, then consistency between consecutive valid ones (from the stored tree).
  const cache: CheckpointCertificateCache = new Map();
  const valid: Checkpoint[] = [];
  let total = 0;
  let previous: Checkpoint | null = null;
  for (let after = 0; ; ) {
    const page = await checkpointsAfter(q, after, 1000);
    if (page.length === 0) break;
    for (const c of page) {
      total++;
      after = c.treeSize;
      if (options.anchors) {
        try {
          await verifyCheckpoint(c, { ...options.anchors, cache });
        } catch (error) {
          report({ kind: 'checkpoint-invalid', treeSize: c.treeSize, message: `checkpoint of tree size ${c.treeSize} (signed ${c.signedAt}) is refused: ${(error as Error).message}` });
          continue;
        }
      }
      if (c.treeSize > treeSize) {
        report({ kind: 'checkpoint-invalid', treeSize: c.treeSize, message: `checkpoint of tree size ${c.treeSize} is beyond the log's ${treeSize} leaves` });
        continue;
      }
      if (previous) {
        const proof = await consistencyProofAt(q, previous.treeSize, c.treeSize).catch(() => null);
        if (!proof || !verifyConsistency(previous.treeSize, c.treeSize, proof, Buffer.from(previous.rootHash, 'hex'), Buffer.from(c.rootHash, 'hex'))) {
          report({
            kind: 'checkpoints-inconsistent',
            fromTreeSize: previous.treeSize,
            treeSize: c.treeSize,
            message: `no consistency proof from checkpoint ${previous.treeSize} to ${c.treeSize} holds in the stored tree: leaves or nodes in [0, ${c.treeSize}) were rewritten, or the checkpoints fork`,
          });
        }
      }
      previous = c;
      valid.push(c);
      // Only sizes and roots are kept (16 + 64 bytes each), for the root check below.
    }
  }
  const signedRoots = valid.map((c) => ({ size: c.treeSize, root: c.rootHash }));
  const validCheckpoints = { count: valid.length, latest: valid.at(-1)?.treeSize ?? null };
  valid.length = 0;
  // The re-anchor statement signs the new tree's first root: one more root the stored leaves must give.
  if (reanchor?.newRoot && reanchor.summary.treeSize > 0) {
    signedRoots.push({ size: reanchor.summary.treeSize, root: reanchor.newRoot });
    signedRoots.sort((a, b) => a.size - b.size);
  }

  // Archived segments (whose records were removed into archive files).
  const { rows: segments } = await q.query<{ leaf_from: number | string; leaf_to: number | string }>(
    'SELECT leaf_from, leaf_to FROM audit_archive_segments WHERE records_removed_at IS NOT NULL ORDER BY leaf_from',
  );
  const archived = segments.map((s) => [Number(s.leaf_from), Number(s.leaf_to)] as const);
  let segmentAt = 0;
  const isArchived = (leaf: number): boolean => {
    while (segmentAt < archived.length && archived[segmentAt]![1] <= leaf) segmentAt++;
    return segmentAt < archived.length && archived[segmentAt]![0] <= leaf;
  };

  // 2. Leaves in order: recompute every node and every signed root from the stored leaf hashes, and every leaf from
  // its record (for records in range).
  const frontier: Frontier[] = [];
  let nextRoot = 0;
  let lastGoodRoot = 0;
  let treeBroken = false;
  const unmatchedLeaves: UnmatchedLeaf[] = [];
  const mismatchedNodes = new Set<string>();
  let checked = 0;
  let archivedCount = 0;
  let outOfRange = 0;
  let expected = 0;
  const columns = ACCESS_RECORD_COLUMNS.split(',').map((c) => `a.${c.trim()}`).join(', ');
  for (;;) {
    const { rows } = await q.query<LeafRow>(
      `SELECT l.leaf_index, l.record_seq, l.leaf_hash, (l.record_seq BETWEEN $3 AND $4) AS in_range, c.reason AS carried, ${columns}
         FROM audit_log_leaves l LEFT JOIN access_record a ON a.seq = l.record_seq AND l.record_seq BETWEEN $3 AND $4
         LEFT JOIN audit_log_carried_leaves c ON c.leaf_index = l.leaf_index
        WHERE l.leaf_index >= $1 ORDER BY l.leaf_index LIMIT $2`,
      [expected, pageSize, fromSeq, toSeq],
    );
    if (rows.length === 0) break;
    const produced: Frontier[] = [];
    const pageFrom = expected;
    for (const row of rows) {
      const leafIndex = Number(row.leaf_index);
      const seq = Number(row.record_seq);
      const hash = Buffer.from(row.leaf_hash);
      if (leafIndex !== expected) {
        report({ kind: 'leaves-missing', leafFrom: expected, leafTo: leafIndex, message: `leaves [${expected}, ${leafIndex}) are missing from the stored tree` });
        treeBroken = true;
      }
      expected = leafIndex + 1;
      if (!treeBroken) {
        frontier.push({ level: 0, idx: leafIndex, hash });
        for (let top = frontier.length - 1; top > 0 && frontier[top]!.level === frontier[top - 1]!.level; top--) {
          const right = frontier.pop()!;
          const left = frontier.pop()!;
          const merged = { level: right.level + 1, idx: Math.floor(right.idx / 2), hash: nodeHash(left.hash, right.hash) };
          frontier.push(merged);
          produced.push(merged);
        }
        while (nextRoot < signedRoots.length && signedRoots[nextRoot]!.size === leafIndex + 1) {
          const signed = signedRoots[nextRoot]!;
          const root = foldFrontier(frontier);
          if (root !== signed.root) {
            report({
              kind: 'root-mismatch',
              treeSize: signed.size,
              leafFrom: lastGoodRoot,
              leafTo: signed.size,
              message: `the stored leaves give another root than the signed checkpoint of tree size ${signed.size}: stored hashes were rewritten in leaves [${lastGoodRoot}, ${signed.size})`,
            });
          } else lastGoodRoot = signed.size;
          nextRoot++;
        }
      }
      if (!row.in_range) {
        outOfRange++;
        continue;
      }
      checked++;
      if (row.id === null || row.id === undefined) {
        if (isArchived(leafIndex)) archivedCount++;
        else keep({ leafIndex, seq, hash, row: null });
        continue;
      }
      // A leaf of a segment archived before the re-anchor keeps the hash of the record in clear, which its archive
      // file holds and proves; the record here (still in the live log, or restored) holds the index instead.
      if (row.carried === 'archived') {
        archivedCount++;
        continue;
      }
      if (!accessLeafHash(accessRecordFromRow(row as AccessRecordRow)).equals(hash)) keep({ leafIndex, seq, hash, row: row as AccessRecordRow });
    }
    if (!treeBroken && produced.length > 0) await compareNodes(q, produced, mismatchedNodes, report);
    if (options.onProgress && Math.floor(expected / progressEvery) !== Math.floor(pageFrom / progressEvery)) {
      options.onProgress({ leaves: expected, treeSize, phase: 'leaves' });
    }
  }
  if (expected < treeSize) {
    report({ kind: 'leaves-missing', leafFrom: expected, leafTo: treeSize, message: `leaves [${expected}, ${treeSize}) are missing from the stored tree` });
  }
  for (; nextRoot < signedRoots.length; nextRoot++) {
    const signed = signedRoots[nextRoot]!;
    if (signed.size <= treeSize) report({ kind: 'root-mismatch', treeSize: signed.size, leafFrom: lastGoodRoot, leafTo: signed.size, message: `the root of the signed checkpoint of tree size ${signed.size} cannot be recomputed: leaves are missing` });
  }

  function keep(leaf: UnmatchedLeaf): void {
    // Beyond the candidates kept for the reorder search, a leaf is reported at once: memory stays bounded.
    if (unmatchedLeaves.length < MAX_REORDER_CANDIDATES) unmatchedLeaves.push(leaf);
    else reportLeaf(leaf);
  }
  function reportLeaf(leaf: UnmatchedLeaf): void {
    if (leaf.row) {
      report({ kind: 'edited', seq: leaf.seq, id: leaf.row.id, leafIndex: leaf.leafIndex, message: `record seq ${leaf.seq} (id ${leaf.row.id}) no longer matches its leaf ${leaf.leafIndex}: it was edited` });
    } else {
      report({ kind: 'deleted', seq: leaf.seq, leafIndex: leaf.leafIndex, message: `record seq ${leaf.seq} (leaf ${leaf.leafIndex}) is gone and not archived: it was deleted` });
    }
  }

  // 3. Records below the horizon in no leaf: inserted, unless in a watched gap (appended at the next round).
  const insertedRows: AccessRecordRow[] = [];
  let pending = 0;
  const insertedTo = Math.min(toSeq, horizon - 1);
  for (let after = fromSeq - 1; after < insertedTo; ) {
    const { rows } = await q.query<AccessRecordRow & { watched: boolean }>(
      `SELECT ${columns}, EXISTS (SELECT 1 FROM audit_log_gaps g WHERE g.closed_at IS NULL AND a.seq >= g.seq_from AND a.seq < g.seq_to) AS watched
         FROM access_record a
        WHERE a.seq > $1 AND a.seq <= $2 AND NOT EXISTS (SELECT 1 FROM audit_log_leaves l WHERE l.record_seq = a.seq)
        ORDER BY a.seq LIMIT $3`,
      [after, insertedTo, pageSize],
    );
    if (rows.length === 0) break;
    for (const row of rows) {
      after = Number(row.seq);
      if (row.watched) pending++;
      else if (insertedRows.length < MAX_REORDER_CANDIDATES) insertedRows.push(row);
      else reportInserted(row);
    }
    options.onProgress?.({ leaves: expected, treeSize, phase: 'inserted rows' });
  }
  function reportInserted(row: AccessRecordRow): void {
    report({ kind: 'inserted', seq: Number(row.seq), id: row.id, message: `record seq ${row.seq} (id ${row.id}) is below the sequenced horizon but in no leaf: it was inserted` });
  }
  const { rows: ahead } = await q.query<{ n: number | string }>('SELECT count(*) AS n FROM access_record WHERE seq >= $1 AND seq BETWEEN $2 AND $3', [horizon, fromSeq, toSeq]);

  // 4. Reorders: a row (edited or inserted) whose content, at another leaf's seq, gives that leaf.
  const candidateRows = [...unmatchedLeaves.filter((l) => l.row).map((l) => l.row!), ...insertedRows];
  const claimedLeaves = new Set<number>();
  const reorderedRows = new Set<AccessRecordRow>();
  for (const row of candidateRows) {
    const record = accessRecordFromRow(row);
    for (const leaf of unmatchedLeaves) {
      if (claimedLeaves.has(leaf.leafIndex) || leaf.seq === record.seq) continue;
      if (accessLeafHash({ ...record, seq: leaf.seq }).equals(leaf.hash)) {
        claimedLeaves.add(leaf.leafIndex);
        reorderedRows.add(row);
        report({
          kind: 'reordered',
          seq: record.seq,
          id: record.id,
          leafIndex: leaf.leafIndex,
          belongsAtLeaf: leaf.leafIndex,
          belongsAtSeq: leaf.seq,
          message: `record id ${record.id}, now seq ${record.seq}, is the record of leaf ${leaf.leafIndex} (seq ${leaf.seq}): it was moved (reordered)`,
        });
        break;
      }
    }
  }
  for (const leaf of unmatchedLeaves) {
    if (claimedLeaves.has(leaf.leafIndex) && !leaf.row) continue;
    if (leaf.row && reorderedRows.has(leaf.row)) {
      // The row now at this seq is a moved one; if this leaf's own record was not found elsewhere, it is gone.
      if (!claimedLeaves.has(leaf.leafIndex)) reportLeaf({ ...leaf, row: null });
      continue;
    }
    if (claimedLeaves.has(leaf.leafIndex)) {
      // This leaf's record moved away, and the row now at its seq is another record (edited or moved in).
      report({ kind: 'edited', seq: leaf.seq, id: leaf.row!.id, leafIndex: leaf.leafIndex, message: `record seq ${leaf.seq} (id ${leaf.row!.id}) no longer matches its leaf ${leaf.leafIndex}: it was edited` });
      continue;
    }
    reportLeaf(leaf);
  }
  for (const row of insertedRows) if (!reorderedRows.has(row)) reportInserted(row);

  problems.sort(byPosition);
  return {
    ok: problems.length === 0 && truncated === 0,
    treeSize,
    sequencedHorizon: horizon,
    checkpoints: { total, valid: validCheckpoints.count, latest: validCheckpoints.latest, signaturesChecked: Boolean(options.anchors) },
    leaves: { checked, archived: archivedCount, outOfRange },
    records: { notYetSequenced: Number(ahead[0]?.n ?? 0), pendingInWatchedGaps: pending },
    reanchor: reanchor?.summary ?? null,
    counts,
    problems,
    truncated,
  };
}

/** Checkpoint problems first (by size), then roots, then the stored tree (by leaf), then records (by seq). */
const GROUP: Record<LogProblemKind, number> = {
  'reanchor-pending': 0,
  'reanchor-invalid': 0,
  'checkpoint-invalid': 0,
  'checkpoints-inconsistent': 0,
  'root-mismatch': 1,
  'node-rewritten': 2,
  'leaves-missing': 2,
  edited: 3,
  deleted: 3,
  inserted: 3,
  reordered: 3,
};

function position(p: LogProblem): number {
  const group = GROUP[p.kind];
  if (group <= 1) return p.treeSize ?? 0;
  if (group === 2) return p.leafFrom ?? 0;
  return p.kind === 'reordered' ? (p.belongsAtSeq ?? 0) : (p.seq ?? 0);
}

function byPosition(a: LogProblem, b: LogProblem): number {
  return GROUP[a.kind] - GROUP[b.kind] || position(a) - position(b);
}

function foldFrontier(frontier: readonly Frontier[]): string {
  if (frontier.length === 0) return merkleRoot([]).toString('hex');
  let acc = frontier[frontier.length - 1]!.hash;
  for (let i = frontier.length - 2; i >= 0; i--) acc = nodeHash(frontier[i]!.hash, acc);
  return acc.toString('hex');
}

/**
 * Compares recomputed nodes with the stored ones (one query per page of leaves). A node whose child already disagreed
 * is not reported again: one rewritten leaf is one problem, not one per level above it.
 */
async function compareNodes(q: Queryable, produced: readonly Frontier[], mismatched: Set<string>, report: (p: LogProblem) => void): Promise<void> {
  const { rows } = await q.query<{ level: number; idx: number | string; hash: Buffer | null }>(
    `SELECT k.level, k.idx, n.hash FROM unnest($1::smallint[], $2::bigint[]) AS k(level, idx)
       LEFT JOIN audit_log_nodes n ON n.level = k.level AND n.idx = k.idx`,
    [produced.map((p) => p.level), produced.map((p) => String(p.idx))],
  );
  const stored = new Map(rows.map((r) => [`${r.level}:${Number(r.idx)}`, r.hash]));
  for (const p of produced) {
    const hash = stored.get(`${p.level}:${p.idx}`);
    if (hash && Buffer.from(hash).equals(p.hash)) continue;
    const key = `${p.level}:${p.idx}`;
    const childMismatched = p.level > 1 && (mismatched.has(`${p.level - 1}:${p.idx * 2}`) || mismatched.has(`${p.level - 1}:${p.idx * 2 + 1}`));
    if (mismatched.size < 100_000) mismatched.add(key);
    if (childMismatched) continue;
    const span = 2 ** p.level;
    report({
      kind: 'node-rewritten',
      level: p.level,
      idx: p.idx,
      leafFrom: p.idx * span,
      leafTo: (p.idx + 1) * span,
      message: hash
        ? `the stored node over leaves [${p.idx * span}, ${(p.idx + 1) * span}) (level ${p.level}) is not the hash of the stored leaves below it: a leaf hash or the node was rewritten`
        : `the stored node over leaves [${p.idx * span}, ${(p.idx + 1) * span}) (level ${p.level}) is missing`,
    });
  }
}

/**
 * The re-anchor, when the log had one: its statement's signature, the tree of before (its checkpoints against its
 * stored leaves, its root against the statement), and the new root the new tree must give (returned).
 */
async function checkReanchor(
  q: Queryable,
  anchors: CheckpointAnchors | null,
  report: (p: LogProblem) => void,
): Promise<{ newRoot: string | null; summary: NonNullable<LogVerification['reanchor']> } | null> {
  const done = (await reanchors(q)).filter((r) => r.completedAt !== null);
  const last = done.at(-1);
  if (!last) return null;
  const statement = last.statement;
  const { rows: carriedRows } = await q.query<{ reason: 'archived' | 'missing' | 'edited'; n: string | number }>('SELECT reason, count(*) AS n FROM audit_log_carried_leaves GROUP BY reason');
  const carried = { archived: 0, missing: 0, edited: 0 };
  for (const r of carriedRows) carried[r.reason] = Number(r.n);
  const summary = { epoch: last.epoch, treeSize: last.oldTreeSize, signed: last.envelope !== null, signatureChecked: false, oldCheckpoints: { total: 0, valid: 0 }, carried };
  const invalid = (message: string): void => report({ kind: 'reanchor-invalid', treeSize: last.oldTreeSize, message });
  if (!statement) {
    invalid(`the re-anchor of epoch ${last.epoch} is marked done but has no statement`);
    return { newRoot: null, summary };
  }
  if (anchors) {
    if (last.envelope) {
      try {
        await verifyReanchorStatement(statement, last.envelope, anchors);
        summary.signatureChecked = true;
      } catch (error) {
        invalid((error as Error).message);
      }
    } else if (statement.old.lastCheckpoint) {
      invalid('the re-anchor statement is not signed, though the log before it had signed checkpoints');
    }
  }
  if (!(await oldTreeKept(q))) {
    invalid('the tree of before the re-anchor (audit_log_v1_leaves, _nodes, _checkpoints) is gone: the re-anchor statement cannot be tied to it');
    return { newRoot: statement.new.rootHash, summary };
  }
  // The old tree's checkpoints, each against the root its stored leaves give at its size.
  const { rows } = await q.query<Parameters<typeof checkpointFromRow>[0]>('SELECT tree_size, root_hash, signed_at, platform, envelope FROM audit_log_v1_checkpoints ORDER BY tree_size');
  const old = rows.map(checkpointFromRow);
  summary.oldCheckpoints.total = old.length;
  const cache: CheckpointCertificateCache = new Map();
  const roots = new Map<number, string>();
  let oldRoot: string;
  try {
    oldRoot = await oldTreeRoot(q, last.oldTreeSize, (size, root) => roots.set(size, root), old.map((c) => c.treeSize));
  } catch (error) {
    invalid(`the tree of before the re-anchor cannot be folded: ${(error as Error).message}`);
    return { newRoot: statement.new.rootHash, summary };
  }
  for (const c of old) {
    let ok = roots.get(c.treeSize) === c.rootHash;
    if (!ok) invalid(`checkpoint ${c.treeSize} of the log before the re-anchor does not match the root of its stored leaves`);
    if (ok && anchors) {
      try {
        await verifyCheckpoint(c, { ...anchors, cache });
      } catch (error) {
        ok = false;
        invalid(`checkpoint ${c.treeSize} of the log before the re-anchor is refused: ${(error as Error).message}`);
      }
    }
    if (ok) summary.oldCheckpoints.valid++;
  }
  if (statement.old.treeSize !== last.oldTreeSize || statement.new.treeSize !== last.oldTreeSize) invalid(`the re-anchor statement is about ${statement.old.treeSize} leaves, the log had ${last.oldTreeSize}`);
  if (oldRoot !== statement.old.rootHash) invalid(`the stored tree of before the re-anchor gives root ${oldRoot}, the statement says ${statement.old.rootHash}`);
  const lastOld = old.at(-1);
  const said = statement.old.lastCheckpoint;
  if ((lastOld ? `${lastOld.treeSize}:${lastOld.rootHash}` : null) !== (said ? `${said.treeSize}:${said.rootHash}` : null)) {
    invalid(`the re-anchor statement names ${said ? `checkpoint ${said.treeSize}` : 'no checkpoint'} as the last of before, the kept log ${lastOld ? `checkpoint ${lastOld.treeSize}` : 'none'}`);
  }
  return { newRoot: statement.new.rootHash, summary };
}
