// People signed in to the web console (console/): a person acts for one department with the roles that department
// holds in the role registry, and every department's people are stewards of its own supply list and demands. A
// citizen signs in through a service portal and sees only what concerns them. The gateway resolves the session of
// every console call before its handler runs (gateway/access.ts), as it verifies department signatures.
import type { ConsoleRole, RegistryRole } from './access.js';

export { CONSOLE_ROLES, type ConsoleRole } from './access.js';

export type PersonKind = 'staff' | 'citizen';

/** A signed-in person, as the gateway resolved their session for this call. */
export interface Person {
  /** The account's id (UUID). */
  readonly accountId: string;
  /** What the person signs in with (local accounts) or the identity provider's subject claim (OIDC). */
  readonly login: string;
  /** Display name. */
  readonly name: string;
  readonly kind: PersonKind;
  /** USCC of the department the person acts for (a citizen: the service portal's). */
  readonly department: string;
  /** The department's registry roles now, plus `steward` for staff and `citizen` for citizens. */
  readonly roles: ReadonlySet<ConsoleRole>;
  /** The session's id (not its cookie secret), recorded with every console action. */
  readonly sessionId: string;
  /** How the person signed in. */
  readonly via: 'local' | 'oidc';
  /**
   * A citizen's resident ID number, for the views of their own data; null for staff. Never stored in clear: the
   * account keeps it sealed (console/accounts), and it is opened for the call.
   */
  readonly subject: string | null;
}

/** What a console call presents: the session cookie and the CSRF token header. */
export interface PresentedSession {
  /** The session cookie's value, if any. */
  readonly cookie: string | undefined;
  /** The `x-zt-csrf` header, if any. */
  readonly csrf: string | undefined;
  /** Whether the method changes state (anything but GET, HEAD and OPTIONS): the CSRF token is then required. */
  readonly changesState: boolean;
}

/** Resolves a console call's session to the person, or throws ZT_ERR_SESSION_* (401) / ZT_ERR_CSRF_* (403). */
export interface PersonAuthenticator {
  authenticate(presented: PresentedSession): Promise<Person>;
}

/** The console roles a department's registry roles give a staff member. */
export function staffRoles(registry: ReadonlySet<RegistryRole>): Set<ConsoleRole> {
  return new Set<ConsoleRole>([...registry, 'steward']);
}

/** The session cookie's name. `__Host-` would need Secure, which a plain-HTTP demo cannot set. */
export const SESSION_COOKIE = 'zt_session';
/** The header carrying the session's CSRF token on state-changing console calls. */
export const CSRF_HEADER = 'x-zt-csrf';

/** The value of one cookie in a Cookie header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** A console call as the services take it in place of a signed call: the person, and what they called. */
export interface PersonCall {
  readonly person: Person;
  /** The console path and query called, for the record of refused attempts. */
  readonly path: string;
}

/** Whether a call to a service comes from a signed-in person rather than a department's signature. */
export function isPersonCall(call: object): call is PersonCall {
  return 'person' in call && (call as { person?: unknown }).person !== undefined;
}
