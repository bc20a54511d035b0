// The demo city's e-licences: four licence types (their defining authorities' codes are synthetic, valid GB 32100
// codes, not the real authorities'), and licences of the demo subjects issued by the demo departments, each signed by
// the issuing department's demo key. One licence is changed (version 2 supersedes version 1) and one revoked, so
// every status shows up in the demo.
import { DEMO_SUBJECTS } from '../exchange/datasets/demo-subjects.js';
import type { LicenceRegistry } from '../licences/licence-registry.js';
import { signLicenceStep } from '../licences/licence-steps.js';
import type { LicenceType } from '../licences/licence-type.js';
import type { DemoSigners } from './keys.js';

const MARKET = '11210100001000029N'; // 沈阳市市场监督管理局
const CIVIL = '11210100001000045C'; // 沈阳市民政局
const LAND = '112101000010000612'; // 沈阳市自然资源局

export const DEMO_LICENCE_TYPES: readonly LicenceType[] = [
  {
    code: '11100000MB0002581X001',
    name: '营业执照',
    definingAuthority: { code: '11100000MB0002581X', name: '市场监督管理部门（演示）' },
    holderKind: 'organisation',
    issuers: [MARKET],
    validityYears: null,
    fields: [
      { code: 'enterpriseType', label: '类型', kind: 'string', required: true, maxLength: 100 },
      { code: 'legalRepresentative', label: '法定代表人', kind: 'string', required: true, maxLength: 50 },
      { code: 'registeredCapital', label: '注册资本（万元）', kind: 'decimal', required: true },
      { code: 'establishedOn', label: '成立日期', kind: 'date', required: true },
      { code: 'address', label: '住所', kind: 'string', required: true, maxLength: 200 },
      { code: 'businessScope', label: '经营范围', kind: 'string', required: true, maxLength: 2000 },
    ],
  },
  {
    code: '11100000MB0002581X002',
    name: '食品经营许可证',
    definingAuthority: { code: '11100000MB0002581X', name: '市场监督管理部门（演示）' },
    holderKind: 'organisation',
    issuers: [MARKET],
    validityYears: 5,
    fields: [
      { code: 'legalRepresentative', label: '法定代表人（负责人）', kind: 'string', required: true, maxLength: 50 },
      { code: 'premises', label: '经营场所', kind: 'string', required: true, maxLength: 200 },
      { code: 'mainBusiness', label: '主体业态', kind: 'string', required: true, maxLength: 100 },
      { code: 'businessItems', label: '经营项目', kind: 'string', required: true, maxLength: 500 },
      { code: 'dailyCapacity', label: '日供餐能力（人次）', kind: 'integer', required: false },
    ],
  },
  {
    code: '11100000MB00032322001',
    name: '结婚证',
    definingAuthority: { code: '11100000MB00032322', name: '民政部门（演示）' },
    holderKind: 'person',
    issuers: [CIVIL],
    validityYears: null,
    fields: [
      { code: 'registeredOn', label: '登记日期', kind: 'date', required: true },
      { code: 'spouseName', label: '配偶姓名', kind: 'string', required: true, maxLength: 50, sensitive: true },
      { code: 'spouseIdNumber', label: '配偶身份证件号', kind: 'string', required: true, maxLength: 18, sensitive: true },
      { code: 'remarks', label: '备注', kind: 'string', required: false, maxLength: 200 },
    ],
  },
  {
    code: '11100000MB0004113L001',
    name: '不动产权证书',
    definingAuthority: { code: '11100000MB0004113L', name: '自然资源部门（演示）' },
    holderKind: 'person',
    issuers: [LAND],
    validityYears: null,
    fields: [
      { code: 'unitNumber', label: '不动产单元号', kind: 'string', required: true, maxLength: 28 },
      { code: 'location', label: '坐落', kind: 'string', required: true, maxLength: 200, sensitive: true },
      { code: 'rightType', label: '权利类型', kind: 'string', required: true, maxLength: 100 },
      { code: 'use', label: '用途', kind: 'string', required: true, maxLength: 50 },
      { code: 'area', label: '面积（平方米）', kind: 'decimal', required: true },
      { code: 'coOwnership', label: '共有情况', kind: 'string', required: false, maxLength: 100, sensitive: true },
      { code: 'landUseEnds', label: '土地使用期限至', kind: 'date', required: false },
    ],
  },
];

const S = DEMO_SUBJECTS;

/** The demo licences: [issuer, the issue content], in issue order. */
export const DEMO_LICENCES = [
  {
    key: 'restaurant-business-licence',
    issuer: MARKET,
    licence: {
      typeCode: '11100000MB0002581X001',
      licenceNumber: '91210103MA0U7G5K1B',
      holder: { name: S.restaurant.name, code: S.restaurant.uscc },
      issueDate: '2018-04-20',
      validFrom: '2018-04-20',
      fields: {
        enterpriseType: '有限责任公司（自然人投资或控股）',
        legalRepresentative: S.applicant.name,
        registeredCapital: '100.00',
        establishedOn: '2018-04-20',
        address: '辽宁省沈阳市沈河区中街路128号',
        businessScope: '餐饮服务；餐饮管理；食品销售（仅销售预包装食品）',
      },
    },
  },
  {
    key: 'restaurant-food-licence',
    issuer: MARKET,
    licence: {
      typeCode: '11100000MB0002581X002',
      licenceNumber: 'JY22101030123456',
      holder: { name: S.restaurant.name, code: S.restaurant.uscc },
      issueDate: '2024-05-10',
      validFrom: '2024-05-10',
      validTo: '2029-05-09',
      fields: { legalRepresentative: S.applicant.name, premises: '辽宁省沈阳市沈河区中街路128号1-2层', mainBusiness: '餐饮服务经营者（中型餐馆）', businessItems: '热食类食品制售；冷食类食品制售', dailyCapacity: 400 },
    },
  },
  {
    key: 'applicant-marriage',
    issuer: CIVIL,
    licence: {
      typeCode: '11100000MB00032322001',
      licenceNumber: 'J210103-2013-004512',
      holder: { name: S.applicant.name, code: S.applicant.idNumber },
      issueDate: '2013-10-02',
      validFrom: '2013-10-02',
      fields: { registeredOn: '2013-10-02', spouseName: S.spouse.name, spouseIdNumber: S.spouse.idNumber },
    },
  },
  {
    key: 'spouse-marriage',
    issuer: CIVIL,
    licence: {
      typeCode: '11100000MB00032322001',
      licenceNumber: 'J210103-2013-004513',
      holder: { name: S.spouse.name, code: S.spouse.idNumber },
      issueDate: '2013-10-02',
      validFrom: '2013-10-02',
      fields: { registeredOn: '2013-10-02', spouseName: S.applicant.name, spouseIdNumber: S.applicant.idNumber },
    },
  },
  {
    key: 'applicant-home',
    issuer: LAND,
    licence: {
      typeCode: '11100000MB0004113L001',
      licenceNumber: '辽(2019)沈阳市不动产权第0123456号',
      holder: { name: S.applicant.name, code: S.applicant.idNumber },
      issueDate: '2019-08-16',
      validFrom: '2019-08-16',
      fields: {
        unitNumber: '210103001001GB00015F00010123',
        location: '沈河区青年大街185号2-3-1201',
        rightType: '国有建设用地使用权/房屋所有权',
        use: '城镇住宅用地/住宅',
        area: '96.45',
        coOwnership: '共同共有',
        landUseEnds: '2083-05-31',
      },
    },
  },
  {
    key: 'revoked-company-business-licence',
    issuer: MARKET,
    licence: {
      typeCode: '11100000MB0002581X001',
      licenceNumber: '91210106243198760J',
      holder: { name: S.revokedCompany.name, code: S.revokedCompany.uscc },
      issueDate: '2011-06-08',
      validFrom: '2011-06-08',
      fields: {
        enterpriseType: '有限责任公司',
        legalRepresentative: S.divorced.name,
        registeredCapital: '50.00',
        establishedOn: '2011-06-08',
        address: '辽宁省沈阳市铁西区兴华南街58号',
        businessScope: '日用百货、五金交电销售',
      },
    },
  },
] as const;

export interface LicenceSeedReport {
  types: number;
  licences: number;
}

/** Defines the demo types and issues the demo licences through the registry, each step signed by its department. */
export async function seedDemoLicences(registry: LicenceRegistry, signers: DemoSigners): Promise<LicenceSeedReport> {
  const report: LicenceSeedReport = { types: 0, licences: 0 };
  const known = new Set(registry.types().map((t) => t.code));
  for (const type of DEMO_LICENCE_TYPES) {
    if (known.has(type.code)) continue;
    await registry.defineType(type);
    report.types++;
  }
  const issued = new Map<string, string>();
  for (const demo of DEMO_LICENCES) {
    const existing = await registry.byNumber(demo.licence.typeCode, demo.licence.licenceNumber).catch(() => null);
    if (existing) continue;
    const content = { ...demo.licence, issuer: demo.issuer };
    const signer = await signers.signerFor(demo.issuer);
    const signature = await signLicenceStep(signer, { kind: 'issue', actor: demo.issuer, content });
    const stored = await registry.issue(content, signature);
    issued.set(demo.key, stored.identifier);
    report.licences++;
  }
  // The restaurant enlarged its registered capital: version 2 supersedes version 1.
  const business = issued.get('restaurant-business-licence');
  if (business) {
    const step = { actor: MARKET, reason: '注册资本变更', fields: { registeredCapital: '200.00' } };
    const signature = await signLicenceStep(await signers.signerFor(MARKET), { kind: 'change', identifier: business, actor: MARKET, content: step });
    await registry.newVersion('change', business, step, signature);
  }
  // 沈阳鑫达商贸 had its business licence revoked (吊销, recorded here as 注销 of the e-licence).
  const revoked = issued.get('revoked-company-business-licence');
  if (revoked) {
    const step = { actor: MARKET, reason: '营业执照被依法吊销' };
    const signature = await signLicenceStep(await signers.signerFor(MARKET), { kind: 'revoke', identifier: revoked, actor: MARKET, content: step });
    await registry.setStatus('revoke', revoked, step, signature);
  }
  return report;
}
