// The demo city's data catalogue: what five departments supply, and demands in every state of the
// application–reply procedure, most of them from the business-environment bureau (营商局) that runs intake (受理).
// Resource and service item codes are synthetic; the laws cited are real.
import type { Session } from '../core/storage/index.js';
import { signTransition, type CatalogueService, type DemandService, type ResourcePublication, type TransitionToSign } from '../registry/catalogue/index.js';
import type { DemoSigners } from './keys.js';
import type { DemandRegistration } from '../registry/catalogue/demand.js';

const PUBLIC_SECURITY = '11210100001000010R';
const MARKET_REGULATION = '11210100001000029N';
const HUMAN_RESOURCES = '11210100001000037H';
const CIVIL_AFFAIRS = '11210100001000045C';
const BUSINESS_ENVIRONMENT = '112101000010000537';
const NATURAL_RESOURCES = '112101000010000612';
const HEALTH = '112101000010000700';
/** 沈阳市政务服务中心 (一网通办): takes applications at its comprehensive windows for many departments. */
const SERVICE_CENTRE = '11210100001000109A';

export const DEMO_RESOURCES: readonly ResourcePublication[] = [
  {
    code: '210100-GA-0001',
    name: '人口基本信息',
    provider: PUBLIC_SECURITY,
    sharingClass: 'conditional',
    updateCycle: 'daily',
    connector: { kind: 'http', endpoint: 'https://ga.shenyang.example/zt/population' },
    items: [
      { code: 'name', name: '姓名', type: 'string', sensitivity: 'sensitive', categories: ['personal'] },
      { code: 'gender', name: '性别', type: 'string', sensitivity: 'internal', categories: ['personal'] },
      { code: 'ethnicity', name: '民族', type: 'string', sensitivity: 'sensitive', categories: ['personal'] },
      { code: 'birthDate', name: '出生日期', type: 'date', sensitivity: 'sensitive', categories: ['personal'] },
      { code: 'idNumber', name: '公民身份号码', type: 'string', sensitivity: 'restricted', categories: ['personal', 'identity-number'] },
      { code: 'address', name: '户籍地址', type: 'string', sensitivity: 'sensitive', categories: ['personal', 'location'] },
      { code: 'householdNumber', name: '户号', type: 'string', sensitivity: 'internal', categories: ['personal'] },
      { code: 'photo', name: '照片', type: 'binary', sensitivity: 'restricted', categories: ['personal', 'biometric'] },
    ],
  },
  {
    code: '210100-SC-0001',
    name: '企业登记信息',
    provider: MARKET_REGULATION,
    sharingClass: 'unconditional',
    updateCycle: 'realtime',
    connector: { kind: 'http', endpoint: 'https://scjg.shenyang.example/zt/enterprises' },
    items: [
      { code: 'uscc', name: '统一社会信用代码', type: 'string', sensitivity: 'public' },
      { code: 'entName', name: '企业名称', type: 'string', sensitivity: 'public' },
      { code: 'legalRepresentative', name: '法定代表人', type: 'string', sensitivity: 'public', categories: ['personal'] },
      { code: 'registeredCapital', name: '注册资本（万元）', type: 'decimal', sensitivity: 'public' },
      { code: 'establishmentDate', name: '成立日期', type: 'date', sensitivity: 'public' },
      { code: 'address', name: '住所', type: 'string', sensitivity: 'public' },
      { code: 'businessScope', name: '经营范围', type: 'string', sensitivity: 'public' },
      { code: 'status', name: '登记状态', type: 'string', sensitivity: 'public' },
    ],
  },
  {
    code: '210100-RS-0001',
    name: '社保参保信息',
    provider: HUMAN_RESOURCES,
    sharingClass: 'conditional',
    updateCycle: 'monthly',
    connector: { kind: 'database', endpoint: 'rs_share.v_insured_person' },
    items: [
      { code: 'idNumber', name: '公民身份号码', type: 'string', sensitivity: 'restricted', categories: ['personal', 'identity-number'] },
      { code: 'name', name: '姓名', type: 'string', sensitivity: 'sensitive', categories: ['personal'] },
      { code: 'insuranceType', name: '险种类型', type: 'string', sensitivity: 'internal' },
      { code: 'employerName', name: '参保单位名称', type: 'string', sensitivity: 'internal' },
      { code: 'status', name: '参保状态', type: 'string', sensitivity: 'sensitive', categories: ['personal'] },
      { code: 'startDate', name: '参保日期', type: 'date', sensitivity: 'sensitive', categories: ['personal'] },
      { code: 'paymentMonths', name: '累计缴费月数', type: 'integer', sensitivity: 'sensitive', categories: ['personal', 'financial'] },
    ],
  },
  {
    code: '210100-MZ-0001',
    name: '婚姻登记信息',
    provider: CIVIL_AFFAIRS,
    sharingClass: 'conditional',
    updateCycle: 'daily',
    connector: { kind: 'grpc', endpoint: 'mz.shenyang.example:50051/zhengtong.civil.MarriageRecords' },
    items: [
      { code: 'maleName', name: '男方姓名', type: 'string', sensitivity: 'sensitive', categories: ['personal'] },
      { code: 'maleIdNumber', name: '男方公民身份号码', type: 'string', sensitivity: 'restricted', categories: ['personal', 'identity-number'] },
      { code: 'femaleName', name: '女方姓名', type: 'string', sensitivity: 'sensitive', categories: ['personal'] },
      { code: 'femaleIdNumber', name: '女方公民身份号码', type: 'string', sensitivity: 'restricted', categories: ['personal', 'identity-number'] },
      { code: 'registrationType', name: '登记类型（结婚、离婚、补领）', type: 'string', sensitivity: 'sensitive', categories: ['personal', 'marital'] },
      { code: 'registrationDate', name: '登记日期', type: 'date', sensitivity: 'sensitive', categories: ['personal', 'marital'] },
      { code: 'registrationAuthority', name: '登记机关', type: 'string', sensitivity: 'internal' },
      { code: 'certificateNumber', name: '结婚证（离婚证）字号', type: 'string', sensitivity: 'restricted', categories: ['personal', 'marital'] },
    ],
  },
  {
    code: '210100-WJ-0001',
    name: '传染病报告个案信息',
    provider: HEALTH,
    sharingClass: 'not-shared',
    legalBasis: { title: '《中华人民共和国传染病防治法》', article: null },
    updateCycle: 'realtime',
    connector: { kind: 'file', endpoint: 'sftp://wjw.shenyang.example/outbox/none' },
    items: [
      { code: 'patientName', name: '患者姓名', type: 'string', sensitivity: 'restricted', categories: ['personal', 'health'] },
      { code: 'idNumber', name: '公民身份号码', type: 'string', sensitivity: 'restricted', categories: ['personal', 'identity-number', 'health'] },
      { code: 'diagnosis', name: '诊断', type: 'string', sensitivity: 'restricted', categories: ['personal', 'health'] },
      { code: 'reportDate', name: '报告日期', type: 'date', sensitivity: 'restricted', categories: ['health'] },
    ],
  },
];

type Step =
  | { kind: 'approve'; daysAgo: number; terms: { items?: string[]; dailyQuota?: number; validUntilInDays?: number } }
  | { kind: 'refuse'; daysAgo: number; legalBasis: { title: string; article?: string }; reason: string }
  | { kind: 'withdraw'; daysAgo: number; reason: string };

export interface DemoDemand {
  /** What the demo shows with it. */
  shows: string;
  registration: Omit<DemandRegistration, 'validFrom' | 'validTo'>;
  registeredDaysAgo: number;
  /** Validity from registration, in days (negative values from now make an expired demand). */
  validForDays: number;
  then?: Step;
}

const BUSINESS_BASIS = { title: '《优化营商环境条例》' };

export const DEMO_DEMANDS: readonly DemoDemand[] = [
  {
    shows: 'granted at once: enterprise registration is unconditional',
    registration: {
      requester: BUSINESS_ENVIRONMENT,
      resource: '210100-SC-0001',
      items: ['uscc', 'entName', 'legalRepresentative', 'status', 'address'],
      serviceItem: 'QYKB-210100-0001',
      legalBasis: BUSINESS_BASIS,
      expectedDailyVolume: 3000,
    },
    registeredDaysAgo: 10,
    validForDays: 730,
  },
  {
    shows: 'pending, within its reply deadline',
    registration: {
      requester: BUSINESS_ENVIRONMENT,
      resource: '210100-GA-0001',
      items: ['name', 'idNumber', 'address'],
      serviceItem: 'GTGSH-210100-0002',
      legalBasis: BUSINESS_BASIS,
      expectedDailyVolume: 1200,
    },
    registeredDaysAgo: 0,
    validForDays: 365,
  },
  {
    shows: 'pending and overdue: the supplier did not reply in time',
    registration: {
      requester: BUSINESS_ENVIRONMENT,
      resource: '210100-RS-0001',
      items: ['idNumber', 'name', 'status', 'paymentMonths'],
      serviceItem: 'JYCY-210100-0003',
      legalBasis: { title: '《中华人民共和国社会保险法》' },
      expectedDailyVolume: 400,
    },
    registeredDaysAgo: 30,
    validForDays: 365,
  },
  {
    shows: 'approved with terms: fewer items, a daily quota and an earlier end',
    registration: {
      requester: BUSINESS_ENVIRONMENT,
      resource: '210100-MZ-0001',
      items: ['maleName', 'maleIdNumber', 'femaleName', 'femaleIdNumber', 'registrationType', 'registrationDate'],
      serviceItem: 'HJQY-210100-0004',
      legalBasis: BUSINESS_BASIS,
      expectedDailyVolume: 800,
    },
    registeredDaysAgo: 14,
    validForDays: 365,
    then: { kind: 'approve', daysAgo: 12, terms: { items: ['maleIdNumber', 'femaleIdNumber', 'registrationType', 'registrationDate'], dailyQuota: 500, validUntilInDays: 180 } },
  },
  {
    shows: 'approved: the business-environment bureau reads population data to open businesses (the exchange demo)',
    registration: {
      requester: BUSINESS_ENVIRONMENT,
      resource: '210100-GA-0001',
      items: ['name', 'gender', 'birthDate', 'idNumber', 'address'],
      serviceItem: 'QYKB-210100-0009',
      legalBasis: BUSINESS_BASIS,
      expectedDailyVolume: 2000,
    },
    registeredDaysAgo: 30,
    validForDays: 730,
    then: { kind: 'approve', daysAgo: 28, terms: {} },
  },
  {
    shows: 'refused by the supplier, citing a legal basis',
    registration: {
      requester: NATURAL_RESOURCES,
      resource: '210100-GA-0001',
      items: ['name', 'idNumber', 'address', 'photo'],
      serviceItem: 'BDCDJ-210100-0005',
      legalBasis: { title: '《不动产登记暂行条例》' },
      expectedDailyVolume: 600,
    },
    registeredDaysAgo: 9,
    validForDays: 365,
    then: {
      kind: 'refuse',
      daysAgo: 7,
      legalBasis: { title: '《中华人民共和国个人信息保护法》', article: '第六条' },
      reason: '照片属生物识别信息，超出不动产登记所必需的最小范围；去掉照片后可重新申请',
    },
  },
  {
    shows: 'refused at once: the resource is not shared (不予共享)',
    registration: {
      requester: BUSINESS_ENVIRONMENT,
      resource: '210100-WJ-0001',
      items: ['patientName', 'diagnosis'],
      serviceItem: 'SPJY-210100-0006',
      legalBasis: BUSINESS_BASIS,
      expectedDailyVolume: 50,
    },
    registeredDaysAgo: 5,
    validForDays: 365,
  },
  {
    shows: 'granted, then withdrawn by the requester',
    registration: {
      requester: HUMAN_RESOURCES,
      resource: '210100-SC-0001',
      items: ['uscc', 'entName', 'status'],
      serviceItem: 'GSDJ-210100-0007',
      legalBasis: { title: '《中华人民共和国社会保险法》' },
      expectedDailyVolume: 200,
    },
    registeredDaysAgo: 40,
    validForDays: 365,
    then: { kind: 'withdraw', daysAgo: 3, reason: '事项已由市级平台统一办理' },
  },
  {
    shows: 'expired: its validity ended',
    registration: {
      requester: HEALTH,
      resource: '210100-SC-0001',
      items: ['uscc', 'entName', 'address'],
      serviceItem: 'GGWS-210100-0008',
      legalBasis: { title: '《中华人民共和国基本医疗卫生与健康促进法》' },
      expectedDailyVolume: 100,
    },
    registeredDaysAgo: 200,
    validForDays: 150,
  },
  // Application intake (intake/items): the grants its demo service items read under.
  {
    shows: 'approved: civil affairs prefills marriage registration from household data',
    registration: {
      requester: CIVIL_AFFAIRS,
      resource: '210100-GA-0001',
      items: ['name', 'gender', 'birthDate', 'address', 'householdNumber'],
      serviceItem: 'HYDJ-210100-0011',
      legalBasis: { title: '《婚姻登记条例》' },
      expectedDailyVolume: 200,
    },
    registeredDaysAgo: 20,
    validForDays: 730,
    then: { kind: 'approve', daysAgo: 18, terms: {} },
  },
  {
    shows: 'approved: the service centre prefills a social insurance transfer from insurance records',
    registration: {
      requester: SERVICE_CENTRE,
      resource: '210100-RS-0001',
      items: ['insuranceType', 'status', 'paymentMonths', 'employerName'],
      serviceItem: 'SBZY-210100-0012',
      legalBasis: { title: '《中华人民共和国社会保险法》' },
      expectedDailyVolume: 300,
    },
    registeredDaysAgo: 20,
    validForDays: 730,
    then: { kind: 'approve', daysAgo: 18, terms: {} },
  },
  {
    shows: 'approved: … and from household data',
    registration: {
      requester: SERVICE_CENTRE,
      resource: '210100-GA-0001',
      items: ['name', 'address'],
      serviceItem: 'SBZY-210100-0012',
      legalBasis: { title: '《中华人民共和国社会保险法》' },
      expectedDailyVolume: 300,
    },
    registeredDaysAgo: 20,
    validForDays: 730,
    then: { kind: 'approve', daysAgo: 18, terms: {} },
  },
];

const DAY_MS = 86_400_000;
const daysAgo = (now: Date, days: number): Date => new Date(now.getTime() - days * DAY_MS);

export interface CatalogueSeedReport {
  resources: number;
  demands: number;
}

/** Publishes the demo resources and plays the demo demands through the workflow; skips what is already there. */
export async function seedDemoCatalogue(
  session: Session,
  services: { catalogue: CatalogueService; demands: DemandService },
  signers: DemoSigners,
  now: Date = new Date(),
): Promise<CatalogueSeedReport> {
  const { catalogue, demands } = services;
  // Each step is signed by the department taking it, as any client's would be.
  const signed = async (step: TransitionToSign) => signTransition(await signers.signerFor(step.actor), step);
  let resources = 0;
  for (const r of DEMO_RESOURCES) {
    const exists = await session.query('SELECT 1 FROM data_resources WHERE code = $1', [r.code]);
    if (exists.rowCount > 0) continue;
    await catalogue.publish(r, { at: daysAgo(now, 250) });
    resources++;
  }
  let added = 0;
  for (const d of DEMO_DEMANDS) {
    // A demo demand is known by its requester, resource and service item.
    const exists = await session.query('SELECT 1 FROM demands WHERE requester_uscc = $1 AND resource_code = $2 AND service_item = $3', [
      d.registration.requester,
      d.registration.resource,
      d.registration.serviceItem,
    ]);
    if (exists.rowCount > 0) continue;
    const at = daysAgo(now, d.registeredDaysAgo);
    const validFrom = demands.today(at);
    const validTo = demands.today(new Date(at.getTime() + d.validForDays * DAY_MS));
    const registration = { ...d.registration, validFrom, validTo };
    const demand = await demands.register(registration, {
      at,
      proof: await signed({ kind: 'register', actor: registration.requester, content: registration }),
    });
    const step = d.then;
    if (step?.kind === 'approve') {
      const { validUntilInDays, ...rest } = step.terms;
      const input = { actor: demand.provider, terms: { ...rest, validUntil: validUntilInDays === undefined ? null : demands.today(new Date(now.getTime() + validUntilInDays * DAY_MS)) } };
      const proof = await signed({ kind: 'approve', demandId: demand.id, actor: input.actor, content: input });
      await demands.approve(demand.id, input, { at: daysAgo(now, step.daysAgo), proof });
    } else if (step?.kind === 'refuse') {
      const input = { actor: demand.provider, legalBasis: step.legalBasis, reason: step.reason };
      const proof = await signed({ kind: 'refuse', demandId: demand.id, actor: input.actor, content: input });
      await demands.refuse(demand.id, input, { at: daysAgo(now, step.daysAgo), proof });
    } else if (step?.kind === 'withdraw') {
      const input = { actor: demand.requester, reason: step.reason };
      const proof = await signed({ kind: 'withdraw', demandId: demand.id, actor: input.actor, content: input });
      await demands.withdraw(demand.id, input, { at: daysAgo(now, step.daysAgo), proof });
    }
    added++;
  }
  await demands.expireLapsed({ at: now });
  return { resources, demands: added };
}
