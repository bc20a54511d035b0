// Console sessions (会话): a person signs in with a local account's password (or at the identity provider,
// console/accounts/oidc.ts) and gets a session kept in the database, presented as the cookie
// `zt_session=<session id>.<secret>`; the database keeps only the SHA-256 of the secret. Each session has a CSRF
// token that every state-changing call must carry, an idle timeout and an absolute lifetime; sign-out ends it on the
// server. Repeated wrong passwords lock the account for a while. Every outcome is recorded (console_sign_in_events).
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { ZtError } from '../../core/errors/index.js';
import type { Database } from '../../core/storage/index.js';
import type { RegistryRole } from '../../transport/access.js';
import { staffRoles, type ConsoleRole, type Person, type PersonAuthenticator, type PresentedSession } from '../../transport/person.js';
import { ACCOUNT_COLUMNS, endSessionsOf, type AccountRow, type ConsoleAccounts, type SessionEndReason } from './accounts.js';
import { recordSignInEvent, type ClientInfo } from './events.js';
import { hashPassword, verifyPassword } from './passwords.js';

export interface ConsoleSessionSettings {
  /** Consecutive wrong passwords that lock an account (ZT_CONSOLE_MAX_FAILURES). */
  readonly maxFailures: number;
  /** How long the lock lasts (ZT_CONSOLE_LOCK_MINUTES). */
  readonly lockMinutes: number;
  /** A session unused this long ends (ZT_CONSOLE_IDLE_MINUTES). */
  readonly idleMinutes: number;
  /** A session ends this long after sign-in however it is used (ZT_CONSOLE_SESSION_HOURS). */
  readonly sessionHours: number;
}

export const DEFAULT_CONSOLE_SESSION_SETTINGS: ConsoleSessionSettings = Object.freeze({ maxFailures: 5, lockMinutes: 15, idleMinutes: 30, sessionHours: 8 });

/** A session just begun: what the HTTP layer sets as the cookie and answers. */
export interface StartedSession {
  /** The cookie's value, `<session id>.<secret>`: shown once, never stored. */
  readonly cookie: string;
  readonly csrf: string;
  readonly person: Person;
  readonly expiresAt: Date;
  readonly idleExpiresAt: Date;
}

export interface SessionState {
  readonly csrf: string;
  readonly expiresAt: Date;
  readonly idleExpiresAt: Date;
}

export interface ConsoleSessionsOptions {
  db: Database;
  accounts: ConsoleAccounts;
  /** The registry roles a department holds now (RoleRegistry.rolesOf). */
  rolesOf: (department: string) => ReadonlySet<RegistryRole>;
  settings?: Partial<ConsoleSessionSettings>;
  now?: () => Date;
}

const COOKIE = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.([A-Za-z0-9_-]{43})$/;
/** last_seen_at is written at most this often, so a page's burst of calls is one write. */
const TOUCH_EVERY_MS = 15_000;
const MINUTE_MS = 60_000;

interface SessionRow extends AccountRow {
  session_id: string;
  secret_hash: Buffer;
  csrf_token: string;
  via: 'local' | 'oidc';
  last_seen_at: Date;
  expires_at: Date;
  ended_at: Date | null;
}

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

const signInFailed = (): ZtError => new ZtError('ZT_ERR_SIGN_IN_FAILED', 'wrong login or password');

export class ConsoleSessions implements PersonAuthenticator {
  readonly settings: ConsoleSessionSettings;
  readonly #db: Database;
  readonly #accounts: ConsoleAccounts;
  readonly #rolesOf: (department: string) => ReadonlySet<RegistryRole>;
  readonly #now: () => Date;
  /** A hash checked for unknown logins, so that their answer takes as long as a wrong password's. */
  #dummy: Promise<string> | null = null;

  constructor(options: ConsoleSessionsOptions) {
    this.#db = options.db;
    this.#accounts = options.accounts;
    this.#rolesOf = options.rolesOf;
    this.#now = options.now ?? (() => new Date());
    this.settings = Object.freeze({ ...DEFAULT_CONSOLE_SESSION_SETTINGS, ...options.settings });
    for (const [name, value] of Object.entries(this.settings)) {
      if (!Number.isInteger(value) || value < 1) throw new TypeError(`console session setting ${name} must be a positive integer, not ${value}`);
    }
  }

  /** The absolute lifetime in seconds (the cookie's Max-Age). */
  get lifetimeSeconds(): number {
    return this.settings.sessionHours * 3600;
  }

  /**
   * Signs a person in with a local account's password. Wrong login, wrong password and a disabled account get the
   * same answer (ZT_ERR_SIGN_IN_FAILED) after the same work; a locked account ZT_ERR_ACCOUNT_LOCKED, whatever the
   * password, until the lock runs out.
   */
  async signIn(login: string, password: string, client: ClientInfo = {}): Promise<StartedSession> {
    const presented = String(login ?? '').slice(0, 200);
    const row = presented.trim() === '' ? null : await this.#accounts.row(this.#db, presented);
    const now = this.#now();
    const event = { at: now, login: presented, via: 'local' as const, ip: client.ip ?? null, userAgent: client.userAgent ?? null };
    if (!row || row.source !== 'local' || row.password_hash === null) {
      await verifyPassword(String(password ?? ''), await this.#dummyHash());
      await recordSignInEvent(this.#db, { ...event, event: 'failure', accountId: row?.id ?? null, reason: row ? 'not a local account' : 'unknown login' });
      throw signInFailed();
    }
    if (row.locked_until !== null && new Date(row.locked_until) > now) {
      await verifyPassword(String(password ?? ''), await this.#dummyHash());
      await recordSignInEvent(this.#db, { ...event, event: 'failure', accountId: row.id, reason: 'locked' });
      throw this.#locked(new Date(row.locked_until), now);
    }
    const right = await verifyPassword(String(password ?? ''), row.password_hash);
    if (row.disabled) {
      await recordSignInEvent(this.#db, { ...event, event: 'failure', accountId: row.id, reason: 'disabled' });
      throw signInFailed();
    }
    if (!right) {
      const until = new Date(now.getTime() + this.settings.lockMinutes * MINUTE_MS);
      // One statement, so concurrent guesses each count.
      const { rows } = await this.#db.query<{ locked: boolean }>(
        `UPDATE console_accounts SET
           locked_until = CASE WHEN failed_attempts + 1 >= $2 THEN $3 ELSE locked_until END,
           failed_attempts = CASE WHEN failed_attempts + 1 >= $2 THEN 0 ELSE failed_attempts + 1 END,
           updated_at = $4
         WHERE id = $1 RETURNING locked_until IS NOT DISTINCT FROM $3::timestamptz AS locked`,
        [row.id, this.settings.maxFailures, until, now],
      );
      await recordSignInEvent(this.#db, { ...event, event: 'failure', accountId: row.id, reason: 'wrong password' });
      if (rows[0]?.locked) {
        await recordSignInEvent(this.#db, { ...event, event: 'lockout', accountId: row.id, reason: `${this.settings.maxFailures} failures in a row` });
        throw this.#locked(until, now);
      }
      throw signInFailed();
    }
    await this.#db.query('UPDATE console_accounts SET failed_attempts = 0, locked_until = NULL WHERE id = $1 AND (failed_attempts <> 0 OR locked_until IS NOT NULL)', [row.id]);
    return this.start(row, 'local', client);
  }

  /** Begins a session for an account whose person proved who they are (the password, or the identity provider). */
  async start(row: AccountRow, via: 'local' | 'oidc', client: ClientInfo = {}): Promise<StartedSession> {
    const now = this.#now();
    const id = randomUUID();
    const secret = randomBytes(32).toString('base64url');
    const csrf = randomBytes(32).toString('base64url');
    const expiresAt = new Date(now.getTime() + this.lifetimeSeconds * 1000);
    await this.#db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO console_sessions (id, secret_hash, account_id, csrf_token, via, created_at, last_seen_at, expires_at, ip, user_agent)
         VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, $9)`,
        [id, sha256(secret), row.id, csrf, via, now, expiresAt, client.ip?.slice(0, 64) ?? null, client.userAgent?.slice(0, 400) ?? null],
      );
      await recordSignInEvent(tx, { at: now, event: 'success', login: row.login, accountId: row.id, sessionId: id, via, ip: client.ip ?? null, userAgent: client.userAgent ?? null });
    });
    return { cookie: `${id}.${secret}`, csrf, person: this.#person(row, id, via), expiresAt, idleExpiresAt: this.#idleEnd(now, expiresAt) };
  }

  /** The person of a console call's session; ZT_ERR_SESSION_REQUIRED, ZT_ERR_SESSION_EXPIRED or ZT_ERR_CSRF_INVALID. */
  async authenticate(presented: PresentedSession): Promise<Person> {
    const m = presented.cookie === undefined ? null : COOKIE.exec(presented.cookie);
    if (!m) throw new ZtError('ZT_ERR_SESSION_REQUIRED', 'sign in to the console first (/console)');
    const { rows } = await this.#db.query<SessionRow>(
      `SELECT ${ACCOUNT_COLUMNS}, s.id::text AS session_id, s.secret_hash, s.csrf_token, s.via, s.last_seen_at, s.expires_at, s.ended_at
       FROM console_sessions s JOIN console_accounts a ON a.id = s.account_id WHERE s.id = $1`,
      [m[1]],
    );
    const s = rows[0];
    if (!s || !timingSafeEqual(Buffer.from(s.secret_hash), sha256(m[2]!))) throw new ZtError('ZT_ERR_SESSION_REQUIRED', 'this console session is not known; sign in again');
    if (s.ended_at !== null) throw new ZtError('ZT_ERR_SESSION_EXPIRED', 'this console session has ended; sign in again');
    const now = this.#now();
    const lastSeen = new Date(s.last_seen_at);
    const expiresAt = new Date(s.expires_at);
    const ended: SessionEndReason | null = now >= expiresAt ? 'expired' : now.getTime() >= lastSeen.getTime() + this.settings.idleMinutes * MINUTE_MS ? 'idle' : s.disabled ? 'disabled' : null;
    if (ended !== null) {
      await this.#end(s, ended, now);
      throw new ZtError('ZT_ERR_SESSION_EXPIRED', ended === 'idle' ? `this console session was idle more than ${this.settings.idleMinutes} minutes; sign in again` : ended === 'expired' ? 'this console session has reached its lifetime; sign in again' : 'this console session has ended; sign in again');
    }
    if (presented.changesState && (presented.csrf === undefined || !sameText(presented.csrf, s.csrf_token))) {
      throw new ZtError('ZT_ERR_CSRF_INVALID', `a state-changing console call needs the session's CSRF token (the x-zt-csrf header)`);
    }
    if (now.getTime() - lastSeen.getTime() >= TOUCH_EVERY_MS) {
      await this.#db.query('UPDATE console_sessions SET last_seen_at = $2 WHERE id = $1 AND ended_at IS NULL AND last_seen_at < $2', [s.session_id, now]);
    }
    return this.#person(s, s.session_id, s.via);
  }

  /** The CSRF token and the two ends of a live session (for GET /console/api/session). */
  async state(sessionId: string): Promise<SessionState> {
    const { rows } = await this.#db.query<{ csrf_token: string; last_seen_at: Date; expires_at: Date }>(
      'SELECT csrf_token, last_seen_at, expires_at FROM console_sessions WHERE id = $1 AND ended_at IS NULL',
      [sessionId],
    );
    const r = rows[0];
    if (!r) throw new ZtError('ZT_ERR_SESSION_EXPIRED', 'this console session has ended; sign in again');
    const expiresAt = new Date(r.expires_at);
    return { csrf: r.csrf_token, expiresAt, idleExpiresAt: this.#idleEnd(new Date(r.last_seen_at), expiresAt) };
  }

  /** Ends a session on the server (sign-out): its cookie is worth nothing from now on. */
  async signOut(sessionId: string, client: ClientInfo = {}): Promise<void> {
    const now = this.#now();
    await this.#db.transaction(async (tx) => {
      const { rows } = await tx.query<{ login: string; account_id: string; via: 'local' | 'oidc' }>(
        `UPDATE console_sessions s SET ended_at = $2, ended_reason = 'sign-out' FROM console_accounts a
         WHERE s.id = $1 AND s.ended_at IS NULL AND a.id = s.account_id RETURNING a.login, s.account_id::text AS account_id, s.via`,
        [sessionId, now],
      );
      const r = rows[0];
      if (r) await recordSignInEvent(tx, { at: now, event: 'sign-out', login: r.login, accountId: r.account_id, sessionId, via: r.via, ip: client.ip ?? null, userAgent: client.userAgent ?? null });
    });
  }

  /** Ends every open session of an account (an operator's action). */
  endSessionsOf(accountId: string, reason: SessionEndReason): Promise<number> {
    return this.#db.transaction((tx) => endSessionsOf(tx, accountId, reason, this.#now()));
  }

  async #end(s: SessionRow, reason: SessionEndReason, now: Date): Promise<void> {
    await this.#db.transaction(async (tx) => {
      const { rowCount } = await tx.query('UPDATE console_sessions SET ended_at = $2, ended_reason = $3 WHERE id = $1 AND ended_at IS NULL', [s.session_id, now, reason]);
      // Two calls may find it ended at once: one record.
      if (rowCount > 0) await recordSignInEvent(tx, { at: now, event: 'expiry', login: s.login, accountId: s.id, sessionId: s.session_id, via: s.via, reason });
    });
  }

  #idleEnd(lastSeen: Date, expiresAt: Date): Date {
    return new Date(Math.min(lastSeen.getTime() + this.settings.idleMinutes * MINUTE_MS, expiresAt.getTime()));
  }

  #locked(until: Date, now: Date): ZtError {
    const retryAfterSeconds = Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000));
    return new ZtError('ZT_ERR_ACCOUNT_LOCKED', `too many failed sign-ins: this account is locked for ${Math.ceil(retryAfterSeconds / 60)} more minutes`, { details: { retryAfterSeconds } });
  }

  #person(row: AccountRow, sessionId: string, via: 'local' | 'oidc'): Person {
    const department = row.department.trim();
    const roles: ReadonlySet<ConsoleRole> = row.kind === 'citizen' ? new Set<ConsoleRole>(['citizen']) : staffRoles(this.#rolesOf(department));
    return Object.freeze({
      accountId: row.id,
      login: row.login,
      name: row.name,
      kind: row.kind,
      department,
      roles,
      sessionId,
      via,
      subject: row.kind === 'citizen' ? this.#accounts.subjectOf(row) : null,
    });
  }

  #dummyHash(): Promise<string> {
    this.#dummy ??= hashPassword(randomBytes(16).toString('base64url'), this.#accounts.scryptCost);
    return this.#dummy;
  }
}
