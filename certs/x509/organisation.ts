// GM/T 0015 (基于SM2密码算法的数字证书格式规范) subject extensions for organisations: business registration number
// (工商注册号, 1.2.156.10260.4.1.3), organisation code (组织机构代码, .4) and tax number (税号, .5), each a
// PrintableString. Since the 2015 reform (三证合一) the USCC (统一社会信用代码) stands for all three, and relying
// parties read whichever one their software knows, so a USCC is written into all three.
import { ZtError } from '../../core/errors/index.js';
import { isValidUscc } from '../../core/identifiers/index.js';
import { decodeCharacterString, encodePrintableString, isPrintableString } from './der.js';
import { readSubjectSerialNumber } from './names.js';
import { x509 } from './x509-lib.js';

export const OID_GMT0015 = {
  /** 个人身份标识码 */
  identityCode: '1.2.156.10260.4.1.1',
  /** 工商注册号 */
  businessRegistrationNumber: '1.2.156.10260.4.1.3',
  /** 组织机构代码 */
  organisationCode: '1.2.156.10260.4.1.4',
  /** 税号 */
  taxNumber: '1.2.156.10260.4.1.5',
} as const;

export interface OrganisationIdentifiers {
  businessRegistrationNumber?: string;
  organisationCode?: string;
  taxNumber?: string;
}

const FIELDS = ['businessRegistrationNumber', 'organisationCode', 'taxNumber'] as const;

/** The GM/T 0015 extensions (non-critical) for a USCC, or for legacy identifiers given one by one. */
export function organisationIdentifierExtensions(identifiers: { uscc: string } | OrganisationIdentifiers): x509.Extension[] {
  let values: OrganisationIdentifiers;
  if ('uscc' in identifiers) {
    if (!isValidUscc(identifiers.uscc)) throw new ZtError('ZT_ERR_ID_INVALID_USCC', `${identifiers.uscc} is not a valid unified social credit code`);
    values = { businessRegistrationNumber: identifiers.uscc, organisationCode: identifiers.uscc, taxNumber: identifiers.uscc };
  } else {
    values = identifiers;
  }
  const extensions: x509.Extension[] = [];
  for (const field of FIELDS) {
    const value = values[field];
    if (value === undefined) continue;
    if (value.length === 0 || value.length > 64 || !isPrintableString(value)) {
      throw new ZtError('ZT_ERR_REQUEST_INVALID', `the ${field} must be 1 to 64 PrintableString characters`);
    }
    extensions.push(new x509.Extension(OID_GMT0015[field], false, encodePrintableString(value)));
  }
  return extensions;
}

type ExtensionHolder = { extensions: readonly x509.Extension[] };

/** Reads the GM/T 0015 organisation identifiers; values in another string type (some CAs use UTF8String) are accepted. */
export function readOrganisationIdentifiers(holder: ExtensionHolder): OrganisationIdentifiers {
  const out: OrganisationIdentifiers = {};
  for (const field of FIELDS) {
    const extension = holder.extensions.find((e) => e.type === OID_GMT0015[field]);
    if (!extension) continue;
    const value = decodeCharacterString(new Uint8Array(extension.value));
    if (value === undefined) throw new ZtError('ZT_ERR_CERT_MALFORMED', `the GM/T 0015 extension ${extension.type} is not a character string`);
    out[field] = value;
  }
  return out;
}

/**
 * The holder's USCC: from the GM/T 0015 extensions or the subject serialNumber, whichever carry a valid one.
 * Two different valid codes in one certificate make it ambiguous, and that is refused.
 */
export function readUscc(holder: ExtensionHolder & { subjectName: x509.Name }): string | undefined {
  const identifiers = readOrganisationIdentifiers(holder);
  const candidates = [...FIELDS.map((f) => identifiers[f]), readSubjectSerialNumber(holder)].filter((v): v is string => v !== undefined && isValidUscc(v));
  const distinct = new Set(candidates);
  if (distinct.size > 1) throw new ZtError('ZT_ERR_CERT_MALFORMED', `the certificate names more than one unified social credit code: ${[...distinct].join(', ')}`);
  return candidates[0];
}
