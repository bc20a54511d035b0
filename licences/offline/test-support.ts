// Test support for status lists and offline verification (not part of the public API): the platform CA chain
// (root → issuing CA → platform signer certificate with the platform's USCC), a realistic business licence
// (营业执照), the registry's signature over it, and the issuer's signed status list.
import { signEnvelope, type SignedEnvelope } from '../../certs/envelope/index.js';
import { InProcessSm2Signer } from '../../certs/signer/index.js';
import { generateSm2KeyPair, type Sm2KeyPair } from '../../certs/sm2/sm2.js';
import { makeTestPki, type TestPki } from '../../certs/x509/test-pki.js';
import { createCertificate, type x509 } from '../../certs/x509/index.js';
import { usccCheckCharacter } from '../../core/identifiers/index.js';
import { makeLicenceIdentifier } from '../identifier.js';
import { LICENCE_DOCUMENT_SCHEMA, licenceDocumentBytes, type LicenceDocument } from '../licence.js';
import { newStatusListKey, publishStatusList, statusIndex, type PublishStatusListInput, type SignedStatusListCredential } from '../status-list/index.js';

const DAY = 86_400_000;

function uscc(first17: string): string {
  return first17 + usccCheckCharacter(first17)!;
}

/** 沈阳市大数据管理局, which runs the platform. */
export const PLATFORM_USCC = uscc('11210100MB0123456');
/** 沈阳市市场监督管理局, which issues business licences. */
export const ISSUER = { code: uscc('11210100MB0654321'), name: '沈阳市市场监督管理局' } as const;
/** 营业执照, defined by the State Administration for Market Regulation (type code = its USCC + 3 digits). */
export const BUSINESS_LICENCE_TYPE = '11100000000013338W011';
export const LIST_URL = `https://zt.shenyang.gov.cn/v1/licences/status-lists/${ISSUER.code}/1`;

export interface LicenceWorld {
  now: Date;
  pki: TestPki;
  platformCertificate: x509.X509Certificate;
  platformKeys: Sm2KeyPair;
  /** The registry's signer: the platform key with its certificate. */
  signer: InProcessSm2Signer;
  /** The list's permutation key. */
  listKey: Buffer;
}

/** The platform CA and the registry's signer, every certificate valid at `now`. */
export async function makeLicenceWorld(now = new Date()): Promise<LicenceWorld> {
  const pki = await makeTestPki(now);
  const keys = generateSm2KeyPair();
  const platformCertificate = await createCertificate({
    subject: { country: 'CN', province: '辽宁省', locality: '沈阳市', organisation: '沈阳市大数据管理局', commonName: '政通 电子证照签发', serialNumber: PLATFORM_USCC },
    issuer: { certificate: pki.issuing, privateKey: pki.issuingKeys.privateKey },
    publicKey: keys.publicKey,
    notBefore: new Date(now.getTime() - 3_600_000),
    notAfter: new Date(now.getTime() + 365 * DAY),
    keyUsage: ['digitalSignature', 'nonRepudiation'],
    basicConstraints: { ca: false },
    organisationIdentifiers: { uscc: PLATFORM_USCC },
  });
  const signer = new InProcessSm2Signer({ privateKey: keys.privateKey, certificate: new Uint8Array(platformCertificate.rawData) });
  return { now, pki, platformCertificate, platformKeys: keys, signer, listKey: newStatusListKey() };
}

/** A business licence with eight type-specific fields and Chinese names, the n-th licence of the issuer's list. */
export function businessLicence(world: LicenceWorld, counter = 0, overrides: Partial<LicenceDocument> = {}): LicenceDocument {
  const serial = `2025${String(counter + 1).padStart(6, '0')}`;
  const identifier = makeLicenceIdentifier({ typeCode: BUSINESS_LICENCE_TYPE, issuerCode: ISSUER.code, serial, version: 1 }).text;
  return {
    schema: LICENCE_DOCUMENT_SCHEMA,
    identifier,
    name: '营业执照',
    typeCode: BUSINESS_LICENCE_TYPE,
    typeName: '营业执照',
    licenceNumber: `21010200${serial}`,
    issuer: { ...ISSUER },
    issueDate: '2025-03-18',
    holder: { name: '沈阳市和平区老边饺子餐饮有限公司', code: uscc('91210102MA0XK8L36'), codeType: '001' },
    validFrom: '2025-03-18',
    validTo: '2045-03-17',
    areaCode: '210102',
    seal: { signer: '沈阳市市场监督管理局', signedAt: '2025-03-18T02:15:30.000Z', name: '沈阳市市场监督管理局电子印章' },
    version: 1,
    fields: {
      companyType: '有限责任公司（自然人投资或控股）',
      legalRepresentative: '王秀英',
      registeredCapital: 500,
      establishedDate: '2018-06-12',
      businessTerm: '2018-06-12至长期',
      address: '辽宁省沈阳市和平区中华路112号2门',
      businessScope: '许可项目：餐饮服务；食品销售。一般项目：餐饮管理；外卖递送服务。（依法须经批准的项目，经相关部门批准后方可开展经营活动，具体经营项目以审批结果为准）',
      registrationAuthority: '沈阳市和平区市场监督管理局',
    },
    status: { list: LIST_URL, index: statusIndex(world.listKey, counter) },
    ...overrides,
  };
}

/** The registry's envelope over the document, signed alone. */
export async function signLicence(world: LicenceWorld, document: LicenceDocument): Promise<SignedEnvelope> {
  return signEnvelope(world.signer, licenceDocumentBytes(document));
}

/** The issuer's list, signed by the platform, with these counters' licences set to these statuses. */
export async function signedList(
  world: LicenceWorld,
  entries: PublishStatusListInput['entries'] = [],
  options: Partial<Pick<PublishStatusListInput, 'validFrom' | 'validForMs' | 'revision'>> = {},
): Promise<SignedStatusListCredential> {
  return publishStatusList(world.signer, {
    url: LIST_URL,
    issuer: { ...ISSUER },
    key: world.listKey,
    entries,
    revision: options.revision ?? 7,
    validFrom: options.validFrom ?? new Date(world.now.getTime() - 60_000),
    ...(options.validForMs !== undefined ? { validForMs: options.validForMs } : {}),
  });
}
