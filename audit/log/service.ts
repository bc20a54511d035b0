// The tamper-evident log as a service: the sequencer and checkpointer loop each instance runs (one at a time does the
// work, under the 'audit-log' database lock), and the proofs the HTTP and gRPC APIs serve.
import { ZtError } from '../../core/errors/index.js';
import type { Logger } from '../../core/logging/index.js';
import type { Database, Queryable } from '../../core/storage/index.js';
import type { Signer } from '../../certs/signer/index.js';
import { accessLeafBytes } from './leaf.js';
import { ACCESS_RECORD_COLUMNS, accessRecordFromRow, type AccessRecordRow } from '../access-record-row.js';
import { checkpointAt, latestCheckpoint, listCheckpoints, signCheckpoint, storeCheckpoint, type Checkpoint } from './checkpoint.js';
import { sequenceBatch, type SequencerOptions } from './sequencer.js';
import { consistencyProofAt, inclusionProofAt, rootAt } from './tree.js';

export const AUDIT_LOG_LOCK = 'audit-log';
/** Most checkpoints one page lists. */
export const MAX_CHECKPOINT_PAGE = 1000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface AuditLogServiceOptions extends SequencerOptions {
  db: Database;
  /** The platform's signing key (opened lazily by the app). */
  signer: () => Promise<Signer>;
  platformUscc: string;
  /** Milliseconds between ticks of the loop; 0: no loop in this instance. */
  sequenceMs: number;
  /** Seconds between automatic checkpoints; 0: none. */
  checkpointSeconds: number;
  logger?: Logger;
}

export interface SequenceRun {
  appended: number;
  late: number;
  skipped: [number, number][];
  treeSize: number;
  waitingFor: number | null;
}

export interface InclusionAnswer {
  recordId: string;
  seq: number;
  leafIndex: number;
  /** SM3(0x00 ‖ leaf), hex. */
  leafHash: string;
  /** The leaf's bytes (canonical JSON), so the hash can be recomputed by hand; given to supervisors only. */
  leaf?: string;
  treeSize: number;
  /** Audit path, nearest sibling first, hex. */
  proof: string[];
  checkpoint: Checkpoint;
}

export interface ConsistencyAnswer {
  first: number;
  second: number;
  firstRoot: string;
  secondRoot: string;
  proof: string[];
}

function sizeInvalid(parameter: string, message: string): ZtError {
  return new ZtError('ZT_ERR_AUDIT_TREE_SIZE_INVALID', message, { details: { parameter } });
}

export class AuditLogService {
  readonly #db: Database;
  readonly #options: AuditLogServiceOptions;
  readonly #logger: Logger | undefined;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> = Promise.resolve();
  #stopped = true;
  #lastCheckpointWarning = 0;

  constructor(options: AuditLogServiceOptions) {
    this.#db = options.db;
    this.#options = options;
    this.#logger = options.logger;
  }

  /**
   * Appends leaves for every committed record it can (batch after batch, each its own transaction under the lock),
   * until caught up, stopped at a gap it must still wait for, or `budgetMs` has passed.
   */
  async sequence(budgetMs = Number.POSITIVE_INFINITY): Promise<SequenceRun> {
    const started = Date.now();
    const run: SequenceRun = { appended: 0, late: 0, skipped: [], treeSize: 0, waitingFor: null };
    for (;;) {
      const report = await this.#db.withLock(AUDIT_LOG_LOCK, (session) => session.transaction((tx) => sequenceBatch(tx, this.#options)));
      run.appended += report.appended;
      run.late += report.late;
      run.skipped.push(...report.skipped);
      run.treeSize = report.treeSize;
      run.waitingFor = report.waitingFor;
      if (!report.more || Date.now() - started >= budgetMs) return run;
    }
  }

  /**
   * Signs a checkpoint of the tree as it stands, if it grew since the latest one and (unless `force`) the latest is
   * older than the checkpoint interval. Returns the new checkpoint, or null when none was due.
   */
  async checkpoint(options: { force?: boolean } = {}): Promise<Checkpoint | null> {
    return this.#db.withLock(AUDIT_LOG_LOCK, async (session) => {
      if (await this.reanchorPending(session)) return null;
      const treeSize = await this.treeSize(session);
      const latest = await latestCheckpoint(session);
      if (treeSize === 0 || (latest && latest.treeSize >= treeSize)) return null;
      if (!options.force && latest && Date.now() - Date.parse(latest.signedAt) < this.#options.checkpointSeconds * 1000) return null;
      const rootHash = await rootAt(session, treeSize);
      const checkpoint = await signCheckpoint(await this.#options.signer(), { treeSize, rootHash, platform: this.#options.platformUscc });
      await storeCheckpoint(session, checkpoint);
      return checkpoint;
    });
  }

  /** Leaves in the log (sequenced so far). */
  async treeSize(q: Queryable = this.#db): Promise<number> {
    const { rows } = await q.query<{ tree_size: number | string }>('SELECT tree_size FROM audit_log_state');
    return rows[0] ? Number(rows[0].tree_size) : 0;
  }

  /** Whether migration 0016's re-anchor of the log is still to be done (nothing is sequenced or signed until it is). */
  async reanchorPending(q: Queryable = this.#db): Promise<boolean> {
    const { rows } = await q.query<{ reanchor_pending: boolean }>('SELECT reanchor_pending FROM audit_log_state');
    return rows[0]?.reanchor_pending === true;
  }

  /** One round of the loop: sequence, then checkpoint when due. */
  async tick(): Promise<void> {
    const run = await this.sequence(Math.max(this.#options.sequenceMs, 1000));
    if (run.appended > 0 || run.skipped.length > 0) {
      this.#logger?.debug({ appended: run.appended, late: run.late, skipped: run.skipped, treeSize: run.treeSize }, 'access records sequenced into the log');
    }
    if (run.skipped.length > 0) this.#logger?.warn({ skipped: run.skipped }, 'access-record seqs passed by in the log (rolled back, or still open: a late one is appended at the end)');
    if (this.#options.checkpointSeconds > 0) {
      try {
        const checkpoint = await this.checkpoint();
        if (checkpoint) this.#logger?.info({ treeSize: checkpoint.treeSize, rootHash: checkpoint.rootHash }, 'access-log checkpoint signed');
      } catch (error) {
        // Without a platform CA (or with its key unreadable) every tick would fail the same way: say so every 10 minutes.
        if (Date.now() - this.#lastCheckpointWarning >= 600_000) {
          this.#lastCheckpointWarning = Date.now();
          this.#logger?.warn({ err: error }, 'signing an access-log checkpoint failed; the log grows unsigned until it succeeds');
        }
      }
    }
  }

  /** Starts the loop (unref'd: it never keeps the process alive). */
  start(): void {
    if (this.#options.sequenceMs <= 0 || !this.#stopped) return;
    this.#stopped = false;
    const schedule = (): void => {
      if (this.#stopped) return;
      this.#timer = setTimeout(() => {
        this.#running = this.tick()
          .catch((error: unknown) => this.#logger?.warn({ err: error }, 'sequencing the access log failed; will retry'))
          .finally(schedule);
      }, this.#options.sequenceMs);
      this.#timer.unref();
    };
    schedule();
  }

  /** Stops the loop and waits for a round in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#running;
  }

  latest(): Promise<Checkpoint | null> {
    return latestCheckpoint(this.#db);
  }

  async checkpoints(options: { limit: number; before?: number }): Promise<Checkpoint[]> {
    if (!Number.isSafeInteger(options.limit) || options.limit < 1 || options.limit > MAX_CHECKPOINT_PAGE) {
      throw new ZtError('ZT_ERR_AUDIT_QUERY_INVALID', `limit must be 1 to ${MAX_CHECKPOINT_PAGE}`, { details: { parameter: 'limit' } });
    }
    if (options.before !== undefined && (!Number.isSafeInteger(options.before) || options.before < 1)) throw sizeInvalid('before', 'before must be a tree size (a positive integer)');
    return listCheckpoints(this.#db, options);
  }

  /** The checkpoint of `treeSize`, or the latest; ZT_ERR_AUDIT_CHECKPOINT_NOT_FOUND when there is none. */
  async checkpointOf(treeSize: number | undefined, parameter = 'treeSize'): Promise<Checkpoint> {
    if (treeSize !== undefined && (!Number.isSafeInteger(treeSize) || treeSize < 1)) throw sizeInvalid(parameter, `${parameter} must be a positive integer`);
    const checkpoint = treeSize === undefined ? await this.latest() : await checkpointAt(this.#db, treeSize);
    if (!checkpoint) {
      throw new ZtError('ZT_ERR_AUDIT_CHECKPOINT_NOT_FOUND', treeSize === undefined ? 'no checkpoint of the access log has been signed yet' : `no checkpoint of the access log has tree size ${treeSize}`);
    }
    return checkpoint;
  }

  /** The consistency proof between two sizes, both within the latest signed checkpoint. */
  async consistency(first: number, second: number): Promise<ConsistencyAnswer> {
    if (!Number.isSafeInteger(first) || first < 1) throw sizeInvalid('first', 'first must be a positive integer tree size');
    if (!Number.isSafeInteger(second) || second < 1) throw sizeInvalid('second', 'second must be a positive integer tree size');
    if (first > second) throw sizeInvalid('first', `first (${first}) may not exceed second (${second})`);
    const latest = await this.checkpointOf(undefined);
    if (second > latest.treeSize) throw sizeInvalid('second', `second (${second}) is beyond the latest checkpoint (tree size ${latest.treeSize})`);
    const [proof, firstRoot, secondRoot] = await Promise.all([consistencyProofAt(this.#db, first, second), rootAt(this.#db, first), rootAt(this.#db, second)]);
    return { first, second, firstRoot: firstRoot.toString('hex'), secondRoot: secondRoot.toString('hex'), proof: proof.map((p) => p.toString('hex')) };
  }

  /** The inclusion proof of one record against a checkpoint (the latest by default). */
  async inclusion(recordId: string, treeSize?: number): Promise<InclusionAnswer> {
    if (typeof recordId !== 'string' || !UUID.test(recordId)) {
      throw new ZtError('ZT_ERR_AUDIT_QUERY_INVALID', 'the record id must be a UUID', { details: { parameter: 'recordId' } });
    }
    const checkpoint = await this.checkpointOf(treeSize);
    const { rows } = await this.#db.query<AccessRecordRow & { leaf_index: number | string | null; leaf_hash: Buffer | null }>(
      `SELECT ${ACCESS_RECORD_COLUMNS.split(',').map((c) => `a.${c.trim()}`).join(', ')}, l.leaf_index, l.leaf_hash
         FROM access_record a LEFT JOIN audit_log_leaves l ON l.record_seq = a.seq WHERE a.id = $1`,
      [recordId.toLowerCase()],
    );
    const row = rows[0];
    if (!row) throw new ZtError('ZT_ERR_AUDIT_RECORD_NOT_FOUND', `no access record has the id ${recordId}`);
    if (row.leaf_index === null || row.leaf_hash === null) throw new ZtError('ZT_ERR_AUDIT_RECORD_NOT_LOGGED', `access record ${recordId} is not in the log yet`);
    const leafIndex = Number(row.leaf_index);
    if (leafIndex >= checkpoint.treeSize) {
      throw new ZtError('ZT_ERR_AUDIT_RECORD_NOT_LOGGED', `access record ${recordId} is leaf ${leafIndex}, after the checkpoint of tree size ${checkpoint.treeSize}; ask again after the next checkpoint`);
    }
    const proof = await inclusionProofAt(this.#db, leafIndex, checkpoint.treeSize);
    return {
      recordId: row.id,
      seq: Number(row.seq),
      leafIndex,
      leafHash: Buffer.from(row.leaf_hash).toString('hex'),
      leaf: accessLeafBytes(accessRecordFromRow(row)).toString('utf8'),
      treeSize: checkpoint.treeSize,
      proof: proof.map((p) => p.toString('hex')),
      checkpoint,
    };
  }
}
