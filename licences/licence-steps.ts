// Every step of a licence's life (issue, revoke, suspend, resume, change, renew) is signed by the department that
// takes it, as the demand procedure's steps are (docs/signed-transitions.md): an SM2 signed envelope over
//
//   canonicalJson({ schema: "zhengtong/licence-step/v1", kind, identifier, actor, content })
//
// content holds the step's fields (below) with null, '', [] and {} left out; the values of `fields` are signed as
// text (String(value)), so a JSON number, a protobuf string and a CSV cell sign the same bytes.
import { canonicalJson } from '../core/canonical-json.js';
import { signEnvelope, type SignedEnvelope } from '../certs/envelope/index.js';
import type { Signer } from '../certs/signer/index.js';
import { pruned } from '../registry/catalogue/index.js';
import type { LicenceType } from './licence-type.js';

export const LICENCE_STEP_SCHEMA = 'zhengtong/licence-step/v1';

export const LICENCE_STEP_KINDS = ['issue', 'revoke', 'suspend', 'resume', 'change', 'renew'] as const;
export type LicenceStepKind = (typeof LICENCE_STEP_KINDS)[number];

/** The fields of each step that the signature covers. */
export const LICENCE_STEP_FIELDS: Readonly<Record<LicenceStepKind, readonly string[]>> = {
  issue: ['typeCode', 'licenceNumber', 'holder', 'issueDate', 'validFrom', 'validTo', 'areaCode', 'sealName', 'fields'],
  revoke: ['reason'],
  suspend: ['reason'],
  resume: ['reason'],
  change: ['reason', 'holderName', 'validTo', 'fields'],
  renew: ['reason', 'validTo'],
};

export interface LicenceStepToSign {
  kind: LicenceStepKind;
  /** The licence acted on; absent for an issue (the registry assigns it). */
  identifier?: string | null;
  /** USCC of the department taking the step. */
  actor: string;
  content: object;
}

function asText(fields: unknown): unknown {
  if (!fields || typeof fields !== 'object' || Array.isArray(fields)) return fields;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(fields)) if (v !== null && v !== undefined) out[k] = String(v);
  return out;
}

/** The bytes a step's signature covers. */
export function licenceStepStatement(step: LicenceStepToSign): Buffer {
  const given = step.content as Record<string, unknown>;
  const content: Record<string, unknown> = {};
  for (const f of LICENCE_STEP_FIELDS[step.kind]) content[f] = f === 'fields' ? asText(given[f]) : given[f];
  if (content.typeCode && typeof content.typeCode === 'string') content.typeCode = content.typeCode.toUpperCase();
  return Buffer.from(
    canonicalJson({
      schema: LICENCE_STEP_SCHEMA,
      kind: step.kind,
      identifier: step.identifier ?? null,
      actor: step.actor.trim().toUpperCase(),
      content: pruned(content) ?? {},
    }),
    'utf8',
  );
}

/** Signs a step as the acting department: what a client sends as `signature`. */
export function signLicenceStep(signer: Signer, step: LicenceStepToSign): Promise<SignedEnvelope> {
  return signEnvelope(signer, licenceStepStatement(step));
}

export const LICENCE_TYPE_SCHEMA = 'zhengtong/licence-type/v1';

/**
 * The bytes the platform operator signs to define a licence type: the type as readLicenceType normalises it, so JSON
 * and protobuf sign the same. Defining a type names its issuers, that is grants the right to issue: only a
 * certificate of the platform's own USCC (ZT_PLATFORM_USCC) may do it.
 */
export function licenceTypeStatement(type: LicenceType, actor: string): Buffer {
  return Buffer.from(canonicalJson({ schema: LICENCE_TYPE_SCHEMA, kind: 'define-type', actor: actor.trim().toUpperCase(), content: type }), 'utf8');
}

/** Signs a type definition as the platform operator. */
export function signLicenceType(signer: Signer, type: LicenceType, actor: string): Promise<SignedEnvelope> {
  return signEnvelope(signer, licenceTypeStatement(type, actor));
}
