// Stock conversion (存量证照转化): the licences of one type that departments issued on paper or in older systems,
// read from a CSV or JSON Lines file and turned into e-licences, each a GB/T 36903 document signed alone with the
// platform key (no batch signature: the signature travels in QR codes), as an online issue makes them.
//
// The file is read as a stream, in batches, through a bounded pipeline (at most PIPELINE_DEPTH batches held):
//
//   check batch k (main thread, database)   ‖ sign batches k-1, k-2 (worker threads) ‖ commit batch k-2 (database)
//
// so the signer's threads, which set the pace, stay busy while the main thread checks rows and builds documents
// and the database stores earlier batches; commits happen one at a time, in file order. Each batch commits in one
// transaction: its licences, their 'convert' transitions, one outbox event and the run's progress row, so a crash
// loses nothing accepted and a rerun of the same file resumes after the last committed batch. A licence number the
// type already has is skipped, which makes a second run of a file add nothing; a number that an earlier row of the
// same run took is rejected.
import { isZtError, ZtError, type ErrorCode } from '../../core/errors/index.js';
import { enqueueEvent } from '../../core/outbox/index.js';
import type { Database } from '../../core/storage/index.js';
import { envelopeToJson, signEnvelope } from '../../certs/envelope/index.js';
import type { Signer } from '../../certs/signer/index.js';
import type { DepartmentNames, LicenceRegistry } from '../licence-registry.js';
import { LICENCE_EVENTS_TOPIC } from '../licence-registry.js';
import type { LicenceType } from '../licence-type.js';
import { chinaDate, LICENCE_DOCUMENT_SCHEMA, licenceDocumentBytes, type LicenceDocument } from '../licence.js';
import type { SqlLicenceStore, StatusListState, StoredLicence } from '../sql/sql-licence-store.js';
import { statusIndex } from '../status-list/permutation.js';
import type { ConversionProgress } from './progress.js';
import { RejectsFile, type RejectedRow } from './rejects.js';
import { readSource, surveySource, type SourceFormat, type SourceRow } from './source.js';
import { conversionReason, SqlConversionStore, type ConversionCounts, type ConversionRecord } from './sql/sql-conversion-store.js';
import { StockRowReader, type StockLicence } from './stock-row.js';

// The one event each committed batch publishes on LICENCE_EVENTS_TOPIC: what every instance needs to drop stale lookups.
import { LICENCE_BATCH_CONVERTED, type LicenceBatchConvertedEvent } from '../licence-registry.js';
export { LICENCE_BATCH_CONVERTED, type LicenceBatchConvertedEvent };

export const DEFAULT_BATCH_SIZE = 500;
/** Batches checked and not yet committed, at most: enough to keep signing, checking and committing overlapped. */
const PIPELINE_DEPTH = 3;
/** Signature requests queued per signing thread (see ConversionRun.signWindow). */
export const SIGN_QUEUE_PER_THREAD = 32;
/** The event of a batch lists its licences (about 150 bytes each): this keeps it well under a Kafka message's 1 MB. */
export const MAX_BATCH_SIZE = 2000;

export interface StockConverterOptions {
  db: Database;
  /** Status list positions, and the batch insert (its own statement: ON CONFLICT on type, number and version). */
  store: Pick<SqlLicenceStore, 'allocateStatus' | 'insertConverted'>;
  /** Types, status list URLs and this instance's lookup caches. */
  registry: Pick<LicenceRegistry, 'type' | 'statusListUrl' | 'invalidateLookups'>;
  /** Names of the issuing departments, for the documents' issuer and seal. */
  departments: DepartmentNames;
  /** The platform's signing key (several worker threads: signer.concurrency). */
  signer: Signer;
  /** The platform's USCC: the actor of the 'convert' transitions. */
  platformUscc: string;
  onOutboxWrite?: () => void;
  clock?: () => Date;
}

export interface ConversionRun {
  typeCode: string;
  file: string;
  /** Taken from the file's extension (.csv, .jsonl) when absent. */
  format?: SourceFormat;
  /** The issuer of rows without an issuerCode (a USCC among the type's issuers). */
  issuer?: string;
  /** Where rejected rows go (JSON Lines); default FILE.rejects.jsonl beside the file. */
  rejectsFile?: string;
  /** Rows per batch (1 to MAX_BATCH_SIZE); default DEFAULT_BATCH_SIZE. */
  batchSize?: number;
  /**
   * Signatures requested at once per batch; default SIGN_QUEUE_PER_THREAD × signer.concurrency. Each of the
   * signer's threads then has a queue of work that outlasts the main thread's longest stretch of other work
   * (checking a batch, serialising its insert: a few milliseconds, against about 0.25 ms per signature), so it
   * never idles waiting for the next request; with only signer.concurrency in flight, measured conversion rates
   * were 10-15 % lower.
   */
  signWindow?: number;
  onProgress?: (progress: ConversionProgress) => void;
  /** Least time between two progress reports; default 1000 ms (reports come as batches commit). */
  progressIntervalMs?: number;
  /** Stops the run after the batch being committed; the run resumes from there when started again. */
  signal?: AbortSignal;
  /** Called after each batch commits; throwing stops the run there (as a crash would). */
  afterBatch?: (batch: { number: number; rowsDone: number }) => void | Promise<void>;
}

export interface ConversionReport extends ConversionCounts {
  conversionId: string;
  sourceName: string;
  sourceSm3: string;
  typeCode: string;
  /** finished now; already-done: a run of this file for this type had finished before, nothing was done. */
  outcome: 'finished' | 'already-done' | 'interrupted';
  /** Rows done by earlier runs when this one started. */
  resumedFrom: number;
  elapsedMs: number;
  /** Rows per second in this run. */
  rowsPerSecond: number;
  rejectsFile: string;
  finishedAt: Date | null;
}

interface Candidate {
  stock: StockLicence;
  issuerName: string;
}

interface PlacedLicence extends Candidate {
  list: StatusListState;
  counter: number;
}

type ConvertedLicence = Omit<StoredLicence, 'issuedAt' | 'updatedAt'>;

interface Batch {
  number: number;
  lastRow: number;
  rows: number;
  rejects: RejectedRow[];
  /** Rows whose licence number the type had before this run. */
  skipped: number;
  licences: PlacedLicence[];
  /** Numbers and identifiers this batch will store → their lines: later batches check against them until it commits. */
  numbers: Map<string, number>;
  identifiers: Map<string, number>;
  /** Filled by signing, in the order of licences. */
  converted: ConvertedLicence[];
}

/** Runs fn(0 … count-1) with at most `limit` calls pending; waits for every call, then rethrows the first failure. */
async function inParallel(count: number, limit: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lane = async (): Promise<void> => {
    while (next < count && !failure) {
      const i = next++;
      try {
        await fn(i);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, lane));
  if (failure) throw failure.error;
}

async function* batches(rows: AsyncIterable<SourceRow>, size: number): AsyncGenerator<SourceRow[]> {
  let batch: SourceRow[] = [];
  for await (const row of rows) {
    batch.push(row);
    if (batch.length === size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

export class StockConverter {
  readonly #o: StockConverterOptions;
  readonly #clock: () => Date;
  readonly #conversions: SqlConversionStore;

  constructor(options: StockConverterOptions) {
    this.#o = options;
    this.#clock = options.clock ?? (() => new Date());
    this.#conversions = new SqlConversionStore(options.db);
  }

  /** Converts (or resumes converting) a file; rejected rows never stop it, a storage or signing failure does. */
  async convert(run: ConversionRun): Promise<ConversionReport> {
    const type = this.#o.registry.type(run.typeCode);
    const batchSize = run.batchSize ?? DEFAULT_BATCH_SIZE;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH_SIZE) {
      throw new ZtError('ZT_ERR_REQUEST_INVALID', `the batch size must be a whole number from 1 to ${MAX_BATCH_SIZE}, not ${batchSize}`);
    }
    const rows = new StockRowReader(type, { ...(run.issuer ? { defaultIssuer: run.issuer } : {}), today: chinaDate(this.#clock()) });
    const survey = await surveySource(run.file, run.format);
    // A header without the required columns stops the run before it is recorded.
    if (survey.columns) rows.checkColumns(survey.columns);
    const { record } = await this.#conversions.open(survey.sm3, type.code, survey.name);
    const rejectsPath = run.rejectsFile ?? `${run.file}.rejects.jsonl`;
    const started = performance.now();
    const report = (r: ConversionRecord, outcome: ConversionReport['outcome'], resumedFrom: number): ConversionReport => {
      const elapsedMs = performance.now() - started;
      return {
        conversionId: r.id,
        sourceName: r.sourceName,
        sourceSm3: r.sourceSm3,
        typeCode: r.typeCode,
        rowsDone: r.rowsDone,
        accepted: r.accepted,
        skipped: r.skipped,
        rejected: r.rejected,
        outcome,
        resumedFrom,
        elapsedMs,
        rowsPerSecond: elapsedMs > 0 ? ((r.rowsDone - resumedFrom) * 1000) / elapsedMs : 0,
        rejectsFile: rejectsPath,
        finishedAt: r.finishedAt,
      };
    };
    if (record.finishedAt) return report(record, 'already-done', record.rowsDone);

    const state = new RunState(this.#o, run, type, record, survey.estimatedRows);
    const source = readSource(run.file, survey.format, { skip: record.rowsDone, checkHeader: (columns) => rows.checkColumns(columns) });
    const rejects = await RejectsFile.open(rejectsPath, record.rowsDone);
    const window = Math.max(1, run.signWindow ?? this.#o.signer.concurrency * SIGN_QUEUE_PER_THREAD);
    // Batches checked and not yet committed: each is signing, or signed and waiting for its turn to commit. Commits
    // run one after another in file order (a chain), apart from the loop, so that checking the next batch overlaps
    // the commit of an earlier one as well as the signing.
    const unsettled = new Set<Promise<unknown>>();
    const track = <T>(p: Promise<T>): Promise<T> => {
      unsettled.add(p);
      p.then(
        () => unsettled.delete(p),
        () => unsettled.delete(p),
      );
      return p;
    };
    const committed: Promise<void>[] = [];
    let chain: Promise<void> = Promise.resolve();
    let interrupted = false;
    try {
      let number = 0;
      for await (const sourceRows of batches(source.rows, batchSize)) {
        const checked = await state.check(++number, sourceRows, rows);
        // Its signatures queue behind those of the batches before it, so the signer's threads never wait for the
        // main thread between two batches.
        const signing = track(state.sign(checked, window));
        chain = track(chain.then(async () => state.commit(await signing, rejects)));
        committed.push(chain);
        if (committed.length >= PIPELINE_DEPTH) await committed.shift();
        if (run.signal?.aborted) {
          // The batches in hand are committed below: their work is done, and it counts towards resuming.
          interrupted = true;
          break;
        }
      }
      await chain;
    } finally {
      // Nothing may still be signing or committing when the caller closes the signer or the database.
      await Promise.allSettled([...unsettled]);
      await rejects.close();
    }
    if (interrupted) {
      state.progress(true);
      return report((await this.#conversions.get(record.id))!, 'interrupted', record.rowsDone);
    }
    if (source.sm3() !== survey.sm3) {
      throw new ZtError('ZT_ERR_CONVERSION_INPUT', `${survey.name} changed while it was being converted (its SM3 is no longer ${survey.sm3}); convert the new file as a run of its own`);
    }
    const finished = await this.#conversions.finish(record.id);
    state.progress(true);
    return report(finished, 'finished', record.rowsDone);
  }
}

/** One run's counters, caches and stages. */
class RunState {
  readonly #o: StockConverterOptions;
  readonly #run: ConversionRun;
  readonly #type: LicenceType;
  readonly #conversion: ConversionRecord;
  readonly #conversions: SqlConversionStore;
  readonly #estimatedRows: number;
  readonly #names = new Map<string, Promise<string>>();
  /** Batches checked but not committed: what a later batch must not take again. */
  readonly #pending: Batch[] = [];
  readonly #started = performance.now();
  readonly #resumedFrom: number;
  readonly #intervalMs: number;
  #counts: ConversionCounts;
  #lastReport = 0;

  constructor(o: StockConverterOptions, run: ConversionRun, type: LicenceType, conversion: ConversionRecord, estimatedRows: number) {
    this.#o = o;
    this.#run = run;
    this.#type = type;
    this.#conversion = conversion;
    this.#conversions = new SqlConversionStore(o.db);
    this.#estimatedRows = estimatedRows;
    this.#resumedFrom = conversion.rowsDone;
    this.#intervalMs = run.progressIntervalMs ?? 1000;
    this.#counts = { rowsDone: conversion.rowsDone, accepted: conversion.accepted, skipped: conversion.skipped, rejected: conversion.rejected };
  }

  #issuerName(uscc: string): Promise<string> {
    let name = this.#names.get(uscc);
    if (!name) {
      name = this.#o.departments.get(uscc).then((d) => d.name);
      name.catch(() => undefined);
      this.#names.set(uscc, name);
    }
    return name;
  }

  /**
   * Checks a batch's rows, sorts out numbers and identifiers already taken, and places the licences on their
   * issuers' status lists. Runs while earlier batches sign and commit. Every earlier batch is either committed,
   * and the database knows its numbers, or still in #pending; the batches pending are taken before the database is
   * asked, since one may commit (and leave #pending) while the question is out: then the answer includes it.
   */
  async check(number: number, sourceRows: SourceRow[], reader: StockRowReader): Promise<Batch> {
    const type = this.#type;
    const batch: Batch = { number, lastRow: sourceRows[sourceRows.length - 1]!.row, rows: sourceRows.length, rejects: [], skipped: 0, licences: [], numbers: new Map(), identifiers: new Map(), converted: [] };
    const reject = (row: SourceRow, code: ErrorCode, reason: string, licenceNumber: string | undefined): void => {
      batch.rejects.push({ line: row.line, row: row.row, ...(licenceNumber !== undefined ? { licenceNumber } : {}), code, reason, raw: row.raw });
    };
    const read: { stock: StockLicence; source: SourceRow }[] = [];
    for (const row of sourceRows) {
      if (row.values === null) {
        reject(row, 'ZT_ERR_CONVERSION_INPUT', `line ${row.line} cannot be read: ${row.problem}`, undefined);
        continue;
      }
      const result = reader.read(row.values, row.row, row.line);
      if ('code' in result) reject(row, result.code, result.reason, result.licenceNumber);
      else read.push({ stock: result, source: row });
    }
    const pending = [...this.#pending];
    const earlier = (map: 'numbers' | 'identifiers', key: string): number | undefined => {
      for (const b of pending) {
        const line = b[map].get(key);
        if (line !== undefined) return line;
      }
      return batch[map].get(key);
    };
    const [numbers, identifiers] = await Promise.all([
      this.#conversions.takenNumbers(type.code, [...new Set(read.map((r) => r.stock.licenceNumber))]),
      this.#conversions.takenIdentifiers(read.map((r) => r.stock.identifier.text)),
    ]);
    const candidates: Candidate[] = [];
    for (const { stock, source } of read) {
      const n = stock.licenceNumber;
      const taken = numbers.get(n);
      if (taken && taken.conversionId !== this.#conversion.id) {
        batch.skipped++;
        continue;
      }
      const firstLine = taken?.line ?? earlier('numbers', n);
      if (taken || firstLine !== undefined) {
        reject(source, 'ZT_ERR_LICENCE_NUMBER_TAKEN', `licence number ${n} appears earlier in the file${firstLine !== undefined ? `, at line ${firstLine}` : ''}; the first row with a number wins`, n);
        continue;
      }
      const id = stock.identifier.text;
      const holder = identifiers.get(id);
      const idLine = earlier('identifiers', id);
      if (holder || idLine !== undefined) {
        reject(source, 'ZT_ERR_LICENCE_IDENTIFIER_INVALID', holder ? `identifier ${id} already identifies ${holder.typeCode} licence ${holder.licenceNumber}` : `identifier ${id} is given at line ${idLine} too`, n);
        continue;
      }
      let issuerName: string;
      try {
        issuerName = await this.#issuerName(stock.issuerCode);
      } catch (error) {
        if (!isZtError(error)) throw error;
        reject(source, error.code, `issuer ${stock.issuerCode}: ${error.message}`, n);
        continue;
      }
      batch.numbers.set(n, stock.line);
      batch.identifiers.set(id, stock.line);
      candidates.push({ stock, issuerName });
    }
    // Status indexes in bulk, one allocation per status list issuer in the batch.
    const byIssuer = new Map<string, Candidate[]>();
    for (const c of candidates) {
      const group = byIssuer.get(c.stock.identifierIssuer);
      if (group) group.push(c);
      else byIssuer.set(c.stock.identifierIssuer, [c]);
    }
    const placed = new Map<Candidate, PlacedLicence>();
    for (const [issuer, group] of byIssuer) {
      const { list, firstCounter } = await this.#o.store.allocateStatus(issuer, group.length);
      group.forEach((c, i) => placed.set(c, { ...c, list, counter: firstCounter + i }));
    }
    batch.licences = candidates.map((c) => placed.get(c)!);
    this.#pending.push(batch);
    return batch;
  }

  /** Builds and signs each licence's document, `window` signatures at a time. */
  async sign(batch: Batch, window: number): Promise<Batch> {
    const type = this.#type;
    const signer = this.#o.signer;
    const converted = new Array<ConvertedLicence>(batch.licences.length);
    await inParallel(batch.licences.length, window, async (i) => {
      const { stock: s, issuerName, list, counter } = batch.licences[i]!;
      const index = statusIndex(list.permKey, counter, list.size);
      const document: LicenceDocument = {
        schema: LICENCE_DOCUMENT_SCHEMA,
        identifier: s.identifier.text,
        name: type.name,
        typeCode: type.code,
        typeName: type.name,
        licenceNumber: s.licenceNumber,
        issuer: { code: s.issuerCode, name: issuerName },
        issueDate: s.issueDate,
        holder: s.holder,
        validFrom: s.validFrom,
        ...(s.validTo ? { validTo: s.validTo } : {}),
        areaCode: s.areaCode,
        seal: { signer: issuerName, signedAt: this.#clockIso(), name: `${issuerName}电子证照专用章` },
        version: s.identifier.version,
        fields: s.fields,
        status: { list: this.#o.registry.statusListUrl(s.identifierIssuer, list.listNo), index },
      };
      const bytes = licenceDocumentBytes(document);
      const envelope = await signEnvelope(signer, bytes);
      converted[i] = {
        identifier: s.identifier.text,
        typeCode: type.code,
        issuerCode: s.identifierIssuer,
        serial: s.identifier.serial,
        version: s.identifier.version,
        licenceNumber: s.licenceNumber,
        holderCode: s.holder.code,
        holderCodeType: s.holder.codeType,
        holderName: s.holder.name,
        status: 'active',
        validFrom: s.validFrom,
        validTo: s.validTo ?? null,
        document: bytes,
        // signEnvelope hashed the payload already.
        documentSm3: envelope.payloadSm3,
        envelope: envelopeToJson(envelope),
        listNo: list.listNo,
        statusIndex: index,
        supersedes: null,
        supersededBy: null,
        source: 'converted',
        flags: s.flags,
      };
    });
    batch.converted = converted;
    return batch;
  }

  #clockIso(): string {
    return (this.#o.clock?.() ?? new Date()).toISOString();
  }

  /**
   * Writes the batch's rejects (durably), then commits its licences, their transitions, its event and the run's
   * progress in one transaction. A licence another writer stored meanwhile (the insert skips it) counts as skipped.
   */
  async commit(batch: Batch, rejects: RejectsFile): Promise<void> {
    await rejects.append(batch.rejects);
    const c = this.#conversion;
    let stored: ConvertedLicence[] = [];
    let counts: ConversionCounts = this.#counts;
    await this.#o.db.transaction(async (tx) => {
      const inserted = await this.#o.store.insertConverted(tx, batch.converted);
      stored = inserted.size === batch.converted.length ? batch.converted : batch.converted.filter((l) => inserted.has(l.identifier));
      const lineOf = new Map(batch.licences.map((l) => [l.stock.identifier.text, l.stock.line]));
      await this.#conversions.appendConvertTransitions(
        tx,
        this.#o.platformUscc,
        stored.map((l) => ({ identifier: l.identifier, reason: conversionReason(c.id, c.sourceName, lineOf.get(l.identifier)!) })),
      );
      if (stored.length > 0) {
        const event: LicenceBatchConvertedEvent = {
          type: LICENCE_BATCH_CONVERTED,
          conversionId: c.id,
          typeCode: this.#type.code,
          licences: stored.map((l) => ({ identifier: l.identifier, licenceNumber: l.licenceNumber, holderCode: l.holderCode, holderCodeType: l.holderCodeType, issuerCode: l.issuerCode, listNo: l.listNo })),
        };
        await enqueueEvent(tx, LICENCE_EVENTS_TOPIC, { key: `${c.id}#${batch.lastRow}`, value: JSON.stringify(event), headers: { 'zt-event-type': LICENCE_BATCH_CONVERTED } });
      }
      counts = {
        rowsDone: batch.lastRow,
        accepted: this.#counts.accepted + stored.length,
        skipped: this.#counts.skipped + batch.skipped + (batch.converted.length - stored.length),
        rejected: this.#counts.rejected + batch.rejects.length,
      };
      await this.#conversions.advance(tx, c.id, this.#counts.rowsDone, counts);
    });
    this.#counts = counts;
    this.#pending.splice(this.#pending.indexOf(batch), 1);
    if (stored.length > 0) this.#o.onOutboxWrite?.();
    for (const l of stored) this.#o.registry.invalidateLookups(l);
    this.progress(false);
    await this.#run.afterBatch?.({ number: batch.number, rowsDone: counts.rowsDone });
  }

  /** Reports progress when the interval has passed (always when `done`). */
  progress(done: boolean): void {
    const onProgress = this.#run.onProgress;
    if (!onProgress) return;
    const now = performance.now();
    if (!done && now - this.#lastReport < this.#intervalMs) return;
    this.#lastReport = now;
    const elapsedMs = now - this.#started;
    const rowsThisRun = this.#counts.rowsDone - this.#resumedFrom;
    const rowsPerSecond = elapsedMs > 0 ? (rowsThisRun * 1000) / elapsedMs : 0;
    const left = Math.max(0, this.#estimatedRows - this.#counts.rowsDone);
    onProgress({
      conversionId: this.#conversion.id,
      ...this.#counts,
      estimatedRows: this.#estimatedRows,
      rowsPerSecond,
      etaSeconds: done ? 0 : rowsPerSecond > 0 ? left / rowsPerSecond : null,
      elapsedMs,
      resumedFrom: this.#resumedFrom,
      done,
    });
  }
}

