// Loading a supplier extract into the exchange's tables: every row checked, all or nothing, upserted in large
// batches inside one transaction, and the extract recorded with its SM3 digests. A record is keyed by the blind index
// of its subject (core/pseudonyms), so the table connector finds it by the index of the subject asked for; its values
// are the supplier's data as delivered (a source record).
import { createHash, randomUUID } from 'node:crypto';
import { ZtError } from '../../core/errors/index.js';
import { isValidUscc } from '../../core/identifiers/index.js';
import type { BlindIndex } from '../../core/pseudonyms/index.js';
import type { Queryable, Session } from '../../core/storage/index.js';
import { ExtractValidator, type ExtractRow, type ExtractRowError, type ExtractSpec, type SubjectKind, type UnreadableRow } from './extract.js';

export interface ExtractLoad extends ExtractSpec {
  /** USCC of the supplying department. */
  supplier: string;
  /** The blind index records are keyed by (its current version). */
  pseudonyms: BlindIndex;
  /** The rows, from an array, a generator or a stream (read once, in order). */
  rows: Iterable<ExtractRow | UnreadableRow> | AsyncIterable<ExtractRow | UnreadableRow>;
  /** SM3 (hex) of the file the rows came from; a function is called after the last row (a stream's digest). */
  fileSm3?: string | (() => string | undefined);
  fileName?: string;
  /** The file line where a row starts (rows counted from 1), for error messages; called after the row was read. */
  lineOf?: (row: number) => number | undefined;
  /** The load time, recorded as every record's loaded_at; default now. */
  at?: Date;
  /** How many row errors the error lists; default 20. */
  maxErrors?: number;
  /** Records per INSERT statement; default 2,000. */
  batchSize?: number;
}

export interface ExtractReport {
  id: string;
  resource: string;
  supplier: string;
  subjectKind: SubjectKind;
  rows: number;
  /** Records written: one per subject of each row. */
  records: number;
  contentSm3: string;
  fileSm3: string | null;
  loadedAt: Date;
}

const DEFAULT_MAX_ERRORS = 20;
const DEFAULT_BATCH_SIZE = 2000;

// One statement per batch: the batch travels as a single JSON parameter and becomes rows in the server, which is
// far faster than a statement per record (and than thousands of bind parameters) on both PGlite and PostgreSQL.
const UPSERT = `INSERT INTO exchange_records (resource, subject_code, subject_kind, "values", updated_at, loaded_at, extract_id)
SELECT $1, b.c, $2, b.v, b.u, $3, $4 FROM jsonb_to_recordset($5::jsonb) AS b(c text, v jsonb, u timestamptz)
ON CONFLICT (resource, subject_code) DO UPDATE SET
  subject_kind = EXCLUDED.subject_kind, "values" = EXCLUDED."values", updated_at = EXCLUDED.updated_at,
  loaded_at = EXCLUDED.loaded_at, extract_id = EXCLUDED.extract_id`;

// After a key rotation a subject's record may still be keyed under an older version: the new record replaces it.
const REMOVE_OLDER = 'DELETE FROM exchange_records WHERE resource = $1 AND subject_code = ANY($2::text[])';

const RECORD_EXTRACT = `INSERT INTO exchange_extracts
  (id, resource, supplier_uscc, subject_kind, row_count, record_count, content_sm3, file_sm3, file_name, loaded_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`;

/**
 * Checks every row of the extract and, if all pass, upserts one record per subject and records the extract, in one
 * transaction. A record's values are replaced as a whole: the extract's row is the supplier's current record.
 * Rejects with ZT_ERR_EXTRACT_INVALID (nothing loaded) listing the first `maxErrors` row errors: identifiers that
 * fail their check, items the resource does not have, values of the wrong type, a subject twice in the extract,
 * and an extract without rows.
 */
export async function loadExtract(db: Session, load: ExtractLoad): Promise<ExtractReport> {
  const validator = new ExtractValidator(load);
  if (!isValidUscc(load.supplier)) {
    throw new ZtError('ZT_ERR_ID_INVALID_USCC', `the supplier ${JSON.stringify(load.supplier)} is not a valid unified social credit code`);
  }
  const maxErrors = load.maxErrors ?? DEFAULT_MAX_ERRORS;
  const batchSize = load.batchSize ?? DEFAULT_BATCH_SIZE;
  const loadedAt = load.at ?? new Date();
  const id = randomUUID();
  const { resource, subjectKind } = validator;

  return db.transaction(async (tx) => {
    const content = createHash('sm3');
    const firstRowOf = new Map<string, number>();
    const errors: ExtractRowError[] = [];
    let invalidRows = 0;
    let unlisted = 0;
    let rows = 0;
    let records = 0;
    let batch: string[] = [];
    let older: string[] = [];
    const rotated = load.pseudonyms.versions.length > 1;
    const note = (rowErrors: ExtractRowError[]): void => {
      invalidRows++;
      for (const e of rowErrors) {
        if (errors.length >= maxErrors) {
          unlisted++;
          continue;
        }
        const line = load.lineOf?.(e.row);
        errors.push(line === undefined ? e : { ...e, line });
      }
    };

    for await (const row of load.rows) {
      rows++;
      const result = validator.validate(row, rows);
      if (Array.isArray(result)) {
        note(result);
        continue;
      }
      const duplicates: ExtractRowError[] = [];
      for (const subject of result.subjects) {
        const first = firstRowOf.get(subject);
        if (first !== undefined) duplicates.push({ row: rows, message: `subject ${subject} is already in row ${first}; an extract holds one row per subject` });
        else firstRowOf.set(subject, rows);
      }
      if (duplicates.length > 0) {
        note(duplicates);
        continue;
      }
      if (invalidRows > 0) continue; // Nothing will be written: only look for more errors.
      const valuesJson = JSON.stringify(result.values);
      const updatedAt = result.updatedAt === null ? 'null' : JSON.stringify(result.updatedAt);
      content.update(result.updatedAt === null ? `${valuesJson}\n` : `${valuesJson}\t${result.updatedAt}\n`);
      for (const subject of result.subjects) {
        if (rotated) {
          const [current, ...rest] = load.pseudonyms.candidates(subject);
          batch.push(`{"c":"${current}","v":${valuesJson},"u":${updatedAt}}`);
          older.push(...rest);
        } else batch.push(`{"c":"${load.pseudonyms.of(subject)}","v":${valuesJson},"u":${updatedAt}}`);
        records++;
      }
      if (batch.length >= batchSize) {
        await upsert(tx, batch, older, resource, subjectKind, loadedAt, id);
        batch = [];
        older = [];
      }
    }

    if (rows === 0) {
      throw new ZtError('ZT_ERR_EXTRACT_INVALID', `the extract for ${resource} has no rows; nothing was loaded`, { details: { resource, rows: 0, invalidRows: 0, errors: [] } });
    }
    if (invalidRows > 0) throw extractInvalid(resource, rows, invalidRows, errors, unlisted);
    if (batch.length > 0) await upsert(tx, batch, older, resource, subjectKind, loadedAt, id);
    const fileSm3 = (typeof load.fileSm3 === 'function' ? load.fileSm3() : load.fileSm3) ?? null;
    const contentSm3 = content.digest('hex');
    await tx.query(RECORD_EXTRACT, [id, resource, load.supplier, subjectKind, rows, records, contentSm3, fileSm3, load.fileName ?? null, loadedAt]);
    return { id, resource, supplier: load.supplier, subjectKind, rows, records, contentSm3, fileSm3, loadedAt };
  });
}

async function upsert(tx: Queryable, batch: string[], older: string[], resource: string, kind: SubjectKind, loadedAt: Date, extractId: string): Promise<void> {
  if (older.length > 0) await tx.query(REMOVE_OLDER, [resource, older]);
  await tx.query(UPSERT, [resource, kind, loadedAt, extractId, `[${batch.join(',')}]`]);
}

function extractInvalid(resource: string, rows: number, invalidRows: number, errors: ExtractRowError[], unlisted: number): ZtError {
  const where = (e: ExtractRowError): string => `row ${e.row}${e.line !== undefined ? ` (line ${e.line})` : ''}${e.item !== undefined ? `, ${e.item}` : ''}`;
  const listed = errors.map((e) => `${where(e)}: ${e.message}`).join('; ');
  return new ZtError(
    'ZT_ERR_EXTRACT_INVALID',
    `the extract for ${resource} was not loaded: ${invalidRows} of ${rows} ${rows === 1 ? 'row is' : 'rows are'} invalid; ${listed}${unlisted > 0 ? `; and ${unlisted} more` : ''}`,
    { details: { resource, rows, invalidRows, errors, unlisted } },
  );
}
