// The one enforcement of the access classes (transport/access.ts), used by the HTTP server's hook and the gRPC
// server's call wrapper alike, before any handler runs: a public route passes; a route taking a signed statement
// must carry one (the feature verifies it against the same trust store); every other route needs a request signed
// with the Zt-* headers by a department's platform-CA certificate, whose nonce is claimed here once, and the role
// it declares, from the role registry. Routes whose service records refusals in the access log (the exchange,
// licence checks, the access log's own reads) get the outcome of the check instead of a refusal, and hand it to
// their service, which refuses and records; a service that forgot to would check again and find its nonce used.
import { ZtError } from '../core/errors/index.js';
import type { SignedRequestVerifier } from '../exchange/signed-request.js';
import type { RoleRegistry } from '../registry/roles/index.js';
import type { AccessClass, Caller } from '../transport/access.js';
import type { SignedCall, Verification } from '../transport/signed-call.js';
import type { Person, PersonAuthenticator, PresentedSession } from '../transport/person.js';

export interface ForbiddenCall {
  readonly requester: string;
  readonly needed: string;
  /** The HTTP path and query, or the gRPC method. */
  readonly path: string;
  readonly certificateSm3: string;
  readonly requestDigest: string;
  readonly code: string;
}

export interface AccessEnforcerOptions {
  requests: SignedRequestVerifier;
  roles: RoleRegistry;
  /** Told of every verified call refused for want of a role, before the refusal: probing leaves a trace. */
  onForbidden?: (call: ForbiddenCall) => Promise<void>;
  /** Resolves console sessions (console/accounts); without it, every console route is refused. */
  persons?: PersonAuthenticator;
  /** Told of every signed-in person refused for want of a console role, before the refusal. */
  onPersonRefused?: (person: Person, path: string, code: string) => Promise<void>;
}

export interface Authorised {
  caller: Caller | null;
  verification: Verification | null;
  /** The signed-in person, on console routes. */
  person?: Person;
}

const NONE: Authorised = Object.freeze({ caller: null, verification: null });

export class AccessEnforcer {
  readonly #o: AccessEnforcerOptions;

  constructor(options: AccessEnforcerOptions) {
    this.#o = options;
  }

  /**
   * Admits a call to a route of class `access`, or throws the catalogue error that refuses it. `signed` says
   * whether the call carries any signature part (an optional signature is checked only when given); `statement`
   * whether it carries a signed statement (transport/access.ts carriesStatement), for routes that take one.
   */
  async authorise(access: AccessClass, call: SignedCall, signed: boolean, statement: boolean, session?: PresentedSession): Promise<Authorised> {
    switch (access.kind) {
      case 'person':
        return { caller: null, verification: null, person: await this.#person(access.roles, session, call.path) };
      case 'public':
        if (access.signed !== 'optional' || !signed) return NONE;
        return this.#verified(call, true, null);
      case 'statement':
        if (!statement) {
          throw new ZtError('ZT_ERR_TRANSITION_UNSIGNED', `this step takes a statement signed by ${access.scope}: the body carries no signature (docs/signed-transitions.md)`);
        }
        return NONE;
      case 'department':
        return this.#verified(call, access.recordsRefusals === true, null);
      case 'role':
        return this.#verified(call, access.recordsRefusals === true, access.recordsRefusals ? null : access.roles);
    }
  }

  async #person(roles: readonly string[] | undefined, session: PresentedSession | undefined, path: string): Promise<Person> {
    if (!this.#o.persons || !session) throw new ZtError('ZT_ERR_SESSION_REQUIRED', 'sign in to the console first (/console)');
    const person = await this.#o.persons.authenticate(session);
    if (roles && !roles.some((r) => person.roles.has(r as never))) {
      await this.#o.onPersonRefused?.(person, path, 'ZT_ERR_CONSOLE_FORBIDDEN');
      throw new ZtError('ZT_ERR_CONSOLE_FORBIDDEN', `${person.login} acting for ${person.department} does not hold the ${roles.join(' or ')} role this page needs`, { details: { role: roles } });
    }
    return person;
  }

  async #verified(call: SignedCall, deferred: boolean, roles: readonly string[] | null): Promise<Authorised> {
    // A route whose service records refusals gets the nonce unclaimed: the service claims it, with its record.
    const verification = await this.#o.requests.check(call, { deferNonce: deferred });
    const verified = verification.verified;
    if (!verified) {
      // An unsigned call is refused here whatever the route: it names no department to attribute a record to.
      if (deferred && (verification.error as { code?: string }).code !== 'ZT_ERR_REQUEST_UNSIGNED') return { caller: null, verification };
      throw verification.error;
    }
    const uscc = verified.certificate.uscc;
    if (!uscc) throw new ZtError('ZT_ERR_CERT_USAGE', 'the signing certificate names no department (no USCC in its subject)');
    const held = this.#o.roles.rolesOf(uscc);
    const caller: Caller = {
      uscc,
      certificate: verified.certificate,
      certificateSm3: verification.trail.certificateSm3!.toString('hex'),
      requestDigest: verification.trail.requestDigest!.toString('hex'),
      roles: held,
    };
    if (deferred) return { caller, verification };
    await verified.fresh();
    if (roles && !roles.some((r) => held.has(r as never))) {
      await this.#o.onForbidden?.({ requester: uscc, needed: roles.join('|'), code: 'ZT_ERR_ACCESS_FORBIDDEN', path: call.path, certificateSm3: caller.certificateSm3, requestDigest: caller.requestDigest });
      throw new ZtError('ZT_ERR_ACCESS_FORBIDDEN', `${uscc} does not hold the ${roles.join(' or ')} role this needs (docs/access-control.md)`, { details: { role: roles } });
    }
    return { caller, verification };
  }
}
