// The client of the e-licence registry (电子证照库) for a department's system, or anyone who checks a licence: types,
// issue, lookups, the lifecycle steps and verification, over HTTP or gRPC with the same results and the same refusal
// codes. Steps are signed with the department's SM2 key (licences/licence-steps.ts); a department's
// verification is a signed request like an exchange query. Nothing the platform signed is returned before its
// signature and certificate chain are checked: verification answers always (and their binding to the request sent),
// status lists always, licence documents when `verifyDocument` is set.
//
//   import { DepartmentKey, ExchangeError, LicenceClient } from './client/index.js';
//
//   const client = new LicenceClient({
//     httpUrl: 'http://127.0.0.1:8080',           // and/or grpcAddress: '127.0.0.1:50051'
//     signer: DepartmentKey.fromFiles('11210100001000029N.key.pem', '11210100001000029N.cert.pem'), // steps, department checks
//     trust: { root: readFileSync('root.pem'), issuing: readFileSync('issuing.pem') },               // the platform CA
//   });
//   const licence = await client.issue({ typeCode: '11100000MB0002581X001', holder: { name: '…', code: '91210103MA0U7G5K1B' }, fields: { … } });
//   const { result } = await client.verify({ identifier: licence.identifier }, { purpose: { serviceItem: 'QYKB-210100-0009', caseNumber: 'YS-2026-000123' } });
//   console.log(result.status);                      // valid, suspended, revoked, superseded, expired, not-yet-valid
//   await client.close();
//
// Refusals are ExchangeError (ZT_ERR_LICENCE_* …, docs/errors.md); this client's own failures ExchangeClientError.
import * as grpc from '@grpc/grpc-js';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { canonicalJson } from '../core/canonical-json.js';
import { isValidResidentId } from '../core/identifiers/index.js';
import { packageRoot } from '../core/paths.js';
import { decodeEnvelopeJson, envelopeFromMessage, envelopeToJson, envelopeToMessage, verifyEnvelope, type SignedEnvelope } from '../certs/envelope/index.js';
import { SM2_DEFAULT_USER_ID, sm3 } from '../certs/sm2/sm2.js';
import type { Signer } from '../certs/signer/index.js';
import { parseCertificate, readUscc, x509 } from '../certs/x509/index.js';
import { readIssueInput, type IssueInput } from '../licences/licence-registry.js';
import { signLicenceStep, signLicenceType, type LicenceStepKind } from '../licences/licence-steps.js';
import { readLicenceType, type LicenceFieldDefinition, type LicenceType } from '../licences/licence-type.js';
import type { LicenceDocument, StoredLicenceStatus } from '../licences/licence.js';
import { decodeCompactLicence } from '../licences/offline/compact.js';
import { verifyStatusListCredential, type VerifiedStatusList } from '../licences/status-list/credential.js';
import { LICENCE_VERIFICATION_SCHEMA, type LicenceVerification } from '../licences/verification.js';
import { DepartmentKey, type DepartmentKeyMaterial } from './department-key.js';
import { aborted, describeError, ExchangeClientError, ExchangeError, grpcFailure, readErrorBody } from './errors.js';
import { newNonce, signGrpcRequest, signHttpRequest } from './request-signing.js';
import { PlatformSignerCertificates, type PlatformSignerIdentity, type ResponseTrust } from './response-verification.js';
import type { ExchangeProtocol } from './exchange-client.js';

export const LICENCE_GRPC_SERVICE = 'zhengtong.v1.LicenceService';
export const LICENCE_VERIFY_HTTP_PATH = '/v1/licences/verify';
export const LICENCE_VERIFY_GRPC_PATH = `/${LICENCE_GRPC_SERVICE}/Verify`;

export interface LicenceClientOptions {
  /** The gateway's HTTP origin, e.g. http://127.0.0.1:8080. */
  httpUrl?: string;
  /** The gateway's gRPC address, host:port (insecure channel). */
  grpcAddress?: string;
  /** The department's key (a Signer with its certificate, or key material): needed to issue, to take steps and to verify as a department. */
  signer?: Signer | DepartmentKeyMaterial;
  /** The platform CA whose certificates sign licences, verification answers and status lists. */
  trust: Pick<ResponseTrust, 'root' | 'issuing' | 'crls' | 'maxAgeMs'>;
  /** If set, what the platform signs must be signed by a certificate naming this USCC. */
  platformUscc?: string;
  /** When a call is not told: 'http' if httpUrl is set, else 'grpc'. */
  protocol?: ExchangeProtocol;
  /** Milliseconds since 1970, for request timestamps and certificate checks; default Date.now. */
  clock?: () => number;
  /** Default newNonce(). */
  nonce?: () => string;
  /** Also check the platform's signature (and its certificate chain) on every licence document returned; default false. */
  verifyDocument?: boolean;
  /**
   * How far an anonymous verification's checkedAt may lie from this client's clock (it binds no request of ours, so
   * its time is what shows it is not a replayed answer); default 5 minutes.
   */
  maxAnswerAgeMs?: number;
  /** Extra gRPC channel options. */
  grpcChannelOptions?: grpc.ChannelOptions;
}

export interface LicenceCallOptions {
  protocol?: ExchangeProtocol;
  signal?: AbortSignal;
  /** Sent as x-request-id (header or metadata). */
  requestId?: string;
}

/**
 * A licence read is a read of personal data: the client signs it as its department, for a case (事项编码 and
 * 办件编号), and the registry records it in the access log (docs/licences.md).
 */
export interface LicenceReadOptions extends LicenceCallOptions {
  purpose: { serviceItem: string; caseNumber: string };
  /** 经办人, in the department's own system. */
  operator?: string;
}

/** What a department sends to issue a licence; `issuer` defaults to the USCC in the signer's certificate. */
export type LicenceIssueInput = Omit<IssueInput, 'issuer'> & { issuer?: string };

/** A licence version as the registry holds it. */
export interface LicenceVersion {
  identifier: string;
  status: StoredLicenceStatus;
  document: LicenceDocument;
  /** The exact bytes the registry signed (canonical JSON of `document`): what `envelope` covers. */
  documentBytes: Buffer;
  envelope: SignedEnvelope;
  supersedes: string | null;
  supersededBy: string | null;
  source: 'issued' | 'converted';
  flags: string[];
  issuedAt: Date;
  updatedAt: Date;
  /** The certificate that signed the document, when the client checked it (verifyDocument). */
  signer?: PlatformSignerIdentity;
}

/** One step in a licence version's history. */
export interface LicenceTransition {
  seq: number;
  kind: 'issue' | 'convert' | LicenceStepKind;
  actor: string;
  reason: string | null;
  from: StoredLicenceStatus | null;
  to: StoredLicenceStatus;
  at: Date;
  /** The statement the acting department signed (canonical JSON), and its envelope; null for unsigned steps (conversions). */
  statement: string | null;
  envelope: SignedEnvelope | null;
}

/** What to verify: a licence by identifier, the text of its QR code, or a presented document and its envelope. */
export type LicenceVerificationTarget =
  | { identifier: string }
  | { compact: string }
  | { document: LicenceDocument | Uint8Array | string; envelope: SignedEnvelope | object | string };

export interface LicenceVerifyOptions extends LicenceCallOptions {
  /** Given: a department's verification, signed and recorded, with the full view; absent: anonymous (holder masked). */
  purpose?: { serviceItem: string; caseNumber: string };
  /** Who acts, in the department's own system, for the access record. */
  operator?: string;
  /** The verifying department; default the USCC in the signer's certificate. */
  requester?: string;
}

export interface VerifiedLicence {
  result: LicenceVerification;
  /** The platform's signature over `signedBytes`. */
  signature: SignedEnvelope;
  /** canonicalJson(result): the bytes the signature covers. */
  signedBytes: Buffer;
  signer: PlatformSignerIdentity;
}

export interface LicenceStepReason {
  reason: string;
}
export interface LicenceChange {
  reason: string;
  fields?: Record<string, string | number | boolean>;
  holderName?: string;
  validTo?: string;
}
export interface LicenceRenewal {
  reason: string;
  validTo: string;
}

const identity = (bytes: Buffer): Buffer => bytes;
const GRPC_DEFAULT_CHANNEL_OPTIONS: grpc.ChannelOptions = { 'grpc.max_receive_message_length': 64 * 1024 * 1024 };
const ERROR_BODY_EXCERPT = 200;
const DECODE: protobuf.IConversionOptions = { longs: String, defaults: true, arrays: true, objects: true };

type Msg = Record<string, unknown>;

// ---- protobuf ----

let serviceRoot: protobuf.Root | undefined;

/** proto/zhengtong/v1/licences.proto, parsed on first use. */
function licenceService(): protobuf.Service {
  if (!serviceRoot) {
    const dir = join(packageRoot(), 'proto');
    const root = new protobuf.Root();
    const resolvePath = root.resolvePath.bind(root);
    root.resolvePath = (origin, target) => (target.startsWith('google/protobuf/') ? resolvePath(origin, target) : join(dir, target));
    root.loadSync('zhengtong/v1/licences.proto', { keepCase: false });
    root.resolveAll();
    serviceRoot = root;
  }
  return serviceRoot.lookupService(LICENCE_GRPC_SERVICE);
}

function rpc(method: string): { path: string; request: protobuf.Type; response: protobuf.Type } {
  const m = licenceService().methods[method];
  if (!m) throw new TypeError(`${LICENCE_GRPC_SERVICE} has no method ${method}`);
  return { path: `/${LICENCE_GRPC_SERVICE}/${method}`, request: m.resolvedRequestType!, response: m.resolvedResponseType! };
}

function encodeMessage(type: protobuf.Type, value: Msg): Buffer {
  return Buffer.from(type.encode(type.fromObject(value)).finish());
}

// ---- what came back, read the same way whichever protocol carried it ----

function unverified(what: string, message: string, cause?: unknown): ExchangeClientError {
  return new ExchangeClientError('ZT_CLIENT_RESPONSE_UNVERIFIED', `the ${what} is not verified: ${message}`, cause === undefined ? {} : { cause });
}

function malformedAnswer(what: string, message: string, cause?: unknown): ExchangeClientError {
  return unverified(what, `the answer is not a ${what}: ${message}`, cause);
}

function isObject(value: unknown): value is Msg {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function timestampDate(value: unknown): Date {
  if (typeof value === 'string') return new Date(value);
  if (isObject(value)) return new Date(Number(value.seconds ?? 0) * 1000 + Math.floor(Number(value.nanos ?? 0) / 1e6));
  return new Date(Number.NaN);
}

/** A licence type with proto3's zero values (maxLength 0, sensitive false, validityYears 0) read as absent. */
function normaliseType(value: unknown): LicenceType {
  if (!isObject(value)) throw malformedAnswer('licence type', 'it is not an object');
  const t = value as unknown as LicenceType & { validityYears?: number | null };
  const fields = (Array.isArray(t.fields) ? t.fields : []).map((f): LicenceFieldDefinition => {
    const out: LicenceFieldDefinition = { code: f.code, label: f.label, kind: f.kind, required: f.required === true };
    if (f.maxLength) out.maxLength = f.maxLength;
    if (f.sensitive) out.sensitive = true;
    return out;
  });
  return {
    code: t.code,
    name: t.name,
    definingAuthority: { code: t.definingAuthority?.code ?? '', name: t.definingAuthority?.name ?? '' },
    holderKind: t.holderKind,
    fields,
    issuers: [...(t.issuers ?? [])],
    validityYears: t.validityYears ? t.validityYears : null,
  };
}

function typeMessage(type: LicenceType): Msg {
  return {
    ...type,
    fields: type.fields.map((f) => ({ ...f, maxLength: f.maxLength ?? 0, sensitive: f.sensitive ?? false })),
    validityYears: type.validityYears ?? 0,
  };
}

interface RawLicence {
  identifier: unknown;
  status: unknown;
  /** Exact bytes (gRPC) or the parsed document (HTTP). */
  document: Uint8Array | unknown;
  envelope: SignedEnvelope;
  supersedes: string | null;
  supersededBy: string | null;
  source: unknown;
  flags: unknown;
  issuedAt: Date;
  updatedAt: Date;
}

function rawLicenceFromJson(value: unknown): RawLicence {
  if (!isObject(value)) throw malformedAnswer('licence', 'it is not an object');
  let envelope: SignedEnvelope;
  try {
    envelope = decodeEnvelopeJson(value.envelope as object);
  } catch (error) {
    throw malformedAnswer('licence', `its envelope is malformed: ${describeError(error)}`, error);
  }
  return {
    identifier: value.identifier,
    status: value.status,
    document: value.document,
    envelope,
    supersedes: text(value.supersedes),
    supersededBy: text(value.supersededBy),
    source: value.source,
    flags: value.flags,
    issuedAt: timestampDate(value.issuedAt),
    updatedAt: timestampDate(value.updatedAt),
  };
}

function rawLicenceFromMessage(value: unknown): RawLicence {
  if (!isObject(value)) throw malformedAnswer('licence', 'it is not a Licence message');
  let envelope: SignedEnvelope;
  try {
    envelope = envelopeFromMessage(isObject(value.envelope) ? value.envelope : {});
  } catch (error) {
    throw malformedAnswer('licence', `its envelope is malformed: ${describeError(error)}`, error);
  }
  return {
    identifier: value.identifier,
    status: value.status,
    document: value.document instanceof Uint8Array ? value.document : new Uint8Array(0),
    envelope,
    supersedes: text(value.supersedes),
    supersededBy: text(value.supersededBy),
    source: value.source,
    flags: value.flags,
    issuedAt: timestampDate(value.issuedAt),
    updatedAt: timestampDate(value.updatedAt),
  };
}

const STATUSES: ReadonlySet<string> = new Set(['active', 'suspended', 'revoked', 'superseded']);
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The licence with its document as the exact signed bytes; the envelope must at least be for those bytes. */
function licenceVersion(raw: RawLicence): LicenceVersion {
  let document: LicenceDocument;
  let documentBytes: Buffer;
  try {
    if (raw.document instanceof Uint8Array) {
      documentBytes = Buffer.from(raw.document.buffer, raw.document.byteOffset, raw.document.byteLength);
      document = JSON.parse(utf8.decode(documentBytes)) as LicenceDocument;
    } else {
      document = raw.document as LicenceDocument;
      // The registry signs the canonical JSON of the document: these are those bytes again.
      documentBytes = Buffer.from(canonicalJson(document), 'utf8');
    }
  } catch (error) {
    throw malformedAnswer('licence', `its document is not JSON: ${describeError(error)}`, error);
  }
  if (!isObject(document) || typeof document.identifier !== 'string') throw malformedAnswer('licence', 'its document is not a licence document');
  if (typeof raw.identifier !== 'string' || raw.identifier !== document.identifier) {
    throw malformedAnswer('licence', `it is returned as ${JSON.stringify(raw.identifier)} but its document is ${document.identifier}`);
  }
  if (typeof raw.status !== 'string' || !STATUSES.has(raw.status)) throw malformedAnswer('licence', `its status ${JSON.stringify(raw.status)} is none the registry knows`);
  if (!sm3(documentBytes).equals(raw.envelope.payloadSm3)) throw unverified('licence', `the envelope of ${document.identifier} was not made for its document (SM3 differs)`);
  return {
    identifier: raw.identifier,
    status: raw.status as StoredLicenceStatus,
    document,
    documentBytes,
    envelope: raw.envelope,
    supersedes: raw.supersedes,
    supersededBy: raw.supersededBy,
    source: raw.source === 'converted' ? 'converted' : 'issued',
    flags: Array.isArray(raw.flags) ? raw.flags.map(String) : [],
    issuedAt: raw.issuedAt,
    updatedAt: raw.updatedAt,
  };
}

function transitionFromJson(value: unknown): LicenceTransition {
  if (!isObject(value)) throw malformedAnswer('licence history', 'a transition is not an object');
  const signature = isObject(value.signature) ? value.signature : null;
  return {
    seq: Number(value.seq),
    kind: value.kind as LicenceTransition['kind'],
    actor: String(value.actor ?? ''),
    reason: text(value.reason),
    from: text(value.from) as StoredLicenceStatus | null,
    to: value.to as StoredLicenceStatus,
    at: timestampDate(value.at),
    statement: signature ? text(signature.statement) : null,
    envelope: signature && signature.envelope ? decodeEnvelopeJson(signature.envelope as object) : null,
  };
}

function transitionFromMessage(value: unknown): LicenceTransition {
  if (!isObject(value)) throw malformedAnswer('licence history', 'a transition is not a message');
  return {
    seq: Number(value.seq),
    kind: value.kind as LicenceTransition['kind'],
    actor: String(value.actor ?? ''),
    reason: text(value.reason),
    from: text(value.from) as StoredLicenceStatus | null,
    to: value.to as StoredLicenceStatus,
    at: timestampDate(value.at),
    statement: text(value.statement),
    envelope: isObject(value.envelope) ? envelopeFromMessage(value.envelope) : null,
  };
}

/** 111 when the code is a valid resident ID number, else 001 (USCC): a USCC may be all digits, so the form alone does not tell. */
export function holderCodeType(code: string): '111' | '001' {
  return isValidResidentId(code.trim().toUpperCase()) ? '111' : '001';
}

// ---- the platform's signatures ----

/**
 * Checks what the platform signed: the envelope's certificate chains to the platform CA (CRLs when given), is a
 * signing certificate, names the platform's USCC when one is expected, and its key signed these bytes. Validated
 * certificates are kept by SM3 fingerprint (PlatformSignerCertificates, shared with ResponseVerifier).
 */
class PlatformSignatures {
  readonly #certificates: PlatformSignerCertificates;
  readonly #platformUscc: string | undefined;

  constructor(trust: LicenceClientOptions['trust'], platformUscc: string | undefined, clock: () => number) {
    this.#certificates = new PlatformSignerCertificates(trust, clock);
    this.#platformUscc = platformUscc;
  }

  get root(): x509.X509Certificate {
    return this.#certificates.root;
  }

  get issuing(): x509.X509Certificate {
    return this.#certificates.issuing;
  }

  get platformUscc(): string | undefined {
    return this.#platformUscc;
  }

  async verify(payload: Buffer, envelope: SignedEnvelope, what: string): Promise<PlatformSignerIdentity> {
    const signer = await this.#certificates.signer(envelope, (message, cause) => unverified(what, message, cause));
    if (this.#platformUscc !== undefined && signer.identity.uscc !== this.#platformUscc) {
      throw unverified(what, `it is signed by ${signer.identity.uscc ?? 'a certificate naming no USCC'} (${signer.identity.subject}), not by the platform ${this.#platformUscc}`);
    }
    try {
      await verifyEnvelope(envelope, payload, { publicKey: signer.publicKey });
    } catch (error) {
      throw unverified(what, `the platform's signature does not cover it: ${describeError(error)}`, error);
    }
    return signer.identity;
  }
}

interface PreparedVerification {
  /** The fields both encodings carry. */
  json: Msg;
  grpc: Msg;
  /** What the answer must say about the licence. */
  expect: { identifier?: string; documentSm3?: string };
}

export class LicenceClient {
  readonly #signer: Signer | undefined;
  readonly #ownsSigner: boolean;
  /** The USCC in the signer's certificate: the actor of steps and the requester of department verifications. */
  readonly #uscc: string | undefined;
  readonly #platform: PlatformSignatures;
  readonly #httpUrl: URL | undefined;
  readonly #grpcAddress: string | undefined;
  readonly #grpcChannelOptions: grpc.ChannelOptions;
  readonly #clock: () => number;
  readonly #nonce: () => string;
  readonly #protocol: ExchangeProtocol;
  readonly #verifyDocument: boolean;
  readonly #maxAnswerAgeMs: number;
  #grpc: grpc.Client | undefined;
  #closed = false;

  constructor(options: LicenceClientOptions) {
    const given = options.signer;
    if (given === undefined) {
      this.#signer = undefined;
      this.#ownsSigner = false;
    } else {
      const isSigner = typeof (given as Signer).sign === 'function';
      this.#signer = isSigner ? (given as Signer) : DepartmentKey.fromMaterial(given as DepartmentKeyMaterial);
      this.#ownsSigner = !isSigner;
      const certificate = this.#signer.certificate;
      if (!certificate) throw new ExchangeClientError('ZT_CLIENT_CONFIG_INVALID', 'the signer has no certificate: signed steps and requests carry the signing certificate');
      if (this.#signer.userId !== SM2_DEFAULT_USER_ID) {
        throw new ExchangeClientError('ZT_CLIENT_CONFIG_INVALID', `the signer's SM2 user ID is ${JSON.stringify(this.#signer.userId)}; the registry verifies with ${SM2_DEFAULT_USER_ID} (GM/T 0009)`);
      }
      try {
        this.#uscc = readUscc(parseCertificate(certificate.der));
      } catch (error) {
        throw new ExchangeClientError('ZT_CLIENT_CONFIG_INVALID', `the signer's certificate cannot be read: ${(error as Error).message}`, { cause: error });
      }
    }
    if (options.httpUrl === undefined && options.grpcAddress === undefined) throw new ExchangeClientError('ZT_CLIENT_CONFIG_INVALID', 'give httpUrl, grpcAddress or both');
    if (options.httpUrl !== undefined) {
      try {
        this.#httpUrl = new URL(options.httpUrl);
      } catch (error) {
        throw new ExchangeClientError('ZT_CLIENT_CONFIG_INVALID', `httpUrl ${JSON.stringify(options.httpUrl)} is not a URL`, { cause: error });
      }
    }
    this.#grpcAddress = options.grpcAddress;
    this.#grpcChannelOptions = { ...GRPC_DEFAULT_CHANNEL_OPTIONS, ...options.grpcChannelOptions };
    this.#clock = options.clock ?? Date.now;
    this.#nonce = options.nonce ?? newNonce;
    this.#protocol = options.protocol ?? (this.#httpUrl ? 'http' : 'grpc');
    this.#verifyDocument = options.verifyDocument ?? false;
    this.#maxAnswerAgeMs = options.maxAnswerAgeMs ?? 300_000;
    this.#platform = new PlatformSignatures(options.trust, options.platformUscc, this.#clock);
    // Parse the .proto files now rather than on the first call.
    if (this.#grpcAddress !== undefined) licenceService();
  }

  /** The USCC in the signer's certificate (undefined without a signer). */
  get department(): string | undefined {
    return this.#uscc;
  }

  // ---- types ----

  async listTypes(options: LicenceCallOptions = {}): Promise<LicenceType[]> {
    const protocol = this.#use(options);
    const answer = protocol === 'grpc' ? await this.#grpcCall('ListTypes', {}, options) : await this.#httpCall('GET', '/v1/licence-types', undefined, options);
    if (!Array.isArray(answer.types)) throw malformedAnswer('list of licence types', 'it has no types');
    return answer.types.map(normaliseType);
  }

  /**
   * Defines a licence type (code: the defining authority's USCC + 3 digits), signed as the platform operator: the
   * signer's certificate must name the platform's USCC (ZT_PLATFORM_USCC). The registry checks the definition.
   */
  async defineType(type: LicenceType, options: LicenceCallOptions = {}): Promise<LicenceType> {
    const protocol = this.#use(options);
    const signer = this.#needSigner('define a licence type');
    const actor = this.#uscc;
    if (actor === undefined) throw new ExchangeClientError('ZT_CLIENT_CONFIG_INVALID', 'the signer certificate names no USCC');
    // Signed as the registry reads it; a definition it would refuse goes as it is, for the registry to say why.
    let normalised: LicenceType;
    try {
      normalised = readLicenceType(type);
    } catch {
      normalised = type;
    }
    const signature = await signLicenceType(signer, normalised, actor);
    const answer =
      protocol === 'grpc'
        ? await this.#grpcCall('DefineType', { type: typeMessage(type), signature: envelopeToMessage(signature) }, options)
        : await this.#httpCall('POST', '/v1/licence-types', Buffer.from(JSON.stringify({ type, signature: envelopeToJson(signature) }), 'utf8'), options);
    return normaliseType(answer);
  }

  // ---- issue and lookups ----

  /** Issues a licence as the signer's department (the issuer), signing the issue step. */
  async issue(input: LicenceIssueInput, options: LicenceCallOptions = {}): Promise<LicenceVersion> {
    const protocol = this.#use(options);
    const signer = this.#needSigner('issue a licence');
    const issuer = input.issuer ?? this.#uscc;
    if (issuer === undefined) throw new ExchangeClientError('ZT_CLIENT_CONFIG_INVALID', 'no issuer given, and the signer certificate names no USCC');
    // Signed as the registry will read it (trimmed, codes in upper case), so the statements agree byte for byte. Input
    // the registry would refuse goes as it is, for the registry to say what is wrong.
    let licence: IssueInput;
    try {
      licence = readIssueInput({ ...input, issuer });
    } catch {
      licence = { ...input, issuer } as IssueInput;
    }
    const signature = await signLicenceStep(signer, { kind: 'issue', actor: licence.issuer, content: licence });
    const answer =
      protocol === 'grpc'
        ? await this.#grpcCall('Issue', { licence: { ...licence, fields: fieldsAsText(licence.fields) }, signature: envelopeToMessage(signature) }, options)
        : await this.#httpCall('POST', '/v1/licences', Buffer.from(JSON.stringify({ licence, signature: envelopeToJson(signature) }), 'utf8'), options);
    return this.#licence(answer, protocol);
  }

  async get(identifier: string, options: LicenceReadOptions): Promise<LicenceVersion> {
    const protocol = this.#use(options);
    const answer = await this.#read(protocol, 'Get', { identifier }, `/v1/licences/${encodeURIComponent(identifier)}`, {}, options);
    return this.#licence(answer, protocol);
  }

  /** A holder's licences, every version; codeType 111 (resident ID number) or 001 (USCC), by default told by the code. */
  async findByHolder(code: string, codeType: '111' | '001' | undefined, typeCode: string | undefined, options: LicenceReadOptions): Promise<LicenceVersion[]> {
    const protocol = this.#use(options);
    const type = codeType ?? holderCodeType(code);
    const answer = await this.#read(protocol, 'FindByHolder', { holderCode: code, holderCodeType: type, typeCode: typeCode ?? '' }, '/v1/licences', { holderCode: code, holderCodeType: type, ...(typeCode ? { typeCode } : {}) }, options);
    return this.#licences(answer, protocol);
  }

  /** The versions of a licence number of a type, newest first. */
  async findByNumber(typeCode: string, licenceNumber: string, options: LicenceReadOptions): Promise<LicenceVersion[]> {
    const protocol = this.#use(options);
    const answer = await this.#read(protocol, 'FindByNumber', { typeCode, licenceNumber }, '/v1/licences', { typeCode, licenceNumber }, options);
    return this.#licences(answer, protocol);
  }

  /** Every step of a licence version, with the statements its departments signed. */
  async history(identifier: string, options: LicenceReadOptions): Promise<LicenceTransition[]> {
    const protocol = this.#use(options);
    const grpcUsed = protocol === 'grpc';
    const answer = await this.#read(protocol, 'History', { identifier }, `/v1/licences/${encodeURIComponent(identifier)}/history`, {}, options);
    if (!Array.isArray(answer.transitions)) throw malformedAnswer('licence history', 'it has no transitions');
    try {
      return answer.transitions.map(grpcUsed ? transitionFromMessage : transitionFromJson);
    } catch (error) {
      if (error instanceof ExchangeClientError) throw error;
      throw malformedAnswer('licence history', describeError(error), error);
    }
  }

  /** The licence in its compact signed form (ZTL1:…), for a QR code. */
  async compact(identifier: string, options: LicenceReadOptions): Promise<string> {
    const protocol = this.#use(options);
    const answer = await this.#read(protocol, 'GetCompact', { identifier }, `/v1/licences/${encodeURIComponent(identifier)}/compact`, {}, options);
    if (typeof answer.compact !== 'string' || answer.compact === '') throw malformedAnswer('compact licence', 'it has no compact text');
    return answer.compact;
  }

  // ---- lifecycle: each step signed by the signer's department ----

  revoke(identifier: string, step: LicenceStepReason, options: LicenceCallOptions = {}): Promise<LicenceVersion> {
    return this.#step('revoke', identifier, { reason: step.reason }, options);
  }

  suspend(identifier: string, step: LicenceStepReason, options: LicenceCallOptions = {}): Promise<LicenceVersion> {
    return this.#step('suspend', identifier, { reason: step.reason }, options);
  }

  resume(identifier: string, step: Partial<LicenceStepReason> = {}, options: LicenceCallOptions = {}): Promise<LicenceVersion> {
    return this.#step('resume', identifier, step.reason === undefined ? {} : { reason: step.reason }, options);
  }

  /** A new version with the changes supersedes this one; returns the new version. */
  change(identifier: string, change: LicenceChange, options: LicenceCallOptions = {}): Promise<LicenceVersion> {
    const content: Msg = { reason: change.reason };
    if (change.fields !== undefined) content.fields = change.fields;
    if (change.holderName !== undefined) content.holderName = change.holderName;
    if (change.validTo !== undefined) content.validTo = change.validTo;
    return this.#step('change', identifier, content, options);
  }

  /** A new version with a new end date supersedes this one; returns the new version. */
  renew(identifier: string, renewal: LicenceRenewal, options: LicenceCallOptions = {}): Promise<LicenceVersion> {
    return this.#step('renew', identifier, { reason: renewal.reason, validTo: renewal.validTo }, options);
  }

  async #step(kind: 'revoke' | 'suspend' | 'resume' | 'change' | 'renew', identifier: string, content: Msg, options: LicenceCallOptions): Promise<LicenceVersion> {
    const protocol = this.#use(options);
    const signer = this.#needSigner(`${kind} a licence`);
    const actor = this.#uscc;
    if (actor === undefined) throw new ExchangeClientError('ZT_CLIENT_CONFIG_INVALID', 'the signer certificate names no USCC: it cannot act on licences');
    const signature = await signLicenceStep(signer, { kind, identifier, actor, content });
    const method = kind[0]!.toUpperCase() + kind.slice(1);
    const answer =
      protocol === 'grpc'
        ? await this.#grpcCall(method, { identifier, actor, ...content, ...(content.fields ? { fields: fieldsAsText(content.fields) } : {}), signature: envelopeToMessage(signature) }, options)
        : await this.#httpCall(
            'POST',
            `/v1/licences/${encodeURIComponent(identifier)}/${kind}`,
            Buffer.from(JSON.stringify({ actor, ...content, signature: envelopeToJson(signature) }), 'utf8'),
            options,
          );
    return this.#licence(answer, protocol);
  }

  // ---- verification ----

  /**
   * Verifies a licence. Without `purpose` the check is anonymous (the holder masked, sensitive fields left out);
   * with it, a department's check for a case: the request is signed with the signer's key, the registry records it,
   * and the answer must carry this request's digest. Either way the answer is returned only once the platform's
   * signature over it, its certificate chain, and its agreement with what was asked are checked.
   */
  async verify(target: LicenceVerificationTarget, options: LicenceVerifyOptions = {}): Promise<VerifiedLicence> {
    const protocol = this.#use(options);
    const prepared = this.#prepareVerification(target);
    let department: { requester: string; purpose: { serviceItem: string; caseNumber: string }; operator?: string } | undefined;
    if (options.purpose !== undefined) {
      this.#needSigner('verify as a department');
      const requester = options.requester ?? this.#uscc;
      if (requester === undefined) throw new ExchangeClientError('ZT_CLIENT_CONFIG_INVALID', 'no requester given, and the signer certificate names no USCC');
      department = { requester, purpose: { serviceItem: options.purpose.serviceItem, caseNumber: options.purpose.caseNumber } };
      if (options.operator !== undefined) department.operator = options.operator;
    }
    let result: Uint8Array | object;
    let envelope: SignedEnvelope;
    let requestDigest: Buffer | undefined;
    if (protocol === 'grpc') {
      const { path, request, response } = rpc('Verify');
      const body = encodeMessage(request, { ...prepared.grpc, ...(department ?? {}) });
      let metadata = new grpc.Metadata();
      if (department) {
        const signed = await signGrpcRequest({ path, body, signer: this.#signer!, timestamp: new Date(this.#clock()).toISOString(), nonce: this.#nonce() });
        metadata = signed.metadata;
        requestDigest = signed.requestDigest;
      }
      const answer = this.#decode(response, await this.#grpcRaw(path, body, metadata, options), 'licence verification');
      if (!(answer.result instanceof Uint8Array) || !isObject(answer.signature)) throw malformedAnswer('licence verification', 'it is not a result with a signature');
      result = answer.result;
      try {
        envelope = envelopeFromMessage(answer.signature);
      } catch (error) {
        throw unverified('licence verification', `its signature envelope is malformed: ${describeError(error)}`, error);
      }
    } else {
      const body = Buffer.from(JSON.stringify({ ...(department ?? {}), ...prepared.json }), 'utf8');
      let headers: Record<string, string> = {};
      if (department) {
        const url = this.#url(LICENCE_VERIFY_HTTP_PATH);
        const signed = await signHttpRequest({ path: url.pathname + url.search, body, signer: this.#signer!, timestamp: new Date(this.#clock()).toISOString(), nonce: this.#nonce() });
        headers = signed.headers;
        requestDigest = signed.requestDigest;
      }
      const answer = await this.#httpCall('POST', LICENCE_VERIFY_HTTP_PATH, body, options, headers);
      if (!isObject(answer.result) || !isObject(answer.signature)) throw malformedAnswer('licence verification', 'the body is not { result, signature }');
      result = answer.result;
      try {
        envelope = decodeEnvelopeJson(answer.signature);
      } catch (error) {
        throw unverified('licence verification', `its signature envelope is malformed: ${describeError(error)}`, error);
      }
    }
    return this.#checkVerification(result, envelope, { ...prepared.expect, audience: department?.requester.toUpperCase() ?? 'public', requestDigest });
  }

  #prepareVerification(target: LicenceVerificationTarget): PreparedVerification {
    if ('identifier' in target) return { json: { identifier: target.identifier }, grpc: { identifier: target.identifier }, expect: { identifier: target.identifier } };
    if ('compact' in target) {
      let documentSm3: string | undefined;
      try {
        documentSm3 = sm3(decodeCompactLicence(target.compact).documentBytes).toString('hex');
      } catch {
        // Malformed: the registry says how (ZT_ERR_LICENCE_DOCUMENT_MALFORMED), the same over both protocols.
        documentSm3 = undefined;
      }
      return { json: { compact: target.compact }, grpc: { compact: target.compact }, expect: documentSm3 ? { documentSm3 } : {} };
    }
    let document: unknown = target.document;
    if (document instanceof Uint8Array || typeof document === 'string') {
      const textForm = typeof document === 'string' ? document : Buffer.from(document).toString('utf8');
      try {
        document = JSON.parse(textForm);
      } catch (error) {
        throw new ExchangeClientError('ZT_CLIENT_CONFIG_INVALID', `the presented document is not JSON: ${describeError(error)}`, { cause: error });
      }
    }
    let envelope: SignedEnvelope;
    try {
      const given = target.envelope;
      envelope = isObject(given) && Buffer.isBuffer((given as { signature?: unknown }).signature) ? (given as unknown as SignedEnvelope) : decodeEnvelopeJson(given as string | object);
    } catch (error) {
      throw new ExchangeClientError('ZT_CLIENT_CONFIG_INVALID', `the presented envelope is not a signed envelope: ${describeError(error)}`, { cause: error });
    }
    let bytes: Buffer;
    try {
      bytes = Buffer.from(canonicalJson(document), 'utf8');
    } catch (error) {
      throw new ExchangeClientError('ZT_CLIENT_CONFIG_INVALID', `the presented document has no canonical JSON form: ${describeError(error)}`, { cause: error });
    }
    return {
      json: { document, envelope: envelopeToJson(envelope) },
      grpc: { presented: { document: bytes, envelope: envelopeToMessage(envelope) } },
      expect: { documentSm3: sm3(bytes).toString('hex') },
    };
  }

  async #checkVerification(
    result: Uint8Array | object,
    envelope: SignedEnvelope,
    expect: { identifier?: string; documentSm3?: string; audience: string; requestDigest: Buffer | undefined },
  ): Promise<VerifiedLicence> {
    const what = 'licence verification';
    let value: Msg;
    let bytes: Buffer;
    if (result instanceof Uint8Array) {
      bytes = Buffer.from(result.buffer, result.byteOffset, result.byteLength);
      try {
        value = JSON.parse(utf8.decode(bytes)) as Msg;
      } catch (error) {
        throw unverified(what, 'the result is not UTF-8 JSON', error);
      }
      if (!isObject(value)) throw unverified(what, 'the result is not a JSON object');
      if (!bytes.equals(Buffer.from(canonicalJson(value), 'utf8'))) throw unverified(what, 'the result bytes are not canonical JSON');
    } else {
      value = result as Msg;
      try {
        bytes = Buffer.from(canonicalJson(value), 'utf8');
      } catch (error) {
        throw unverified(what, `the result has no canonical JSON form: ${describeError(error)}`, error);
      }
    }
    const signer = await this.#platform.verify(bytes, envelope, what);
    const r = value as Partial<LicenceVerification>;
    if (r.schema !== LICENCE_VERIFICATION_SCHEMA) throw unverified(what, `its schema is ${JSON.stringify(r.schema)}, not ${LICENCE_VERIFICATION_SCHEMA}`);
    if (expect.identifier !== undefined && r.identifier !== expect.identifier) throw unverified(what, `it is about ${JSON.stringify(r.identifier)}, not the licence asked about (${expect.identifier})`);
    if (expect.documentSm3 !== undefined && r.documentSm3 !== expect.documentSm3) throw unverified(what, `it is about a document with SM3 ${JSON.stringify(r.documentSm3)}, not the one presented (${expect.documentSm3})`);
    if (r.audience !== expect.audience) throw unverified(what, `it was made for ${JSON.stringify(r.audience)}, not for ${expect.audience}`);
    if (expect.requestDigest !== undefined) {
      const digest = expect.requestDigest.toString('hex');
      if (r.requestDigest !== digest) throw unverified(what, `it answers another request (its requestDigest is ${JSON.stringify(r.requestDigest)}, this request's is ${digest})`);
    } else {
      // Nothing in an anonymous answer is ours: its time shows it is not an old answer played back.
      const checkedAt = Date.parse(String(r.checkedAt));
      if (!Number.isFinite(checkedAt) || Math.abs(checkedAt - this.#clock()) > this.#maxAnswerAgeMs) {
        throw unverified(what, `it was made at ${JSON.stringify(r.checkedAt)}, more than ${this.#maxAnswerAgeMs / 1000} s from now`);
      }
    }
    return { result: value as unknown as LicenceVerification, signature: envelope, signedBytes: bytes, signer };
  }

  // ---- status lists ----

  /** An issuer's status list, checked: the platform's signature, its certificate chain, and that it is the list asked for. */
  async statusList(issuer: string, list = 1, options: LicenceCallOptions = {}): Promise<VerifiedStatusList> {
    const protocol = this.#use(options);
    const code = issuer.trim().toUpperCase();
    let credential: unknown;
    if (protocol === 'grpc') {
      const answer = await this.#grpcCall('GetStatusList', { issuer: code, list }, options);
      if (!(answer.credential instanceof Uint8Array)) throw malformedAnswer('status list', 'it carries no credential');
      try {
        credential = JSON.parse(utf8.decode(answer.credential));
      } catch (error) {
        throw malformedAnswer('status list', 'its credential is not JSON', error);
      }
    } else {
      credential = await this.#httpCall('GET', `/v1/licence-status-lists/${encodeURIComponent(code)}/${list}`, undefined, options);
    }
    const what = `status list ${list} of ${code}`;
    let verified: VerifiedStatusList;
    try {
      verified = await verifyStatusListCredential(credential, {
        caCertificates: { trustAnchors: [this.#platform.root], intermediates: [this.#platform.issuing] },
        at: new Date(this.#clock()),
      });
    } catch (error) {
      // Its message already names the list and what failed.
      throw unverified(what, (error as Error).message, error);
    }
    const platformUscc = this.#platform.platformUscc;
    if (platformUscc !== undefined && verified.signer.uscc !== platformUscc) throw unverified(what, `it is signed by ${verified.signer.uscc ?? verified.signer.subject}, not by the platform ${platformUscc}`);
    if (verified.issuer.code !== code || !verified.url.endsWith(`/${code}/${list}`)) throw unverified(what, `it is ${verified.url} of ${verified.issuer.code}, not the list asked for`);
    return verified;
  }

  // ---- transport ----

  #use(options: LicenceCallOptions): ExchangeProtocol {
    if (this.#closed) throw new ExchangeClientError('ZT_CLIENT_CONFIG_INVALID', 'the client is closed');
    if (options.signal?.aborted) throw aborted(options.signal);
    return options.protocol ?? this.#protocol;
  }

  #needSigner(what: string): Signer {
    if (!this.#signer) throw new ExchangeClientError('ZT_CLIENT_CONFIG_INVALID', `no signer was given: a department's key is needed to ${what}`);
    return this.#signer;
  }

  #url(path: string): URL {
    if (!this.#httpUrl) throw new ExchangeClientError('ZT_CLIENT_CONFIG_INVALID', 'no httpUrl was given: cannot call the registry over HTTP');
    return new URL(path, this.#httpUrl);
  }

  async #licence(answer: Msg, protocol: ExchangeProtocol): Promise<LicenceVersion> {
    const licence = licenceVersion(protocol === 'grpc' ? rawLicenceFromMessage(answer) : rawLicenceFromJson(answer));
    if (this.#verifyDocument) licence.signer = await this.#platform.verify(licence.documentBytes, licence.envelope, `licence document ${licence.identifier}`);
    return licence;
  }

  async #licences(answer: Msg, protocol: ExchangeProtocol): Promise<LicenceVersion[]> {
    if (!Array.isArray(answer.licences)) throw malformedAnswer('list of licences', 'it has no licences');
    return Promise.all(answer.licences.map((l: unknown) => this.#licence(l as Msg, protocol)));
  }

  async #httpCall(method: 'GET' | 'POST', path: string, body: Buffer | undefined, options: LicenceCallOptions, extraHeaders: Record<string, string> = {}): Promise<Msg> {
    const url = this.#url(path);
    const headers: Record<string, string> = { accept: 'application/json', ...extraHeaders };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (options.requestId !== undefined) headers['x-request-id'] = options.requestId;
    let status: number;
    let textBody: string;
    let responseRequestId: string | null;
    try {
      const response = await fetch(url, { method, headers, ...(body !== undefined ? { body } : {}), ...(options.signal ? { signal: options.signal } : {}) });
      status = response.status;
      responseRequestId = response.headers.get('x-request-id');
      textBody = await response.text();
    } catch (error) {
      if (options.signal?.aborted) throw aborted(options.signal);
      throw new ExchangeClientError('ZT_CLIENT_TRANSPORT_FAILED', `${method} ${url.href} failed: ${describeError(error)}`, { cause: error });
    }
    let json: unknown;
    try {
      json = JSON.parse(textBody);
    } catch (error) {
      json = undefined;
      if (status >= 200 && status < 300) throw new ExchangeClientError('ZT_CLIENT_TRANSPORT_FAILED', `${method} ${url.href} answered HTTP ${status} with a body that is not JSON`, { cause: error });
    }
    if (status < 200 || status >= 300) {
      const refusal = readErrorBody(json);
      if (!refusal) {
        throw new ExchangeClientError('ZT_CLIENT_TRANSPORT_FAILED', `${method} ${url.href} answered HTTP ${status} without an error body`, {
          details: { httpStatus: status, body: textBody.slice(0, ERROR_BODY_EXCERPT) },
        });
      }
      throw new ExchangeError({ ...refusal, requestId: refusal.requestId ?? responseRequestId ?? undefined, httpStatus: status });
    }
    if (!isObject(json)) throw new ExchangeClientError('ZT_CLIENT_TRANSPORT_FAILED', `${method} ${url.href} answered with JSON that is not an object`);
    return json;
  }

  /** A licence read, signed by the client's department for the case its options name. */
  async #read(protocol: ExchangeProtocol, method: string, message: Msg, path: string, query: Record<string, string>, options: LicenceReadOptions): Promise<Msg> {
    const signer = this.#signer;
    if (!signer) throw new ExchangeClientError('ZT_CLIENT_CONFIG_INVALID', 'a licence read is signed by a department: give the client a signer');
    if (!options?.purpose?.serviceItem || !options.purpose.caseNumber) {
      throw new ExchangeClientError('ZT_CLIENT_CONFIG_INVALID', 'a licence read states its purpose: options.purpose { serviceItem, caseNumber }');
    }
    const timestamp = new Date(this.#clock()).toISOString();
    if (protocol === 'grpc') {
      const { path: rpcPath, request, response } = rpc(method);
      const body = encodeMessage(request, { ...message, purpose: options.purpose, operator: options.operator ?? '' });
      const { metadata } = await signGrpcRequest({ path: rpcPath, body, signer, timestamp, nonce: this.#nonce() });
      return this.#decode(response, await this.#grpcRaw(rpcPath, body, metadata, options), response.name);
    }
    const search = new URLSearchParams({ ...query, serviceItem: options.purpose.serviceItem, caseNumber: options.purpose.caseNumber, ...(options.operator ? { operator: options.operator } : {}) });
    const pathAndQuery = `${path}?${search.toString()}`;
    const url = this.#url(pathAndQuery);
    const { headers } = await signHttpRequest({ method: 'GET', path: url.pathname + url.search, body: Buffer.alloc(0), signer, timestamp, nonce: this.#nonce() });
    return this.#httpCall('GET', pathAndQuery, undefined, options, headers);
  }

  async #grpcCall(method: string, request: Msg, options: LicenceCallOptions): Promise<Msg> {
    const { path, request: requestType, response } = rpc(method);
    let body: Buffer;
    try {
      body = encodeMessage(requestType, request);
    } catch (error) {
      throw new ExchangeClientError('ZT_CLIENT_CONFIG_INVALID', `the ${requestType.name} cannot be encoded: ${describeError(error)}`, { cause: error });
    }
    return this.#decode(response, await this.#grpcRaw(path, body, new grpc.Metadata(), options), response.name);
  }

  #decode(type: protobuf.Type, bytes: Buffer, what: string): Msg {
    try {
      return type.toObject(type.decode(bytes), DECODE) as Msg;
    } catch (error) {
      throw new ExchangeClientError('ZT_CLIENT_TRANSPORT_FAILED', `the answer is not a ${what}: ${describeError(error)}`, { cause: error });
    }
  }

  #grpcRaw(path: string, body: Buffer, metadata: grpc.Metadata, options: LicenceCallOptions): Promise<Buffer> {
    const client = this.#grpcClient();
    if (options.requestId !== undefined) metadata.set('x-request-id', options.requestId);
    const signal = options.signal;
    return new Promise((resolve, reject) => {
      let onAbort: (() => void) | undefined;
      const call = client.makeUnaryRequest(path, identity, identity, body, metadata, {}, (error, response) => {
        if (onAbort) signal!.removeEventListener('abort', onAbort);
        if (error) reject(grpcFailure(path, error, signal));
        else if (!response) reject(new ExchangeClientError('ZT_CLIENT_TRANSPORT_FAILED', `${path} returned no message`));
        else resolve(response);
      });
      if (signal) {
        onAbort = () => call.cancel();
        signal.addEventListener('abort', onAbort, { once: true });
      }
    });
  }

  #grpcClient(): grpc.Client {
    if (this.#grpc) return this.#grpc;
    if (this.#grpcAddress === undefined) throw new ExchangeClientError('ZT_CLIENT_CONFIG_INVALID', 'no grpcAddress was given: cannot call the registry over gRPC');
    this.#grpc = new grpc.Client(this.#grpcAddress, grpc.credentials.createInsecure(), this.#grpcChannelOptions);
    return this.#grpc;
  }

  /** Closes the gRPC channel, and the signer if the client made it from key material. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#grpc?.close();
    if (this.#ownsSigner) await this.#signer!.close();
  }
}

/** protobuf carries the fields as text (map<string, string>); the signature covers them as text either way. */
function fieldsAsText(fields: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (isObject(fields)) for (const [k, v] of Object.entries(fields)) if (v !== null && v !== undefined) out[k] = String(v);
  return out;
}
