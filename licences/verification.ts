// Verification (核验), the registry's hot path: given an identifier or a presented document, say whether the licence
// is valid now, show what the asker may see of it, and sign that answer with the platform key through the batch
// signer. Anonymous askers see the holder masked and no sensitive field; a department sees it all, signs its request
// and is recorded like any access (licence-routes wire that).
import { canonicalJson } from '../core/canonical-json.js';
import { ZtError } from '../core/errors/index.js';
import { decodeEnvelopeJson, type SignedEnvelope } from '../certs/envelope/index.js';
import { sm3 } from '../certs/sm2/sm2.js';
import type { LicenceRegistry } from './licence-registry.js';
import type { LicenceType } from './licence-type.js';
import { effectiveStatus, LICENCE_DOCUMENT_SCHEMA, type LicenceDocument, type LicenceFieldValue, type LicenceStatus, type StoredLicenceStatus } from './licence.js';
import type { StoredLicence } from './sql/sql-licence-store.js';

export const LICENCE_VERIFICATION_SCHEMA = 'zhengtong/licence-verification/v1';

/** What the asker may see of a licence. */
export interface LicenceView {
  identifier: string;
  name: string;
  typeCode: string;
  typeName: string;
  licenceNumber: string;
  issuer: { code: string; name: string };
  issueDate: string;
  holder: { name: string; code: string; codeType: string };
  validFrom: string;
  validTo?: string;
  version: number;
  supersedes?: string;
  supersededBy?: string;
  fields: Record<string, LicenceFieldValue>;
}

/** The signed answer to a verification. */
export interface LicenceVerification {
  schema: typeof LICENCE_VERIFICATION_SCHEMA;
  identifier: string;
  /** What a relying party should act on now. */
  status: LicenceStatus;
  /** The registry's own status, before the dates are applied. */
  registryStatus: StoredLicenceStatus;
  /** SM3 of the signed licence document (hex): a presented copy with another digest is not this version. */
  documentSm3: string;
  /** 'presented' when a document was checked, 'identifier' when only the identifier was given. */
  checked: 'identifier' | 'presented';
  /** 'public' for anonymous askers; else the USCC of the department that asked. */
  audience: string;
  licence: LicenceView;
  checkedAt: string;
  /** For departments: the access record and the digest of the signed request. */
  accessId?: string;
  requestDigest?: string;
}

export type VerificationTarget = { identifier: string } | { document: unknown; envelope: unknown };

/** 张三 → 张*; 沈阳市某某餐饮有限公司 keeps its first two and last four characters. */
export function maskName(name: string, kind: 'person' | 'organisation'): string {
  const chars = [...name];
  if (kind === 'person') return chars.length <= 1 ? '*' : `${chars[0]}${'*'.repeat(chars.length - 1)}`;
  if (chars.length <= 6) return `${chars[0]}${'*'.repeat(chars.length - 1)}`;
  return `${chars.slice(0, 2).join('')}${'*'.repeat(chars.length - 6)}${chars.slice(-4).join('')}`;
}

/** Resident ID numbers keep area and check (210103********0312 style: first 6, last 4); USCCs are public. */
export function maskHolderCode(code: string, codeType: string): string {
  return codeType === '111' ? `${code.slice(0, 6)}${'*'.repeat(8)}${code.slice(-4)}` : code;
}

function view(document: LicenceDocument, stored: StoredLicence, type: LicenceType | undefined, audience: 'public' | 'department'): LicenceView {
  const holderKind = document.holder.codeType === '111' ? 'person' : 'organisation';
  let fields = document.fields;
  if (audience === 'public' && type) {
    const sensitive = new Set(type.fields.filter((f) => f.sensitive).map((f) => f.code));
    if (sensitive.size > 0) fields = Object.fromEntries(Object.entries(fields).filter(([k]) => !sensitive.has(k)));
  }
  const out: LicenceView = {
    identifier: document.identifier,
    name: document.name,
    typeCode: document.typeCode,
    typeName: document.typeName,
    licenceNumber: document.licenceNumber,
    issuer: document.issuer,
    issueDate: document.issueDate,
    holder:
      audience === 'public'
        ? { name: maskName(document.holder.name, holderKind), code: maskHolderCode(document.holder.code, document.holder.codeType), codeType: document.holder.codeType }
        : document.holder,
    validFrom: document.validFrom,
    version: document.version,
    fields,
  };
  if (document.validTo) out.validTo = document.validTo;
  if (document.supersedes) out.supersedes = document.supersedes;
  if (stored.supersededBy) out.supersededBy = stored.supersededBy;
  return out;
}

export interface VerifyOptions {
  /** 'public' or the USCC of the asking department. */
  audience: string;
  at: Date;
  /** Resolves the key of the signer of a presented document whose bytes differ from the registry's copy. */
  verifyForeign: (envelope: SignedEnvelope, payload: Buffer) => Promise<void>;
}

interface Views {
  document: LicenceDocument;
  public: LicenceView;
  department: LicenceView;
  /** canonicalJson of each view, so an answer's canonical form is assembled rather than serialised again. */
  publicCanonical: string;
  departmentCanonical: string;
}

/** Views are computed once per stored version and audience (the stored object is replaced on any change). */
const publicViews = new WeakMap<StoredLicence, Views>();

function views(stored: StoredLicence, registry: LicenceRegistry): Views {
  let v = publicViews.get(stored);
  if (!v) {
    const document = JSON.parse(stored.document.toString('utf8')) as LicenceDocument;
    let type: LicenceType | undefined;
    try {
      type = registry.type(stored.typeCode);
    } catch {
      type = undefined;
    }
    const pub = view(document, stored, type, 'public');
    const dep = view(document, stored, type, 'department');
    v = { document, public: pub, department: dep, publicCanonical: canonicalJson(pub), departmentCanonical: canonicalJson(dep) };
    publicViews.set(stored, v);
  }
  return v;
}

/** Reads a presented document and envelope (JSON); ZT_ERR_LICENCE_DOCUMENT_MALFORMED when they are not one. */
export function readPresented(document: unknown, envelope: unknown): { document: LicenceDocument; bytes: Buffer; envelope: SignedEnvelope } {
  if (!document || typeof document !== 'object' || Array.isArray(document)) throw new ZtError('ZT_ERR_LICENCE_DOCUMENT_MALFORMED', 'document must be the licence document object');
  const d = document as LicenceDocument;
  if (d.schema !== LICENCE_DOCUMENT_SCHEMA || typeof d.identifier !== 'string') {
    throw new ZtError('ZT_ERR_LICENCE_DOCUMENT_MALFORMED', `document is not a ${LICENCE_DOCUMENT_SCHEMA} licence document`);
  }
  let bytes: Buffer;
  try {
    bytes = Buffer.from(canonicalJson(d), 'utf8');
  } catch (error) {
    throw new ZtError('ZT_ERR_LICENCE_DOCUMENT_MALFORMED', `document cannot be put in canonical form: ${(error as Error).message}`, { cause: error });
  }
  let signed: SignedEnvelope;
  if (envelope && typeof envelope === 'object' && Buffer.isBuffer((envelope as SignedEnvelope).signature)) return { document: d, bytes, envelope: envelope as SignedEnvelope };
  try {
    signed = decodeEnvelopeJson(typeof envelope === 'string' ? envelope : JSON.stringify(envelope ?? null));
  } catch (error) {
    throw new ZtError('ZT_ERR_LICENCE_DOCUMENT_MALFORMED', `envelope is not a signed envelope: ${(error as Error).message}`, { cause: error });
  }
  return { document: d, bytes, envelope: signed };
}

/**
 * Builds the verification answer (unsigned). A presented document that is byte for byte the registry's copy of
 * that version is genuine without an SM2 verification; any other must carry a valid signature of the registry, or
 * it is ZT_ERR_LICENCE_TAMPERED.
 */
export async function verifyLicence(
  registry: LicenceRegistry,
  target: VerificationTarget,
  options: VerifyOptions,
): Promise<{ result: LicenceVerification; stored: StoredLicence; licenceCanonical: string }> {
  let stored: StoredLicence;
  let checked: LicenceVerification['checked'] = 'identifier';
  if ('identifier' in target) {
    if (typeof target.identifier !== 'string') throw new ZtError('ZT_ERR_LICENCE_IDENTIFIER_INVALID', 'identifier must be a GB/T 36904 licence identifier');
    stored = await registry.get(target.identifier);
  } else {
    const presented = readPresented(target.document, target.envelope);
    checked = 'presented';
    const digest = sm3(presented.bytes);
    if (!digest.equals(presented.envelope.payloadSm3)) throw new ZtError('ZT_ERR_LICENCE_TAMPERED', 'the presented document is not the one its envelope signs: it has been altered');
    try {
      stored = await registry.get(presented.document.identifier);
    } catch (error) {
      // A document the registry never stored: genuine only if the registry's key signed it, and then still unknown.
      await options.verifyForeign(presented.envelope, presented.bytes).catch((e: unknown) => {
        throw new ZtError('ZT_ERR_LICENCE_TAMPERED', 'the presented document does not verify against the registry\'s signature', { cause: e });
      });
      throw error;
    }
    if (!digest.equals(stored.documentSm3)) {
      await options.verifyForeign(presented.envelope, presented.bytes).catch((e: unknown) => {
        throw new ZtError('ZT_ERR_LICENCE_TAMPERED', `the presented document differs from licence ${stored.identifier} as issued, and its signature does not verify: it has been altered`, { cause: e });
      });
      throw new ZtError('ZT_ERR_LICENCE_TAMPERED', `the presented document is signed, but differs from licence ${stored.identifier} as the registry holds it`);
    }
  }
  const v = views(stored, registry);
  const result: LicenceVerification = {
    schema: LICENCE_VERIFICATION_SCHEMA,
    identifier: stored.identifier,
    status: effectiveStatus(stored.status, stored.validFrom, stored.validTo ?? undefined, options.at),
    registryStatus: stored.status,
    documentSm3: stored.documentSm3.toString('hex'),
    checked,
    audience: options.audience,
    licence: options.audience === 'public' ? v.public : v.department,
    checkedAt: options.at.toISOString(),
  };
  return { result, stored, licenceCanonical: options.audience === 'public' ? v.publicCanonical : v.departmentCanonical };
}

const q = JSON.stringify;

/**
 * canonicalJson(result), assembled from the view's canonical form cached with the stored licence: the keys in their
 * sorted order, absent ones left out. The hot path's one serialisation; a test holds it equal to canonicalJson.
 */
export function canonicalVerification(result: LicenceVerification, licenceCanonical: string): Buffer {
  let out = '{';
  if (result.accessId !== undefined) out += `"accessId":${q(result.accessId)},`;
  out += `"audience":${q(result.audience)},"checked":${q(result.checked)},"checkedAt":${q(result.checkedAt)},"documentSm3":${q(result.documentSm3)},"identifier":${q(result.identifier)},"licence":${licenceCanonical},"registryStatus":${q(result.registryStatus)},`;
  if (result.requestDigest !== undefined) out += `"requestDigest":${q(result.requestDigest)},`;
  out += `"schema":${q(result.schema)},"status":${q(result.status)}}`;
  return Buffer.from(out, 'utf8');
}
