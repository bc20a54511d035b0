// Synthetic, mutually consistent demo datasets for the four demo resources: people (人口基本信息), enterprises
// (企业登记信息), social insurance (社保参保信息) and marriage registrations (婚姻登记信息). Everything follows from a seed:
// the same options give the same rows on every machine. The facts hang together the way the real registers do:
// a legal representative is a person of the population register who was an adult when the company was founded, an
// employer is a registered enterprise (in business, for someone paying), spouses are a man and a woman of legal age
// (22 and 20) on the registration date who share a household while married, and minors live with parents 20–45
// years older. The people and companies are made up; their identifiers pass the GB 11643 and GB 32100 checks.
import { USCC_ALPHABET } from '../../core/identifiers/index.js';
import { composeResidentId, composeUscc } from './codes.js';
import { DEMO_SUBJECTS, EARLIEST_AS_OF, fixedRows } from './demo-subjects.js';
import { COMPANY_FORMS, INDUSTRIES_BY_WEIGHT, TRADE_NAME_CHARACTERS, type Industry } from './industries.js';
import { ETHNICITIES, pickGivenName, pickSurname } from './names.js';
import { DISTRICTS_BY_WEIGHT, OTHER_BIRTH_AREAS, SHENYANG_CITY_CODE, shenyangDistrict, type District } from './places.js';
import { SeededRandom, WeightedTable } from './random.js';
import { PLACEHOLDER_PHOTO, type EnterpriseRow, type EnterpriseStatus, type InsuranceRow, type MarriageRow, type PersonRow } from './rows.js';

export interface DemoDatasetOptions {
  /** Seed of the pseudo-random generator; default 20250801. */
  seed?: number;
  /** How many people, the fixed subjects included; default 5,000, at least 100. */
  persons?: number;
  /** How many enterprises, the fixed ones included; default 2,000, at least 10. */
  enterprises?: number;
  /** The date the data describes (YYYY-MM-DD), between 2022-01-01 and today; default 2025-06-30. */
  asOf?: string;
}

export const DEMO_DATASET_DEFAULTS: Readonly<Required<DemoDatasetOptions>> = { seed: 20250801, persons: 5000, enterprises: 2000, asOf: '2025-06-30' };

export interface DemoDatasets {
  readonly options: Readonly<Required<DemoDatasetOptions>>;
  persons: PersonRow[];
  enterprises: EnterpriseRow[];
  insurance: InsuranceRow[];
  marriages: MarriageRow[];
  /** USCC → ID number of the legal representative (the enterprise register gives only the name). */
  legalRepresentatives: ReadonlyMap<string, string>;
  /** ID number → USCC of the employer through which the person is insured (the register gives only the name). */
  employers: ReadonlyMap<string, string>;
}

const DAY_MS = 86_400_000;
const dayOf = (iso: string): number => Math.round(Date.parse(`${iso}T00:00:00Z`) / DAY_MS);
const isoOf = (day: number): string => new Date(day * DAY_MS).toISOString().slice(0, 10);
const isLeap = (y: number): boolean => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
/** The date `years` after `iso`; someone born on 29 February has the birthday on 1 March in other years. */
function anniversary(iso: string, years: number): string {
  const y = Number(iso.slice(0, 4)) + years;
  const md = iso.slice(5);
  return md === '02-29' && !isLeap(y) ? `${y}-03-01` : `${y}-${md}`;
}
function ageOn(birthDate: string, on: string): number {
  const years = Number(on.slice(0, 4)) - Number(birthDate.slice(0, 4));
  return on.slice(5) < birthDate.slice(5) ? years - 1 : years;
}
const monthIndex = (iso: string): number => Number(iso.slice(0, 4)) * 12 + Number(iso.slice(5, 7)) - 1;
const monthStart = (index: number): string => `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, '0')}-01`;
const later = (a: string, b: string): string => (a > b ? a : b);

/** Share of each age band in the population. */
const AGE_BANDS = new WeightedTable<readonly [number, number]>([
  [[0, 17], 15],
  [[18, 29], 15],
  [[30, 44], 25],
  [[45, 59], 25],
  [[60, 90], 20],
]);
/** How many years younger than her husband a wife is: usually one to three. */
const SPOUSE_AGE_GAPS = new WeightedTable<number>([[-2, 0.5], [-1, 1], [0, 3], [1, 4], [2, 4], [3, 3], [4, 2], [5, 1], [6, 1]]);
const CAPITAL = new WeightedTable<number>([[3, 2], [5, 3], [10, 6], [30, 5], [50, 6], [100, 8], [200, 4], [300, 3], [500, 3], [1000, 2], [2000, 1], [5000, 0.5]]);
const JOINT_STOCK_CAPITAL = new WeightedTable<number>([[500, 3], [1000, 3], [2000, 2], [5000, 1], [10000, 1]]);
const MARRIAGE_AGE = { male: 22, female: 20 } as const;
const RETIREMENT_AGE = { male: 60, female: 55 } as const;
const PENSION_MINIMUM_MONTHS = 180;

interface Draft {
  readonly male: boolean;
  readonly birthDate: string;
  readonly idNumber: string;
  readonly ethnicity: string;
  surname: string;
  readonly given: string;
  district: District;
  address: string;
  household: string;
  /** Current spouse, if married (not divorced). */
  spouse: Draft | null;
}

interface Couple {
  man: Draft;
  woman: Draft;
  type: MarriageRow['registrationType'];
  date: string;
}

function checkOptions(options: DemoDatasetOptions): Required<DemoDatasetOptions> {
  const o = { ...DEMO_DATASET_DEFAULTS, ...options };
  if (!Number.isSafeInteger(o.seed)) throw new RangeError(`seed must be an integer, got ${o.seed}`);
  if (!Number.isSafeInteger(o.persons) || o.persons < 100) throw new RangeError(`persons must be an integer of at least 100, got ${o.persons}`);
  if (!Number.isSafeInteger(o.enterprises) || o.enterprises < 10) throw new RangeError(`enterprises must be an integer of at least 10, got ${o.enterprises}`);
  const today = new Date().toISOString().slice(0, 10);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(o.asOf) || isoOf(dayOf(o.asOf)) !== o.asOf || o.asOf < EARLIEST_AS_OF || o.asOf > today) {
    // Birth dates must not lie in the future, or the ID numbers would not validate.
    throw new RangeError(`asOf must be a date (YYYY-MM-DD) from ${EARLIEST_AS_OF} to today, got ${o.asOf}`);
  }
  return o;
}

/** Generates the demo datasets; the fixed DEMO_SUBJECTS come first in each. */
export function generateDemoDatasets(options: DemoDatasetOptions = {}): DemoDatasets {
  const o = checkOptions(options);
  return new Generator(o).run();
}

class Generator {
  readonly #random: SeededRandom;
  readonly #asOf: string;
  readonly #ids = new Set<string>();
  readonly #households = new Set<string>();

  constructor(private readonly options: Required<DemoDatasetOptions>) {
    this.#random = new SeededRandom(options.seed);
    this.#asOf = options.asOf;
  }

  run(): DemoDatasets {
    const fixed = fixedRows(this.#asOf);
    // Reserve the fixed and the deliberately absent identifiers so that no generated subject takes them.
    for (const p of fixed.persons) {
      this.#ids.add(p.idNumber);
      this.#households.add(p.householdNumber);
    }
    this.#ids.add(DEMO_SUBJECTS.unknownPerson.idNumber);

    const people: Draft[] = [];
    for (let i = fixed.persons.length; i < this.options.persons; i++) people.push(this.#person());
    const adults = people.filter((p) => ageOn(p.birthDate, this.#asOf) >= 18);
    const couples = this.#marry(adults);
    this.#settleChildren(people, adults, couples);

    const persons: PersonRow[] = [...fixed.persons, ...people.map((p) => this.#personRow(p))];
    const { enterprises, legalRepresentatives } = this.#enterprises(fixed.enterprises, adults);
    const { insurance, employers } = this.#insurance(fixed.insurance, adults, enterprises);
    const marriages: MarriageRow[] = [...fixed.marriages, ...this.#marriageRows(couples, fixed.marriages)];
    return { options: Object.freeze({ ...this.options }), persons, enterprises, insurance, marriages, legalRepresentatives, employers };
  }

  #person(): Draft {
    const r = this.#random;
    const male = r.chance(0.5);
    const [from, to] = r.weighted(AGE_BANDS);
    const birthDate = isoOf(dayOf(anniversary(this.#asOf, -r.between(from, to))) - r.int(365));
    const native = r.chance(0.88);
    const birthArea = native ? r.weighted(DISTRICTS_BY_WEIGHT).code : r.weighted(OTHER_BIRTH_AREAS);
    let idNumber: string;
    do {
      // The 17th digit (last of the sequence) is odd for a man, even for a woman.
      const sequence = male ? r.between(0, 499) * 2 + 1 : r.between(1, 499) * 2;
      idNumber = composeResidentId(birthArea, birthDate, sequence);
    } while (this.#ids.has(idNumber));
    this.#ids.add(idNumber);
    const district = native && r.chance(0.7) ? shenyangDistrict(birthArea)! : r.weighted(DISTRICTS_BY_WEIGHT);
    const birthYear = Number(birthDate.slice(0, 4));
    return {
      male,
      birthDate,
      idNumber,
      ethnicity: r.weighted(ETHNICITIES),
      surname: pickSurname(r),
      given: pickGivenName(r, male, birthYear),
      district,
      address: this.#homeAddress(district),
      household: this.#householdNumber(district),
      spouse: null,
    };
  }

  #homeAddress(d: District): string {
    const r = this.#random;
    return `辽宁省沈阳市${d.name}${r.pick(d.streets)}${r.between(1, 399)}号${r.between(1, 12)}-${r.between(1, 6)}-${r.between(1, 18)}${String(r.between(1, 4)).padStart(2, '0')}`;
  }

  /** 户号: nine digits, the district's last three first. */
  #householdNumber(d: District): string {
    let n: string;
    do n = `${d.code.slice(3)}${String(this.#random.int(1_000_000)).padStart(6, '0')}`;
    while (this.#households.has(n));
    this.#households.add(n);
    return n;
  }

  /** Pairs men and women of compatible ages; each person has at most one (their latest) registration. */
  #marry(adults: Draft[]): Couple[] {
    const r = this.#random;
    const asOfDay = dayOf(this.#asOf);
    const womenByYear = new Map<number, Draft[]>();
    for (const w of adults) {
      if (w.male || ageOn(w.birthDate, this.#asOf) < MARRIAGE_AGE.female) continue;
      const year = Number(w.birthDate.slice(0, 4));
      const list = womenByYear.get(year);
      if (list) list.push(w);
      else womenByYear.set(year, [w]);
    }
    for (const list of womenByYear.values()) r.shuffle(list);
    const men = r.shuffle(adults.filter((m) => m.male && ageOn(m.birthDate, this.#asOf) >= MARRIAGE_AGE.male));
    const couples: Couple[] = [];
    for (const man of men) {
      if (!r.chance(0.72)) continue;
      // The wife is usually a year or three younger; search outwards from the preferred gap.
      const preferred = r.weighted(SPOUSE_AGE_GAPS);
      const year = Number(man.birthDate.slice(0, 4));
      let woman: Draft | undefined;
      for (let step = 0; step <= 8 && !woman; step++) {
        for (const gap of step === 0 ? [preferred] : [preferred + step, preferred - step]) {
          if (gap < -3 || gap > 10) continue;
          woman = womenByYear.get(year + gap)?.pop();
          if (woman) break;
        }
      }
      if (!woman) continue;
      const earliest = [anniversary(man.birthDate, MARRIAGE_AGE.male), anniversary(woman.birthDate, MARRIAGE_AGE.female), '1980-01-01'].reduce(later);
      const earliestDay = dayOf(earliest);
      let day = dayOf(anniversary(man.birthDate, r.between(23, 33))) + r.int(365);
      if (day < earliestDay) day = earliestDay + r.int(730);
      if (day > asOfDay) day = earliestDay + r.int(asOfDay - earliestDay + 1);
      let type: Couple['type'] = '结婚';
      if (asOfDay - day > 400) {
        const k = r.next();
        if (k < 0.12) type = '离婚';
        else if (k < 0.18) type = '补领';
        // The row is the latest registration: a divorce or a re-issue comes some years after the wedding.
        if (type !== '结婚') day = r.between(day + 365, Math.min(day + 20 * 365, asOfDay));
      }
      couples.push({ man, woman, type, date: isoOf(day) });
      if (type !== '离婚') {
        man.spouse = woman;
        woman.spouse = man;
        // Spouses share a household: usually the husband's.
        const [host, guest] = r.chance(0.85) ? [man, woman] : [woman, man];
        this.#households.delete(guest.household);
        guest.household = host.household;
        guest.address = host.address;
        guest.district = host.district;
      }
    }
    return couples;
  }

  /** Puts each minor in the household of a couple (or else a single adult) of a plausible parents' age. */
  #settleChildren(people: Draft[], adults: Draft[], couples: Couple[]): void {
    const r = this.#random;
    const married = couples.filter((c) => c.type !== '离婚');
    const gap = (parent: Draft, child: Draft): number => ageOn(parent.birthDate, child.birthDate);
    for (const child of people) {
      if (ageOn(child.birthDate, this.#asOf) >= 18) continue;
      // The parent whose surname the child takes: usually the father.
      let parent: Draft | undefined;
      for (let i = 0; i < 20 && married.length > 0 && !parent; i++) {
        const c = r.pick(married);
        if (gap(c.woman, child) >= 20 && gap(c.woman, child) <= 42 && gap(c.man, child) >= 20 && gap(c.man, child) <= 50) {
          parent = r.chance(0.9) ? c.man : c.woman;
        }
      }
      for (let i = 0; i < 20 && !parent; i++) {
        const a = r.pick(adults);
        if (gap(a, child) >= 20 && gap(a, child) <= 45) parent = a;
      }
      if (!parent) continue;
      this.#households.delete(child.household);
      child.household = parent.household;
      child.address = parent.address;
      child.district = parent.district;
      child.surname = parent.surname;
    }
  }

  #personRow(p: Draft): PersonRow {
    return {
      name: p.surname + p.given,
      gender: p.male ? '男' : '女',
      ethnicity: p.ethnicity,
      birthDate: p.birthDate,
      idNumber: p.idNumber,
      address: p.address,
      householdNumber: p.household,
      photo: PLACEHOLDER_PHOTO,
    };
  }

  #enterprises(fixed: EnterpriseRow[], adults: Draft[]): { enterprises: EnterpriseRow[]; legalRepresentatives: Map<string, string> } {
    const r = this.#random;
    const asOfDay = dayOf(this.#asOf);
    const usccs = new Set<string>([...fixed.map((e) => e.uscc), DEMO_SUBJECTS.unknownEnterprise.uscc]);
    const names = new Set<string>(fixed.map((e) => e.entName));
    const enterprises: EnterpriseRow[] = [...fixed];
    const legalRepresentatives = new Map<string, string>([
      [DEMO_SUBJECTS.restaurant.uscc, DEMO_SUBJECTS.applicant.idNumber],
      [DEMO_SUBJECTS.revokedCompany.uscc, DEMO_SUBJECTS.divorced.idNumber],
    ]);
    for (let i = fixed.length; i < this.options.enterprises; i++) {
      let person = r.pick(adults);
      for (let k = 0; k < 5 && ageOn(person.birthDate, this.#asOf) > 75; k++) person = r.pick(adults);
      // Founded when the legal representative was an adult, more often recently than long ago.
      const earliest = dayOf(later('1995-01-01', anniversary(person.birthDate, 18)));
      const established = isoOf(earliest + Math.floor((asOfDay - earliest) * Math.sqrt(r.next())));
      const individual = r.chance(0.12);
      const industry = r.weighted(INDUSTRIES_BY_WEIGHT);
      const district = r.weighted(DISTRICTS_BY_WEIGHT);
      const division = !individual && r.chance(0.25) ? SHENYANG_CITY_CODE : district.code;
      let uscc: string;
      do {
        // Codes assigned since the 2015 reform start MA; older companies kept their organisation code.
        const body = individual || established >= '2015-10-01' ? `MA${this.#alphanumerics(6)}` : String(r.between(10_000_000, 99_999_999));
        uscc = composeUscc(individual ? '92' : '91', division, body);
      } while (usccs.has(uscc));
      usccs.add(uscc);
      const entName = this.#enterpriseName(names, industry, district, individual);
      const jointStock = entName.endsWith('股份有限公司');
      const young = asOfDay - dayOf(established) < 730;
      const k = r.next();
      const status: EnterpriseStatus = young ? (k < 0.97 ? '存续' : '注销') : k < 0.82 ? '存续' : k < 0.88 ? '吊销' : '注销';
      enterprises.push({
        uscc,
        entName,
        legalRepresentative: person.surname + person.given,
        // An individual business (个体工商户) registers no capital: the item is absent, not zero.
        ...(individual ? {} : { registeredCapital: this.#capital(jointStock) }),
        establishmentDate: established,
        address: `辽宁省沈阳市${district.name}${r.pick(district.streets)}${r.between(1, 599)}号${this.#premises()}`,
        businessScope: industry.scope,
        status,
      });
      legalRepresentatives.set(uscc, person.idNumber);
    }
    return { enterprises, legalRepresentatives };
  }

  /** What follows the house number in a business address: often nothing, else a shopfront, a floor or a room. */
  #premises(): string {
    const r = this.#random;
    const k = r.int(5);
    return k < 2 ? '' : k === 2 ? '门市' : k === 3 ? `${r.between(2, 28)}层` : `${r.between(1, 30)}${String(r.between(1, 20)).padStart(2, '0')}室`;
  }

  #alphanumerics(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += USCC_ALPHABET[this.#random.int(USCC_ALPHABET.length)];
    return s;
  }

  #enterpriseName(taken: Set<string>, industry: Industry, district: District, individual: boolean): string {
    const r = this.#random;
    for (let attempt = 0; ; attempt++) {
      // Two-character trade names (字号) first; when they run out, three.
      const length = attempt < 5 ? 2 : 3;
      let tradeName = '';
      while (tradeName.length < length) {
        const c = r.pick(TRADE_NAME_CHARACTERS);
        if (!tradeName.includes(c)) tradeName += c;
      }
      const name = individual
        ? `沈阳市${district.name}${tradeName}${r.pick(industry.shops)}`
        : `${r.chance(0.1) ? '沈阳市' : '沈阳'}${tradeName}${industry.trade}${r.weighted(COMPANY_FORMS)}`;
      if (!taken.has(name)) {
        taken.add(name);
        return name;
      }
    }
  }

  #capital(jointStock: boolean): string {
    return this.#random.weighted(jointStock ? JOINT_STOCK_CAPITAL : CAPITAL).toFixed(2);
  }

  #insurance(fixed: InsuranceRow[], adults: Draft[], enterprises: EnterpriseRow[]): { insurance: InsuranceRow[]; employers: Map<string, string> } {
    const r = this.#random;
    const active = enterprises.filter((e) => e.status === '存续');
    const closed = enterprises.filter((e) => e.status !== '存续');
    const employerOf = new Map(enterprises.map((e) => [e.entName, e.uscc]));
    const insurance: InsuranceRow[] = [...fixed];
    const employers = new Map<string, string>(fixed.map((row) => [row.idNumber, employerOf.get(row.employerName)!]));
    const asOfMonth = monthIndex(this.#asOf);
    for (const p of adults) {
      const age = ageOn(p.birthDate, this.#asOf);
      const retirementAge = p.male ? RETIREMENT_AGE.male : RETIREMENT_AGE.female;
      const firstMonth = monthIndex(later(p.birthDate < '1975-01-01' ? '1993-01-01' : '1995-01-01', anniversary(p.birthDate, 18))) + 1;
      let row: InsuranceRow | null = null;
      let employer: EnterpriseRow;
      if (age < retirementAge) {
        if (!r.chance(0.72) || firstMonth > asOfMonth - 1) continue;
        const paying = r.chance(0.9);
        // Someone paying does so through a company in business; a pause often follows the employer's closing.
        employer = paying ? r.pick(active) : r.pick(closed.length > 0 && r.chance(0.6) ? closed : enterprises);
        const start = r.between(firstMonth, asOfMonth - 1);
        const months = Math.max(1, Math.round((asOfMonth - start) * (0.75 + 0.25 * r.next())));
        row = this.#insuranceRow(p, employer, paying ? '参保缴费' : '暂停缴费', monthStart(start), months);
      } else {
        // A pension needs at least 15 years (180 months) of contributions before retirement.
        const retirement = monthIndex(anniversary(p.birthDate, retirementAge));
        const lastStart = retirement - PENSION_MINIMUM_MONTHS;
        if (!r.chance(0.65) || lastStart < firstMonth) continue;
        employer = r.pick(enterprises);
        const start = r.between(firstMonth, lastStart);
        row = this.#insuranceRow(p, employer, '待遇领取', monthStart(start), r.between(PENSION_MINIMUM_MONTHS, retirement - start));
      }
      insurance.push(row);
      employers.set(p.idNumber, employer.uscc);
    }
    return { insurance, employers };
  }

  #insuranceRow(p: Draft, employer: EnterpriseRow, status: InsuranceRow['status'], startDate: string, paymentMonths: number): InsuranceRow {
    return { idNumber: p.idNumber, name: p.surname + p.given, insuranceType: '企业职工基本养老保险', employerName: employer.entName, status, startDate, paymentMonths };
  }

  #marriageRows(couples: Couple[], fixed: MarriageRow[]): MarriageRow[] {
    const r = this.#random;
    const taken = new Set(fixed.map((m) => m.certificateNumber));
    const next = new Map<string, number>();
    return couples.map((c) => {
      const prefix = c.type === '结婚' ? 'J' : c.type === '离婚' ? 'L' : 'BJ';
      const district = c.man.district;
      const key = `${prefix}${district.code}-${c.date.slice(0, 4)}`;
      let certificateNumber: string;
      do {
        // Serials count every registration at that office in the year, most of them not in this dataset.
        const serial = (next.get(key) ?? r.between(1, 200)) + r.between(1, 20);
        next.set(key, serial);
        certificateNumber = `${key}-${String(serial).padStart(6, '0')}`;
      } while (taken.has(certificateNumber));
      taken.add(certificateNumber);
      return {
        maleName: c.man.surname + c.man.given,
        maleIdNumber: c.man.idNumber,
        femaleName: c.woman.surname + c.woman.given,
        femaleIdNumber: c.woman.idNumber,
        registrationType: c.type,
        registrationDate: c.date,
        registrationAuthority: district.name.endsWith('区') ? `沈阳市${district.name}民政局` : `${district.name}民政局`,
        certificateNumber,
      };
    });
  }
}
