// Distinguished names as the platform writes them. Built attribute by attribute (not from an RFC 4514 string, whose
// escaping @peculiar/x509 reinterprets, and whose "SN" it reads as surname, not serialNumber).
import { ZtError } from '../../core/errors/index.js';
import { isPrintableString } from './der.js';
import { x509 } from './x509-lib.js';

export const OID_NAME = {
  country: '2.5.4.6', // C
  province: '2.5.4.8', // ST
  locality: '2.5.4.7', // L
  organisation: '2.5.4.10', // O
  organisationalUnit: '2.5.4.11', // OU
  commonName: '2.5.4.3', // CN
  /** X.520 serialNumber: here the holder's identifier, e.g. a department's USCC (统一社会信用代码). */
  serialNumber: '2.5.4.5',
} as const;

export interface DistinguishedName {
  /** ISO 3166 two-letter code, e.g. CN. */
  country?: string;
  /** 省 */
  province?: string;
  /** 市 */
  locality?: string;
  organisation?: string;
  organisationalUnit?: string | readonly string[];
  commonName: string;
  /** Subject serialNumber attribute (2.5.4.5), e.g. the department's USCC. */
  serialNumber?: string;
}

// RDN order from the most general to the most specific, as Chinese CAs and OpenSSL's -subj write them.
const ORDER = ['country', 'province', 'locality', 'organisation', 'organisationalUnit', 'commonName', 'serialNumber'] as const;

function invalid(message: string): ZtError {
  return new ZtError('ZT_ERR_REQUEST_INVALID', message);
}

function attributeValue(field: string, value: string): x509.JsonAttributeObject {
  if (value.length === 0 || value.trim() !== value) throw invalid(`the ${field} of a name must be non-empty, without leading or trailing spaces`);
  if (field === 'country' || field === 'serialNumber') {
    // X.520 defines both as PrintableString.
    if (!isPrintableString(value)) throw invalid(`the ${field} of a name must be a PrintableString`);
    if (field === 'country' && !/^[A-Z]{2}$/.test(value)) throw invalid('the country of a name must be two capital letters (ISO 3166)');
    return { printableString: value };
  }
  return isPrintableString(value) ? { printableString: value } : { utf8String: value };
}

export function toX509Name(name: DistinguishedName | x509.Name): x509.Name {
  if (name instanceof x509.Name) return name;
  const rdns: x509.JsonAttributeAndObjectValue[] = [];
  for (const field of ORDER) {
    const value = name[field];
    if (value === undefined) continue;
    const values = typeof value === 'string' ? [value] : value;
    for (const v of values) rdns.push({ [OID_NAME[field]]: [attributeValue(field, v)] });
  }
  if (!name.commonName) throw invalid('a name needs a commonName');
  return new x509.Name(rdns);
}

/** Reads the attributes above back from a name; other attributes are ignored. */
export function readDistinguishedName(name: x509.Name): DistinguishedName {
  const first = (oid: string): string | undefined => name.getField(oid)[0];
  const units = name.getField(OID_NAME.organisationalUnit);
  const dn: DistinguishedName = { commonName: first(OID_NAME.commonName) ?? '' };
  for (const field of ['country', 'province', 'locality', 'organisation', 'serialNumber'] as const) {
    const value = first(OID_NAME[field]);
    if (value !== undefined) dn[field] = value;
  }
  if (units.length) dn.organisationalUnit = units.length === 1 ? units[0]! : units;
  return dn;
}

/** The subject's serialNumber attribute (2.5.4.5), if any. */
export function readSubjectSerialNumber(holder: { subjectName: x509.Name }): string | undefined {
  return holder.subjectName.getField(OID_NAME.serialNumber)[0];
}

/** Same name, byte for byte (what this platform's CAs write; RFC 5280 §7.1 comparison is left to pkijs). */
export function sameName(a: x509.Name, b: x509.Name): boolean {
  return Buffer.from(a.toArrayBuffer()).equals(Buffer.from(b.toArrayBuffer()));
}
