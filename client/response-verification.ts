// The response side of the exchange protocol (docs/exchange-protocol.md, "Response"): a result is accepted only when
// the platform's signed envelope verifies over its canonical JSON, the envelope's certificate chains to the platform
// CA (and names the platform's USCC, when the caller knows it), and the result binds the digest of the request this
// client sent. Anything else is ZT_CLIENT_RESPONSE_UNVERIFIED, with what failed as the cause.
import type { KeyObject } from 'node:crypto';
import { canonicalJson } from '../core/canonical-json.js';
import { decodeEnvelopeJson, verifyEnvelope, type SignedEnvelope } from '../certs/envelope/index.js';
import { loadSm2PublicKey, sm3 } from '../certs/sm2/sm2.js';
import { assertCertificateUsage, parseCertificate, parseCrl, readUscc, validateChain, x509, type EncodedInput } from '../certs/x509/index.js';
import { describeError, ExchangeClientError } from './errors.js';
import { EXCHANGE_RESULT_SCHEMA, type ExchangeResult } from '../exchange/protocol/result.js';

export { EXCHANGE_RESULT_SCHEMA, type ExchangeResult } from '../exchange/protocol/result.js';

/** The platform certificate that signed a result, as validated. */
export interface PlatformSignerIdentity {
  fingerprintSm3: string;
  uscc: string | undefined;
  subject: string;
  serialNumber: string;
}

export interface VerifiedResult {
  result: ExchangeResult;
  /** The platform's signature over `signedBytes`. */
  signature: SignedEnvelope;
  /** The canonical JSON of `result`: the bytes the signature covers. Keep both as evidence of what was received. */
  signedBytes: Buffer;
  signer: PlatformSignerIdentity;
}

export type CertificateInput = EncodedInput | x509.X509Certificate;
export type CrlInput = EncodedInput | x509.X509Crl;

/** What a client trusts to sign results: the platform CA, PEM or DER. */
export interface ResponseTrust {
  root: CertificateInput;
  issuing: CertificateInput;
  /**
   * The CAs' current CRLs, or a function returning them (called whenever a certificate is validated, so it can
   * refresh). Given: revocation is checked and every certificate below the root must be covered (fail closed).
   */
  crls?: readonly CrlInput[] | (() => Promise<readonly CrlInput[]>);
  /** If set, the signing certificate must name this USCC. */
  platformUscc?: string;
  /** Milliseconds since 1970; default Date.now. */
  clock?: () => number;
  /** How long a validated certificate is trusted before it is validated again (fresh CRLs); default 10 minutes. */
  maxAgeMs?: number;
}

export interface TrustedSigner {
  identity: PlatformSignerIdentity;
  publicKey: KeyObject;
  /** Clock time after which the certificate is validated again. */
  expiresAt: number;
}

const MAX_CACHED_SIGNERS = 64;

function unverified(message: string, cause?: unknown): ExchangeClientError {
  return new ExchangeClientError('ZT_CLIENT_RESPONSE_UNVERIFIED', `the exchange response is not verified: ${message}`, cause === undefined ? {} : { cause });
}

/**
 * The platform's signing certificates as a client trusts them: validated against the platform CA (CRLs when given)
 * once, as signing certificates, and kept by SM3 fingerprint until maxAgeMs or the chain's end. The exchange and the
 * licence clients both check the platform's signatures with it.
 */
export class PlatformSignerCertificates {
  readonly root: x509.X509Certificate;
  readonly issuing: x509.X509Certificate;
  readonly #crls: (() => Promise<readonly CrlInput[]>) | undefined;
  readonly #clock: () => number;
  readonly #maxAgeMs: number;
  readonly #cache = new Map<string, TrustedSigner>();
  readonly #inFlight = new Map<string, Promise<TrustedSigner>>();

  /** ZT_CLIENT_CONFIG_INVALID when the CA certificates or CRLs cannot be read. */
  constructor(trust: Pick<ResponseTrust, 'root' | 'issuing' | 'crls' | 'maxAgeMs'>, clock: () => number) {
    try {
      this.root = parseCertificate(trust.root);
      this.issuing = parseCertificate(trust.issuing);
      const { crls } = trust;
      if (typeof crls === 'function') this.#crls = crls;
      else if (crls !== undefined) {
        const parsed = crls.map((c) => parseCrl(c));
        this.#crls = async () => parsed;
      } else this.#crls = undefined;
    } catch (error) {
      throw new ExchangeClientError('ZT_CLIENT_CONFIG_INVALID', `the trusted platform CA cannot be read: ${(error as Error).message}`, { cause: error });
    }
    this.#clock = clock;
    this.#maxAgeMs = trust.maxAgeMs ?? 600_000;
  }

  /** The key of the envelope's signer, from the cache or by validating its certificate; `fail` makes the caller's error. */
  async signer(envelope: SignedEnvelope, fail: (message: string, cause?: unknown) => Error): Promise<TrustedSigner> {
    const certificate = envelope.signer.certificate;
    const fingerprint = (envelope.signer.certificateSm3 ?? (certificate ? sm3(certificate) : undefined))?.toString('hex');
    if (fingerprint === undefined) throw fail('the envelope names no signer certificate');
    const now = this.#clock();
    const cached = this.#cache.get(fingerprint);
    if (cached && cached.expiresAt > now) return cached;
    if (cached) this.#cache.delete(fingerprint);
    if (!certificate) throw fail(`the envelope carries only the fingerprint ${fingerprint} of a certificate this client has not validated`);
    let pending = this.#inFlight.get(fingerprint);
    if (!pending) {
      const started = this.#validate(certificate, fingerprint, now).finally(() => this.#inFlight.delete(fingerprint));
      this.#inFlight.set(fingerprint, started);
      pending = started;
    }
    return pending.catch((error: unknown) => {
      throw fail(`the signer's certificate is not trusted: ${describeError(error)}`, error);
    });
  }

  async #validate(der: Buffer, fingerprint: string, now: number): Promise<TrustedSigner> {
    const certificate = parseCertificate(der);
    const chain = await validateChain({
      certificate,
      intermediates: [this.issuing],
      trustAnchors: [this.root],
      ...(this.#crls ? { crls: await this.#crls() } : {}),
      at: new Date(now),
    });
    if (certificate.getExtension(x509.BasicConstraintsExtension)?.ca) throw new Error(`${certificate.subject} is a CA certificate, not a signing certificate`);
    assertCertificateUsage(certificate, { keyUsage: ['digitalSignature'] });
    const trusted: TrustedSigner = {
      identity: { fingerprintSm3: fingerprint, uscc: readUscc(certificate), subject: certificate.subject, serialNumber: certificate.serialNumber.toUpperCase() },
      publicKey: loadSm2PublicKey(new Uint8Array(certificate.publicKey.rawData)),
      expiresAt: Math.min(chain.notAfter.getTime(), now + this.#maxAgeMs),
    };
    if (this.#cache.size >= MAX_CACHED_SIGNERS) this.#cache.delete(this.#cache.keys().next().value!);
    this.#cache.set(fingerprint, trusted);
    return trusted;
  }

  /** Forgets every validated certificate (e.g. after a revocation was announced). */
  clear(): void {
    this.#cache.clear();
  }
}

/** Verifies results against one platform CA; caches the certificates it validated, by SM3 fingerprint. */
export class ResponseVerifier {
  readonly #certificates: PlatformSignerCertificates;
  readonly #platformUscc: string | undefined;

  constructor(trust: ResponseTrust) {
    this.#certificates = new PlatformSignerCertificates(trust, trust.clock ?? Date.now);
    this.#platformUscc = trust.platformUscc;
  }

  /**
   * Verifies a result and its envelope. `result` is the canonical JSON bytes (as gRPC carries it) or the parsed
   * object (as HTTP carries it); `envelope` decoded or in its JSON form; `expectedDigest` the request digest of the
   * request sent (bytes or hex). Throws ExchangeClientError ZT_CLIENT_RESPONSE_UNVERIFIED naming the failed check.
   */
  async verify(result: Uint8Array | object, envelope: SignedEnvelope | object, expectedDigest: Uint8Array | string): Promise<VerifiedResult> {
    const { value, bytes } = signedPayload(result);
    let decoded: SignedEnvelope;
    try {
      decoded = isDecodedEnvelope(envelope) ? envelope : decodeEnvelopeJson(envelope);
    } catch (error) {
      throw unverified(`its signature envelope is malformed: ${(error as Error).message}`, error);
    }
    const signer = await this.#certificates.signer(decoded, unverified);
    if (this.#platformUscc !== undefined && signer.identity.uscc !== this.#platformUscc) {
      throw unverified(`it is signed by ${signer.identity.uscc ?? 'a certificate naming no USCC'} (${signer.identity.subject}), not by the platform ${this.#platformUscc}`);
    }
    try {
      await verifyEnvelope(decoded, bytes, { publicKey: signer.publicKey });
    } catch (error) {
      throw unverified(`the platform's signature does not cover this result: ${(error as Error).message}`, error);
    }
    const r = value as Partial<ExchangeResult>;
    if (r.schema !== EXCHANGE_RESULT_SCHEMA) throw unverified(`the result's schema is ${JSON.stringify(r.schema)}, not ${EXCHANGE_RESULT_SCHEMA}`);
    const expected = typeof expectedDigest === 'string' ? expectedDigest.toLowerCase() : Buffer.from(expectedDigest).toString('hex');
    if (r.requestDigest !== expected) {
      throw unverified(`the result answers another request (its requestDigest is ${JSON.stringify(r.requestDigest)}, this request's is ${expected})`);
    }
    return { result: value as ExchangeResult, signature: decoded, signedBytes: bytes, signer: signer.identity };
  }

  /** Forgets every validated certificate (e.g. after a revocation was announced). */
  clear(): void {
    this.#certificates.clear();
  }
}

/**
 * Verifies one result without a long-lived client: `trust` is a ResponseVerifier (which caches) or the platform CA
 * to build one from.
 */
export function verifyExchangeResponse(
  result: Uint8Array | object,
  envelope: SignedEnvelope | object,
  expectedDigest: Uint8Array | string,
  trust: ResponseVerifier | ResponseTrust,
): Promise<VerifiedResult> {
  const verifier = trust instanceof ResponseVerifier ? trust : new ResponseVerifier(trust);
  return verifier.verify(result, envelope, expectedDigest);
}

function isDecodedEnvelope(envelope: object): envelope is SignedEnvelope {
  return Buffer.isBuffer((envelope as { signature?: unknown }).signature);
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The result value and the bytes its signature must cover: given bytes must already be its canonical JSON. */
function signedPayload(result: Uint8Array | object): { value: unknown; bytes: Buffer } {
  if (result instanceof Uint8Array) {
    const bytes = Buffer.from(result.buffer, result.byteOffset, result.byteLength);
    let value: unknown;
    try {
      value = JSON.parse(utf8.decode(bytes));
    } catch (error) {
      throw unverified('the result is not UTF-8 JSON', error);
    }
    let canonical: string;
    try {
      canonical = canonicalJson(value);
    } catch (error) {
      throw unverified(`the result has no canonical JSON form: ${(error as Error).message}`, error);
    }
    if (!bytes.equals(Buffer.from(canonical, 'utf8'))) throw unverified('the result bytes are not canonical JSON (docs/exchange-protocol.md: sorted keys, no white space)');
    if (!isPlainObject(value)) throw unverified('the result is not a JSON object');
    return { value, bytes };
  }
  if (!isPlainObject(result)) throw unverified('the result is not a JSON object');
  try {
    return { value: result, bytes: Buffer.from(canonicalJson(result), 'utf8') };
  } catch (error) {
    throw unverified(`the result has no canonical JSON form: ${(error as Error).message}`, error);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
