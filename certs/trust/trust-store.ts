// The trust store: validates a signer's certificate chain (SM2 signatures, validity, revocation through CRLs) once,
// then answers from an LRU cache keyed by the certificate's SM3 fingerprint until the chain expires, the entry ages
// out, or a revocation event evicts it (in every instance, through the event bus).
import type { KeyObject } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { EventBus, Subscription } from '../../core/events/index.js';
import { loadSm2PublicKey, sm3 } from '../sm2/sm2.js';
import { parseCertificate, readUscc, validateChain, type EncodedInput, type x509 } from '../x509/index.js';
import { looksLikePem } from '../x509/pem.js';
import { Sm3Memo } from '../sm2/sm3-memo.js';

export interface TrustedCertificate {
  certificate: x509.X509Certificate;
  /** The subject's SM2 public key, ready for sm2Verify (its ZA is cached on this object). */
  publicKey: KeyObject;
  fingerprintSm3: string;
  serial: string;
  /** The department's unified social credit code, from the subject serialNumber or the GM/T 0015 extension. */
  uscc: string | undefined;
  /** When the cached result stops holding: the earliest notAfter on the chain. */
  validUntil: Date;
}

export interface TrustStoreOptions {
  trustAnchors: readonly x509.X509Certificate[];
  intermediates: readonly x509.X509Certificate[];
  /** The current CRLs of the CAs on the path. */
  crls: () => Promise<readonly x509.X509Crl[]>;
  /** Entries kept; default 10,000 certificates. */
  max?: number;
  /** Longest time a validation is trusted without re-checking the CRLs; default 10 minutes. */
  maxAgeMs?: number;
}

export interface RevocationEvent {
  type: 'certificate.revoked';
  serial: string;
  fingerprintSm3: string;
}

export const REVOCATION_TOPIC = 'certs.revocations';
/** Fingerprints of the certificates requests present: the same few on every request. */
const PRESENTED = new Sm3Memo(64);

export class TrustStore {
  readonly #options: TrustStoreOptions;
  readonly #cache: LRUCache<string, TrustedCertificate>;
  readonly #inFlight = new Map<string, Promise<TrustedCertificate>>();
  /** Bumped by evict() and clear(): a validation that started before (on older CRLs) is not cached. */
  #generation = 0;
  #hits = 0;
  #misses = 0;

  constructor(options: TrustStoreOptions) {
    this.#options = options;
    this.#cache = new LRUCache({ max: options.max ?? 10_000, ttl: options.maxAgeMs ?? 600_000, ttlAutopurge: false });
  }

  get stats(): { size: number; hits: number; misses: number } {
    return { size: this.#cache.size, hits: this.#hits, misses: this.#misses };
  }

  /** Validates the certificate (cached); throws the chain's specific ZT_ERR_CERT_* error otherwise. */
  async validate(input: EncodedInput | x509.X509Certificate): Promise<TrustedCertificate> {
    // A hit is found by the SM3 of the DER alone: parsing a certificate costs far more than checking a signature,
    // and the exchange presents the same few certificates on every request.
    const der = input instanceof Uint8Array && !looksLikePem(input) ? input : null;
    const fingerprint = der ? PRESENTED.hex(der) : null;
    if (fingerprint) {
      const cached = this.#cache.get(fingerprint);
      if (cached && cached.validUntil.getTime() > Date.now()) {
        this.#hits++;
        return cached;
      }
    }
    const certificate = parseCertificate(input);
    // Cached under the SM3 of the certificate's own DER (bytes after it, if any, are not part of it).
    return this.#validateParsed(certificate, sm3(new Uint8Array(certificate.rawData)).toString('hex'));
  }

  async #validateParsed(certificate: x509.X509Certificate, fingerprint: string): Promise<TrustedCertificate> {
    const cached = this.#cache.get(fingerprint);
    if (cached && cached.validUntil.getTime() > Date.now()) {
      this.#hits++;
      return cached;
    }
    this.#misses++;
    let pending = this.#inFlight.get(fingerprint);
    if (!pending) {
      const started = this.#validate(certificate, fingerprint).finally(() => {
        if (this.#inFlight.get(fingerprint) === started) this.#inFlight.delete(fingerprint);
      });
      pending = started;
      this.#inFlight.set(fingerprint, pending);
    }
    return pending;
  }

  async #validate(certificate: x509.X509Certificate, fingerprint: string): Promise<TrustedCertificate> {
    const generation = this.#generation;
    const result = await validateChain({
      certificate,
      intermediates: this.#options.intermediates,
      trustAnchors: this.#options.trustAnchors,
      crls: await this.#options.crls(),
    });
    const trusted: TrustedCertificate = {
      certificate,
      publicKey: loadSm2PublicKey(new Uint8Array(certificate.publicKey.rawData)),
      fingerprintSm3: fingerprint,
      serial: certificate.serialNumber.toUpperCase(),
      uscc: readUscc(certificate),
      validUntil: result.notAfter,
    };
    const ttl = Math.min(this.#options.maxAgeMs ?? 600_000, result.notAfter.getTime() - Date.now());
    if (ttl > 0 && generation === this.#generation) this.#cache.set(fingerprint, trusted, { ttl });
    return trusted;
  }

  /** Drops a certificate from the cache; the next use validates it again against fresh CRLs. */
  evict(fingerprintSm3: string): boolean {
    this.#generation++;
    this.#inFlight.delete(fingerprintSm3);
    return this.#cache.delete(fingerprintSm3);
  }

  clear(): void {
    this.#generation++;
    this.#inFlight.clear();
    this.#cache.clear();
  }

  /**
   * Listens for revocations on the event bus. Each instance has a consumer group of its own, so every instance hears
   * every revocation; `onRevoked` lets the caller refresh its CRLs before the evicted certificate is checked again.
   */
  listen(bus: EventBus, instanceId: string, onRevoked: (event: RevocationEvent) => void = () => undefined): Promise<Subscription> {
    return bus.subscribe({
      topics: [REVOCATION_TOPIC],
      group: `trust-store.${instanceId}`,
      fromBeginning: false,
      handler: async (event) => {
        const revocation = JSON.parse(event.value.toString('utf8')) as RevocationEvent;
        if (revocation.type !== 'certificate.revoked') return;
        onRevoked(revocation);
        this.evict(revocation.fingerprintSm3);
      },
    });
  }
}
