// Verification as the gateway offers it over HTTP and gRPC: anonymous (rate-limited per client address, holder
// masked) or by a department (a signed request, docs/exchange-protocol.md, recorded in the access log like any
// exchange: resource e-licence:<type code>, subject the holder). Either way the answer is signed by the platform
// through the batch signer, so one SM2 signature covers every answer of a batch.
import { performance } from 'node:perf_hooks';
import { isZtError, ZtError, type ErrorCode } from '../core/errors/index.js';
import type { RateLimiter } from '../core/rate-limit.js';
import type { AccessLogWriter } from '../audit/index.js';
import { signEnvelope, type SignedEnvelope } from '../certs/envelope/index.js';
import { verifyPlatformEnvelope } from '../exchange/platform-signer.js';
import { sm3 } from '../certs/sm2/sm2.js';
import type { BatchSigner } from '../certs/signer/index.js';
import type { TrustStore } from '../certs/trust/index.js';
import type { SignatureTrail, SignedCall, SignedRequestVerifier, VerifiedCaller } from '../exchange/signed-request.js';
import { decodeCompactLicence } from './offline/compact.js';
import type { LicenceRegistry } from './licence-registry.js';
import type { StoredLicence } from './sql/sql-licence-store.js';
import { canonicalVerification, verifyLicence, type LicenceVerification, type VerificationTarget } from './verification.js';

export const LICENCE_ACCESS_POLICY = 'licence-registry';
const SERVICE_ITEM = /^[A-Za-z0-9-]{4,64}$/;
const CASE_NUMBER = /^[\p{L}\p{N}_\-./:()（）〔〕[\]]{1,64}$/u;

export interface VerificationAnswer {
  result: LicenceVerification;
  /** canonicalJson(result): the bytes the signature covers. */
  canonical: Buffer;
  signature: SignedEnvelope;
}

export interface LicenceVerifierOptions {
  registry: LicenceRegistry;
  requests: SignedRequestVerifier;
  log: AccessLogWriter;
  /** The platform's batch signer and the USCC its certificate names. */
  signer: () => Promise<{ batch: BatchSigner; uscc: string }>;
  trust: TrustStore | null;
  limiter: RateLimiter;
  /**
   * How long an anonymous answer about a licence, asked by identifier, is given again to everyone asking about the
   * same licence (default 0: never). The answer says when it was checked; it is tied to the cached licence it was
   * made from, so a change of the licence (which replaces that cache entry) ends it at once.
   */
  anonymousReuseMs?: number;
  newAccessId: () => string;
  clock?: () => Date;
}

/** A department's verification request: the licence, and the case it is checked for. */
export interface DepartmentVerificationInput {
  requester: string;
  target: VerificationTarget;
  purpose: { serviceItem: string; caseNumber: string };
  operator: string | null;
}

/** Reads what to verify from a request body: identifier, document + envelope, or compact (the QR payload). */
export function readTarget(o: Record<string, unknown>): VerificationTarget {
  const given = ['identifier', 'document', 'compact'].filter((k) => o[k] !== undefined && o[k] !== null && o[k] !== '');
  if (given.length !== 1) throw new ZtError('ZT_ERR_REQUEST_INVALID', 'give exactly one of identifier, document (with envelope) or compact');
  if (typeof o.identifier === 'string' && o.identifier !== '') return { identifier: o.identifier };
  if (typeof o.compact === 'string' && o.compact !== '') {
    const decoded = decodeCompactLicence(o.compact);
    return { document: decoded.document, envelope: decoded.envelope };
  }
  if (o.document !== undefined) {
    let document = o.document;
    let envelope = o.envelope;
    // Over gRPC both travel as JSON text.
    try {
      if (typeof document === 'string') document = JSON.parse(document);
      if (typeof envelope === 'string' && envelope !== '') envelope = JSON.parse(envelope);
    } catch (error) {
      throw new ZtError('ZT_ERR_LICENCE_DOCUMENT_MALFORMED', 'document and envelope must be JSON', { cause: error });
    }
    if (envelope === undefined || envelope === null || envelope === '') throw new ZtError('ZT_ERR_LICENCE_DOCUMENT_MALFORMED', 'a presented document needs its envelope');
    return { document, envelope };
  }
  throw new ZtError('ZT_ERR_REQUEST_INVALID', 'identifier and compact must be strings');
}

export function readDepartmentVerification(value: unknown): DepartmentVerificationInput {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new ZtError('ZT_ERR_REQUEST_INVALID', 'the request must be an object');
  const o = value as Record<string, unknown>;
  const purpose = (o.purpose ?? {}) as Record<string, unknown>;
  const serviceItem = typeof purpose.serviceItem === 'string' ? purpose.serviceItem : '';
  const caseNumber = typeof purpose.caseNumber === 'string' ? purpose.caseNumber : '';
  if (!SERVICE_ITEM.test(serviceItem)) throw new ZtError('ZT_ERR_REQUEST_INVALID', 'purpose.serviceItem must be 4 to 64 letters, digits or "-" (a department verifies for a case)');
  if (!CASE_NUMBER.test(caseNumber)) throw new ZtError('ZT_ERR_REQUEST_INVALID', 'purpose.caseNumber must be 1 to 64 letters, digits or _-./:() characters');
  const requester = typeof o.requester === 'string' ? o.requester.trim().toUpperCase() : '';
  if (!requester) throw new ZtError('ZT_ERR_REQUEST_INVALID', 'requester is required: the USCC of the verifying department');
  const operator = typeof o.operator === 'string' && o.operator !== '' ? o.operator.slice(0, 200) : null;
  return { requester, target: readTarget(o), purpose: { serviceItem, caseNumber }, operator };
}

const FAILURE_CODES: ReadonlySet<string> = new Set(['ZT_ERR_STORAGE_UNAVAILABLE', 'ZT_ERR_EVENTS_UNAVAILABLE', 'ZT_ERR_INTERNAL', 'ZT_ERR_SHUTTING_DOWN']);

/** One anonymous answer being made or made, with the time it was checked at (ms). */
interface SharedAnswer {
  at: number;
  answer: Promise<VerificationAnswer>;
}

export class LicenceVerifier {
  readonly #o: LicenceVerifierOptions;
  readonly #clock: () => Date;
  /** Keyed by the registry's cached licence object: a change replaces it, and its answer goes with it. */
  readonly #shared = new WeakMap<StoredLicence, SharedAnswer>();
  readonly #verifyForeign: (envelope: SignedEnvelope, payload: Buffer) => Promise<void>;

  constructor(options: LicenceVerifierOptions) {
    this.#o = options;
    this.#clock = options.clock ?? (() => new Date());
    this.#verifyForeign = async (envelope, payload) => verifyPlatformEnvelope(await this.#o.signer(), this.#o.trust, envelope, payload);
  }

  /** An anonymous check by whoever holds the licence or its identifier. */
  async anonymous(target: VerificationTarget, client: string): Promise<VerificationAnswer> {
    const wait = this.#o.limiter.take(client);
    if (wait > 0) throw new ZtError('ZT_ERR_RATE_LIMITED', `too many anonymous verifications from ${client}; retry in ${wait} s, or sign the request as a department`, { details: { retryAfterSeconds: wait } });
    const at = this.#clock();
    const reuseMs = this.#o.anonymousReuseMs ?? 0;
    if (reuseMs <= 0 || !('identifier' in target) || typeof target.identifier !== 'string') return this.#anonymousAnswer(target, at);
    // By identifier: the answer made for the licence as cached now, if it is recent enough, else a new one shared
    // with everyone who asks while it is being signed.
    const stored = await this.#o.registry.get(target.identifier);
    const shared = this.#shared.get(stored);
    if (shared && at.getTime() >= shared.at && at.getTime() - shared.at < reuseMs) return shared.answer;
    const fresh: SharedAnswer = { at: at.getTime(), answer: this.#anonymousAnswer(target, at) };
    this.#shared.set(stored, fresh);
    fresh.answer.catch(() => {
      if (this.#shared.get(stored) === fresh) this.#shared.delete(stored);
    });
    return fresh.answer;
  }

  async #anonymousAnswer(target: VerificationTarget, at: Date): Promise<VerificationAnswer> {
    const { result, licenceCanonical } = await verifyLicence(this.#o.registry, target, { audience: 'public', at, verifyForeign: this.#verifyForeign });
    const canonical = canonicalVerification(result, licenceCanonical);
    const platform = await this.#o.signer();
    return { result, canonical, signature: await signEnvelope(platform.batch, canonical) };
  }

  /** A department's signed check for a case: recorded in the access log whatever its outcome. */
  async department(call: SignedCall & { protocol: 'http' | 'grpc'; request: unknown }): Promise<VerificationAnswer> {
    const started = performance.now();
    const trail: SignatureTrail = { certificateSm3: null, requestDigest: null, certifiedRequester: null };
    let input: DepartmentVerificationInput | null = null;
    return this.#forCase(call.protocol, trail, started, () => input, async () => {
      input = readDepartmentVerification(call.request);
      const { fresh } = await this.#o.requests.verify(call, input.requester, trail);
      return { input, fresh };
    });
  }

  /**
   * A department's check for a case on behalf of a signed request its caller has already verified (application
   * intake's prefill): the same check, answer and access record as department(), citing that request.
   */
  async departmentVerified(input: DepartmentVerificationInput, verified: VerifiedCaller): Promise<VerificationAnswer> {
    const trail: SignatureTrail = { certificateSm3: verified.certificateSm3, requestDigest: verified.requestDigest, certifiedRequester: input.requester };
    return this.#forCase(verified.protocol, trail, performance.now(), () => input, async () => ({ input, fresh: async () => undefined }));
  }

  async #forCase(
    protocol: 'http' | 'grpc',
    trail: SignatureTrail,
    started: number,
    known: () => DepartmentVerificationInput | null,
    authorise: () => Promise<{ input: DepartmentVerificationInput; fresh: () => Promise<void> }>,
  ): Promise<VerificationAnswer> {
    const accessId = this.#o.newAccessId();
    let typeCode: string | null = null;
    let holder: { kind: 'person' | 'organisation'; code: string } | null = null;
    try {
      const { input, fresh } = await authorise();
      let outcome: Awaited<ReturnType<typeof verifyLicence>>;
      try {
        outcome = await verifyLicence(this.#o.registry, input.target, { audience: input.requester, at: this.#clock(), verifyForeign: this.#verifyForeign });
      } finally {
        await fresh();
      }
      const { result, stored, licenceCanonical } = outcome;
      typeCode = stored.typeCode;
      holder = { kind: stored.holderCodeType === '111' ? 'person' : 'organisation', code: stored.holderCode };
      result.accessId = accessId;
      result.requestDigest = trail.requestDigest!.toString('hex');
      const canonical = canonicalVerification(result, licenceCanonical);
      const signing = this.#o.signer().then((p) => signEnvelope(p.batch, canonical));
      signing.catch(() => undefined);
      await this.#o.log.write({
        id: accessId,
        requester: input.requester,
        operator: input.operator,
        subjectKind: holder.kind,
        subjectCode: holder.code,
        resource: `e-licence:${typeCode}`,
        itemsRequested: ['licence'],
        itemsReturned: ['licence'],
        serviceItem: input.purpose.serviceItem,
        caseNumber: input.purpose.caseNumber,
        decision: 'permit',
        ruleIds: [],
        policyRevision: LICENCE_ACCESS_POLICY,
        latencyMs: performance.now() - started,
        requestDigest: trail.requestDigest,
        responseDigest: sm3(canonical),
        certificateSm3: trail.certificateSm3,
        protocol,
      });
      return { result, canonical, signature: await signing };
    } catch (error) {
      const zt = isZtError(error) ? error : new ZtError('ZT_ERR_INTERNAL', 'the verification failed', { cause: error });
      const input = known();
      await this.#o.log
        .write({
          id: accessId,
          requester: trail.certifiedRequester ?? input?.requester ?? null,
          operator: input?.operator ?? null,
          subjectKind: holder?.kind ?? null,
          subjectCode: holder?.code ?? null,
          resource: typeCode ? `e-licence:${typeCode}` : 'e-licence',
          itemsRequested: ['licence'],
          serviceItem: input?.purpose.serviceItem ?? null,
          caseNumber: input?.purpose.caseNumber ?? null,
          decision: FAILURE_CODES.has(zt.code) ? 'error' : 'deny',
          errorCode: zt.code as ErrorCode,
          latencyMs: performance.now() - started,
          requestDigest: trail.requestDigest,
          certificateSm3: trail.certificateSm3,
          protocol,
        })
        .catch(() => undefined);
      throw zt;
    }
  }
}
