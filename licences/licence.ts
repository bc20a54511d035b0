// The e-licence (电子证照) as the registry stores, signs and serves it. Its metadata follows GB/T 36903; the
// identifier GB/T 36904 (identifier.ts). The registry signs the canonical JSON of the whole document with the
// platform's SM2 key (one signed envelope, no batch, so the signature is small enough to travel in a QR code), and
// the document travels with that envelope: whoever holds both can check them offline with the CA certificate.
import { canonicalJson } from '../core/canonical-json.js';
import { chinaDate } from '../core/china-date.js';

export const LICENCE_DOCUMENT_SCHEMA = 'zhengtong/e-licence/v1';

/** 持证主体代码类型代码: 111 resident ID number, 001 unified social credit code. */
export type HolderCodeType = '111' | '001';
export type HolderKind = 'person' | 'organisation';

export const HOLDER_CODE_TYPE: Readonly<Record<HolderKind, HolderCodeType>> = { person: '111', organisation: '001' };

/** Values of the type-specific fields (照面信息). */
export type LicenceFieldValue = string | number | boolean;

/** 加注件: a note added to a licence after issue. */
export interface LicenceAnnotation {
  /** 制作时间, RFC 3339. */
  madeAt: string;
  /** 制作者 (department USCC). */
  madeBy: string;
  /** 事由. */
  reason: string;
  /** 有效期截止, YYYY-MM-DD. */
  validTo?: string;
}

/** Where the licence's status sits in its issuer's bitstring status list (status-list/). */
export interface LicenceStatusEntry {
  /** URL of the signed status list. */
  list: string;
  /** Index of the licence's 2-bit entry. */
  index: number;
}

export interface LicenceDocument {
  schema: typeof LICENCE_DOCUMENT_SCHEMA;
  /** 证照标识 (GB/T 36904). */
  identifier: string;
  /** 证照名称. */
  name: string;
  /** 证照类型代码 / 证照类型名称. */
  typeCode: string;
  typeName: string;
  /** 证照编号: the number printed on the licence, unique within its type. */
  licenceNumber: string;
  /** 证照颁发机构 / 代码. */
  issuer: { code: string; name: string };
  /** 证照颁发日期, YYYY-MM-DD. */
  issueDate: string;
  /** 持证主体 / 代码 / 代码类型. */
  holder: { name: string; code: string; codeType: HolderCodeType };
  /** 有效期起始日期 / 截止日期, YYYY-MM-DD; no validTo means 长期 (no end). */
  validFrom: string;
  validTo?: string;
  /** 证照所属管辖属地编码: 6-digit area code. */
  areaCode: string;
  /** 签章人 / 签章时间 / 签章名称. */
  seal: { signer: string; signedAt: string; name: string };
  /** 版本号: 1 for the first issue; a change or renewal is a new version that supersedes the previous one. */
  version: number;
  /** The identifier of the version this one replaces. */
  supersedes?: string;
  /** Type-specific fields (照面信息), checked against the licence type's field schema. */
  fields: Record<string, LicenceFieldValue>;
  annotations?: LicenceAnnotation[];
  status: LicenceStatusEntry;
}

/** The bytes the registry's signature covers. */
export function licenceDocumentBytes(document: LicenceDocument): Buffer {
  return Buffer.from(canonicalJson(document), 'utf8');
}

/**
 * Status held in the registry. `active` licences may still be expired or not yet valid by date, which
 * effectiveStatus() works out at the moment of the check.
 */
export type StoredLicenceStatus = 'active' | 'suspended' | 'revoked' | 'superseded';
export type LicenceStatus = 'valid' | 'expired' | 'not-yet-valid' | 'suspended' | 'revoked' | 'superseded';

/** The 2-bit value of each stored status in a status list (statusPurpose "message", statusSize 2). */
export const STATUS_LIST_VALUE: Readonly<Record<StoredLicenceStatus, 0 | 1 | 2 | 3>> = { active: 0, suspended: 1, revoked: 2, superseded: 3 };
export const STATUS_LIST_MESSAGES = ['active', 'suspended', 'revoked', 'superseded'] as const satisfies readonly StoredLicenceStatus[];

/** Licence validity dates are China dates. */
export { chinaDate };

/** The status a relying party should act on: revocation, supersession and suspension first, then the dates. */
export function effectiveStatus(stored: StoredLicenceStatus, validFrom: string, validTo: string | undefined, at: Date): LicenceStatus {
  if (stored !== 'active') return stored;
  const today = chinaDate(at);
  if (today < validFrom) return 'not-yet-valid';
  if (validTo !== undefined && today > validTo) return 'expired';
  return 'valid';
}
