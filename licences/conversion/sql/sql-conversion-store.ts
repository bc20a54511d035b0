// Stock conversion runs in licence_conversions (migrations/0009_licences.sql), and the per-batch reads and writes
// the converter needs beside SqlLicenceStore: which numbers and identifiers are taken, and the 'convert'
// transitions of a batch in one statement.
import { randomUUID } from 'node:crypto';
import { ZtError } from '../../../core/errors/index.js';
import type { Database, Queryable } from '../../../core/storage/index.js';

export interface ConversionRecord {
  id: string;
  sourceName: string;
  sourceSm3: string;
  typeCode: string;
  /** Data rows of the file handled (accepted, skipped or rejected) and committed. */
  rowsDone: number;
  accepted: number;
  skipped: number;
  rejected: number;
  startedAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
}

export type ConversionCounts = Pick<ConversionRecord, 'rowsDone' | 'accepted' | 'skipped' | 'rejected'>;

/** A licence number of the type already in the registry, and whether (and from which line) this run converted it. */
export interface TakenNumber {
  conversionId: string | null;
  line: number | null;
}

interface ConversionRow {
  id: string;
  source_name: string;
  source_sm3: string;
  type_code: string;
  rows_done: number | string;
  accepted: number | string;
  skipped: number | string;
  rejected: number | string;
  started_at: Date;
  updated_at: Date;
  finished_at: Date | null;
}

function fromRow(r: ConversionRow): ConversionRecord {
  return {
    id: r.id,
    sourceName: r.source_name,
    sourceSm3: r.source_sm3,
    typeCode: r.type_code,
    rowsDone: Number(r.rows_done),
    accepted: Number(r.accepted),
    skipped: Number(r.skipped),
    rejected: Number(r.rejected),
    startedAt: r.started_at,
    updatedAt: r.updated_at,
    finishedAt: r.finished_at,
  };
}

/**
 * The reason written on each 'convert' transition: it says which run and line a licence came from, for people,
 * and lets a later batch of the same run tell a duplicate in the file from a licence that was there before.
 */
export function conversionReason(conversionId: string, sourceName: string, line: number): string {
  return `存量证照转化 stock conversion ${conversionId} of ${sourceName}, line ${line}`;
}

const REASON = /stock conversion ([0-9a-f-]{36}) of .*, line (\d+)$/s;

export function readConversionReason(reason: string | null): { conversionId: string; line: number } | null {
  const m = reason ? REASON.exec(reason) : null;
  return m ? { conversionId: m[1]!, line: Number(m[2]) } : null;
}

export class SqlConversionStore {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  /** The run of this file (by SM3) for this type: the one begun before, or a new one. */
  async open(sourceSm3: string, typeCode: string, sourceName: string): Promise<{ record: ConversionRecord; created: boolean }> {
    const inserted = await this.#db.query<ConversionRow>(
      `INSERT INTO licence_conversions (id, source_name, source_sm3, type_code) VALUES ($1, $2, $3, $4)
       ON CONFLICT (source_sm3, type_code) DO NOTHING RETURNING *`,
      [randomUUID(), sourceName, sourceSm3, typeCode],
    );
    if (inserted.rows[0]) return { record: fromRow(inserted.rows[0]), created: true };
    const { rows } = await this.#db.query<ConversionRow>('SELECT * FROM licence_conversions WHERE source_sm3 = $1 AND type_code = $2', [sourceSm3, typeCode]);
    return { record: fromRow(rows[0]!), created: false };
  }

  async get(id: string): Promise<ConversionRecord | null> {
    const { rows } = await this.#db.query<ConversionRow>('SELECT * FROM licence_conversions WHERE id = $1', [id]);
    return rows[0] ? fromRow(rows[0]) : null;
  }

  /**
   * Records the progress of a batch in the batch's transaction. Only from the row count this run last saw: were
   * another process converting the same file at once, one of the two would roll back here rather than count twice.
   */
  async advance(tx: Queryable, id: string, from: number, counts: ConversionCounts): Promise<void> {
    const { rowCount } = await tx.query(
      `UPDATE licence_conversions SET rows_done = $3, accepted = $4, skipped = $5, rejected = $6, updated_at = now()
       WHERE id = $1 AND rows_done = $2 AND finished_at IS NULL`,
      [id, from, counts.rowsDone, counts.accepted, counts.skipped, counts.rejected],
    );
    if (rowCount !== 1) {
      throw new ZtError('ZT_ERR_CONVERSION_CONFLICT', `conversion ${id} moved on while this run was at row ${from}: another run of the same file and type is going on; let it finish, or run again to resume`);
    }
  }

  async finish(id: string): Promise<ConversionRecord> {
    const { rows } = await this.#db.query<ConversionRow>('UPDATE licence_conversions SET finished_at = now(), updated_at = now() WHERE id = $1 RETURNING *', [id]);
    return fromRow(rows[0]!);
  }

  /** Among `numbers`, those the type already has (any version), with the run and line that converted them, if one did. */
  async takenNumbers(typeCode: string, numbers: readonly string[]): Promise<Map<string, TakenNumber>> {
    const taken = new Map<string, TakenNumber>();
    if (numbers.length === 0) return taken;
    const { rows } = await this.#db.query<{ licence_number: string; reason: string | null }>(
      `SELECT l.licence_number, t.reason FROM licences l
       LEFT JOIN licence_transitions t ON t.identifier = l.identifier AND t.kind = 'convert'
       WHERE l.type_code = $1 AND l.licence_number = ANY($2::text[])`,
      [typeCode, numbers],
    );
    for (const r of rows) {
      const from = readConversionReason(r.reason);
      const known = taken.get(r.licence_number);
      if (!known || (known.conversionId === null && from)) taken.set(r.licence_number, { conversionId: from?.conversionId ?? null, line: from?.line ?? null });
    }
    return taken;
  }

  /** Among `identifiers`, those some licence already has: identifier → its type and number. */
  async takenIdentifiers(identifiers: readonly string[]): Promise<Map<string, { typeCode: string; licenceNumber: string }>> {
    const taken = new Map<string, { typeCode: string; licenceNumber: string }>();
    if (identifiers.length === 0) return taken;
    const { rows } = await this.#db.query<{ identifier: string; type_code: string; licence_number: string }>(
      'SELECT identifier, type_code, licence_number FROM licences WHERE identifier = ANY($1::text[])',
      [identifiers],
    );
    for (const r of rows) taken.set(r.identifier, { typeCode: r.type_code, licenceNumber: r.licence_number });
    return taken;
  }

  /** The 'convert' transitions of a batch (actor: the platform), in one statement. */
  async appendConvertTransitions(tx: Queryable, actor: string, transitions: readonly { identifier: string; reason: string }[]): Promise<void> {
    if (transitions.length === 0) return;
    await tx.query(
      `INSERT INTO licence_transitions (identifier, kind, actor_uscc, reason, from_status, to_status)
       SELECT u.identifier, 'convert', $1, u.reason, NULL, 'active' FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS u(identifier, reason, n) ORDER BY u.n`,
      [actor, transitions.map((t) => t.identifier), transitions.map((t) => t.reason)],
    );
  }
}
