// The seam for authenticating whoever moves a demand. In the application every transition carries the acting
// department's SM2 signature over a canonical statement of what it does (signed-transitions.ts); the evidence is
// recorded with the transition, so the history can be verified later, offline, by anyone holding the CA certificate.

import type { EnvelopeJson } from '../../certs/envelope/index.js';

export type TransitionKind = 'register' | 'approve' | 'refuse' | 'withdraw' | 'import';

export interface TransitionRequest {
  kind: TransitionKind;
  /** Null when registering or importing (the id is not assigned yet). */
  demandId: string | null;
  /** USCC of the department that claims to act; null for an import, whose actor is whoever signed it. */
  actor: string | null;
  /** What the department asks for, as it sent it: what the signature covers (see transitionStatement). */
  content: Readonly<Record<string, unknown>>;
  /** The signature the caller sent (a SignedEnvelope), or anything else, which is refused; opaque to the service. */
  proof: unknown;
}

/** What is kept of a verified signature: enough to verify the transition again without the caller. */
export interface TransitionEvidence {
  /** Lower-case hex SM3(signature ‖ SM3(statement)): one per signed statement, so a replay repeats it. */
  key: string;
  kind: TransitionKind;
  /** USCC of the department that signed (the certificate's, equal to the claimed actor). */
  actor: string;
  /** The canonical statement that was signed (UTF-8 JSON). */
  statement: string;
  /** The signed envelope, in its JSON form (docs/envelope.md). */
  envelope: EnvelopeJson;
  certificateSm3: string;
  certificateSerial: string;
  signedAt: Date;
}

export interface TransitionAuthenticator {
  /**
   * Resolves when the actor is who it claims to be, with the evidence to record (null when nothing is to be
   * recorded); rejects with a catalogue error otherwise.
   */
  authenticate(request: TransitionRequest): Promise<TransitionEvidence | null>;
}

/**
 * Takes the named actor at its word and records nothing. For tests of the stores and the state machine, and for
 * tools working on the database directly; the application never wires it.
 */
export const trustNamedActor: TransitionAuthenticator = {
  authenticate: () => Promise.resolve(null),
};
