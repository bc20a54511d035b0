// The client of application intake (受理, docs/intake.md) for an intake department's window system: the service items
// (事项), the preview (what a prefill would fetch, from whom), the prefill (the form filled from shared data and
// e-licences, each value with its provenance, signed by the platform) and the submission check, over HTTP or gRPC
// with the same answers and the same refusal codes. Every call but the service items is a signed request made with
// the department's SM2 key. Given `trust` (the platform CA), a prefill is returned only once the platform's
// signature over it and its certificate chain are checked.
//
//   import { DepartmentKey, IntakeClient } from './client/index.js';
//
//   const intake = new IntakeClient({
//     httpUrl: 'http://127.0.0.1:8080',                       // and/or grpcAddress: '127.0.0.1:50051'
//     signer: DepartmentKey.fromFiles('112101000010000537.key.pem', '112101000010000537.cert.pem'),
//     trust: { root: readFileSync('root.pem'), issuing: readFileSync('issuing.pem') },
//   });
//   const input = { serviceItem: 'QYKB-210100-0001', caseNumber: 'YS-2026-000123', applicant: { kind: 'organisation', code: '91210103MA0U7G5K1B' } };
//   const preview = await intake.preview(input);           // what would be read, from whom; nothing is read
//   const { result, signature } = await intake.prefill({ ...input, declined: ['foodBusinessLicence'] });
//   const check = await intake.submit({ prefill: result, signature, values: { ...filled, seats: 40 } });
//   console.log(check.missing);                            // required fields still to fill in
//   await intake.close();
//
// Refusals are ExchangeError with the catalogue code (ZT_ERR_INTAKE_*, ZT_ERR_SERVICE_ITEM_UNKNOWN, docs/errors.md);
// this client's own failures ExchangeClientError.
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { canonicalJson } from '../core/canonical-json.js';
import { packageRoot } from '../core/paths.js';
import { decodeEnvelopeJson, envelopeFromMessage, envelopeToJson, verifyEnvelope, type EnvelopeJson, type SignedEnvelope } from '../certs/envelope/index.js';
import type { IntakePreview } from '../intake/intake-service.js';
import { PREFILL_SCHEMA, type PrefillResult } from '../intake/prefill.js';
import type { ApplicantKind, ServiceItem } from '../intake/service-item.js';
import type { SubmissionCheck } from '../intake/submission.js';
import { describeError, ExchangeClientError } from './errors.js';
import { PlatformSignerCertificates, type PlatformSignerIdentity, type ResponseTrust } from './response-verification.js';
import { SignedTransport, type SignedCallOptions, type SignedTransportOptions } from './signed-transport.js';

export const INTAKE_GRPC_SERVICE = 'zhengtong.v1.IntakeService';

export interface IntakeClientOptions extends SignedTransportOptions {
  /** The platform CA: when given, a prefill's signature and certificate chain are checked before it is returned. */
  trust?: Pick<ResponseTrust, 'root' | 'issuing' | 'crls' | 'maxAgeMs'>;
  /** With trust: the prefill must be signed by a certificate naming this USCC. */
  platformUscc?: string;
}

export type IntakeCallOptions = SignedCallOptions;

/** A case to preview or prefill; the requester is the signing department. */
export interface IntakeInput {
  serviceItem: string;
  caseNumber: string;
  applicant: { kind: ApplicantKind; code: string };
  /** The person taking the application (经办人). */
  operator?: string;
  /** Materials the applicant declined to have fetched. */
  declined?: string[];
}

export interface IntakePrefill {
  result: PrefillResult;
  /** The platform's signature over `signedBytes`; hand it back with the result to submit(). */
  signature: SignedEnvelope;
  /** The canonical JSON of `result`: the bytes the signature covers. */
  signedBytes: Buffer;
  /** The platform certificate that signed it; null when the client was given no trust. */
  signer: PlatformSignerIdentity | null;
}

export interface IntakeSubmission {
  /** The prefill result as returned. */
  prefill: PrefillResult | unknown;
  /** Its signature, as returned (or its JSON form). */
  signature: SignedEnvelope | EnvelopeJson;
  /** The submitted form: field code → value. */
  values: Record<string, unknown>;
}

type Msg = Record<string, unknown>;
const DECODE: protobuf.IConversionOptions = { longs: String, defaults: true, arrays: true, objects: true };
const PATHS = { Preview: '/v1/intake/preview', Prefill: '/v1/intake/prefill', Submit: '/v1/intake/submissions' } as const;

let service: protobuf.Service | undefined;
function intakeService(): protobuf.Service {
  if (!service) {
    const dir = join(packageRoot(), 'proto');
    const root = new protobuf.Root();
    const resolvePath = root.resolvePath.bind(root);
    root.resolvePath = (origin, target) => (target.startsWith('google/protobuf/') ? resolvePath(origin, target) : join(dir, target));
    root.loadSync('zhengtong/v1/intake.proto', { keepCase: false });
    root.resolveAll();
    service = root.lookupService(INTAKE_GRPC_SERVICE);
  }
  return service;
}

function unverified(message: string, cause?: unknown): ExchangeClientError {
  return new ExchangeClientError('ZT_CLIENT_RESPONSE_UNVERIFIED', `the prefill is not verified: ${message}`, cause === undefined ? {} : { cause });
}

function parseJson(bytes: unknown, what: string): Msg {
  try {
    const value = JSON.parse(Buffer.from(bytes as Uint8Array).toString('utf8')) as unknown;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('not a JSON object');
    return value as Msg;
  } catch (error) {
    throw new ExchangeClientError('ZT_CLIENT_TRANSPORT_FAILED', `the ${what} answer is not a JSON object: ${describeError(error)}`, { cause: error });
  }
}

function isEnvelope(value: SignedEnvelope | EnvelopeJson): value is SignedEnvelope {
  return Buffer.isBuffer((value as SignedEnvelope).signature);
}

export class IntakeClient {
  readonly #t: SignedTransport;
  readonly #certificates: PlatformSignerCertificates | null;
  readonly #platformUscc: string | undefined;

  constructor(options: IntakeClientOptions) {
    this.#t = new SignedTransport(options, 'the intake API');
    this.#certificates = options.trust ? new PlatformSignerCertificates(options.trust, options.clock ?? Date.now) : null;
    this.#platformUscc = options.platformUscc;
    if (this.#t.hasGrpc) intakeService();
  }

  /** The USCC the calls are signed as: the intake department. */
  get department(): string {
    return this.#t.department;
  }

  /** The service items (事项). */
  async items(options: IntakeCallOptions = {}): Promise<ServiceItem[]> {
    const answer = this.#t.use(options) === 'grpc' ? parseJson((await this.#grpc('ListServiceItems', {}, options)).json, 'service items') : await this.#t.httpJson('GET', '/v1/service-items', undefined, options);
    return answer.items as ServiceItem[];
  }

  /** One service item; ZT_ERR_SERVICE_ITEM_UNKNOWN when there is none with the code. */
  async item(code: string, options: IntakeCallOptions = {}): Promise<ServiceItem> {
    if (this.#t.use(options) === 'grpc') return parseJson((await this.#grpc('GetServiceItem', { code }, options)).json, 'service item') as unknown as ServiceItem;
    return (await this.#t.httpJson('GET', `/v1/service-items/${encodeURIComponent(code)}`, undefined, options)) as unknown as ServiceItem;
  }

  /** What a prefill would fetch for the case and from whom; nothing is read. */
  async preview(input: IntakeInput, options: IntakeCallOptions = {}): Promise<IntakePreview> {
    return (await this.#signed('Preview', this.#body(input), options)) as unknown as IntakePreview;
  }

  /** The prefilled form, its signature checked when the client was given trust, and that it is the case asked for. */
  async prefill(input: IntakeInput, given: IntakeCallOptions = {}): Promise<IntakePrefill> {
    const body = this.#body(input);
    const sent: { requestDigest?: Buffer } = {};
    const options = { ...given, sent };
    let value: Msg;
    let bytes: Buffer;
    let envelope: SignedEnvelope;
    if (this.#t.use(options) === 'grpc') {
      const answer = await this.#grpc('Prefill', { json: body }, options);
      if (!(answer.result instanceof Uint8Array) || !answer.signature) throw unverified('the answer carries no result or no signature');
      bytes = Buffer.from(answer.result);
      value = parseJson(bytes, 'prefill');
      if (!bytes.equals(Buffer.from(canonicalJson(value), 'utf8'))) throw unverified('the result bytes are not canonical JSON');
      envelope = envelopeFromMessage(answer.signature as object);
    } else {
      const answer = await this.#t.httpJson('POST', PATHS.Prefill, body, options);
      value = answer.result as Msg;
      if (value === null || typeof value !== 'object') throw unverified('the answer carries no result');
      bytes = Buffer.from(canonicalJson(value), 'utf8');
      try {
        envelope = decodeEnvelopeJson(answer.signature as object);
      } catch (error) {
        throw unverified(`the signature is not a signed envelope: ${describeError(error)}`, error);
      }
    }
    const result = value as unknown as PrefillResult;
    if (result.schema !== PREFILL_SCHEMA) throw unverified(`its schema is ${JSON.stringify(result.schema)}, not ${PREFILL_SCHEMA}`);
    if (result.requester !== this.department || result.caseNumber !== input.caseNumber || result.serviceItem !== input.serviceItem) {
      throw unverified(`it is for ${result.requester} case ${result.caseNumber} of ${result.serviceItem}, not the case asked about`);
    }
    // Bound to this very request (its SM3), as every read made for it is: not an earlier answer replayed.
    if (!sent.requestDigest || result.requestDigest !== sent.requestDigest.toString('hex')) throw unverified('it answers another request (its requestDigest is not this request\'s)');
    const signer = this.#certificates ? await this.#verify(bytes, envelope) : null;
    return { result, signature: envelope, signedBytes: bytes, signer };
  }

  /** The submission check: ZT_ERR_INTAKE_LOCKED_ALTERED names any government-verified field that was changed. */
  async submit(submission: IntakeSubmission, options: IntakeCallOptions = {}): Promise<SubmissionCheck> {
    const signature = isEnvelope(submission.signature) ? envelopeToJson(submission.signature) : submission.signature;
    const body = Buffer.from(JSON.stringify({ requester: this.department, prefill: submission.prefill, signature, values: submission.values }), 'utf8');
    return (await this.#signed('Submit', body, options)) as unknown as SubmissionCheck;
  }

  async close(): Promise<void> {
    await this.#t.close();
  }

  #body(input: IntakeInput): Buffer {
    const body: Msg = { requester: this.department, serviceItem: input.serviceItem, caseNumber: input.caseNumber, applicant: input.applicant };
    if (input.operator !== undefined) body.operator = input.operator;
    if (input.declined !== undefined) body.declined = input.declined;
    return Buffer.from(JSON.stringify(body), 'utf8');
  }

  async #signed(method: 'Preview' | 'Submit', body: Buffer, options: IntakeCallOptions): Promise<Msg> {
    if (this.#t.use(options) === 'grpc') return parseJson((await this.#grpc(method, { json: body }, options)).json, method.toLowerCase());
    return this.#t.httpJson('POST', PATHS[method], body, options);
  }

  #grpc(method: string, fields: Msg, options: IntakeCallOptions): Promise<Msg> {
    const m = intakeService().methods[method]!;
    return this.#t.grpcUnary(`/${INTAKE_GRPC_SERVICE}/${method}`, m.resolvedRequestType!, m.resolvedResponseType!, fields, options, DECODE);
  }

  async #verify(payload: Buffer, envelope: SignedEnvelope): Promise<PlatformSignerIdentity> {
    const signer = await this.#certificates!.signer(envelope, (message, cause) => unverified(message, cause));
    if (this.#platformUscc !== undefined && signer.identity.uscc !== this.#platformUscc) {
      throw unverified(`it is signed by ${signer.identity.uscc ?? 'a certificate naming no USCC'} (${signer.identity.subject}), not by the platform ${this.#platformUscc}`);
    }
    try {
      await verifyEnvelope(envelope, payload, { publicKey: signer.publicKey });
    } catch (error) {
      throw unverified(`the platform's signature does not cover it: ${describeError(error)}`, error);
    }
    return signer.identity;
  }
}
