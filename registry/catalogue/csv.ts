// CSV as RFC 4180 writes it and spreadsheets read it: comma-separated, fields with commas, quotes or line breaks in
// double quotes ("" for a quote), CRLF between records, and a UTF-8 byte-order mark so that Excel shows Chinese.

export interface CsvRecord {
  fields: string[];
  /** Line of the file where the record starts (1-based). */
  line: number;
}

export class CsvSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'CsvSyntaxError';
  }
}

const BOM = '\uFEFF';

/** Parses CSV text into records; blank lines are skipped. Throws CsvSyntaxError on a stray or unclosed quote. */
export function parseCsv(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  const s = text.startsWith(BOM) ? text.slice(1) : text;
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let recordLine = 1;
  let quoted = false;
  let fieldStarted = false;
  const endRecord = (): void => {
    const blank = fields.length === 0 && field === '' && !fieldStarted;
    fields.push(field);
    if (!blank) records.push({ fields, line: recordLine });
    fields = [];
    field = '';
    fieldStarted = false;
  };
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (quoted) {
      if (c === '"') {
        if (s[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        const after = s[i];
        if (after !== undefined && after !== ',' && after !== '\r' && after !== '\n') {
          throw new CsvSyntaxError(line, `unexpected ${JSON.stringify(after)} after a closing quote`);
        }
        continue;
      }
      if (c === '\n') line++;
      field += c;
      i++;
      continue;
    }
    if (c === ',') {
      fields.push(field);
      field = '';
      fieldStarted = false;
      i++;
    } else if (c === '\r' || c === '\n') {
      endRecord();
      i += c === '\r' && s[i + 1] === '\n' ? 2 : 1;
      line++;
      recordLine = line;
    } else if (c === '"') {
      if (fieldStarted) throw new CsvSyntaxError(line, 'a quote inside an unquoted field; quote the whole field and double the quote ("")');
      quoted = true;
      fieldStarted = true;
      i++;
    } else {
      field += c;
      fieldStarted = true;
      i++;
    }
  }
  if (quoted) throw new CsvSyntaxError(recordLine, 'a quoted field is not closed');
  if (field !== '' || fields.length > 0 || fieldStarted) endRecord();
  return records;
}

function quote(value: string): string {
  return /[",\r\n]/.test(value) || value !== value.trim() ? `"${value.replace(/"/g, '""')}"` : value;
}

/** Formats records as CSV (CRLF line ends, a byte-order mark first unless bom is false). */
export function formatCsv(rows: readonly (readonly (string | number | boolean | null)[])[], options: { bom?: boolean } = {}): string {
  const body = rows.map((r) => r.map((v) => quote(v === null ? '' : String(v))).join(',')).join('\r\n');
  return `${options.bom === false ? '' : BOM}${body}\r\n`;
}
