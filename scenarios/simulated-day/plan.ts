// The simulated day's plan: which department asks for what, about whom, for which case, at what time, over a few
// ordinary working days and then the day itself with anomalies planted in it. Pure and deterministic (one seed,
// one plan), so a run can be repeated and its findings compared.
//
// Ordinary work: each department has its operators (经办人), each operator takes cases (办件) through the working day
// (08:30–12:00, 13:00–17:30, busiest mid-morning and mid-afternoon), and each case reads one subject's data once or
// twice under the department's service item (事项). The planted anomalies are what a supervisor should be shown:
//   volume-spike           民政局 sends six times its usual hourly volume between 15:00 and 16:00
//   outside-working-hours  a 公安局 operator reads enterprise records between 02:00 and 03:00
//   missing-case-number    卫健委's system sends 30 of its afternoon requests without naming a case
//   case-number-mismatch   市场监管局 reuses food-business cases (SPJY) for 12 market-supervision (SCJG) requests
//   operator-many-subjects one 人社局 operator reads 320 different people in the day (the department's volume is
//                          its usual one: the operator takes over reads the others would have made)
import { DEMO_SUBJECTS, type DemoDatasets } from '../../exchange/datasets/index.js';
import { SeededRandom } from '../../exchange/datasets/random.js';
import { addCalendarDays, type WorkingCalendar } from '../../registry/catalogue/working-days.js';

export const PUBLIC_SECURITY = '11210100001000010R';
export const MARKET_REGULATION = '11210100001000029N';
export const HUMAN_RESOURCES = '11210100001000037H';
export const CIVIL_AFFAIRS = '11210100001000045C';
export const BUSINESS_ENVIRONMENT = '112101000010000537';
export const NATURAL_RESOURCES = '112101000010000612';
export const HEALTH = '112101000010000700';

export type SubjectPool = 'persons' | 'enterprises' | 'insured' | 'married';

/** A demand the scenario registers (and its supplier approves where the resource is conditional) before the days. */
export interface ScenarioDemand {
  key: string;
  requester: string;
  resource: string;
  items: readonly string[];
  serviceItem: string;
  /** Short prefix of the department's case numbers. */
  casePrefix: string;
  legalBasis: { title: string; article?: string };
  subjects: SubjectPool;
  /** Requests on an ordinary working day, at scale 1. */
  perDay: number;
  operators: number;
}

export const SCENARIO_DEMANDS: readonly ScenarioDemand[] = [
  {
    key: 'pension',
    requester: HUMAN_RESOURCES,
    resource: '210100-GA-0001',
    items: ['name', 'gender', 'birthDate', 'address'],
    serviceItem: 'YLBX-210100-0101',
    casePrefix: 'RS',
    legalBasis: { title: '《中华人民共和国社会保险法》', article: '第十六条' },
    subjects: 'persons',
    perDay: 560,
    operators: 8,
  },
  {
    key: 'assistance',
    requester: CIVIL_AFFAIRS,
    resource: '210100-GA-0001',
    items: ['name', 'birthDate', 'address', 'householdNumber'],
    serviceItem: 'SHJZ-210100-0102',
    casePrefix: 'MZ',
    legalBasis: { title: '《社会救助暂行办法》', article: '第十一条' },
    subjects: 'persons',
    perDay: 360,
    operators: 6,
  },
  {
    key: 'company-opening',
    requester: BUSINESS_ENVIRONMENT,
    resource: '210100-SC-0001',
    items: ['uscc', 'entName', 'status', 'address', 'registeredCapital'],
    serviceItem: 'QYKB-210100-0103',
    casePrefix: 'YS',
    legalBasis: { title: '《优化营商环境条例》', article: '第三十五条' },
    subjects: 'enterprises',
    perDay: 720,
    operators: 10,
  },
  {
    key: 'public-order',
    requester: PUBLIC_SECURITY,
    resource: '210100-SC-0001',
    items: ['entName', 'legalRepresentative', 'address', 'status'],
    serviceItem: 'ZAGL-210100-0105',
    casePrefix: 'GA',
    legalBasis: { title: '《中华人民共和国治安管理处罚法》', article: '第八十七条' },
    subjects: 'enterprises',
    perDay: 160,
    operators: 4,
  },
  {
    key: 'joint-property',
    requester: NATURAL_RESOURCES,
    resource: '210100-MZ-0001',
    items: ['maleName', 'femaleName', 'registrationType', 'registrationDate'],
    serviceItem: 'BDCDJ-210100-0106',
    casePrefix: 'ZR',
    legalBasis: { title: '《不动产登记暂行条例实施细则》', article: '第十条' },
    subjects: 'married',
    perDay: 240,
    operators: 4,
  },
  {
    key: 'health-insurance',
    requester: HEALTH,
    resource: '210100-RS-0001',
    items: ['name', 'insuranceType', 'status'],
    serviceItem: 'GGWS-210100-0107',
    casePrefix: 'WJ',
    legalBasis: { title: '《中华人民共和国基本医疗卫生与健康促进法》', article: '第八十三条' },
    subjects: 'insured',
    perDay: 200,
    operators: 3,
  },
  {
    key: 'food-business',
    requester: MARKET_REGULATION,
    resource: '210100-GA-0001',
    items: ['name', 'address'],
    serviceItem: 'SPJY-210100-0108',
    casePrefix: 'SJ',
    legalBasis: { title: '《中华人民共和国食品安全法》', article: '第三十五条' },
    subjects: 'persons',
    perDay: 180,
    operators: 4,
  },
  {
    key: 'market-supervision',
    requester: MARKET_REGULATION,
    resource: '210100-RS-0001',
    items: ['name', 'employerName', 'status'],
    serviceItem: 'SCJG-210100-0109',
    casePrefix: 'SJ',
    legalBasis: { title: '《无证无照经营查处办法》', article: '第十二条' },
    subjects: 'insured',
    perDay: 120,
    operators: 3,
  },
];

export const ANOMALY_KINDS = ['volume-spike', 'outside-working-hours', 'missing-case-number', 'case-number-mismatch', 'operator-many-subjects'] as const;
export type AnomalyKind = (typeof ANOMALY_KINDS)[number];

/** An anomaly planted on the simulated day: what a supervisor's tools should flag. */
export interface PlantedAnomaly {
  kind: AnomalyKind;
  requester: string;
  operator?: string;
  /** When it happens: [from, to) in milliseconds since 1970. */
  from: number;
  to: number;
  requests: number;
  description: string;
}

export interface PlannedRequest {
  /** Business time, milliseconds since 1970. */
  at: number;
  demand: ScenarioDemand;
  operator: string;
  subjectKind: 'person' | 'organisation';
  subjectCode: string;
  /** null: the request names no case (a planted anomaly). */
  caseNumber: string | null;
  serviceItem: string;
  /** The items asked for; default the demand's. */
  items?: readonly string[];
}

export interface ScenarioPlan {
  /** The ordinary working days before the simulated day, oldest first (YYYY-MM-DD, China time). */
  baselineDays: string[];
  day: string;
  requests: PlannedRequest[];
  planted: PlantedAnomaly[];
}

export interface PlanOptions {
  /** The simulated day (a working day, YYYY-MM-DD). */
  day: string;
  /** Ordinary working days before it; default 5. */
  baselineDays?: number;
  /** Multiplies the ordinary volume; the planted anomalies keep their size. Default 1. */
  scale?: number;
  seed?: number;
  calendar: WorkingCalendar;
  datasets: Pick<DemoDatasets, 'persons' | 'enterprises' | 'insurance' | 'marriages'>;
}

const HOUR = 3600_000;
const MINUTE = 60_000;
/** Midnight of a China date, in milliseconds since 1970. */
export function chinaMidnight(date: string): number {
  return Date.parse(`${date}T00:00:00+08:00`);
}

// Share of a working day's requests in each half hour from 08:30 to 17:30 (lunch 12:00–13:00 is quiet).
const HALF_HOURS: readonly (readonly [number, number])[] = [
  [8.5, 5], [9, 8], [9.5, 10], [10, 11], [10.5, 10], [11, 8], [11.5, 5],
  [13, 4], [13.5, 7], [14, 9], [14.5, 10], [15, 9], [15.5, 8], [16, 7], [16.5, 5], [17, 3],
];
const HALF_HOUR_WEIGHT = HALF_HOURS.reduce((sum, [, w]) => sum + w, 0);

/** Family names for operators (经办人), shown as 姓名(department-number). */
const SURNAMES = ['王', '李', '张', '刘', '陈', '杨', '赵', '黄', '周', '吴', '徐', '孙', '马', '朱', '胡', '郭'];
const GIVEN = ['伟', '芳', '娜', '敏', '静', '丽', '强', '磊', '军', '洋', '勇', '艳', '杰', '娟', '涛', '明'];

export function operatorName(demand: ScenarioDemand, index: number): string {
  const n = (demand.casePrefix.charCodeAt(0) * 7 + demand.casePrefix.charCodeAt(1) * 3 + index * 5) % SURNAMES.length;
  return `${SURNAMES[n]}${GIVEN[(n + index * 3) % GIVEN.length]}(${demand.casePrefix}-${String(index + 1).padStart(2, '0')})`;
}

function subjectPools(datasets: PlanOptions['datasets']): Record<SubjectPool, { kind: 'person' | 'organisation'; codes: string[] }> {
  const married: string[] = [];
  for (const m of datasets.marriages) married.push(m.maleIdNumber, m.femaleIdNumber);
  return {
    persons: { kind: 'person', codes: datasets.persons.map((p) => p.idNumber) },
    enterprises: { kind: 'organisation', codes: datasets.enterprises.map((e) => e.uscc) },
    insured: { kind: 'person', codes: [...new Set(datasets.insurance.map((i) => i.idNumber))] },
    married: { kind: 'person', codes: [...new Set(married)] },
  };
}

/** Builds the plan: ordinary days, the day, and the planted anomalies, sorted by time. */
export function planScenario(options: PlanOptions): ScenarioPlan {
  const { calendar, day } = options;
  if (!calendar.isWorkingDay(day)) throw new RangeError(`${day} is not a working day`);
  const random = new SeededRandom(options.seed ?? 20261126);
  const scale = options.scale ?? 1;
  const pools = subjectPools(options.datasets);
  const baselineDays: string[] = [];
  for (let d = day; baselineDays.length < (options.baselineDays ?? 5); ) {
    d = previousWorkingDay(calendar, d);
    baselineDays.unshift(d);
  }
  const requests: PlannedRequest[] = [];
  const caseCounter = new Map<string, number>();
  // A case of the demand on the date: the department's prefix, the service item's kind, the date, a serial.
  const newCase = (demand: ScenarioDemand, date: string): string => {
    const key = `${demand.casePrefix}-${date}`;
    const n = (caseCounter.get(key) ?? 0) + 1;
    caseCounter.set(key, n);
    return `${demand.casePrefix}${demand.serviceItem.slice(0, demand.serviceItem.indexOf('-'))}${date.replaceAll('-', '')}${String(n).padStart(5, '0')}`;
  };
  // Now and then a person the supplier holds no record of (a typing error, someone new to the city).
  const pickSubject = (demand: ScenarioDemand) => {
    const pool = pools[demand.subjects];
    if (pool.kind === 'person' && random.chance(0.015)) return { subjectKind: pool.kind, subjectCode: DEMO_SUBJECTS.unknownPerson.idNumber };
    return { subjectKind: pool.kind, subjectCode: random.pick(pool.codes) };
  };
  /** A moment in the half hour starting at `hour` (e.g. 9.5 = 09:30) of the date. */
  const inHalfHour = (date: string, hour: number): number => chinaMidnight(date) + hour * HOUR + random.int(30 * MINUTE);

  // Ordinary work, every day including the simulated one: cases of one or two requests, spread over the day.
  for (const date of [...baselineDays, day]) {
    for (const demand of SCENARIO_DEMANDS) {
      // ±10 % from day to day.
      const volume = Math.round(demand.perDay * scale * (0.9 + random.next() * 0.2));
      let made = 0;
      while (made < volume) {
        const [hour] = HALF_HOURS[halfHourIndex(random)]!;
        const caseNumber = newCase(demand, date);
        const subject = pickSubject(demand);
        const operator = operatorName(demand, random.int(demand.operators));
        const at = inHalfHour(date, hour);
        // A second read of the case follows within minutes, but inside the same half hour (so inside working hours).
        const slotEnd = chinaMidnight(date) + (hour + 0.5) * HOUR - 1000;
        const reads = random.chance(0.35) ? 2 : 1;
        for (let r = 0; r < reads && made < volume; r++, made++) {
          const request: PlannedRequest = { at: Math.min(slotEnd, at + r * random.between(20_000, 240_000)), demand, operator, ...subject, caseNumber, serviceItem: demand.serviceItem };
          // Now and then an operator asks for more than the grant covers (the photo, say), and is refused.
          if (demand.resource === '210100-GA-0001' && random.chance(0.01)) request.items = [...demand.items, 'photo'];
          requests.push(request);
        }
      }
    }
  }

  const demand = (key: string): ScenarioDemand => SCENARIO_DEMANDS.find((d) => d.key === key)!;
  const dayStart = chinaMidnight(day);
  const planted: PlantedAnomaly[] = [];

  // 1. 民政局: six times its usual 15:00–16:00 volume.
  {
    const d = demand('assistance');
    const usual = (d.perDay * scale * (HALF_HOURS.find(([h]) => h === 15)![1] + HALF_HOURS.find(([h]) => h === 15.5)![1])) / HALF_HOUR_WEIGHT;
    const extra = Math.max(60, Math.round(usual * 5));
    for (let i = 0; i < extra; i++) {
      const at = dayStart + 15 * HOUR + random.int(HOUR);
      requests.push({ at, demand: d, operator: operatorName(d, random.int(d.operators)), ...pickSubject(d), caseNumber: newCase(d, day), serviceItem: d.serviceItem });
    }
    planted.push({ kind: 'volume-spike', requester: d.requester, from: dayStart + 15 * HOUR, to: dayStart + 16 * HOUR, requests: extra, description: `民政局 sends ${extra} requests more than usual between 15:00 and 16:00` });
  }
  // 2. A 公安局 operator reads enterprise records in the night.
  {
    const d = demand('public-order');
    const operator = operatorName(d, 0);
    const n = 40;
    for (let i = 0; i < n; i++) {
      requests.push({ at: dayStart + 2 * HOUR + random.int(HOUR), demand: d, operator, ...pickSubject(d), caseNumber: newCase(d, day), serviceItem: d.serviceItem });
    }
    planted.push({ kind: 'outside-working-hours', requester: d.requester, operator, from: dayStart + 2 * HOUR, to: dayStart + 3 * HOUR, requests: n, description: `${operator} of 公安局 reads ${n} enterprise records between 02:00 and 03:00` });
  }
  // The other anomalies change some of the day's ordinary requests rather than add to them, so that the day's
  // volumes stay ordinary and each anomaly shows as what it is.
  const ordinary = (key: string, from: number, to: number): PlannedRequest[] =>
    requests.filter((r) => r.demand.key === key && r.at >= from && r.at < to && r.caseNumber !== null);
  const window = (rs: readonly PlannedRequest[]) => ({ from: Math.min(...rs.map((r) => r.at)), to: Math.max(...rs.map((r) => r.at)) + 1 });
  // 3. 卫健委's system sends some afternoon requests without a case number.
  {
    const d = demand('health-insurance');
    const chosen = random.shuffle(ordinary(d.key, dayStart + 13 * HOUR, dayStart + 18 * HOUR)).slice(0, 30);
    for (const r of chosen) r.caseNumber = null;
    planted.push({ kind: 'missing-case-number', requester: d.requester, ...window(chosen), requests: chosen.length, description: `卫健委 sends ${chosen.length} requests that name no case in the afternoon` });
  }
  // 4. 市场监管局 uses food-business cases (SPJY) of the day for some market-supervision (SCJG) reads.
  {
    const food = demand('food-business');
    const market = demand('market-supervision');
    // Each reused case was opened (first read) before the market-supervision read that borrows it.
    const opened = new Map<string, number>();
    for (const r of requests) if (r.demand.key === food.key && r.caseNumber && r.at >= dayStart) opened.set(r.caseNumber, Math.min(r.at, opened.get(r.caseNumber) ?? Infinity));
    const foodCases = [...opened].sort((a, b) => a[1] - b[1]);
    const chosen = random
      .shuffle(ordinary(market.key, dayStart + 12 * HOUR, dayStart + 24 * HOUR))
      .filter((r) => foodCases.length > 0 && foodCases[0]![1] < r.at)
      .slice(0, 12);
    chosen.forEach((r, i) => {
      const earlier = foodCases.filter(([, at]) => at < r.at);
      r.caseNumber = earlier[i % earlier.length]![0];
    });
    planted.push({
      kind: 'case-number-mismatch',
      requester: market.requester,
      ...window(chosen),
      requests: chosen.length,
      description: `市场监管局 reuses ${chosen.length} food-business (SPJY) cases for market-supervision (SCJG) reads`,
    });
  }
  // 5. One 人社局 operator (not one of its ordinary ones) reads 320 different people through the day: the
  // department's ordinary reads of the day pass to that operator, with new subjects, until there are 320.
  {
    const d = demand('pension');
    const operator = operatorName(d, d.operators);
    const pool = pools[d.subjects].codes;
    const n = 320;
    const first = random.int(pool.length);
    const taken = random.shuffle(ordinary(d.key, dayStart, dayStart + 24 * HOUR)).slice(0, n);
    for (let i = 0; i < n; i++) {
      const subjectCode = pool[(first + i * 7) % pool.length]!;
      const r = taken[i];
      if (r) Object.assign(r, { operator, subjectCode, caseNumber: newCase(d, day) });
      else {
        const [hour] = HALF_HOURS[halfHourIndex(random)]!;
        requests.push({ at: inHalfHour(day, hour), demand: d, operator, subjectKind: 'person', subjectCode, caseNumber: newCase(d, day), serviceItem: d.serviceItem });
      }
    }
    planted.push({ kind: 'operator-many-subjects', requester: d.requester, operator, from: dayStart, to: dayStart + 24 * HOUR, requests: n, description: `${operator} of 人社局 reads ${n} different people in the day` });
  }

  requests.sort((a, b) => a.at - b.at);
  return { baselineDays, day, requests, planted };
}

/** The working day before `date`. */
export function previousWorkingDay(calendar: WorkingCalendar, date: string): string {
  let d = addCalendarDays(date, -1);
  while (!calendar.isWorkingDay(d)) d = addCalendarDays(d, -1);
  return d;
}

function halfHourIndex(random: SeededRandom): number {
  let x = random.next() * HALF_HOUR_WEIGHT;
  for (let i = 0; i < HALF_HOURS.length; i++) {
    x -= HALF_HOURS[i]![1];
    if (x < 0) return i;
  }
  return HALF_HOURS.length - 1;
}
