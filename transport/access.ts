// Who may call a route or method, declared where it is registered and enforced by the gateway before the handler
// runs (gateway/access.ts), the same way for HTTP and gRPC. docs/access-control.md lists every declaration; a test
// keeps it in step and another calls every non-public route without credentials.
//
//   public      anyone: health, metrics, API docs, CA certificates and CRLs, status lists, the published catalogue,
//               anonymous (masked) verification, policy dry-runs. `signed: 'optional'` routes answer more to a
//               department that signs (licence verification), and check that signature like any other.
//   department  a request signed with the Zt-* headers (gRPC metadata) by a department's platform-CA certificate.
//   role        the same, from a department holding the role in the role registry (registry/roles), or a signed
//               statement in the body, checked by the feature, from a department holding the role for that object
//               (the provider of a resource, an issuer of a licence type).
//   person      a person signed in to the web console (transport/person.ts): a live session cookie, and on every
//               state-changing call the session's CSRF token; optionally one of the console roles.
import type { TrustedCertificate } from '../certs/trust/index.js';
import type { SignedCall, WhileVerifying } from './signed-call.js';

/** Roles kept in the role registry, granted and withdrawn by the platform administrator. */
export const REGISTRY_ROLES = ['administrator', 'supervisor', 'portal'] as const;
export type RegistryRole = (typeof REGISTRY_ROLES)[number];

/** Roles of people signed in to the web console (transport/person.ts): the registry's, and steward and citizen. */
export const CONSOLE_ROLES = ['administrator', 'supervisor', 'portal', 'steward', 'citizen'] as const;
export type ConsoleRole = (typeof CONSOLE_ROLES)[number];

/** Roles that depend on the object acted on, checked by the feature that owns it. */
export type ObjectRole = 'provider' | 'issuer' | 'party';

export type AccessClass =
  | { readonly kind: 'public'; readonly signed?: 'optional' }
  | {
      readonly kind: 'department';
      /** What the department must be, as the feature checks it (documented; e.g. 'the provider of the resource'). */
      readonly scope?: string;
      /** The service checks the gateway's verification itself and records refusals (exchange, licence checks). */
      readonly recordsRefusals?: boolean;
      /** Started while the signature is checked (transport/signed-call.ts WhileVerifying); the exchange's read. */
      readonly whileVerifying?: WhileVerifying;
    }
  | {
      readonly kind: 'role';
      /** Any of these roles admits the caller. */
      readonly roles: readonly RegistryRole[];
      readonly scope?: string;
      /** The service checks the verification and the role itself and records refusals (the access log's reads). */
      readonly recordsRefusals?: boolean;
    }
  | {
      readonly kind: 'person';
      /** Any of these console roles admits the person; none given: any signed-in person. */
      readonly roles?: readonly ConsoleRole[];
      readonly scope?: string;
    }
  | {
      readonly kind: 'statement';
      /** The object role the statement's signer must hold, checked by the feature that owns the object. */
      readonly role: ObjectRole | RegistryRole;
      readonly scope: string;
    };

export const PUBLIC: AccessClass = Object.freeze({ kind: 'public' });
export const PUBLIC_OR_SIGNED: AccessClass = Object.freeze({ kind: 'public', signed: 'optional' });
export const DEPARTMENT: AccessClass = Object.freeze({ kind: 'department' });

export const role = (roles: RegistryRole | readonly RegistryRole[], options: { scope?: string; recordsRefusals?: boolean } = {}): AccessClass =>
  Object.freeze({ kind: 'role', roles: typeof roles === 'string' ? [roles] : roles, ...options });
export const department = (scope: string, options: { recordsRefusals?: boolean; whileVerifying?: WhileVerifying } = {}): AccessClass => Object.freeze({ kind: 'department', scope, ...options });
export const person = (roles: readonly ConsoleRole[] = [], scope?: string): AccessClass =>
  Object.freeze({ kind: 'person', ...(roles.length > 0 ? { roles } : {}), ...(scope ? { scope } : {}) });
export const statement = (r: ObjectRole | RegistryRole, scope: string): AccessClass => Object.freeze({ kind: 'statement', role: r, scope });

/** A department whose signed call the gateway verified. */
export interface Caller {
  /** USCC of the signing department (its certificate's). */
  readonly uscc: string;
  readonly certificate: TrustedCertificate;
  /** SM3 fingerprint of the certificate, hex. */
  readonly certificateSm3: string;
  /** SM3 of the canonical signed request, hex. */
  readonly requestDigest: string;
  /** The registry roles it holds now. */
  readonly roles: ReadonlySet<RegistryRole>;
}

/** One line of the access inventory: what docs/access-control.md lists. */
export function describeAccess(access: AccessClass): { access: string; who: string } {
  switch (access.kind) {
    case 'public':
      return { access: 'public', who: access.signed === 'optional' ? 'anyone; a signing department gets its full view' : 'anyone' };
    case 'department':
      return { access: 'department', who: access.scope ?? 'any department with a valid signature' };
    case 'role':
      return { access: `role: ${access.roles.join(' or ')}`, who: access.scope ?? `a department holding the ${access.roles.join(' or ')} role` };
    case 'statement':
      return { access: `signed statement: ${access.role}`, who: access.scope };
    case 'person':
      return {
        access: access.roles ? `person: ${access.roles.join(' or ')}` : 'person',
        who: access.scope ?? (access.roles ? `a person signed in to the console with the ${access.roles.join(' or ')} role` : 'any person signed in to the console'),
      };
  }
}

/** The call, with its route's WhileVerifying bound to its decoded body (`request`); unchanged for other routes. */
export function withWhileVerifying(call: SignedCall, access: AccessClass, request: unknown): SignedCall {
  if (access.kind !== 'department' || !access.whileVerifying) return call;
  const work = access.whileVerifying;
  return { ...call, whileVerifying: (certificate) => work({ body: call.body, request }, certificate) };
}

/** Reads and checks a declaration attached to a route (unknown shape from a framework's options). */
export function isAccessClass(value: unknown): value is AccessClass {
  if (!value || typeof value !== 'object') return false;
  const kind = (value as { kind?: unknown }).kind;
  return kind === 'public' || kind === 'department' || kind === 'role' || kind === 'statement' || kind === 'person';
}

/** Whether a decoded request carries a signed statement in its `signature` field (JSON or protobuf). */
export function carriesStatement(body: unknown): boolean {
  if (!body || typeof body !== 'object') return false;
  const s = (body as { signature?: unknown }).signature;
  if (s === null || s === undefined || s === '') return false;
  return typeof s !== 'object' || Object.keys(s).length > 0;
}
