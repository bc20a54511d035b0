// Reading extract files: CSV whose header row names the item codes, and JSON Lines (one object per line). A row
// that cannot be read becomes an UnreadableRow, so that loadExtract reports it with the others; each parser also
// gives the file's SM3 and the line where each row starts.
import { createHash } from 'node:crypto';
import { ZtError } from '../../core/errors/index.js';
import { CsvSyntaxError, parseCsv, type CsvRecord } from '../../registry/catalogue/csv.js';
import { UnreadableRow, type ExtractRow } from './extract.js';

/** Rows read from a whole file, ready to spread into an ExtractLoad. */
export interface ParsedExtract {
  rows: (ExtractRow | UnreadableRow)[];
  /** SM3 of the file's bytes (UTF-8 for text), hex. */
  fileSm3: string;
  lineOf: (row: number) => number | undefined;
}

/** Rows read from a stream as they arrive; fileSm3() is known once the last row was read. */
export interface StreamedExtract {
  rows: AsyncIterable<ExtractRow | UnreadableRow>;
  fileSm3: () => string | undefined;
  lineOf: (row: number) => number | undefined;
}

const utf8 = (content: string | Uint8Array): Uint8Array => (typeof content === 'string' ? Buffer.from(content, 'utf8') : content);
const text = (content: string | Uint8Array): string => (typeof content === 'string' ? content : Buffer.from(content.buffer, content.byteOffset, content.byteLength).toString('utf8'));
const sm3Hex = (bytes: Uint8Array): string => createHash('sm3').update(bytes).digest('hex');

/**
 * CSV (RFC 4180, as registry/catalogue/csv.ts reads it): the first record names the item codes (and optionally
 * _updatedAt), each further record is a row; cells are trimmed, and an empty cell means no value.
 * Throws ZT_ERR_EXTRACT_INVALID when the file is not CSV at all or its header is unusable.
 */
export function parseCsvExtract(content: string | Uint8Array): ParsedExtract {
  const fileSm3 = sm3Hex(utf8(content));
  let records: CsvRecord[];
  try {
    records = parseCsv(text(content));
  } catch (error) {
    if (error instanceof CsvSyntaxError) {
      throw new ZtError('ZT_ERR_EXTRACT_INVALID', `the extract is not valid CSV: ${error.message}`, { cause: error, details: { line: error.line } });
    }
    throw error;
  }
  const [head, ...body] = records;
  if (!head) throw new ZtError('ZT_ERR_EXTRACT_INVALID', 'the extract is empty; its first line must name the item codes');
  const header = head.fields.map((h) => h.trim());
  const problems = header.flatMap((h, i) => (h === '' ? [`column ${i + 1} has no name`] : header.indexOf(h) !== i ? [`column ${h} appears twice`] : []));
  if (problems.length > 0) throw new ZtError('ZT_ERR_EXTRACT_INVALID', `line ${head.line} of the extract, the header: ${problems.join('; ')}`, { details: { line: head.line } });
  const rows = body.map((record): ExtractRow | UnreadableRow => {
    if (record.fields.length !== header.length) return new UnreadableRow(`has ${record.fields.length} fields, the header has ${header.length}`);
    const row: Record<string, string> = {};
    for (let i = 0; i < header.length; i++) row[header[i]!] = record.fields[i]!.trim();
    return row;
  });
  const lines = body.map((r) => r.line);
  return { rows, fileSm3, lineOf: (row) => lines[row - 1] };
}

function parseLine(line: string): ExtractRow | UnreadableRow {
  try {
    return JSON.parse(line) as ExtractRow;
  } catch (error) {
    return new UnreadableRow(`not valid JSON: ${(error as Error).message}`);
  }
}

const BOM = '\uFEFF';
const isBlank = (line: string): boolean => line.trim() === '';

/** JSON Lines: one JSON object per line; blank lines are skipped. */
export function parseJsonlExtract(content: string | Uint8Array): ParsedExtract {
  const fileSm3 = sm3Hex(utf8(content));
  let s = text(content);
  if (s.startsWith(BOM)) s = s.slice(1);
  const rows: (ExtractRow | UnreadableRow)[] = [];
  const lines: number[] = [];
  s.split('\n').forEach((line, i) => {
    if (isBlank(line)) return;
    rows.push(parseLine(line));
    lines.push(i + 1);
  });
  return { rows, fileSm3, lineOf: (row) => lines[row - 1] };
}

/** JSON Lines from a stream (a file's read stream, an HTTP body), read as it arrives and hashed on the way. */
export function streamJsonlExtract(source: AsyncIterable<string | Uint8Array>): StreamedExtract {
  const hash = createHash('sm3');
  let digest: string | undefined;
  const lines: number[] = [];
  async function* rows(): AsyncGenerator<ExtractRow | UnreadableRow> {
    // The decoder drops a byte-order mark and joins characters split between chunks.
    const decoder = new TextDecoder('utf-8');
    let pending = '';
    let lineNumber = 0;
    const take = function* (chunkText: string, last: boolean): Generator<ExtractRow | UnreadableRow> {
      pending += chunkText;
      let start = 0;
      for (let end = pending.indexOf('\n'); end !== -1; end = pending.indexOf('\n', start)) {
        const line = pending.slice(start, end);
        start = end + 1;
        lineNumber++;
        if (isBlank(line)) continue;
        lines.push(lineNumber);
        yield parseLine(line);
      }
      pending = pending.slice(start);
      if (last && !isBlank(pending)) {
        lineNumber++;
        lines.push(lineNumber);
        yield parseLine(pending);
      }
    };
    for await (const chunk of source) {
      const bytes = utf8(chunk);
      hash.update(bytes);
      yield* take(decoder.decode(bytes, { stream: true }), false);
    }
    yield* take(decoder.decode(), true);
    digest = hash.digest('hex');
  }
  return { rows: rows(), fileSm3: () => digest, lineOf: (row) => lines[row - 1] };
}
