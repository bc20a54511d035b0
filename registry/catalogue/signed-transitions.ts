// Signed transitions: every step of the application–reply procedure (register, approve, refuse, withdraw, import)
// carries the acting department's SM2 signature (a signed envelope, docs/envelope.md) over a canonical statement of
// that step. The statement is built from what the department sent, the same way on both sides:
//
//   canonicalJson({ schema: "zhengtong/demand-transition/v1", kind, demandId, actor, content })
//
// where content holds the step's fields (below) with null, "", [] and {} left out, so that JSON and protobuf (whose
// unset fields read as "" and []) give the same bytes. For an import, content is { documentSm3 }: the SM3 of the
// imported file as sent, and the actor is the signer, who must be the requester of every row.
//
// The verifier checks, in order: an envelope is there (ZT_ERR_TRANSITION_UNSIGNED), it carries the certificate
// (ZT_ERR_TRANSITION_UNSIGNED), the certificate chains to the platform CA and is not revoked (ZT_ERR_CERT_*), the
// certificate's USCC is the actor's (ZT_ERR_SIGNER_MISMATCH), the signing time is within the window
// (ZT_ERR_TRANSITION_STALE), and the signature covers this statement (ZT_ERR_SIGNATURE_*). A replay of a recorded
// signature is refused when it is stored (ZT_ERR_TRANSITION_REPLAYED).
import { canonicalJson, pruned } from '../../core/canonical-json.js';
import { ZtError } from '../../core/errors/index.js';
import { envelopeToJson, signEnvelope, verifyEnvelope, type SignedEnvelope } from '../../certs/envelope/index.js';
import { sm3 } from '../../certs/sm2/sm2.js';
import type { Signer } from '../../certs/signer/index.js';
import type { TrustedCertificate } from '../../certs/trust/index.js';
import type { TransitionAuthenticator, TransitionEvidence, TransitionKind, TransitionRequest } from './authenticator.js';

export const TRANSITION_STATEMENT_SCHEMA = 'zhengtong/demand-transition/v1';

/** The fields of each kind of step that the signature covers; anything else the caller sent is not part of it. */
const CONTENT_FIELDS: Readonly<Record<TransitionKind, readonly string[]>> = {
  register: ['requester', 'resource', 'items', 'serviceItem', 'legalBasis', 'expectedDailyVolume', 'validFrom', 'validTo'],
  approve: ['terms'],
  refuse: ['negativeListRuleId', 'legalBasis', 'reason'],
  withdraw: ['reason'],
  import: ['documentSm3'],
};

export interface TransitionToSign {
  kind: TransitionKind;
  demandId?: string | null;
  actor: string;
  /** The step's input as sent: for register the registration, for approve { terms }, for refuse the refusal… */
  content: object;
}

export { pruned };

/** The canonical statement of a step: the bytes its signature covers. */
export function transitionStatement(step: TransitionToSign): Buffer {
  const fields = CONTENT_FIELDS[step.kind];
  if (!fields) throw new TypeError(`no transition kind ${String(step.kind)}`);
  const content: Record<string, unknown> = {};
  for (const f of fields) content[f] = (step.content as Record<string, unknown>)[f];
  const statement = {
    schema: TRANSITION_STATEMENT_SCHEMA,
    kind: step.kind,
    demandId: step.demandId ?? null,
    actor: typeof step.actor === 'string' ? step.actor.trim().toUpperCase() : step.actor,
    content: pruned(content) ?? {},
  };
  return Buffer.from(canonicalJson(statement), 'utf8');
}

/** Signs a step as its actor: what a department's client (and the demo seed) sends as `signature`. */
export function signTransition(signer: Signer, step: TransitionToSign): Promise<SignedEnvelope> {
  return signEnvelope(signer, transitionStatement(step));
}

export interface SignedTransitionOptions {
  /** Validates a certificate against the platform CA (the trust store); throws ZT_ERR_CERT_* otherwise. */
  validate: (certificateDer: Buffer) => Promise<TrustedCertificate>;
  /** How far the signing time may be from now, either way. */
  windowMs: number;
  clock?: () => number;
}

export function isSignedEnvelope(value: unknown): value is SignedEnvelope {
  return typeof value === 'object' && value !== null && 'signature' in value && 'payloadSm3' in value && 'signingTime' in value;
}

/** A signed step of any procedure (demand or licence): what the signature must cover and who claims to act. */
export interface SignedStepCheck<K extends string> {
  kind: K;
  /** How the step is named in messages, e.g. "approve of demand …". */
  what: string;
  /** The department that claims to act; null when the signer is the actor (an import). */
  actor: string | null;
  /** The canonical statement for the actor (known once the certificate is read). */
  statement: (actor: string) => Buffer;
  proof: unknown;
}

/** What is kept of a verified signature (TransitionEvidence for any kind of step). */
export type SignedStepEvidence<K extends string> = Omit<TransitionEvidence, 'kind'> & { kind: K };

/**
 * Checks a signed step in the order the procedure documents promise: an envelope with its certificate, the
 * certificate (trust store), the actor, the signing time, then the signature over the statement.
 */
export async function verifySignedStep<K extends string>(options: SignedTransitionOptions, step: SignedStepCheck<K>): Promise<SignedStepEvidence<K>> {
  const { proof, what } = step;
  if (proof === undefined || proof === null) {
    throw new ZtError('ZT_ERR_TRANSITION_UNSIGNED', `the ${what} carries no signature; sign it with the acting department's SM2 key (field "signature")`);
  }
  if (!isSignedEnvelope(proof)) throw new ZtError('ZT_ERR_TRANSITION_UNSIGNED', `the ${what} carries a signature that is not a signed envelope`);
  const certificate = proof.signer.certificate;
  if (!certificate) {
    throw new ZtError('ZT_ERR_TRANSITION_UNSIGNED', `the signature of the ${what} must carry the signer's certificate (signer.certificate)`);
  }
  const trusted = await options.validate(certificate);
  const actor = step.actor ?? trusted.uscc;
  if (!trusted.uscc || trusted.uscc !== actor) {
    throw new ZtError(
      'ZT_ERR_SIGNER_MISMATCH',
      `the ${what} is signed with the certificate of ${trusted.uscc ?? 'no department'} (serial ${trusted.serial}), but the acting department is ${actor}`,
    );
  }
  const skew = proof.signingTime.getTime() - (options.clock ?? Date.now)();
  if (Math.abs(skew) > options.windowMs) {
    throw new ZtError(
      'ZT_ERR_TRANSITION_STALE',
      `the ${what} was signed at ${proof.signingTime.toISOString()}, ${Math.round(Math.abs(skew) / 1000)} s ${skew < 0 ? 'ago' : 'ahead of this server'}; at most ${options.windowMs / 1000} s is accepted`,
    );
  }
  const statement = step.statement(actor);
  await verifyEnvelope(proof, statement, { publicKey: trusted.publicKey });
  return {
    key: sm3(proof.signature, proof.payloadSm3).toString('hex'),
    kind: step.kind,
    actor,
    statement: statement.toString('utf8'),
    envelope: envelopeToJson(proof),
    certificateSm3: trusted.fingerprintSm3,
    certificateSerial: trusted.serial,
    signedAt: proof.signingTime,
  };
}

/** Verifies each step's signature with the trust store and returns the evidence to record. */
export class SignedTransitionAuthenticator implements TransitionAuthenticator {
  readonly #options: SignedTransitionOptions;

  constructor(options: SignedTransitionOptions) {
    this.#options = options;
  }

  authenticate(request: TransitionRequest): Promise<TransitionEvidence> {
    const { kind } = request;
    return verifySignedStep(this.#options, {
      kind,
      what: request.demandId ? `${kind} of demand ${request.demandId}` : kind,
      actor: request.actor,
      statement: (actor) => transitionStatement({ kind, demandId: request.demandId, actor, content: request.content }),
      proof: request.proof,
    });
  }
}
