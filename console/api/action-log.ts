// Every console action, read or step, answered or refused, recorded with the person and the department they acted
// for (console_actions, append-only, migrations/0018). Reads of the access log are recorded again, in the log's own
// record of who read it (audit_queries), by the audit service itself.
import type { Database } from '../../core/storage/index.js';
import type { Person } from '../../transport/person.js';

export interface ConsoleAction {
  readonly person: Pick<Person, 'accountId' | 'login' | 'department' | 'sessionId'>;
  /** The console route's action name, e.g. audit.search. */
  readonly action: string;
  /** What it was done to (an id or a path); never an identifier in clear. */
  readonly target: string | null;
  readonly status: number;
  readonly errorCode: string | null;
}

export interface ConsoleActionRow {
  seq: number;
  at: string;
  accountId: string;
  login: string;
  department: string;
  sessionId: string;
  action: string;
  target: string | null;
  outcome: 'ok' | 'refused' | 'failed';
  status: number;
  errorCode: string | null;
}

/** A path without its query string (filters may name a subject), cut short; ids in console paths are UUIDs. */
function targetOf(target: string | null): string | null {
  return target === null ? null : target.split('?')[0]!.slice(0, 200);
}

export class ConsoleActionLog {
  constructor(
    private readonly db: Database,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async record(a: ConsoleAction): Promise<void> {
    const outcome = a.status < 400 ? 'ok' : a.status < 500 ? 'refused' : 'failed';
    await this.db.query(
      `INSERT INTO console_actions (at, account_id, login, department, session_id, action, target, outcome, status, error_code)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [this.now(), a.person.accountId, a.person.login, a.person.department, a.person.sessionId, a.action, targetOf(a.target), outcome, a.status, a.errorCode],
    );
  }

  /** The latest actions of one account, newest first. */
  async ofAccount(accountId: string, limit = 50): Promise<ConsoleActionRow[]> {
    const { rows } = await this.db.query<{
      seq: string;
      at: Date | string;
      account_id: string;
      login: string;
      department: string;
      session_id: string;
      action: string;
      target: string | null;
      outcome: 'ok' | 'refused' | 'failed';
      status: number;
      error_code: string | null;
    }>('SELECT * FROM console_actions WHERE account_id = $1 ORDER BY seq DESC LIMIT $2', [accountId, limit]);
    return rows.map((r) => ({
      seq: Number(r.seq),
      at: new Date(r.at).toISOString(),
      accountId: r.account_id,
      login: r.login,
      department: r.department.trim(),
      sessionId: r.session_id,
      action: r.action,
      target: r.target,
      outcome: r.outcome,
      status: Number(r.status),
      errorCode: r.error_code,
    }));
  }
}
