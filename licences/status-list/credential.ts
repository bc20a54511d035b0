// The signed status list of one licence issuer (证照状态列表): a JSON object shaped like a W3C
// BitstringStatusListCredential, with our signed envelope (docs/envelope.md) as its proof, made by the platform over
// the canonical JSON of the credential without its proof. Relying parties fetch it, cache it until validUntil, and
// look a licence's entry up locally, so the registry never learns which licence is being checked.
//
// The credential's issuer is the licence issuer (the department); the signature is the platform's, whose
// certificate (issued by the platform CA) travels in the envelope, so one download lets a verifier check both the
// list and, offline, every licence the platform signed with that certificate (offline/verify-offline.ts).
import { ZtError, isZtError } from '../../core/errors/index.js';
import { canonicalJson } from '../../core/canonical-json.js';
import { decodeEnvelopeJson, envelopeToJson, signEnvelope, verifyEnvelope, type EnvelopeJson } from '../../certs/envelope/index.js';
import type { Signer } from '../../certs/signer/index.js';
import { loadSm2PublicKey, sm3 } from '../../certs/sm2/sm2.js';
import { assertCertificateUsage, parseCertificate, readUscc, validateChain, type EncodedInput, type x509 } from '../../certs/x509/index.js';
import { isValidIssuerCode } from '../identifier.js';
import { STATUS_LIST_MESSAGES, STATUS_LIST_VALUE, type StoredLicenceStatus } from '../licence.js';
import { STATUS_LIST_MIN_ENTRIES, STATUS_SIZE, StatusBitstring } from './bitstring.js';
import { statusIndex } from './permutation.js';

export const VC_CONTEXT_V2 = 'https://www.w3.org/ns/credentials/v2';
export const STATUS_LIST_CREDENTIAL_TYPE = ['VerifiableCredential', 'BitstringStatusListCredential'] as const;
/** The proof is not a W3C Data Integrity proof (no SM2 cryptosuite is registered) but our signed envelope. */
export const STATUS_LIST_PROOF_TYPE = 'ZhengtongSignedEnvelope';
/** How long a list stays current by default: a day, like the CA's CRLs; it is re-signed at every status change. */
export const DEFAULT_STATUS_LIST_VALIDITY_MS = 24 * 3600_000;
/** Clocks of verifiers and the platform may differ this much. */
const CLOCK_SKEW_MS = 5 * 60_000;
const MAX_CREDENTIAL_TEXT = 2 * 1024 * 1024;

export interface StatusListIssuer {
  /** The issuing department's USCC (or the 6-digit area code some regions use), as in the licence's issuer.code. */
  code: string;
  name: string;
}

export interface StatusMessage {
  status: string;
  message: string;
}

/** The 0x0–0x3 values and their meaning, from STATUS_LIST_MESSAGES. */
export const STATUS_MESSAGES: readonly StatusMessage[] = STATUS_LIST_MESSAGES.map((message, value) => ({ status: `0x${value.toString(16)}`, message }));

export interface StatusListSubject {
  /** `${credential.id}#list` */
  id: string;
  type: 'BitstringStatusList';
  statusPurpose: 'message';
  statusSize: typeof STATUS_SIZE;
  statusMessage: StatusMessage[];
  encodedList: string;
  /** Bumped by every status change on the list (licence_status_lists.revision): which state this copy shows. */
  revision: number;
}

export interface StatusListProof {
  type: typeof STATUS_LIST_PROOF_TYPE;
  envelope: EnvelopeJson;
}

export interface StatusListCredential {
  '@context': string[];
  /** The URL the list is served at; licences name it in status.list. */
  id: string;
  type: string[];
  issuer: { id: string; code: string; name: string };
  /** RFC 3339. */
  validFrom: string;
  validUntil: string;
  credentialSubject: StatusListSubject;
  proof?: StatusListProof;
}

export type SignedStatusListCredential = StatusListCredential & { proof: StatusListProof };

/** CA certificates a verifier trusts: the platform root, and the issuing CA when the signer's chain needs it. */
export interface TrustedCertificates {
  trustAnchors: readonly (EncodedInput | x509.X509Certificate)[];
  intermediates?: readonly (EncodedInput | x509.X509Certificate)[];
}

function invalid(message: string, field?: string, cause?: unknown): ZtError {
  return new ZtError('ZT_ERR_STATUS_LIST_INVALID', message, { ...(field !== undefined ? { details: { field } } : {}), ...(cause !== undefined ? { cause } : {}) });
}

function checkUrl(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'is not a URL';
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return 'is not an http(s) URL';
  if (parsed.hash !== '') return 'has a fragment';
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Building and signing

export interface BuildStatusListInput {
  url: string;
  issuer: StatusListIssuer;
  bitstring: StatusBitstring;
  revision: number;
  /** Default: now. */
  validFrom?: Date;
  /** Default: a day. */
  validForMs?: number;
}

/** The unsigned credential; RangeError for input the registry should never produce (a bad URL, code, revision or period). */
export function buildStatusListCredential(input: BuildStatusListInput): StatusListCredential {
  const urlProblem = checkUrl(input.url);
  if (urlProblem) throw new RangeError(`the status list URL ${JSON.stringify(input.url)} ${urlProblem}`);
  if (!isValidIssuerCode(input.issuer.code)) throw new RangeError(`the issuer code ${JSON.stringify(input.issuer.code)} is neither a USCC nor a 6-digit area code`);
  const name = input.issuer.name.trim();
  if (name.length === 0 || name.length > 200) throw new RangeError('the issuer name must have 1 to 200 characters');
  if (!Number.isSafeInteger(input.revision) || input.revision < 0) throw new RangeError(`the revision must be a non-negative integer, not ${input.revision}`);
  const validFrom = input.validFrom ?? new Date();
  const validForMs = input.validForMs ?? DEFAULT_STATUS_LIST_VALIDITY_MS;
  if (Number.isNaN(validFrom.getTime()) || !Number.isSafeInteger(validForMs) || validForMs <= 0) throw new RangeError('validFrom must be a date and validForMs a positive number of milliseconds');
  return {
    '@context': [VC_CONTEXT_V2],
    id: input.url,
    type: [...STATUS_LIST_CREDENTIAL_TYPE],
    issuer: { id: issuerUrn(input.issuer.code), code: input.issuer.code, name },
    validFrom: validFrom.toISOString(),
    validUntil: new Date(validFrom.getTime() + validForMs).toISOString(),
    credentialSubject: {
      id: `${input.url}#list`,
      type: 'BitstringStatusList',
      statusPurpose: 'message',
      statusSize: STATUS_SIZE,
      statusMessage: STATUS_MESSAGES.map((m) => ({ ...m })),
      encodedList: input.bitstring.encode(),
      revision: input.revision,
    },
  };
}

/** VC issuers are URLs: a URN names the department by its code. */
function issuerUrn(code: string): string {
  return `urn:zhengtong:issuer:${code}`;
}

/** The bytes the proof signs: canonical JSON of the credential without `proof`. */
export function statusListPayload(credential: StatusListCredential): Buffer {
  const { proof: _proof, ...unsigned } = credential;
  return Buffer.from(canonicalJson(unsigned), 'utf8');
}

/** Signs the credential with the platform's signer, whose certificate goes into the proof. */
export async function signStatusListCredential(signer: Signer, credential: StatusListCredential): Promise<SignedStatusListCredential> {
  if (!signer.certificate) {
    throw new ZtError('ZT_ERR_CONFIG_INVALID', 'the status list signer has no certificate: verifiers take the platform certificate from the list, so it must carry one');
  }
  const { proof: _old, ...unsigned } = credential;
  const envelope = await signEnvelope(signer, statusListPayload(unsigned), { includeCertificate: true });
  return { ...unsigned, proof: { type: STATUS_LIST_PROOF_TYPE, envelope: envelopeToJson(envelope) } };
}

/** A licence's place on the list: its index, or its counter (n-th licence of the list) to map through the list's key. */
export type StatusListEntryInput = { index: number; status: StoredLicenceStatus } | { counter: number; status: StoredLicenceStatus };

export interface PublishStatusListInput {
  url: string;
  issuer: StatusListIssuer;
  /** Entries in the list; default (and minimum) 131,072. */
  size?: number;
  /** The list's permutation key (licence_status_lists.perm_key): needed when entries give counters. */
  key?: Uint8Array;
  /** The licences that are not active; every other entry is active. */
  entries: Iterable<StatusListEntryInput>;
  revision: number;
  validFrom?: Date;
  validForMs?: number;
}

/** Builds the bitstring from the entries, then the credential, and signs it: what the list's HTTP route serves. */
export async function publishStatusList(signer: Signer, input: PublishStatusListInput): Promise<SignedStatusListCredential> {
  const bitstring = new StatusBitstring(input.size ?? STATUS_LIST_MIN_ENTRIES);
  for (const entry of input.entries) {
    let index: number;
    if ('index' in entry) index = entry.index;
    else if (input.key) index = statusIndex(input.key, entry.counter, bitstring.size);
    else throw new RangeError('entries given by counter need the list key');
    bitstring.set(index, STATUS_LIST_VALUE[entry.status]);
  }
  const credential = buildStatusListCredential({
    url: input.url,
    issuer: input.issuer,
    bitstring,
    revision: input.revision,
    ...(input.validFrom ? { validFrom: input.validFrom } : {}),
    ...(input.validForMs !== undefined ? { validForMs: input.validForMs } : {}),
  });
  return signStatusListCredential(signer, credential);
}

// ---------------------------------------------------------------------------------------------------------------
// Verifying

export interface VerifyStatusListOptions {
  caCertificates: TrustedCertificates;
  /** The time of the check; now by default. */
  at?: Date;
  /** Accept a list past its validUntil (reported as stale) rather than refuse it: for verifiers that are offline. */
  allowStale?: boolean;
  /** The URL the list must be: where it was fetched from, or the licence's status.list. */
  expectedUrl?: string;
}

export interface StatusListSignerInfo {
  certificate: x509.X509Certificate;
  /** SM3 of the certificate DER. */
  fingerprint: Buffer;
  subject: string;
  uscc?: string;
}

export interface VerifiedStatusList {
  credential: SignedStatusListCredential;
  url: string;
  issuer: StatusListIssuer;
  revision: number;
  validFrom: Date;
  validUntil: Date;
  /** validUntil has passed (only with allowStale; otherwise that is an error). */
  stale: boolean;
  bitstring: StatusBitstring;
  signer: StatusListSignerInfo;
  signedAt: Date;
}

/**
 * Checks a status list credential (parsed JSON or its text): its shape, the platform certificate in its proof (chain
 * to the given CAs at `at`, digitalSignature usage), the signature over the credential, the URL, the time, and the
 * encoded bitstring. Every failure is a ZtError: ZT_ERR_STATUS_LIST_INVALID, or the ZT_ERR_CERT_* / ZT_ERR_SIGNATURE_*
 * code of the chain or signature check, each with a message that names the list.
 */
export async function verifyStatusListCredential(credential: unknown, options: VerifyStatusListOptions): Promise<VerifiedStatusList> {
  const at = options.at ?? new Date();
  const c = readStatusListCredential(credential);
  const where = `the status list ${c.id}`;
  if (options.expectedUrl !== undefined && c.id !== options.expectedUrl) {
    throw invalid(`${where} is not the list expected (${options.expectedUrl})`, 'id');
  }

  let envelope;
  try {
    envelope = decodeEnvelopeJson(c.proof.envelope);
  } catch (error) {
    throw invalid(`${where} has a malformed proof: ${(error as Error).message}`, 'proof.envelope', error);
  }
  if (!envelope.signer.certificate) throw invalid(`${where} has a proof without the signer's certificate`, 'proof.envelope.signer.certificate');
  const certificate = parseCertificate(envelope.signer.certificate);
  try {
    await validateChain({ certificate, trustAnchors: options.caCertificates.trustAnchors, intermediates: options.caCertificates.intermediates ?? [], at });
    assertCertificateUsage(certificate, { keyUsage: ['digitalSignature'] });
  } catch (error) {
    throw restate(error, `${where} is signed by a certificate that does not check out`);
  }
  try {
    await verifyEnvelope(envelope, statusListPayload(c), { publicKey: loadSm2PublicKey(new Uint8Array(certificate.publicKey.rawData)) });
  } catch (error) {
    throw restate(error, `${where} does not match its signature (altered after signing, or signed by someone else)`);
  }

  const validFrom = new Date(c.validFrom);
  const validUntil = new Date(c.validUntil);
  if (validFrom.getTime() > at.getTime() + CLOCK_SKEW_MS || envelope.signingTime.getTime() > at.getTime() + CLOCK_SKEW_MS) {
    throw invalid(`${where} is valid only from ${c.validFrom}, later than the time of the check ${at.toISOString()}: check the clock`, 'validFrom');
  }
  const stale = validUntil.getTime() < at.getTime();
  if (stale && !options.allowStale) {
    throw invalid(`${where} expired at ${c.validUntil} (revision ${c.credentialSubject.revision}): fetch a current copy from ${c.id}`, 'validUntil');
  }

  const bitstring = StatusBitstring.decode(c.credentialSubject.encodedList);
  const uscc = readUscc(certificate);
  return {
    credential: c,
    url: c.id,
    issuer: { code: c.issuer.code, name: c.issuer.name },
    revision: c.credentialSubject.revision,
    validFrom,
    validUntil,
    stale,
    bitstring,
    signer: { certificate, fingerprint: sm3(Buffer.from(certificate.rawData)), subject: certificate.subject, ...(uscc ? { uscc } : {}) },
    signedAt: envelope.signingTime,
  };
}

/** The stored status at `index`; ZT_ERR_STATUS_LIST_INVALID when the index lies outside the list. */
export function statusAt(list: VerifiedStatusList, index: number): StoredLicenceStatus {
  if (!Number.isInteger(index) || index < 0 || index >= list.bitstring.size) {
    throw invalid(`index ${index} lies outside the status list ${list.url} (${list.bitstring.size} entries)`, 'index');
  }
  return STATUS_LIST_MESSAGES[list.bitstring.get(index)];
}

/** The same ZtError code with the list named first; anything else becomes ZT_ERR_STATUS_LIST_INVALID. */
function restate(error: unknown, context: string): ZtError {
  if (isZtError(error)) {
    if (error.code === 'ZT_ERR_ENVELOPE_MALFORMED' || error.code === 'ZT_ERR_PROOF_INVALID') return invalid(`${context}: ${error.message}`, 'proof', error);
    return new ZtError(error.code, `${context}: ${error.message}`, { cause: error, ...(error.details !== undefined ? { details: error.details } : {}) });
  }
  return invalid(`${context}: ${(error as Error)?.message ?? String(error)}`, undefined, error);
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

/** The shape check: ZT_ERR_STATUS_LIST_INVALID naming the field that does not fit. */
export function readStatusListCredential(value: unknown): SignedStatusListCredential {
  let v = value;
  if (typeof v === 'string' || Buffer.isBuffer(v)) {
    const text = v.toString();
    if (text.length > MAX_CREDENTIAL_TEXT) throw invalid(`the status list is larger than ${MAX_CREDENTIAL_TEXT} characters`);
    try {
      v = JSON.parse(text.replace(/^\uFEFF/, ''));
    } catch (error) {
      throw invalid(`the status list is not JSON: ${(error as Error).message}`, undefined, error);
    }
  }
  const bad = (field: string, why: string): never => {
    throw invalid(`the status list's ${field} ${why}`, field);
  };
  const obj = (x: unknown, field: string): Record<string, unknown> => (typeof x === 'object' && x !== null && !Array.isArray(x) ? (x as Record<string, unknown>) : bad(field, 'is not an object'));
  const str = (x: unknown, field: string, max = 1000): string => (typeof x === 'string' && x.length > 0 && x.length <= max ? x : bad(field, `is not a string of 1 to ${max} characters`));
  const time = (x: unknown, field: string): string => {
    const s = str(x, field, 40);
    return RFC3339.test(s) && Number.isFinite(Date.parse(s)) ? s : bad(field, 'is not an RFC 3339 date-time');
  };

  const c = obj(v, 'credential');
  const context = c['@context'];
  if (!Array.isArray(context) || context[0] !== VC_CONTEXT_V2) bad('@context', `must be a list starting with ${VC_CONTEXT_V2}`);
  const id = str(c.id, 'id');
  const urlProblem = checkUrl(id);
  if (urlProblem) bad('id', urlProblem);
  if (!Array.isArray(c.type) || !STATUS_LIST_CREDENTIAL_TYPE.every((t) => (c.type as unknown[]).includes(t))) bad('type', `must include ${STATUS_LIST_CREDENTIAL_TYPE.join(' and ')}`);
  const issuer = obj(c.issuer, 'issuer');
  const code = str(issuer.code, 'issuer.code', 18);
  if (!isValidIssuerCode(code)) bad('issuer.code', 'is neither a USCC nor a 6-digit area code');
  str(issuer.name, 'issuer.name', 200);
  if (issuer.id !== issuerUrn(code)) bad('issuer.id', `must be ${issuerUrn(code)}`);
  const validFrom = time(c.validFrom, 'validFrom');
  const validUntil = time(c.validUntil, 'validUntil');
  if (Date.parse(validUntil) <= Date.parse(validFrom)) bad('validUntil', 'is not later than validFrom');

  const s = obj(c.credentialSubject, 'credentialSubject');
  if (s.id !== `${id}#list`) bad('credentialSubject.id', `must be ${id}#list`);
  if (s.type !== 'BitstringStatusList') bad('credentialSubject.type', 'must be BitstringStatusList');
  if (s.statusPurpose !== 'message') bad('credentialSubject.statusPurpose', 'must be "message"');
  if (s.statusSize !== STATUS_SIZE) bad('credentialSubject.statusSize', `must be ${STATUS_SIZE}`);
  // The meaning of each value is fixed by this format: a list that says 0x2 means "active" must not be read as revoked.
  const messages = s.statusMessage;
  if (
    !Array.isArray(messages) ||
    messages.length !== STATUS_MESSAGES.length ||
    !STATUS_MESSAGES.every((m, i) => {
      const got = messages[i] as Record<string, unknown> | null;
      return typeof got === 'object' && got !== null && got.status === m.status && got.message === m.message;
    })
  ) {
    bad('credentialSubject.statusMessage', `must be ${STATUS_MESSAGES.map((m) => `${m.status} ${m.message}`).join(', ')}`);
  }
  str(s.encodedList, 'credentialSubject.encodedList', MAX_CREDENTIAL_TEXT);
  if (!Number.isSafeInteger(s.revision) || (s.revision as number) < 0) bad('credentialSubject.revision', 'is not a non-negative integer');
  const proof = obj(c.proof, 'proof');
  if (proof.type !== STATUS_LIST_PROOF_TYPE) bad('proof.type', `must be ${STATUS_LIST_PROOF_TYPE}`);
  obj(proof.envelope, 'proof.envelope');
  // The signature will cover whatever else the object holds; canonical JSON must be able to write it.
  try {
    canonicalJson(c);
  } catch (error) {
    throw invalid(`the status list holds a value canonical JSON cannot write: ${(error as Error).message}`, undefined, error);
  }
  return c as unknown as SignedStatusListCredential;
}
