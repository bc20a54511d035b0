// Console accounts (控制台账户): the people who sign in to the web console, each acting for one department (a citizen:
// the service portal they come through). Local accounts are managed with `zhengtong operator` and sign in with a
// password; accounts of the city's identity provider are made at their first sign-in there (console/accounts/oidc.ts).
// A citizen's resident ID number is kept sealed, with its blind index (one account per citizen).
import { randomUUID } from 'node:crypto';
import { ZtError } from '../../core/errors/index.js';
import { isValidResidentId, isValidUscc } from '../../core/identifiers/index.js';
import type { BlindIndex } from '../../core/pseudonyms/index.js';
import { SqlState, sqlState, type Database, type Queryable } from '../../core/storage/index.js';
import type { PersonKind } from '../../transport/person.js';
import { checkPasswordRules, DEFAULT_SCRYPT_COST, hashPassword, type ScryptCost } from './passwords.js';
import { SubjectSeal } from './sealing.js';
import { recordSignInEvent } from './events.js';

export type AccountSource = 'local' | 'oidc';
export type SessionEndReason = 'sign-out' | 'idle' | 'expired' | 'password-reset' | 'disabled';

/** An account as operators see it: never its password hash nor the citizen's ID number. */
export interface ConsoleAccount {
  readonly id: string;
  readonly login: string;
  readonly name: string;
  readonly kind: PersonKind;
  readonly department: string;
  readonly source: AccountSource;
  readonly disabled: boolean;
  readonly failedAttempts: number;
  /** Until when sign-in is refused after repeated failures; null when not locked (or the lock has run out). */
  readonly lockedUntil: Date | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface NewConsoleAccount {
  login: string;
  name: string;
  /** USCC of the department the person acts for (a citizen: the service portal's). */
  department: string;
  kind?: PersonKind;
  /** A citizen's resident ID number (kind 'citizen' only); sealed before it is stored. */
  subject?: string;
  password: string;
}

/** A row of console_accounts, as the sessions read it. */
export interface AccountRow {
  id: string;
  login: string;
  name: string;
  kind: PersonKind;
  department: string;
  source: AccountSource;
  subject_sealed: string | null;
  subject_index: string | null;
  password_hash: string | null;
  disabled: boolean;
  failed_attempts: number;
  locked_until: Date | null;
  created_at: Date;
  updated_at: Date;
}

export const ACCOUNT_COLUMNS =
  'a.id::text AS id, a.login, a.name, a.kind, a.department, a.source, a.subject_sealed, a.subject_index, a.password_hash, a.disabled, a.failed_attempts, a.locked_until, a.created_at, a.updated_at';

/** A local login: letters, digits and . _ @ -, 2 to 64 characters, kept in lower case. */
const LOCAL_LOGIN = /^[a-z0-9][a-z0-9._@-]{1,63}$/;

export function normaliseLogin(login: string): string {
  return login.trim().toLowerCase();
}

const invalid = (field: string, message: string): ZtError => new ZtError('ZT_ERR_ACCOUNT_INVALID', message, { details: { field } });

export interface ConsoleAccountsOptions {
  db: Database;
  /** The platform's blind index: a citizen's ID number is indexed with it and sealed under a key derived from it. */
  pseudonyms: BlindIndex;
  /** The clock (tests move it). */
  now?: () => Date;
  /** scrypt's cost for new hashes (default N = 2^15, r = 8, p = 1). */
  scryptCost?: ScryptCost;
}

export class ConsoleAccounts {
  readonly #db: Database;
  readonly #seal: SubjectSeal;
  readonly #now: () => Date;
  readonly scryptCost: ScryptCost;

  constructor(options: ConsoleAccountsOptions) {
    this.#db = options.db;
    this.#seal = new SubjectSeal(options.pseudonyms);
    this.#now = options.now ?? (() => new Date());
    this.scryptCost = options.scryptCost ?? DEFAULT_SCRYPT_COST;
  }

  /** Adds a local account; ZT_ERR_ACCOUNT_INVALID (details.field) or ZT_ERR_ACCOUNT_EXISTS. */
  async add(input: NewConsoleAccount): Promise<ConsoleAccount> {
    const login = normaliseLogin(input.login ?? '');
    if (!LOCAL_LOGIN.test(login)) throw invalid('login', 'a login is 2 to 64 letters, digits or . _ @ -, starting with a letter or digit');
    const name = (input.name ?? '').trim();
    if (name.length < 1 || name.length > 200) throw invalid('name', 'a name is 1 to 200 characters');
    const department = (input.department ?? '').trim().toUpperCase();
    if (!isValidUscc(department)) throw invalid('department', `${JSON.stringify(input.department)} is not a valid unified social credit code`);
    const kind = input.kind ?? 'staff';
    if (kind !== 'staff' && kind !== 'citizen') throw invalid('kind', 'an account is staff or citizen');
    let subject: string | null = null;
    if (kind === 'citizen') {
      subject = (input.subject ?? '').trim().toUpperCase();
      if (!isValidResidentId(subject)) throw invalid('subject', 'a citizen account needs the citizen\'s valid resident ID number (18 characters, GB 11643)');
    } else if (input.subject !== undefined) throw invalid('subject', 'only a citizen account carries a resident ID number');
    checkPasswordRules(input.password ?? '');
    const passwordHash = await hashPassword(input.password, this.scryptCost);
    const id = randomUUID();
    const now = this.#now();
    try {
      await this.#db.transaction(async (tx) => {
        if (subject !== null) {
          const { rows } = await tx.query<{ login: string }>('SELECT login FROM console_accounts WHERE subject_index = ANY($1::text[])', [this.#candidates(subject)]);
          if (rows.length > 0) throw new ZtError('ZT_ERR_ACCOUNT_EXISTS', `this citizen has a console account already (${rows[0]!.login})`, { details: { field: 'subject' } });
        }
        await tx.query(
          `INSERT INTO console_accounts (id, login, name, kind, department, source, subject_sealed, subject_index, password_hash, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, 'local', $6, $7, $8, $9, $9)`,
          [id, login, name, kind, department, subject === null ? null : this.#seal.seal(subject, id), subject === null ? null : this.#seal.index(subject), passwordHash, now],
        );
      });
    } catch (error) {
      if (sqlState(error) === SqlState.uniqueViolation) throw new ZtError('ZT_ERR_ACCOUNT_EXISTS', `a console account with the login ${login} exists already`, { cause: error, details: { field: 'login' } });
      throw error;
    }
    return this.get(login);
  }

  /** The account of a login; ZT_ERR_ACCOUNT_NOT_FOUND. */
  async get(login: string): Promise<ConsoleAccount> {
    const row = await this.row(this.#db, login);
    if (!row) throw new ZtError('ZT_ERR_ACCOUNT_NOT_FOUND', `no console account has the login ${JSON.stringify(login)}`);
    return this.#public(row);
  }

  /** Every account, by login. */
  async list(): Promise<ConsoleAccount[]> {
    const { rows } = await this.#db.query<AccountRow>(`SELECT ${ACCOUNT_COLUMNS} FROM console_accounts a ORDER BY a.login`);
    return rows.map((r) => this.#public(r));
  }

  /** Refuses the account's sign-ins from now on and ends its open sessions. */
  async disable(login: string): Promise<{ account: ConsoleAccount; sessionsEnded: number }> {
    return this.#change(login, 'disabled = true', 'disabled');
  }

  /** Lets the account sign in again (its lock, if any, stays until it runs out or the password is reset). */
  async enable(login: string): Promise<ConsoleAccount> {
    return (await this.#change(login, 'disabled = false', null)).account;
  }

  /** Sets a new password, unlocks the account and ends its open sessions (a local account only). */
  async resetPassword(login: string, password: string): Promise<{ account: ConsoleAccount; sessionsEnded: number }> {
    checkPasswordRules(password ?? '');
    const account = await this.get(login);
    if (account.source !== 'local') throw invalid('login', `${account.login} signs in at the identity provider and has no password here`);
    const hash = await hashPassword(password, this.scryptCost);
    return this.#change(login, 'password_hash = $3, failed_attempts = 0, locked_until = NULL', 'password-reset', [hash]);
  }

  async #change(login: string, set: string, endSessions: SessionEndReason | null, extra: unknown[] = []): Promise<{ account: ConsoleAccount; sessionsEnded: number }> {
    const now = this.#now();
    const ended = await this.#db.transaction(async (tx) => {
      const { rows } = await tx.query<{ id: string }>(`UPDATE console_accounts SET ${set}, updated_at = $2 WHERE login = $1 RETURNING id::text AS id`, [normaliseLogin(login), now, ...extra]);
      if (rows.length === 0) throw new ZtError('ZT_ERR_ACCOUNT_NOT_FOUND', `no console account has the login ${JSON.stringify(login)}`);
      return endSessions === null ? 0 : endSessionsOf(tx, rows[0]!.id, endSessions, now);
    });
    return { account: await this.get(login), sessionsEnded: ended };
  }

  /** The account row of a login (for sign-in), or null. */
  async row(q: Queryable, login: string): Promise<AccountRow | null> {
    // Local logins are kept in lower case; an identity provider's subject as it came.
    const given = login.trim();
    const { rows } = await q.query<AccountRow>(
      `SELECT ${ACCOUNT_COLUMNS} FROM console_accounts a WHERE a.login = $1 OR (a.source = 'local' AND a.login = $2) ORDER BY (a.login = $1) DESC LIMIT 1`,
      [given, normaliseLogin(given)],
    );
    return rows[0] ?? null;
  }

  /**
   * The account of a person the identity provider signed in: made (staff, source 'oidc') at their first sign-in, its
   * name and department kept as the provider says now. ZT_ERR_OIDC_FAILED when the login belongs to a local account
   * or the account is disabled.
   */
  async ensureProviderAccount(input: { login: string; name: string; department: string }): Promise<AccountRow> {
    const now = this.#now();
    const id = randomUUID();
    await this.#db.query(
      `INSERT INTO console_accounts (id, login, name, kind, department, source, created_at, updated_at)
       VALUES ($1, $2, $3, 'staff', $4, 'oidc', $5, $5)
       ON CONFLICT (login) DO UPDATE SET name = EXCLUDED.name, department = EXCLUDED.department, updated_at = EXCLUDED.updated_at
       WHERE console_accounts.source = 'oidc' AND (console_accounts.name, console_accounts.department) IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.department)`,
      [id, input.login, input.name, input.department, now],
    );
    const { rows } = await this.#db.query<AccountRow>(`SELECT ${ACCOUNT_COLUMNS} FROM console_accounts a WHERE a.login = $1`, [input.login]);
    const row = rows[0];
    if (!row || row.source !== 'oidc') throw new ZtError('ZT_ERR_OIDC_FAILED', `the identity provider's person ${JSON.stringify(input.login)} has the login of a local account; an operator must rename one of them`);
    if (row.disabled) throw new ZtError('ZT_ERR_OIDC_FAILED', 'this console account is disabled');
    return row;
  }

  /** A citizen's resident ID number, opened for the call; null for staff. */
  subjectOf(row: Pick<AccountRow, 'id' | 'subject_sealed'>): string | null {
    return row.subject_sealed === null ? null : this.#seal.open(row.subject_sealed, row.id);
  }

  /** The blind index of a resident ID number under every live key version (an account made before a rotation). */
  #candidates(subject: string): string[] {
    return this.#seal.candidates(subject);
  }

  #public(r: AccountRow): ConsoleAccount {
    const lockedUntil = r.locked_until === null ? null : new Date(r.locked_until);
    return {
      id: r.id,
      login: r.login,
      name: r.name,
      kind: r.kind,
      department: r.department.trim(),
      source: r.source,
      disabled: r.disabled,
      failedAttempts: r.failed_attempts,
      lockedUntil: lockedUntil !== null && lockedUntil > this.#now() ? lockedUntil : null,
      createdAt: new Date(r.created_at),
      updatedAt: new Date(r.updated_at),
    };
  }
}

/** Ends an account's open sessions, recording each as ended; returns how many. */
export async function endSessionsOf(q: Queryable, accountId: string, reason: SessionEndReason, now: Date): Promise<number> {
  const { rows } = await q.query<{ id: string; login: string; via: 'local' | 'oidc' }>(
    `UPDATE console_sessions s SET ended_at = $2, ended_reason = $3 FROM console_accounts a
     WHERE s.account_id = $1 AND s.ended_at IS NULL AND a.id = s.account_id RETURNING s.id::text AS id, a.login, s.via`,
    [accountId, now, reason],
  );
  for (const r of rows) await recordSignInEvent(q, { at: now, event: reason === 'sign-out' ? 'sign-out' : 'expiry', login: r.login, accountId, sessionId: r.id, via: r.via, reason });
  return rows.length;
}
