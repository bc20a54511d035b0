// The signed call as every transport hands it to the services: the bytes the signature covers, a way to read the
// signature parts, and, once the gateway has checked it, the outcome of that check (so that the one check made at
// the transport is what every service relies on, and a nonce is claimed once).
import type { TrustedCertificate } from '../certs/trust/index.js';
import type { PresentedSignature } from './request-signature.js';

export interface SignedCall {
  method: string;
  path: string;
  /** The body exactly as received. */
  body: Buffer;
  /** Reads the signature parts; throws ZT_ERR_REQUEST_UNSIGNED / _INVALID. */
  signature: () => PresentedSignature;
  /**
   * The gateway's check of this call (transport/access.ts). When present, a service's verify() takes its outcome
   * instead of checking again: the nonce was claimed by that check, so checking again would refuse it as a replay.
   */
  verification?: Verification | null;
  /**
   * Told once the call's time window and certificate are accepted, just before its signature is checked; the route
   * may start a read its answer will need meanwhile (WhileVerifying). Never told of a call refused before that.
   */
  whileVerifying?: (certificate: TrustedCertificate) => void;
}

/**
 * Work a route starts while a call's signature is being checked, so that the two overlap: a read the answer will
 * need, never a change of state, and nothing that leaves the gateway. It gets the call's bytes and its decoded
 * body, and the certificate that the window and trust store accepted and whose signature is not yet known to
 * verify. What it starts is the route's to use once the signature and every later check have passed, or to drop;
 * the route must not let it fail the call, nor act on it for a call that is later refused.
 */
export type WhileVerifying = (call: { readonly body: Buffer; readonly request: unknown }, certificate: TrustedCertificate) => void;

/** What the access record learns while the signature is checked, kept even when a later check fails. */
export interface SignatureTrail {
  certificateSm3: Buffer | null;
  requestDigest: Buffer | null;
  certifiedRequester: string | null;
}

/** A caller whose signed request was verified already, and what the access records of its reads cite. */
export interface VerifiedCaller {
  protocol: 'http' | 'grpc';
  /** SM3 of the canonical signed request. */
  requestDigest: Buffer;
  /** SM3 fingerprint of the signing certificate. */
  certificateSm3: Buffer;
}

/** A nonce that its service claims in a commit of its own (the exchange, with the access record). */
export interface DeferredNonce {
  /** The key of exchange_nonces: SM3 of the certificate's fingerprint and the nonce, in hex. */
  readonly key: string;
  readonly expiresAt: Date;
}

export interface VerifiedRequest {
  certificate: TrustedCertificate;
  /** Resolves when the nonce was claimed first; rejects with ZT_ERR_REQUEST_REPLAYED otherwise. */
  fresh: () => Promise<void>;
  /**
   * Hands the nonce to a service that claims it in its own commit, when its claim has not started (the gateway
   * defers it on routes whose service records refusals). Throws ZT_ERR_REQUEST_REPLAYED when this instance has seen
   * the nonce before. Once taken, fresh() resolves at once: the taker must refuse the request if its claim fails,
   * and claim it in the database (or forget it) whatever the outcome. Null when the claim has started already.
   */
  takeNonce: () => DeferredNonce | null;
  /** The signature parts as presented, kept by features that store the signed request as evidence. */
  presented: PresentedSignature;
}

/** The settled outcome of the gateway's signature check of one call. */
export interface Verification {
  readonly trail: Readonly<SignatureTrail>;
  readonly verified: VerifiedRequest | null;
  /** Why the check failed, when it did (verified is then null). */
  readonly error: unknown;
}
