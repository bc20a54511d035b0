// Console accounts and sessions on both databases: passwords hashed with scrypt, a citizen's ID number never in
// clear, lockout after repeated failures, the same answer for a wrong password, an unknown login and a disabled
// account, idle and absolute expiry on a moved clock, CSRF on state-changing calls, sign-out and password resets that
// end sessions on the server, and the append-only record of it all.
import { describe, expect, it } from 'vitest';
import { ZtError } from '../../core/errors/index.js';
import type { Database } from '../../core/storage/index.js';
import { DEMO_SUBJECTS } from '../../exchange/datasets/index.js';
import type { RegistryRole } from '../../transport/access.js';
import type { PresentedSession } from '../../transport/person.js';
import { ConsoleAccounts } from './accounts.js';
import { hashCost, hashPassword, verifyPassword } from './passwords.js';
import { ConsoleSessions } from './sessions.js';
import { describeOnDatabases, TestClock, testPseudonyms } from './test-support.js';

const BUREAU = '11210100001000096L';
const POLICE = '11210100001000010R';
const PORTAL = '11210100001000109A';
const PASSWORD = 'correct horse battery';
const CITIZEN_ID = DEMO_SUBJECTS.applicant.idNumber;

const registry: Record<string, RegistryRole[]> = { [BUREAU]: ['supervisor'], [PORTAL]: ['portal'] };
const rolesOf = (uscc: string): ReadonlySet<RegistryRole> => new Set(registry[uscc] ?? []);

async function refusal(promise: Promise<unknown>): Promise<ZtError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ZtError);
  return error as ZtError;
}

const read = (cookie: string): PresentedSession => ({ cookie, csrf: undefined, changesState: false });
const write = (cookie: string, csrf: string | undefined): PresentedSession => ({ cookie, csrf, changesState: true });

describe('console passwords', () => {
  it('are scrypt hashes with N = 2^15, r = 8, p = 1 and a 16-byte salt, self-describing, and check in constant time', async () => {
    const stored = await hashPassword(PASSWORD);
    expect(stored).toMatch(/^scrypt\$15\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(hashCost(stored)).toEqual({ log2N: 15, r: 8, p: 1 });
    expect(await hashPassword(PASSWORD)).not.toBe(stored); // a fresh salt each time
    expect(await verifyPassword(PASSWORD, stored)).toBe(true);
    expect(await verifyPassword(`${PASSWORD}!`, stored)).toBe(false);
    // A changed character inside the hash (the last one's low bits are padding, and may not change the bytes).
    const at = stored.length - 10;
    const tampered = stored.slice(0, at) + (stored[at] === 'A' ? 'Q' : 'A') + stored.slice(at + 1);
    expect(await verifyPassword(PASSWORD, tampered)).toBe(false);
    expect(await verifyPassword(PASSWORD, 'plain text')).toBe(false);
    // A hash made with another cost is checked with the cost it names.
    expect(await verifyPassword(PASSWORD, await hashPassword(PASSWORD, { log2N: 14, r: 8, p: 1 }))).toBe(true);
  });
});

describeOnDatabases('console accounts and sessions', (open) => {
  async function setup(settings: { maxFailures?: number; lockMinutes?: number; idleMinutes?: number; sessionHours?: number } = {}) {
    const db: Database = await open();
    const clock = new TestClock();
    const accounts = new ConsoleAccounts({ db, pseudonyms: testPseudonyms(), now: clock.now });
    const sessions = new ConsoleSessions({ db, accounts, rolesOf, settings, now: clock.now });
    await accounts.add({ login: 'Zhao.Jian', name: '赵建', department: BUREAU, password: PASSWORD });
    return { db, clock, accounts, sessions };
  }

  it('adds, lists, disables, enables and refuses malformed or duplicate accounts', async () => {
    const { accounts } = await setup();
    expect(await accounts.get('zhao.jian')).toMatchObject({ login: 'zhao.jian', name: '赵建', kind: 'staff', department: BUREAU, source: 'local', disabled: false, lockedUntil: null });
    expect((await refusal(accounts.add({ login: 'zhao.jian', name: 'x', department: BUREAU, password: PASSWORD }))).code).toBe('ZT_ERR_ACCOUNT_EXISTS');
    for (const [input, field] of [
      [{ login: 'ok.login', name: 'x', department: BUREAU, password: 'short' }, 'password'],
      [{ login: 'has space', name: 'x', department: BUREAU, password: PASSWORD }, 'login'],
      [{ login: 'ok.login', name: 'x', department: '11210100001000096X', password: PASSWORD }, 'department'],
      [{ login: 'ok.login', name: 'x', department: PORTAL, kind: 'citizen' as const, subject: '210103198503120313', password: PASSWORD }, 'subject'],
      [{ login: 'ok.login', name: 'x', department: BUREAU, subject: CITIZEN_ID, password: PASSWORD }, 'subject'],
    ] as const) {
      const error = await refusal(accounts.add(input));
      expect([error.code, error.details]).toEqual(['ZT_ERR_ACCOUNT_INVALID', { field }]);
    }
    expect((await accounts.disable('ZHAO.JIAN')).account.disabled).toBe(true);
    expect((await accounts.enable('zhao.jian')).disabled).toBe(false);
    expect((await refusal(accounts.disable('nobody'))).code).toBe('ZT_ERR_ACCOUNT_NOT_FOUND');
    expect((await accounts.list()).map((a) => a.login)).toEqual(['zhao.jian']);
  });

  it('keeps a citizen\'s resident ID number sealed, opens it for their session, and allows one account per citizen', async () => {
    const { db, accounts, sessions } = await setup();
    await accounts.add({ login: 'liu', name: '刘志强', department: PORTAL, kind: 'citizen', subject: CITIZEN_ID, password: PASSWORD });
    const { rows } = await db.query<{ row: string }>("SELECT row_to_json(a)::text AS row FROM console_accounts a WHERE login = 'liu'");
    expect(rows[0]!.row).not.toContain(CITIZEN_ID);
    expect(rows[0]!.row).toMatch(/"subject_sealed":"s1\.[A-Za-z0-9_-]+"/);
    const dump = await db.query<{ t: string }>('SELECT string_agg(row_to_json(e)::text, \'\') AS t FROM console_sign_in_events e');
    expect(dump.rows[0]!.t ?? '').not.toContain(CITIZEN_ID);
    const started = await sessions.signIn('liu', PASSWORD);
    expect(started.person).toMatchObject({ kind: 'citizen', department: PORTAL, subject: CITIZEN_ID, via: 'local' });
    expect([...started.person.roles]).toEqual(['citizen']);
    const again = await refusal(accounts.add({ login: 'liu2', name: '刘', department: PORTAL, kind: 'citizen', subject: CITIZEN_ID.toLowerCase(), password: PASSWORD }));
    expect(again.code).toBe('ZT_ERR_ACCOUNT_EXISTS');
    // A sealed value moved onto another account does not open there.
    await accounts.add({ login: 'chen', name: '陈静', department: PORTAL, kind: 'citizen', subject: DEMO_SUBJECTS.spouse.idNumber, password: PASSWORD });
    await db.query("UPDATE console_accounts SET subject_sealed = (SELECT subject_sealed FROM console_accounts WHERE login = 'liu') WHERE login = 'chen'");
    await expect(sessions.signIn('chen', PASSWORD)).rejects.toThrow();
  });

  it('signs a staff member in with their department\'s registry roles and steward, and resolves the cookie to them', async () => {
    const { db, sessions } = await setup();
    const started = await sessions.signIn('ZHAO.JIAN', PASSWORD, { ip: '192.0.2.7', userAgent: 'test' });
    expect(started.cookie).toMatch(/^[0-9a-f-]{36}\.[A-Za-z0-9_-]{43}$/);
    expect(started.person).toMatchObject({ login: 'zhao.jian', kind: 'staff', department: BUREAU, subject: null, via: 'local' });
    expect([...started.person.roles].sort()).toEqual(['steward', 'supervisor']);
    const person = await sessions.authenticate(read(started.cookie));
    expect(person.sessionId).toBe(started.person.sessionId);
    // The database keeps the secret's hash only.
    const secret = started.cookie.split('.')[1]!;
    const { rows } = await db.query<{ row: string }>('SELECT row_to_json(s)::text AS row FROM console_sessions s');
    expect(rows[0]!.row).not.toContain(secret);
    // Another secret for the same session id is not the session.
    const forged = `${started.cookie.split('.')[0]}.${'A'.repeat(43)}`;
    expect((await refusal(sessions.authenticate(read(forged)))).code).toBe('ZT_ERR_SESSION_REQUIRED');
    expect((await refusal(sessions.authenticate(read('garbage')))).code).toBe('ZT_ERR_SESSION_REQUIRED');
    expect((await refusal(sessions.authenticate({ cookie: undefined, csrf: undefined, changesState: false }))).code).toBe('ZT_ERR_SESSION_REQUIRED');
  });

  it('answers a wrong password, an unknown login and a disabled account alike', async () => {
    const { accounts, sessions } = await setup();
    await accounts.add({ login: 'off', name: '停用', department: POLICE, password: PASSWORD });
    await accounts.disable('off');
    const answers = [await refusal(sessions.signIn('zhao.jian', 'wrong password!!')), await refusal(sessions.signIn('nobody', PASSWORD)), await refusal(sessions.signIn('off', PASSWORD))];
    for (const a of answers) expect([a.code, a.message, a.httpStatus]).toEqual(['ZT_ERR_SIGN_IN_FAILED', 'wrong login or password', 401]);
  });

  it('locks an account after five failures in a row, whatever the password, until the lock runs out', async () => {
    const { db, clock, accounts, sessions } = await setup();
    for (let i = 0; i < 4; i++) expect((await refusal(sessions.signIn('zhao.jian', `wrong password ${i}`))).code).toBe('ZT_ERR_SIGN_IN_FAILED');
    const locked = await refusal(sessions.signIn('zhao.jian', 'wrong password 5'));
    expect([locked.code, locked.httpStatus, locked.details]).toEqual(['ZT_ERR_ACCOUNT_LOCKED', 429, { retryAfterSeconds: 900 }]);
    clock.minutes(14);
    expect((await refusal(sessions.signIn('zhao.jian', PASSWORD))).code).toBe('ZT_ERR_ACCOUNT_LOCKED');
    expect((await accounts.get('zhao.jian')).lockedUntil).not.toBeNull();
    clock.minutes(2);
    await sessions.signIn('zhao.jian', PASSWORD);
    // A success resets the count: four more failures do not lock.
    for (let i = 0; i < 4; i++) await refusal(sessions.signIn('zhao.jian', `wrong again ${i}`));
    await sessions.signIn('zhao.jian', PASSWORD);
    const { rows } = await db.query<{ event: string; n: number }>('SELECT event, count(*)::int AS n FROM console_sign_in_events GROUP BY event ORDER BY event');
    expect(rows).toEqual([{ event: 'failure', n: 10 }, { event: 'lockout', n: 1 }, { event: 'success', n: 2 }]);
  });

  it('ends a session idle longer than the idle timeout, and any session at its absolute lifetime', async () => {
    const { db, clock, sessions } = await setup({ idleMinutes: 30, sessionHours: 8 });
    const idle = await sessions.signIn('zhao.jian', PASSWORD);
    clock.minutes(29);
    await sessions.authenticate(read(idle.cookie)); // used: the idle clock starts again
    clock.minutes(29);
    await sessions.authenticate(read(idle.cookie));
    clock.minutes(31);
    const expired = await refusal(sessions.authenticate(read(idle.cookie)));
    expect([expired.code, expired.httpStatus]).toEqual(['ZT_ERR_SESSION_EXPIRED', 401]);
    expect((await refusal(sessions.authenticate(read(idle.cookie)))).code).toBe('ZT_ERR_SESSION_EXPIRED');

    const busy = await sessions.signIn('zhao.jian', PASSWORD);
    const state = await sessions.state(busy.person.sessionId);
    expect(state.expiresAt.getTime() - clock.now().getTime()).toBe(8 * 3600_000);
    for (let i = 0; i < 16; i++) {
      clock.minutes(29);
      await sessions.authenticate(read(busy.cookie));
    }
    clock.minutes(16); // 8 hours and 0 minutes after sign-in
    expect((await refusal(sessions.authenticate(read(busy.cookie)))).code).toBe('ZT_ERR_SESSION_EXPIRED');
    const { rows } = await db.query<{ ended_reason: string }>('SELECT ended_reason FROM console_sessions ORDER BY created_at');
    expect(rows.map((r) => r.ended_reason)).toEqual(['idle', 'expired']);
  });

  it('refuses a state-changing call without the session\'s CSRF token, or with another', async () => {
    const { sessions } = await setup();
    const a = await sessions.signIn('zhao.jian', PASSWORD);
    const b = await sessions.signIn('zhao.jian', PASSWORD);
    for (const csrf of [undefined, '', b.csrf, `${a.csrf}x`]) {
      const error = await refusal(sessions.authenticate(write(a.cookie, csrf)));
      expect([error.code, error.httpStatus]).toEqual(['ZT_ERR_CSRF_INVALID', 403]);
    }
    expect((await sessions.authenticate(write(a.cookie, a.csrf))).sessionId).toBe(a.person.sessionId);
    expect((await sessions.state(a.person.sessionId)).csrf).toBe(a.csrf);
  });

  it('ends the session on the server at sign-out, and every session of an account at a password reset or when it is disabled', async () => {
    const { db, accounts, sessions } = await setup();
    const first = await sessions.signIn('zhao.jian', PASSWORD);
    await sessions.signOut(first.person.sessionId);
    expect((await refusal(sessions.authenticate(read(first.cookie)))).code).toBe('ZT_ERR_SESSION_EXPIRED');

    const two = [await sessions.signIn('zhao.jian', PASSWORD), await sessions.signIn('zhao.jian', PASSWORD)];
    for (let i = 0; i < 5; i++) await refusal(sessions.signIn('zhao.jian', 'wrong password!'));
    expect((await refusal(sessions.signIn('zhao.jian', PASSWORD))).code).toBe('ZT_ERR_ACCOUNT_LOCKED');
    const reset = await accounts.resetPassword('zhao.jian', 'a brand new password');
    expect([reset.sessionsEnded, reset.account.lockedUntil, reset.account.failedAttempts]).toEqual([2, null, 0]);
    for (const s of two) expect((await refusal(sessions.authenticate(read(s.cookie)))).code).toBe('ZT_ERR_SESSION_EXPIRED');
    expect((await refusal(sessions.signIn('zhao.jian', PASSWORD))).code).toBe('ZT_ERR_SIGN_IN_FAILED');
    const fresh = await sessions.signIn('zhao.jian', 'a brand new password');

    expect((await accounts.disable('zhao.jian')).sessionsEnded).toBe(1);
    expect((await refusal(sessions.authenticate(read(fresh.cookie)))).code).toBe('ZT_ERR_SESSION_EXPIRED');
    const { rows } = await db.query<{ ended_reason: string }>('SELECT ended_reason FROM console_sessions ORDER BY created_at, ended_reason');
    expect(rows.map((r) => r.ended_reason).sort()).toEqual(['disabled', 'password-reset', 'password-reset', 'sign-out']);
  });

  it('keeps the sign-in record append-only', async () => {
    const { db, sessions } = await setup();
    await refusal(sessions.signIn('nobody', PASSWORD));
    await expect(db.query("UPDATE console_sign_in_events SET login = 'x'")).rejects.toThrow(/append-only/);
    await expect(db.query('DELETE FROM console_sign_in_events')).rejects.toThrow(/append-only/);
    await expect(db.exec('TRUNCATE console_sign_in_events')).rejects.toThrow(/append-only/);
    const { rows } = await db.query<{ login: string; reason: string }>('SELECT login, reason FROM console_sign_in_events');
    expect(rows).toEqual([{ login: 'nobody', reason: 'unknown login' }]);
  });
});
