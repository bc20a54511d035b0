// The seam for authenticating whoever moves a demand. Today the acting department is named by its USCC and taken
// at its word; a later change makes each transition carry the actor's SM2 signature over `payload`, verified here
// against the department's certificate (ZT_ERR_TRANSITION_UNSIGNED when it does not verify).

export type TransitionKind = 'register' | 'approve' | 'refuse' | 'withdraw';

export interface TransitionRequest {
  kind: TransitionKind;
  /** Null when registering (the id is not assigned yet). */
  demandId: string | null;
  /** USCC of the department that claims to act. */
  actor: string;
  /** The normalised content of the transition: what a signature will cover. */
  payload: Readonly<Record<string, unknown>>;
  /** Whatever proof the caller sent (a signature, later); opaque to the service. */
  proof: unknown;
}

export interface TransitionAuthenticator {
  /** Resolves when the actor is who it claims to be; rejects with a catalogue error otherwise. */
  authenticate(request: TransitionRequest): Promise<void>;
}

/** Accepts every transition: the behaviour until signatures are required. */
export const trustNamedActor: TransitionAuthenticator = {
  authenticate: () => Promise.resolve(),
};
