// Covert cases (秘密办件): a department investigating someone must not tip them off through the transparency view, so
// the accesses made for a flagged case stay out of the subject's own view until the flag's release date (a China
// calendar date, visible from that day on, inclusive). Supervisors always see them, marked covert. A flag is set by
// the department that owns the case (only for its own cases) or by a supervisor, with a reason; only a supervisor
// lifts one, and a lifted flag stays in the table with who lifted it and why.
import { randomUUID } from 'node:crypto';
import { ZtError } from '../../core/errors/index.js';
import { sqlState, SqlState, type Queryable } from '../../core/storage/index.js';
import { ACCESS_RECORD_LIMITS } from '../access-record.js';
import { invalidParameter } from './query.js';

export interface CovertCase {
  readonly id: string;
  readonly requester: string;
  readonly caseNumber: string;
  /** YYYY-MM-DD, China time: the accesses become visible to the subject on this date. */
  readonly releaseOn: string;
  readonly reason: string;
  readonly flaggedBy: string;
  readonly flaggedAt: Date;
  readonly liftedBy: string | null;
  readonly liftedAt: Date | null;
  readonly liftReason: string | null;
}

export interface CovertFlagInput {
  requester: string;
  caseNumber: string;
  releaseOn: string;
  reason: string;
}

interface Row {
  id: string;
  requester: string;
  case_number: string;
  release_on: string | Date;
  reason: string;
  flagged_by: string;
  flagged_at: Date | string;
  lifted_by: string | null;
  lifted_at: Date | string | null;
  lift_reason: string | null;
}

const COLUMNS = 'id, requester, case_number, release_on::text AS release_on, reason, flagged_by, flagged_at, lifted_by, lifted_at, lift_reason';
const DATE = /^\d{4}-\d{2}-\d{2}$/;
export const COVERT_LIST_MAX = 500;

function date(value: Date | string): Date {
  return value instanceof Date ? value : new Date(value);
}

function fromRow(row: Row): CovertCase {
  return {
    id: row.id,
    requester: row.requester,
    caseNumber: row.case_number,
    releaseOn: typeof row.release_on === 'string' ? row.release_on.slice(0, 10) : row.release_on.toISOString().slice(0, 10),
    reason: row.reason,
    flaggedBy: row.flagged_by,
    flaggedAt: date(row.flagged_at),
    liftedBy: row.lifted_by,
    liftedAt: row.lifted_at === null ? null : date(row.lifted_at),
    liftReason: row.lift_reason,
  };
}

/** Checks the text fields of a flag; dates must be real calendar dates. */
export function checkFlagInput(input: CovertFlagInput): CovertFlagInput {
  const caseNumber = typeof input.caseNumber === 'string' ? input.caseNumber.trim() : '';
  if (caseNumber === '' || caseNumber.length > ACCESS_RECORD_LIMITS.caseNumber || /[\u0000-\u001f\u007f]/.test(caseNumber)) {
    throw invalidParameter('caseNumber', `is required: the case (办件编号), 1 to ${ACCESS_RECORD_LIMITS.caseNumber} printable characters`);
  }
  const releaseOn = typeof input.releaseOn === 'string' ? input.releaseOn.trim() : '';
  const parsed = DATE.test(releaseOn) ? new Date(`${releaseOn}T00:00:00Z`) : null;
  if (!parsed || Number.isNaN(parsed.getTime()) || parsed.toISOString().slice(0, 10) !== releaseOn || releaseOn < '2000-01-01' || releaseOn > '9999-12-31') {
    throw invalidParameter('releaseOn', 'must be a calendar date, YYYY-MM-DD (China time), from which the subject may see the accesses');
  }
  const reason = typeof input.reason === 'string' ? input.reason.trim() : '';
  if (reason === '' || reason.length > 500 || /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(reason)) throw invalidParameter('reason', 'is required, at most 500 characters');
  return { requester: input.requester, caseNumber, releaseOn, reason };
}

export class CovertCaseStore {
  constructor(private readonly db: Queryable) {}

  async flag(input: CovertFlagInput, flaggedBy: string, at: Date): Promise<CovertCase> {
    try {
      const { rows } = await this.db.query<Row>(
        `INSERT INTO audit_covert_cases (id, requester, case_number, release_on, reason, flagged_by, flagged_at)
         VALUES ($1, $2, $3, $4::date, $5, $6, $7) RETURNING ${COLUMNS}`,
        [randomUUID(), input.requester, input.caseNumber, input.releaseOn, input.reason, flaggedBy, at],
      );
      return fromRow(rows[0]!);
    } catch (error) {
      if (sqlState(error) === SqlState.uniqueViolation) {
        throw new ZtError('ZT_ERR_AUDIT_COVERT_CASE_EXISTS', `case ${input.caseNumber} of ${input.requester} is already flagged covert`, { cause: error });
      }
      throw error;
    }
  }

  async lift(id: string, liftedBy: string, reason: string | null, at: Date): Promise<CovertCase> {
    const { rows } = await this.db.query<Row>(
      `UPDATE audit_covert_cases SET lifted_by = $2, lifted_at = $3, lift_reason = $4 WHERE id = $1 AND lifted_at IS NULL RETURNING ${COLUMNS}`,
      [id, liftedBy, at, reason],
    );
    if (!rows[0]) throw new ZtError('ZT_ERR_AUDIT_COVERT_CASE_NOT_FOUND', `no covert-case flag in force has id ${id}`);
    return fromRow(rows[0]);
  }

  /** Flags, newest first: those in force, or every one with `all`; of one requester when given. */
  async list(options: { requester?: string; all?: boolean; limit?: number }): Promise<CovertCase[]> {
    const params: unknown[] = [];
    const where: string[] = [];
    if (!options.all) where.push('lifted_at IS NULL');
    if (options.requester !== undefined) {
      params.push(options.requester);
      where.push(`requester = $${params.length}`);
    }
    params.push(Math.min(options.limit ?? COVERT_LIST_MAX, COVERT_LIST_MAX));
    const { rows } = await this.db.query<Row>(
      `SELECT ${COLUMNS} FROM audit_covert_cases ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY flagged_at DESC, id LIMIT $${params.length}`,
      params,
    );
    return rows.map(fromRow);
  }

  /** The flag in force for one case, if any. */
  async forCase(requester: string | null, caseNumber: string | null): Promise<CovertCase | null> {
    if (requester === null || caseNumber === null) return null;
    const { rows } = await this.db.query<Row>(`SELECT ${COLUMNS} FROM audit_covert_cases WHERE requester = $1 AND case_number = $2 AND lifted_at IS NULL`, [requester, caseNumber]);
    return rows[0] ? fromRow(rows[0]) : null;
  }
}

export function covertCaseJson(c: CovertCase): Record<string, unknown> {
  return {
    id: c.id,
    requester: c.requester,
    caseNumber: c.caseNumber,
    releaseOn: c.releaseOn,
    reason: c.reason,
    flaggedBy: c.flaggedBy,
    flaggedAt: c.flaggedAt.toISOString(),
    liftedBy: c.liftedBy,
    liftedAt: c.liftedAt?.toISOString() ?? null,
    liftReason: c.liftReason,
  };
}
