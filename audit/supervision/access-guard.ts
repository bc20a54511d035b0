// Who may read the access log. The log says who read whose data, so reading it is itself sensitive: every query is
// a signed request (the exchange's Zt-* headers or gRPC metadata, docs/exchange-protocol.md) from a department's
// certificate, and the department must be a supervisor (监管: ZT_AUDIT_SUPERVISORS, and always the platform
// operator) or, for one subject's view, a service portal that has authenticated the citizen or enterprise
// (ZT_AUDIT_PORTALS). The signature, time window, certificate chain and nonce are the exchange's own checks.
import { ZtError } from '../../core/errors/index.js';
import type { SignatureTrail, SignedCall, SignedRequestVerifier } from '../../exchange/signed-request.js';
import type { RegistryRole } from '../../transport/access.js';
import { isPersonCall, type PersonCall } from '../../transport/person.js';

/** Where the roles in force come from (the role registry, registry/roles). */
export interface RoleLookup {
  has(department: string, role: RegistryRole): boolean;
}

export type AuditRole = 'supervisor' | 'portal';

export interface AuditAccessGuardOptions {
  requests: SignedRequestVerifier;
  /** Who holds the supervisor and portal roles now. */
  roles: RoleLookup;
  /**
   * Told of every call whose signature verified but whose department may not read the log this way (before the
   * refusal is thrown): those attempts are recorded like answered queries, so the watchers are watched whole.
   */
  onForbidden?: (attempt: ForbiddenAuditCall) => Promise<void>;
}

/** A signed call refused with ZT_ERR_AUDIT_FORBIDDEN. */
export interface ForbiddenAuditCall {
  readonly requester: string;
  readonly needed: string;
  /** The refusal's code (ZT_ERR_AUDIT_FORBIDDEN when not given). */
  readonly code?: string;
  /** The HTTP path and query, or the gRPC method. */
  readonly path: string;
  /** Null for a person signed in to the console (who is then named by `person`). */
  readonly certificateSm3: string | null;
  readonly requestDigest: string | null;
  readonly person?: ConsoleReader;
}

/** The person behind a console read: their account and session, recorded in audit_queries. */
export interface ConsoleReader {
  readonly accountId: string;
  readonly sessionId: string;
}

export interface AuditCaller {
  /** USCC of the signing department (of a console reader: the department they act for). */
  readonly requester: string;
  readonly role: AuditRole;
  /** SM3 fingerprint of its certificate, hex; null for a console reader. */
  readonly certificateSm3: string | null;
  /** SM3 of the canonical request, hex; null for a console reader. */
  readonly requestDigest: string | null;
  /** The person, when the read came through the console. */
  readonly person?: ConsoleReader;
}

export class AuditAccessGuard {
  readonly #requests: SignedRequestVerifier;
  readonly #roles: RoleLookup;
  readonly #onForbidden: AuditAccessGuardOptions['onForbidden'];

  constructor(options: AuditAccessGuardOptions) {
    this.#requests = options.requests;
    this.#roles = options.roles;
    this.#onForbidden = options.onForbidden;
  }

  /**
   * Checks a signed call from `requester` (the USCC the request names) for the access `needed`: 'supervisor' for
   * search, export, analytics and the log's administration; 'portal' for one subject's view, which supervisors
   * may use too. Resolves once the nonce is claimed.
   */
  async authorise(call: SignedCall | PersonCall, requester: string, needed: AuditRole): Promise<AuditCaller> {
    if (isPersonCall(call)) return this.#person(call, requester, needed);
    const trail: SignatureTrail = { certificateSm3: null, requestDigest: null, certifiedRequester: null };
    const { fresh } = await this.#requests.verify(call, requester, trail);
    const role: AuditRole | null = this.#roles.has(requester, 'supervisor') ? 'supervisor' : needed === 'portal' && this.#roles.has(requester, 'portal') ? 'portal' : null;
    if (role === null) {
      await fresh();
      await this.#onForbidden?.({
        requester,
        needed,
        path: call.path,
        certificateSm3: trail.certificateSm3!.toString('hex'),
        requestDigest: trail.requestDigest!.toString('hex'),
      });
      throw new ZtError(
        'ZT_ERR_AUDIT_FORBIDDEN',
        needed === 'supervisor'
          ? `${requester} does not hold the supervisor role (zhengtong role list)`
          : `${requester} holds neither the portal nor the supervisor role (zhengtong role list)`,
      );
    }
    await fresh();
    return { requester, role, certificateSm3: trail.certificateSm3!.toString('hex'), requestDigest: trail.requestDigest!.toString('hex') };
  }

  /**
   * A person signed in to the console, acting for their department (the gateway resolved the session): the same
   * roles decide, from the same registry, and a refusal is recorded like a signed one's.
   */
  async #person(call: PersonCall, requester: string, needed: AuditRole): Promise<AuditCaller> {
    const person: ConsoleReader = { accountId: call.person.accountId, sessionId: call.person.sessionId };
    if (requester !== call.person.department) {
      throw new ZtError('ZT_ERR_CONSOLE_FORBIDDEN', `a console reader acts for ${call.person.department}, not ${requester}`);
    }
    const role: AuditRole | null = this.#roles.has(requester, 'supervisor') ? 'supervisor' : needed === 'portal' && this.#roles.has(requester, 'portal') ? 'portal' : null;
    if (role === null) {
      await this.#onForbidden?.({ requester, needed, path: call.path, certificateSm3: null, requestDigest: null, person });
      throw new ZtError('ZT_ERR_AUDIT_FORBIDDEN', `${requester} does not hold the ${needed === 'supervisor' ? 'supervisor' : 'portal or supervisor'} role (zhengtong role list)`);
    }
    return { requester, role, certificateSm3: null, requestDigest: null, person };
  }

  /**
   * Checks a signed call from `requester` acting on its own part of the log (flagging its own cases covert): any
   * department with a valid certificate, which the caller then holds to its own records; a supervisor comes back as
   * one, and may act on any department's.
   */
  async authoriseDepartment(call: SignedCall | PersonCall, requester: string): Promise<AuditDepartmentCaller> {
    if (isPersonCall(call)) {
      if (requester !== call.person.department) throw new ZtError('ZT_ERR_CONSOLE_FORBIDDEN', `a console reader acts for ${call.person.department}, not ${requester}`);
      return {
        requester,
        role: this.#roles.has(requester, 'supervisor') ? 'supervisor' : 'department',
        certificateSm3: null,
        requestDigest: null,
        person: { accountId: call.person.accountId, sessionId: call.person.sessionId },
      };
    }
    const trail: SignatureTrail = { certificateSm3: null, requestDigest: null, certifiedRequester: null };
    const { fresh } = await this.#requests.verify(call, requester, trail);
    await fresh();
    return {
      requester,
      role: this.#roles.has(requester, 'supervisor') ? 'supervisor' : 'department',
      certificateSm3: trail.certificateSm3!.toString('hex'),
      requestDigest: trail.requestDigest!.toString('hex'),
    };
  }
}

/** A department acting on its own records, or a supervisor. */
export interface AuditDepartmentCaller extends Omit<AuditCaller, 'role'> {
  readonly role: 'supervisor' | 'department';
}
