// The checks every signed request goes through before its content is looked at (docs/exchange-protocol.md), shared
// by the exchange and by departments' licence verifications: the time window, the certificate (trust store, cached),
// the SM2 signature over the canonical request, that the signer is the department the request names, and the nonce,
// claimed once across instances. The claim is a database round trip, so it runs while the caller carries on; the
// caller awaits fresh() before releasing anything.
import { ZtError } from '../core/errors/index.js';
import { sm2Verify, sm3 } from '../certs/sm2/sm2.js';
import type { TrustedCertificate, TrustStore } from '../certs/trust/index.js';
import type { NonceStore } from './nonce-store.js';
import { canonicalRequest, type PresentedSignature } from './protocol/request-signature.js';

export interface SignedCall {
  method: string;
  path: string;
  /** The body exactly as received. */
  body: Buffer;
  /** Reads the signature parts; throws ZT_ERR_REQUEST_UNSIGNED / _INVALID. */
  signature: () => PresentedSignature;
}

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

export interface VerifiedRequest {
  certificate: TrustedCertificate;
  /** Resolves when the nonce was claimed first; rejects with ZT_ERR_REQUEST_REPLAYED otherwise. */
  fresh: () => Promise<void>;
}

export interface SignedRequestVerifierOptions {
  trust: TrustStore | null;
  nonces: NonceStore;
  windowMs: number;
  clock?: () => number;
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

  async verify(call: SignedCall, requester: string, trail: SignatureTrail): Promise<VerifiedRequest> {
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
    if (!sm2Verify(certificate.publicKey, canonical, presented.signature)) {
      const { assertSm2Signature } = await import('../certs/sm2/diagnose.js');
      assertSm2Signature(certificate.publicKey, canonical, presented.signature);
      throw new ZtError('ZT_ERR_SIGNATURE_INVALID', 'the request signature does not verify over the canonical request (docs/exchange-protocol.md)');
    }
    trail.certifiedRequester = certificate.uscc ?? null;
    if (certificate.uscc !== requester) {
      throw new ZtError('ZT_ERR_SIGNER_MISMATCH', `the request is signed with the certificate of ${certificate.uscc ?? 'no department'}, but names ${requester} as requester`);
    }
    const nonceKey = sm3(trail.certificateSm3, Buffer.from(presented.nonce, 'utf8')).toString('hex');
    const claimed = this.#o.nonces.claim(nonceKey, new Date(now + 2 * this.#o.windowMs));
    claimed.catch(() => undefined); // awaited by fresh(); a refusal before that must not leave it unhandled
    return {
      certificate,
      fresh: async () => {
        if (!(await claimed)) throw new ZtError('ZT_ERR_REQUEST_REPLAYED', `the nonce ${presented.nonce} has been used before by this certificate`);
      },
    };
  }
}
