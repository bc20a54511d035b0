// Reading a stock conversion file (存量证照转化) as a stream: CSV with a header row (RFC 4180, as
// registry/catalogue/csv.ts reads it, but record by record) or JSON Lines. Memory stays constant whatever the size
// of the file: one chunk, the current line and the current record are held, nothing more. A record that cannot be
// read becomes a row with a `problem`, so the converter rejects it with its line and carries on.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { ZtError } from '../../core/errors/index.js';

export type SourceFormat = 'csv' | 'jsonl';

/** What one pass over the file found before converting: its identity (SM3), size, and a cheap row estimate. */
export interface SourceSurvey {
  path: string;
  /** The file name, without its directory (licence_conversions.source_name). */
  name: string;
  format: SourceFormat;
  bytes: number;
  /** SM3 of the file's bytes, lower-case hex: with the type, the key of the conversion. */
  sm3: string;
  /** Data rows, estimated from the line count (a CSV field may span lines); exact for JSON Lines without blank lines. */
  estimatedRows: number;
  /** CSV: the header's column names (trimmed), when the header is one line of valid CSV; else null. */
  columns: string[] | null;
}

/** One data record: its ordinal among the data rows (1-based, the header not counted) and the line it starts on. */
export interface SourceRow {
  row: number;
  line: number;
  /** The record as written in the file (lines joined by \n), for the rejects file. */
  raw: string;
  /** Column or member names to values; null when the record could not be read (see problem). */
  values: Record<string, unknown> | null;
  problem: string | null;
}

export interface SourceReadOptions {
  /** Data rows to pass over without building their values (a resumed run); they are still counted. */
  skip?: number;
  /** Called with the CSV header's column names before the first row; throws to refuse the file. */
  checkHeader?: (columns: readonly string[]) => void;
}

export interface SourceReader {
  rows: AsyncGenerator<SourceRow>;
  /** SM3 of the bytes read, once the last row was read; undefined before. */
  sm3(): string | undefined;
}

/** A line longer than this is refused as a record (and skipped) rather than held in memory. */
export const MAX_LINE_CHARS = 1 << 20;
/** A quoted CSV field may span lines; a record still open after this many lines is an unclosed quote. */
export const MAX_RECORD_LINES = 200;
const CHUNK_BYTES = 1 << 20;

function inputError(message: string, cause?: unknown): ZtError {
  return new ZtError('ZT_ERR_CONVERSION_INPUT', message, cause === undefined ? undefined : { cause });
}

/** .csv or .jsonl (also .ndjson); anything else is ZT_ERR_CONVERSION_INPUT. */
export function sourceFormat(path: string, format?: SourceFormat): SourceFormat {
  if (format) return format;
  const ext = extname(path).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  throw inputError(`${basename(path)} is neither .csv nor .jsonl; name the file by its format`);
}

function openStream(path: string): AsyncIterable<Buffer> {
  return createReadStream(path, { highWaterMark: CHUNK_BYTES });
}

/** Errors of reading the file, said so that a person can act on them; others pass through. */
function readError(path: string, error: unknown): unknown {
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR' || code === 'EPERM') return inputError(`cannot read ${path}: ${code}`, error);
  if (code === 'ERR_ENCODING_INVALID_ENCODED_DATA') return inputError(`${path} is not UTF-8 text; save it as UTF-8 (Excel: "CSV UTF-8")`, error);
  return error;
}

async function readable<T>(path: string, what: () => Promise<T>): Promise<T> {
  try {
    return await what();
  } catch (error) {
    throw readError(path, error);
  }
}

/**
 * One pass over the file: its SM3, size and line count, and a check that it is UTF-8 (a GBK export would
 * otherwise turn every Chinese name into replacement characters). Cheap next to signing: hashing runs at
 * hundreds of MB/s.
 */
export async function surveySource(path: string, format?: SourceFormat): Promise<SourceSurvey> {
  const kind = sourceFormat(path, format);
  return readable(path, async () => {
    const info = await stat(path);
    if (!info.isFile()) throw inputError(`${path} is not a file`);
    const hash = createHash('sm3');
    const decoder = new TextDecoder('utf-8', { fatal: true });
    let lines = 0;
    let bytes = 0;
    let last = 0x0a;
    // The first non-blank line, for the CSV header: collected from the start of the decoded text.
    let head: string | null = kind === 'csv' ? '' : null;
    let columns: string[] | null = null;
    for await (const chunk of openStream(path)) {
      hash.update(chunk);
      const text = decoder.decode(chunk, { stream: true });
      if (head !== null) {
        head += text;
        const parts = head.split('\n');
        const first = parts.find((l, i) => i < parts.length - 1 && l.trim() !== '');
        if (first !== undefined || head.length > MAX_LINE_CHARS) {
          const parsed = first === undefined ? null : parseCsvRecord(first.replace(/\r$/, ''));
          columns = parsed && 'fields' in parsed ? parsed.fields.map((c) => c.trim()) : null;
          head = null;
        }
      }
      bytes += chunk.length;
      for (let i = chunk.indexOf(0x0a); i !== -1; i = chunk.indexOf(0x0a, i + 1)) lines++;
      last = chunk[chunk.length - 1]!;
    }
    const rest = decoder.decode();
    if (head !== null) {
      const first = (head + rest).split('\n').find((l) => l.trim() !== '');
      const parsed = first === undefined ? null : parseCsvRecord(first.replace(/\r$/, ''));
      columns = parsed && 'fields' in parsed ? parsed.fields.map((c) => c.trim()) : null;
    }
    if (bytes > 0 && last !== 0x0a) lines++;
    return { path, name: basename(path), format: kind, bytes, sm3: hash.digest('hex'), estimatedRows: Math.max(0, kind === 'csv' ? lines - 1 : lines), columns };
  });
}

interface Line {
  text: string;
  /** 1-based line number in the file. */
  number: number;
  /** The line was longer than MAX_LINE_CHARS and its text dropped. */
  tooLong: boolean;
}

/** The file's lines (without \r\n or \n), decoded as UTF-8 (a byte-order mark dropped), hashed on the way. */
async function* fileLines(path: string, hash: ReturnType<typeof createHash>): AsyncGenerator<Line> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let pending = '';
  let number = 0;
  let overflow = false;
  const cut = (text: string): string => (text.endsWith('\r') ? text.slice(0, -1) : text);
  for await (const chunk of openStream(path)) {
    hash.update(chunk);
    const text = decoder.decode(chunk, { stream: true });
    let start = 0;
    for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
      number++;
      if (overflow) {
        yield { text: '', number, tooLong: true };
        overflow = false;
      } else {
        yield { text: cut(pending + text.slice(start, end)), number, tooLong: false };
      }
      pending = '';
      start = end + 1;
    }
    if (!overflow) pending += text.slice(start);
    if (pending.length > MAX_LINE_CHARS) {
      overflow = true;
      pending = '';
    }
  }
  pending += decoder.decode();
  if (overflow) yield { text: '', number: number + 1, tooLong: true };
  else if (pending !== '') yield { text: cut(pending), number: number + 1, tooLong: false };
}

type CsvRecordParse = { fields: string[] } | { open: true } | { error: string };

/**
 * One CSV record from its text (lines joined by \n): comma-separated fields, fields in double quotes may hold
 * commas, quotes ("") and line breaks. `open` when a quoted field runs to the end of the text (the record goes on
 * on the next line).
 */
export function parseCsvRecord(text: string): CsvRecordParse {
  const fields: string[] = [];
  let i = 0;
  const n = text.length;
  for (;;) {
    if (text.charCodeAt(i) === 0x22 /* " */) {
      let field = '';
      let from = i + 1;
      for (;;) {
        const q = text.indexOf('"', from);
        if (q === -1) return { open: true };
        field += text.slice(from, q);
        if (text.charCodeAt(q + 1) === 0x22) {
          field += '"';
          from = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      fields.push(field);
      if (i === n) return { fields };
      if (text.charCodeAt(i) !== 0x2c /* , */) return { error: `unexpected ${JSON.stringify(text[i])} after a closing quote` };
      i++;
      continue;
    }
    const comma = text.indexOf(',', i);
    const end = comma === -1 ? n : comma;
    const field = text.slice(i, end);
    if (field.includes('"')) return { error: 'a quote inside an unquoted field; quote the whole field and double the quote ("")' };
    fields.push(field);
    if (comma === -1) return { fields };
    i = comma + 1;
  }
}

/**
 * Reads the file's data rows. CSV: the first non-blank record names the columns (trimmed; none empty, none twice,
 * else ZT_ERR_CONVERSION_INPUT); every further record is a row of trimmed cells, an empty cell meaning no value.
 * JSON Lines: each non-blank line is one object. Blank lines are skipped in both.
 */
export function readSource(path: string, format: SourceFormat, options: SourceReadOptions = {}): SourceReader {
  const hash = createHash('sm3');
  let digest: string | undefined;
  const skip = options.skip ?? 0;
  async function* rows(): AsyncGenerator<SourceRow> {
    try {
      const lines = fileLines(path, hash);
      yield* format === 'csv' ? csvRows(lines, skip, options.checkHeader) : jsonlRows(lines, skip);
    } catch (error) {
      throw readError(path, error);
    }
    digest = hash.digest('hex');
  }
  return { rows: rows(), sm3: () => digest };
}

async function* jsonlRows(lines: AsyncIterable<Line>, skip: number): AsyncGenerator<SourceRow> {
  let row = 0;
  for await (const line of lines) {
    if (!line.tooLong && line.text.trim() === '') continue;
    row++;
    if (row <= skip) continue;
    if (line.tooLong) {
      yield { row, line: line.number, raw: '', values: null, problem: `the line is longer than ${MAX_LINE_CHARS} characters` };
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(line.text);
    } catch (error) {
      yield { row, line: line.number, raw: line.text, values: null, problem: `not valid JSON: ${(error as Error).message}` };
      continue;
    }
    if (!value || typeof value !== 'object' || Array.isArray(value)) {
      yield { row, line: line.number, raw: line.text, values: null, problem: 'each line must be one JSON object' };
      continue;
    }
    yield { row, line: line.number, raw: line.text, values: value as Record<string, unknown>, problem: null };
  }
}

async function* csvRows(source: AsyncIterable<Line>, skip: number, checkHeader: SourceReadOptions['checkHeader']): AsyncGenerator<SourceRow> {
  let header: string[] | null = null;
  let row = 0;
  // Lines of the record being assembled; lines handed back after an unclosed quote are read again from `replay`.
  let record: Line[] = [];
  const replay: Line[] = [];
  const iterator = source[Symbol.asyncIterator]();
  const next = async (): Promise<Line | undefined> => {
    if (replay.length > 0) return replay.shift();
    const r = await iterator.next();
    return r.done ? undefined : r.value;
  };
  const unreadable = (lines: Line[], problem: string): SourceRow => ({ row, line: lines[0]!.number, raw: lines.map((l) => l.text).join('\n'), values: null, problem });
  for (;;) {
    const line = await next();
    if (line === undefined) {
      if (record.length === 0) break;
      // The end of the file inside a quoted field: the record's first line is bad; what follows it may be fine.
      const [first, ...rest] = record;
      record = [];
      replay.push(...rest);
      if (header === null) throw inputError(`line ${first!.number}, the header: a quoted field is not closed`);
      row++;
      if (row > skip) yield unreadable([first!], 'a quoted field is not closed before the end of the file');
      continue;
    }
    if (record.length === 0 && !line.tooLong && line.text.trim() === '') continue;
    if (line.tooLong) {
      // A line we could not hold ends any record in progress as unreadable, and is unreadable itself.
      if (header === null) throw inputError(`line ${line.number}, the header, is longer than ${MAX_LINE_CHARS} characters`);
      for (const bad of record.length > 0 ? [record, [line]] : [[line]]) {
        row++;
        if (row > skip) yield unreadable(bad, bad[0] === line ? `the line is longer than ${MAX_LINE_CHARS} characters` : 'a quoted field is not closed');
      }
      record = [];
      continue;
    }
    record.push(line);
    const text = record.length === 1 ? line.text : record.map((l) => l.text).join('\n');
    // Rows passed over on a resumed run need only their boundaries: skip the field splitting when a record is
    // obviously one line (no quote at all).
    const parsed: CsvRecordParse | null = header !== null && row + 1 <= skip && !text.includes('"') ? null : parseCsvRecord(text);
    if (parsed && 'open' in parsed) {
      if (record.length < MAX_RECORD_LINES) continue;
      const [first, ...rest] = record;
      record = [];
      replay.unshift(...rest);
      if (header === null) throw inputError(`line ${first!.number}, the header: a quoted field is not closed`);
      row++;
      if (row > skip) yield unreadable([first!], `a quoted field is not closed within ${MAX_RECORD_LINES} lines`);
      continue;
    }
    const lines = record;
    record = [];
    if (header === null) {
      if (parsed && 'error' in parsed) throw inputError(`line ${lines[0]!.number}, the header: ${parsed.error}`);
      header = (parsed as { fields: string[] }).fields.map((h) => h.trim());
      const problems = header.flatMap((h, i) => (h === '' ? [`column ${i + 1} has no name`] : header!.indexOf(h) !== i ? [`column ${h} appears twice`] : []));
      if (problems.length > 0) throw inputError(`line ${lines[0]!.number}, the header: ${problems.join('; ')}`);
      checkHeader?.(header);
      continue;
    }
    const problem = parsed === null ? null : 'error' in parsed ? parsed.error : parsed.fields.length !== header.length ? `has ${parsed.fields.length} fields, the header has ${header.length}` : null;
    if (problem !== null && lines.length > 1) {
      // Most likely a stray quote that swallowed the lines after it: only its own line is bad, the others are read
      // again as records of their own (the same on every run, so resuming counts rows the same way).
      replay.unshift(...lines.slice(1));
      row++;
      if (row > skip) yield unreadable([lines[0]!], `a quoted field opened on this line does not close where CSV allows (${problem})`);
      continue;
    }
    row++;
    if (row <= skip) continue;
    if (problem !== null) {
      yield unreadable(lines, problem);
      continue;
    }
    const fields = (parsed as { fields: string[] }).fields;
    const values: Record<string, unknown> = {};
    for (let i = 0; i < header.length; i++) {
      const cell = fields[i]!.trim();
      if (cell !== '') values[header[i]!] = cell;
    }
    yield { row, line: lines[0]!.number, raw: text, values, problem: null };
  }
  if (header === null) throw inputError('the file is empty; its first line must name the columns (licenceNumber, holderName, holderCode, issueDate …)');
}
