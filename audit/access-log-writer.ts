// Writes access records (访问记录) with group commit. A record and its access.recorded outbox event are committed
// together before write() resolves, and the exchange releases nothing until then, so the log can never miss an
// access it allowed. Committing each record alone would cap the exchange at one commit (one WAL flush) per request;
// instead, records arriving while a batch commits wait and form the next batch, so a busy exchange commits hundreds
// of records per flush and an idle one commits each record at once.
//
// Batches form without timers, as in the batch signer: records submitted in one turn of the event loop share a
// batch, and when a commit finishes everything queued meanwhile (up to maxBatchSize) goes next. Each batch is one
// SQL statement, so one transaction: its records go in with one INSERT … SELECT FROM unnest(…) (one array per
// column) and its events with one INSERT into zt_outbox in a data-modifying CTE of the same statement. The event rows
// are the ones enqueueEvent writes (core/outbox), many at once. Either the whole batch commits or none of it.
//
// A record may carry the nonce of the signed request it answers (the exchange's): the same statement claims it in
// exchange_nonces, so the claim is as durable as the record and costs no round trip of its own. A nonce claimed
// before turns its record into the refusal of a replay, in the same statement, and the caller releases nothing.
import { ZtError, type ErrorCode } from '../core/errors/index.js';
import type { BlindIndex } from '../core/pseudonyms/index.js';
import type { Database } from '../core/storage/index.js';
import { LingerGate } from '../core/batch-queue.js';
import {
  ACCESS_RECORD_TOPIC,
  ACCESS_RECORDED_EVENT,
  accessRecordToJson,
  normaliseAccessRecord,
  type AccessRecord,
  type AccessRecordInput,
} from './access-record.js';

/** What write() resolves with, once the record and its event are committed. */
export interface AccessRecordReceipt {
  readonly id: string;
  /** Position of the record in this database's log (access_record.seq). */
  readonly seq: number;
  readonly at: Date;
  /**
   * True when the record was written with a nonce (AccessLogWriteOptions.nonce) that had been claimed before: the
   * record went in as a refusal (deny, ZT_ERR_REQUEST_REPLAYED, nothing returned), and the caller must not release
   * anything.
   */
  readonly replayed: boolean;
}

/** A signed request's nonce, claimed in the same statement as the record that answers the request. */
export interface NonceClaim {
  /** The key of exchange_nonces (the SM3 of the certificate and the nonce, in hex). */
  readonly key: string;
  readonly expiresAt: Date;
}

export interface AccessLogWriteOptions {
  /**
   * Claims the request's nonce in the record's own commit, instead of a round trip of its own before it: if the
   * nonce was claimed before, the record is written as the refusal of a replay and the receipt says so.
   */
  nonce?: NonceClaim | null;
}

/** Reported after every batch, committed or failed: feed it to histograms and gauges. */
export interface AccessLogBatchReport {
  /** Records in the batch. */
  readonly size: number;
  readonly committed: boolean;
  /** Time the statement took, including the commit. */
  readonly durationMs: number;
  /** Records waiting for a later batch when this one finished. */
  readonly pending: number;
}

export interface AccessLogWriterStats {
  /** Batches attempted (each one transaction). */
  batches: number;
  failedBatches: number;
  /** Records committed. */
  records: number;
  largestBatch: number;
}

export interface AccessLogWriterOptions {
  /**
   * The blind index: callers hand the subject's identifier in clear (they have it from the request), and the record,
   * its event (outbox row, Kafka key and value) and so its leaf in the log hold only the index.
   */
  pseudonyms: BlindIndex;
  /** Most records in one transaction; default 500. */
  maxBatchSize?: number;
  /** Batches committing at once; default 1 (more only helps PostgreSQL, with a pool of connections). */
  maxInFlight?: number;
  /**
   * Most records waiting for a batch; beyond it write() rejects at once with ZT_ERR_STORAGE_UNAVAILABLE, so a
   * database that has fallen behind refuses requests instead of piling them up in memory. Default 50,000.
   */
  maxPending?: number;
  /** This gateway instance, for records that do not name one. */
  instance?: string;
  /** Clock for records without a time; for tests. */
  now?: () => Date;
  /**
   * Under steady load (core/batch-queue.ts LingerGate: the previous batch ended less than 20 ms ago and the previous
   * record came less than 4 lingers before), a record that finds the writer idle waits up to this long for others
   * before its batch goes; an idle writer, or one whose records come far apart, sends a lone record at once. Default 0. For
   * PGlite, which runs each statement on the event loop at a fixed cost of a millisecond or more, batches of one or
   * two records otherwise spend most of the loop on that cost (gateway/app.ts sets it there).
   */
  lingerMs?: number;
  /** Called after each commit that wrote outbox rows: the relay's nudge. */
  onOutboxWrite?: () => void;
  /** Called after each batch with its size, outcome and the records left waiting. */
  onBatch?: (report: AccessLogBatchReport) => void;
}

const REPLAYED: ErrorCode = 'ZT_ERR_REQUEST_REPLAYED';

const INSERT_BATCH = `
WITH input AS (
  SELECT * FROM unnest(
    $1::uuid[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
    $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::real[], $17::text[], $18::text[],
    $19::text[], $20::text[], $21::text[], $22::text[], string_to_array($23::text, E'\\x1e'), $26::text[], $27::timestamptz[],
    string_to_array($28::text, E'\\x1e', 'N')
  ) WITH ORDINALITY AS r (
    id, at, requester, operator, subject_kind, subject_code, resource, items_requested, items_returned, service_item,
    case_number, decision, rule_ids, policy_revision, error_code, latency_ms, request_digest, response_digest,
    certificate_sm3, instance, protocol, event_key, event_value, nonce_key, nonce_expires_at, replay_event_value, n
  )
), claimed AS (
  INSERT INTO exchange_nonces (key, expires_at)
  SELECT nonce_key, nonce_expires_at FROM input WHERE nonce_key IS NOT NULL
  ON CONFLICT (key) DO NOTHING
  RETURNING key
), decided AS (
  SELECT input.*, (input.nonce_key IS NOT NULL AND claimed.key IS NULL) AS replayed
  FROM input LEFT JOIN claimed ON claimed.key = input.nonce_key
), recorded AS (
  INSERT INTO access_record (
    id, at, requester, operator, subject_kind, subject_code, resource, items_requested, items_returned, service_item,
    case_number, decision, rule_ids, policy_revision, error_code, latency_ms, request_digest, response_digest,
    certificate_sm3, instance, protocol)
  SELECT id, at, requester, operator, subject_kind, subject_code, resource, items_requested::text[],
    CASE WHEN replayed THEN '{}'::text[] ELSE items_returned::text[] END, service_item, case_number,
    CASE WHEN replayed THEN 'deny' ELSE decision END, rule_ids::text[], policy_revision,
    CASE WHEN replayed THEN '${REPLAYED}' ELSE error_code END,
    latency_ms, decode(request_digest, 'hex'), CASE WHEN replayed THEN NULL ELSE decode(response_digest, 'hex') END,
    decode(certificate_sm3, 'hex'), instance, protocol
  FROM decided ORDER BY n
  ON CONFLICT (id) DO NOTHING
  RETURNING id, seq, error_code
), published AS (
  INSERT INTO zt_outbox (topic, event_key, value, headers)
  SELECT $24, decided.event_key,
    convert_to(CASE WHEN decided.replayed THEN decided.replay_event_value ELSE decided.event_value END, 'UTF8'), $25::jsonb
  FROM decided JOIN recorded USING (id) ORDER BY decided.n
)
SELECT id, seq, error_code = '${REPLAYED}' AS replayed FROM recorded`;

const EVENT_HEADERS = JSON.stringify({ 'zt-event-type': ACCESS_RECORDED_EVENT });
/**
 * Joins a batch's events into the one text INSERT_BATCH splits with string_to_array. JSON.stringify escapes every
 * control character, so U+001E never occurs inside an event; and no event is the single letter NO_EVENT, which stands
 * for a record without a replay event.
 */
const EVENT_SEPARATOR = '\x1e';
const NO_EVENT = 'N';
const COLUMNS = 22;
/** The columns after the topic and headers: the nonce claimed with the record. */
const NONCE_COLUMNS = 2;

/** A PostgreSQL array literal of strings, for a text[] column passed inside a text[] of rows. */
function arrayLiteral(values: readonly string[]): string {
  if (values.length === 0) return '{}';
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out += ',';
    out += `"${values[i]!.replace(/["\\]/g, '\\$&')}"`;
  }
  return `${out}}`;
}

function hexOrNull(value: Buffer | null): string | null {
  return value === null ? null : value.toString('hex');
}

/** A record waiting for its batch; every field set here so the shape never changes. */
class Waiting {
  constructor(
    readonly record: AccessRecord,
    /** The access.recorded event, serialised on the caller's turn. */
    readonly event: string,
    /** The nonce claimed with the record, and the event of the record as the refusal of a replay. */
    readonly nonce: NonceClaim | null,
    readonly replayEvent: string | null,
    readonly resolve: (receipt: AccessRecordReceipt) => void,
    readonly reject: (error: unknown) => void,
  ) {}
}

/** Group-committing writer of the access log; one per gateway instance. */
export class AccessLogWriter {
  readonly maxBatchSize: number;
  readonly maxInFlight: number;
  readonly maxPending: number;
  readonly #db: Database;
  readonly #pseudonyms: BlindIndex;
  readonly #instance: string | undefined;
  readonly #now: () => Date;
  readonly #onOutboxWrite: (() => void) | null;
  readonly #onBatch: ((report: AccessLogBatchReport) => void) | null;
  #queue: Waiting[] = [];
  #inFlight = 0;
  #inFlightRecords = 0;
  #flushScheduled = false;
  readonly #linger: LingerGate;
  /** When the last batch ended (performance.now()). */
  #lastBatchEnd = -Infinity;
  #closing = false;
  #idle: Promise<void> | null = null;
  #resolveIdle: (() => void) | null = null;
  #batches = 0;
  #failedBatches = 0;
  #records = 0;
  #largestBatch = 0;

  constructor(db: Database, options: AccessLogWriterOptions) {
    this.#db = db;
    this.#pseudonyms = options.pseudonyms;
    this.maxBatchSize = options.maxBatchSize ?? 500;
    this.maxInFlight = options.maxInFlight ?? 1;
    this.maxPending = options.maxPending ?? 50_000;
    for (const [name, value] of [['maxBatchSize', this.maxBatchSize], ['maxInFlight', this.maxInFlight], ['maxPending', this.maxPending]] as const) {
      if (!Number.isInteger(value) || value < 1) throw new ZtError('ZT_ERR_CONFIG_INVALID', `the access log's ${name} must be a positive integer, not ${value}`);
    }
    this.#linger = new LingerGate(options.lingerMs ?? 0);
    this.#instance = options.instance;
    this.#now = options.now ?? (() => new Date());
    this.#onOutboxWrite = options.onOutboxWrite ?? null;
    this.#onBatch = options.onBatch ?? null;
  }

  /** Records accepted and not yet committed or failed: queued plus in the batches committing now. */
  get pending(): number {
    return this.#queue.length + this.#inFlightRecords;
  }

  stats(): AccessLogWriterStats {
    return { batches: this.#batches, failedBatches: this.#failedBatches, records: this.#records, largestBatch: this.#largestBatch };
  }

  /**
   * Resolves once the record and its access.recorded event are committed. Rejects with ZT_ERR_INTERNAL for a
   * record the gateway got wrong (nothing is written), with ZT_ERR_STORAGE_UNAVAILABLE when its batch could not be
   * committed (nothing of the batch is written) or too many records wait, and with ZT_ERR_SHUTTING_DOWN after
   * close(). Whatever the rejection, the request's data must not be released.
   */
  write(input: AccessRecordInput, options: AccessLogWriteOptions = {}): Promise<AccessRecordReceipt> {
    if (this.#closing) return Promise.reject(new ZtError('ZT_ERR_SHUTTING_DOWN', 'the access log is closed'));
    if (this.#queue.length >= this.maxPending) {
      return Promise.reject(new ZtError('ZT_ERR_STORAGE_UNAVAILABLE', `the access log has ${this.#queue.length} records waiting for the database; refusing more`));
    }
    let record: AccessRecord;
    let event: string;
    let replayEvent: string | null = null;
    const nonce = options.nonce ?? null;
    try {
      record = normaliseAccessRecord(input, { instance: this.#instance, now: this.#now, pseudonyms: this.#pseudonyms });
      const json = accessRecordToJson(record);
      event = JSON.stringify({ type: ACCESS_RECORDED_EVENT, record: json });
      if (nonce) {
        // What the statement writes instead when the nonce was claimed before (INSERT_BATCH's CASEs).
        replayEvent = JSON.stringify({ type: ACCESS_RECORDED_EVENT, record: { ...json, itemsReturned: [], decision: 'deny', errorCode: REPLAYED, responseDigest: null } });
      }
    } catch (error) {
      return Promise.reject(error);
    }
    const steady = this.#linger.arrive(performance.now(), this.#lastBatchEnd);
    return new Promise<AccessRecordReceipt>((resolve, reject) => {
      this.#queue.push(new Waiting(record, event, nonce, replayEvent, resolve, reject));
      // A microtask, not a timer: records written in the same turn share a batch, and none waits for a timer.
      if (!this.#flushScheduled && this.#inFlight < this.maxInFlight) {
        this.#flushScheduled = true;
        if (steady) setTimeout(this.#flush, this.#linger.lingerMs);
        else queueMicrotask(this.#flush);
      }
    });
  }

  /** Refuses new records and resolves once every accepted one is committed or has failed. Leaves the database open. */
  close(): Promise<void> {
    this.#closing = true;
    if (this.#inFlight === 0 && this.#queue.length === 0) return Promise.resolve();
    this.#idle ??= new Promise<void>((resolve) => (this.#resolveIdle = resolve));
    return this.#idle;
  }

  readonly #flush = (): void => {
    this.#flushScheduled = false;
    while (this.#queue.length > 0 && this.#inFlight < this.maxInFlight) {
      let batch = this.#queue;
      if (batch.length <= this.maxBatchSize) this.#queue = [];
      else batch = batch.splice(0, this.maxBatchSize);
      this.#inFlight++;
      this.#inFlightRecords += batch.length;
      void this.#commit(batch);
    }
  };

  async #commit(batch: Waiting[]): Promise<void> {
    const started = performance.now();
    let committed = false;
    try {
      let seqs: Map<string, { seq: number; replayed: boolean }>;
      let duplicates: Set<Waiting> | null;
      try {
        const parameters = this.#parameters(batch);
        duplicates = parameters.duplicates;
        const { rows } = await this.#db.query<{ id: string; seq: number; replayed: boolean }>(INSERT_BATCH, parameters.params, { prepare: true });
        seqs = new Map(rows.map((r) => [r.id, { seq: Number(r.seq), replayed: r.replayed === true }]));
      } catch (error) {
        const failure = new ZtError('ZT_ERR_STORAGE_UNAVAILABLE', `the access log could not commit a batch of ${batch.length} records: ${(error as Error)?.message ?? String(error)}`, {
          cause: error,
        });
        for (const w of batch) w.reject(failure);
        return;
      }
      committed = true;
      this.#records += seqs.size;
      if (batch.length > this.#largestBatch) this.#largestBatch = batch.length;
      for (const w of batch) {
        const written = duplicates?.has(w) ? undefined : seqs.get(w.record.id);
        if (written === undefined) {
          // The id was taken, by an earlier record or by another in this batch: this record is not in the log.
          w.reject(new ZtError('ZT_ERR_INTERNAL', `access record ${w.record.id} was not written: an access record with this id already exists`));
        } else {
          w.resolve({ id: w.record.id, seq: written.seq, at: w.record.at, replayed: w.nonce !== null && written.replayed });
        }
      }
      if (seqs.size > 0) this.#notify(this.#onOutboxWrite);
    } finally {
      this.#batches++;
      if (!committed) this.#failedBatches++;
      this.#inFlight--;
      this.#inFlightRecords -= batch.length;
      this.#lastBatchEnd = performance.now();
      const onBatch = this.#onBatch;
      if (onBatch) this.#notify(() => onBatch({ size: batch.length, committed, durationMs: performance.now() - started, pending: this.pending }));
      if (this.#queue.length > 0) this.#flush();
      else if (this.#inFlight === 0 && this.#resolveIdle) {
        this.#resolveIdle();
        this.#resolveIdle = null;
        this.#idle = null;
      }
    }
  }

  /** A hook that throws must not turn committed records into failures, nor stop the writer. */
  #notify(hook: (() => void) | null): void {
    if (hook === null) return;
    try {
      hook();
    } catch {
      // Metrics and the relay's nudge are best effort; the relay also polls.
    }
  }

  /** One array per column, in INSERT_BATCH's order, the events as one text each; records reusing an id already in the batch are left out. */
  #parameters(batch: Waiting[]): { params: unknown[]; duplicates: Set<Waiting> | null } {
    const columns: unknown[][] = Array.from({ length: COLUMNS }, () => []);
    const nonces: unknown[][] = Array.from({ length: NONCE_COLUMNS }, () => []);
    const events: string[] = [];
    const replayEvents: string[] = [];
    const ids = new Set<string>();
    let duplicates: Set<Waiting> | null = null;
    for (const w of batch) {
      const r = w.record;
      if (ids.has(r.id)) {
        (duplicates ??= new Set()).add(w);
        continue;
      }
      ids.add(r.id);
      columns[0]!.push(r.id);
      columns[1]!.push(r.at.toISOString());
      columns[2]!.push(r.requester);
      columns[3]!.push(r.operator);
      columns[4]!.push(r.subjectKind);
      columns[5]!.push(r.subjectCode);
      columns[6]!.push(r.resource);
      columns[7]!.push(arrayLiteral(r.itemsRequested));
      columns[8]!.push(arrayLiteral(r.itemsReturned));
      columns[9]!.push(r.serviceItem);
      columns[10]!.push(r.caseNumber);
      columns[11]!.push(r.decision);
      columns[12]!.push(arrayLiteral(r.ruleIds));
      columns[13]!.push(r.policyRevision);
      columns[14]!.push(r.errorCode);
      columns[15]!.push(r.latencyMs);
      columns[16]!.push(hexOrNull(r.requestDigest));
      columns[17]!.push(hexOrNull(r.responseDigest));
      columns[18]!.push(hexOrNull(r.certificateSm3));
      columns[19]!.push(r.instance);
      columns[20]!.push(r.protocol);
      // Keyed by the subject (its index), so one subject's accesses keep their order on the bus.
      columns[21]!.push(r.subjectCode ?? r.id);
      events.push(w.event);
      nonces[0]!.push(w.nonce?.key ?? null);
      nonces[1]!.push(w.nonce ? w.nonce.expiresAt.toISOString() : null);
      replayEvents.push(w.replayEvent ?? NO_EVENT);
    }
    // The events are long JSON texts full of quotes: sent as one text each, split by the statement, instead of as
    // array literals whose every quote the driver would escape (EVENT_SEPARATOR).
    const params = [...columns, events.join(EVENT_SEPARATOR), ACCESS_RECORD_TOPIC, EVENT_HEADERS, ...nonces, replayEvents.join(EVENT_SEPARATOR)];
    return { params, duplicates };
  }
}
