// The record of console sign-ins (console_sign_in_events, append-only): every success, refusal, lockout, sign-out and
// expiry, with the login as presented, so that guessing at accounts leaves a trace an operator can read.
import type { Queryable } from '../../core/storage/index.js';

export type SignInEventKind = 'success' | 'failure' | 'lockout' | 'sign-out' | 'expiry';

export interface SignInEvent {
  at: Date;
  event: SignInEventKind;
  login: string;
  accountId?: string | null;
  sessionId?: string | null;
  via: 'local' | 'oidc';
  reason?: string | null;
  ip?: string | null;
  userAgent?: string | null;
}

/** Where a sign-in came from, as the HTTP layer saw it. */
export interface ClientInfo {
  ip?: string | null;
  userAgent?: string | null;
}

const clip = (text: string | null | undefined, max: number): string | null => (text === null || text === undefined ? null : text.slice(0, max));

export async function recordSignInEvent(q: Queryable, e: SignInEvent): Promise<void> {
  await q.query(
    'INSERT INTO console_sign_in_events (at, event, login, account_id, session_id, via, reason, ip, user_agent) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)',
    [e.at, e.event, clip(e.login, 200) ?? '', e.accountId ?? null, e.sessionId ?? null, e.via, clip(e.reason, 200), clip(e.ip, 64), clip(e.userAgent, 400)],
  );
}
