// The rejects file: one JSON line per rejected row, written before the batch that rejected it commits. A resumed run
// first drops the lines of rows after the last committed batch (that batch is done again), so every rejected row is
// in the file exactly once however often the run was interrupted.
import { createReadStream, existsSync } from 'node:fs';
import { open, rename, type FileHandle } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { ZtError, type ErrorCode } from '../../core/errors/index.js';

export interface RejectedRow {
  /** Line of the file where the row starts (1-based). */
  line: number;
  /** The row's ordinal among the data rows (1-based, the header not counted): what resuming counts by. */
  row: number;
  licenceNumber?: string;
  code: ErrorCode;
  reason: string;
  /** The row as written in the file (CSV: without the header). */
  raw: string;
}

export class RejectsFile {
  readonly path: string;
  readonly #handle: FileHandle;

  private constructor(path: string, handle: FileHandle) {
    this.path = path;
    this.#handle = handle;
  }

  /**
   * Opens the file for appending, keeping only the lines of rows up to `keepRows` (0 for a run from the start);
   * ZT_ERR_CONVERSION_INPUT when it cannot be written.
   */
  static async open(path: string, keepRows: number): Promise<RejectsFile> {
    try {
      return await RejectsFile.#open(path, keepRows);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) {
        throw new ZtError('ZT_ERR_CONVERSION_INPUT', `cannot write the rejects file ${path}: ${code} (choose another place with --rejects)`, { cause: error });
      }
      throw error;
    }
  }

  static async #open(path: string, keepRows: number): Promise<RejectsFile> {
    if (keepRows > 0 && existsSync(path)) {
      const kept = `${path}.resume`;
      const out = await open(kept, 'w');
      try {
        const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
        for await (const line of lines) {
          let row: unknown;
          try {
            row = (JSON.parse(line) as { row?: unknown }).row;
          } catch {
            continue;
          }
          if (typeof row === 'number' && row <= keepRows) await out.write(`${line}\n`);
        }
        await out.sync();
      } finally {
        await out.close();
      }
      await rename(kept, path);
      return new RejectsFile(path, await open(path, 'a'));
    }
    return new RejectsFile(path, await open(path, 'w'));
  }

  /** Appends rows and makes them durable (a batch commits only after its rejects are on disk). */
  async append(rows: readonly RejectedRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.#handle.write(rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
    await this.#handle.datasync();
  }

  async close(): Promise<void> {
    await this.#handle.close();
  }
}
