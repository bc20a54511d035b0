// The checks every signed request goes through before its content is looked at (docs/exchange-protocol.md), shared
// by the exchange and by departments' licence verifications: the time window, the certificate (trust store, cached),
// the SM2 signature over the canonical request, that the signer is the department the request names, and the nonce,
// claimed once across instances. The claim is a database round trip, so it runs while the caller carries on; the
// caller awaits fresh() before releasing anything. A service that commits a record of its own before it answers (the
// exchange) takes the nonce instead and claims it in that commit: one round trip fewer per request.
import { ZtError } from '../core/errors/index.js';
import { sm2Verify, sm3, type KeyObject } from '../certs/sm2/sm2.js';
import type { TrustStore } from '../certs/trust/index.js';
import type { NonceStore } from './nonce-store.js';
import { canonicalRequest } from '../transport/request-signature.js';
import type { SignatureTrail, SignedCall, Verification, VerifiedRequest } from '../transport/signed-call.js';

export type { SignatureTrail, SignedCall, VerifiedCaller, VerifiedRequest } from '../transport/signed-call.js';

export interface SignedRequestVerifierOptions {
  trust: TrustStore | null;
  nonces: NonceStore;
  windowMs: number;
  clock?: () => number;
  /**
   * Verifies the SM2 signature over the canonical request: a pool of worker threads in the gateway
   * (certs/sm2/verify-pool.ts), so that the event loop does not; on this thread without it.
   */
  verifySignature?: (publicKey: KeyObject, message: Uint8Array, signature: Uint8Array) => Promise<boolean>;
}

export class SignedRequestVerifier {
  readonly #o: SignedRequestVerifierOptions;
  readonly #clock: () => number;

  constructor(options: SignedRequestVerifierOptions) {
    this.#o = options;
    this.#clock = options.clock ?? Date.now;
  }

  get windowMs(): number {
    return this.#o.windowMs;
  }

  /**
   * The checks of one signed call, for the department the request names (`requester`). A call the gateway checked
   * already (call.verification) is not checked again: its outcome is taken, the trail filled from it, and only the
   * requester compared, since the nonce was claimed by that check.
   */
  async verify(call: SignedCall, requester: string, trail: SignatureTrail): Promise<VerifiedRequest> {
    const verification = call.verification;
    if (verification) {
      trail.certificateSm3 = verification.trail.certificateSm3;
      trail.requestDigest = verification.trail.requestDigest;
      trail.certifiedRequester = verification.trail.certifiedRequester;
      if (!verification.verified) throw verification.error;
      this.#assertRequester(verification.verified.certificate.uscc, requester);
      return verification.verified;
    }
    const verified = await this.#check(call, trail, true);
    this.#assertRequester(verified.certificate.uscc, requester);
    return verified;
  }

  /**
   * The gateway's check of a call, whoever signed it; never throws, the outcome says what failed. With `deferNonce`
   * the nonce's claim waits for the service (fresh() or takeNonce()); else it starts at once.
   */
  async check(call: SignedCall, options: { deferNonce?: boolean } = {}): Promise<Verification> {
    const trail: SignatureTrail = { certificateSm3: null, requestDigest: null, certifiedRequester: null };
    try {
      return { trail, verified: await this.#check(call, trail, options.deferNonce !== true), error: null };
    } catch (error) {
      return { trail, verified: null, error };
    }
  }

  #assertRequester(certified: string | undefined, requester: string): void {
    if (certified !== requester) {
      throw new ZtError('ZT_ERR_SIGNER_MISMATCH', `the request is signed with the certificate of ${certified ?? 'no department'}, but names ${requester} as requester`);
    }
  }

  async #check(call: SignedCall, trail: SignatureTrail, claimNow: boolean): Promise<VerifiedRequest> {
    const presented = call.signature();
    const now = this.#clock();
    const skew = Date.parse(presented.timestamp) - now;
    if (Math.abs(skew) > this.#o.windowMs) {
      throw new ZtError(
        'ZT_ERR_REQUEST_STALE',
        `the request was signed at ${presented.timestamp}, ${Math.round(Math.abs(skew) / 1000)} s ${skew < 0 ? 'ago' : 'ahead of this server'}; at most ${this.#o.windowMs / 1000} s is accepted`,
      );
    }
    const trust = this.#o.trust;
    if (!trust) throw new ZtError('ZT_ERR_CA_NOT_INITIALISED', 'there is no platform CA to check requesters against (zhengtong ca init)');
    const certificate = await trust.validate(presented.certificate);
    trail.certificateSm3 = Buffer.from(certificate.fingerprintSm3, 'hex');
    const canonical = canonicalRequest({
      method: call.method,
      path: call.path,
      timestamp: presented.timestamp,
      nonce: presented.nonce,
      bodySm3: sm3(call.body),
      certificateSm3: trail.certificateSm3,
    });
    trail.requestDigest = sm3(canonical);
    if (call.whileVerifying) {
      // The route's read, started now so that it overlaps the signature check; it must not fail the check.
      try {
        call.whileVerifying(certificate);
      } catch {
        /* the route drops what it started */
      }
    }
    const verify = this.#o.verifySignature;
    if (!(verify ? await verify(certificate.publicKey, canonical, presented.signature) : sm2Verify(certificate.publicKey, canonical, presented.signature))) {
      const { assertSm2Signature } = await import('../certs/sm2/diagnose.js');
      assertSm2Signature(certificate.publicKey, canonical, presented.signature);
      throw new ZtError('ZT_ERR_SIGNATURE_INVALID', 'the request signature does not verify over the canonical request (docs/exchange-protocol.md)');
    }
    trail.certifiedRequester = certificate.uscc ?? null;
    const nonceKey = sm3(trail.certificateSm3, Buffer.from(presented.nonce, 'utf8')).toString('hex');
    const expiresAt = new Date(now + 2 * this.#o.windowMs);
    const nonces = this.#o.nonces;
    const replayed = () => new ZtError('ZT_ERR_REQUEST_REPLAYED', `the nonce ${presented.nonce} has been used before by this certificate`);
    let claimed: Promise<boolean> | null = null;
    let taken = false;
    const claim = (): Promise<boolean> => {
      if (!claimed) {
        claimed = nonces.claim(nonceKey, expiresAt);
        claimed.catch(() => undefined); // awaited by fresh(); a refusal before that must not leave it unhandled
      }
      return claimed;
    };
    if (claimNow) claim();
    return {
      certificate,
      presented,
      fresh: async () => {
        if (taken) return;
        if (!(await claim())) throw replayed();
      },
      takeNonce: () => {
        if (claimed || taken) return null;
        taken = true;
        if (!nonces.reserve(nonceKey)) throw replayed();
        return { key: nonceKey, expiresAt };
      },
    };
  }
}
