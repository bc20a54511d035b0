import { describe, expect, it } from 'vitest';
import { isValidResidentId, isValidUscc } from '../../core/identifiers/index.js';
import { DEMO_RESOURCES } from '../../demo/catalogue.js';
import { composeUscc, DEMO_DATASET_DEFAULTS, DEMO_SUBJECTS, generateDemoDatasets, organisationCodeCheckCharacter, SeededRandom, WeightedTable, type DemoDatasets } from './index.js';

const itemsOf = (code: string): string[] => DEMO_RESOURCES.find((r) => r.code === code)!.items.map((i) => i.code);
const birthDateOf = (id: string): string => `${id.slice(6, 10)}-${id.slice(10, 12)}-${id.slice(12, 14)}`;
const isMaleId = (id: string): boolean => Number(id[16]) % 2 === 1;
function ageOn(birthDate: string, on: string): number {
  const years = Number(on.slice(0, 4)) - Number(birthDate.slice(0, 4));
  return on.slice(5) < birthDate.slice(5) ? years - 1 : years;
}
const months = (from: string, to: string): number => (Number(to.slice(0, 4)) - Number(from.slice(0, 4))) * 12 + Number(to.slice(5, 7)) - Number(from.slice(5, 7));

// One generation with the defaults, shared by the checks below (it takes a fraction of a second).
const d: DemoDatasets = generateDemoDatasets();
const personById = new Map(d.persons.map((p) => [p.idNumber, p]));
const enterpriseByUscc = new Map(d.enterprises.map((e) => [e.uscc, e]));
const asOf = DEMO_DATASET_DEFAULTS.asOf;

describe('demo datasets: sizes and identifiers', () => {
  it('has the default sizes, and the derived datasets are substantial', () => {
    expect(d.persons).toHaveLength(5000);
    expect(d.enterprises).toHaveLength(2000);
    expect(d.insurance.length).toBeGreaterThan(2000);
    expect(d.marriages.length).toBeGreaterThan(1000);
  });

  it('gives every person and enterprise a valid, unique identifier', () => {
    const ids = d.persons.map((p) => p.idNumber);
    expect(ids.filter((id) => !isValidResidentId(id))).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
    const usccs = d.enterprises.map((e) => e.uscc);
    expect(usccs.filter((c) => !isValidUscc(c))).toEqual([]);
    expect(new Set(usccs).size).toBe(usccs.length);
    expect(new Set(d.enterprises.map((e) => e.entName)).size).toBe(d.enterprises.length);
    const identifiers = [...d.insurance.map((i) => i.idNumber), ...d.marriages.flatMap((m) => [m.maleIdNumber, m.femaleIdNumber])];
    expect(identifiers.filter((id) => !isValidResidentId(id))).toEqual([]);
  });

  it('builds USCCs on Liaoning division codes with a valid organisation code inside', () => {
    for (const e of d.enterprises) {
      expect(e.uscc).toMatch(/^9[12]21\d{4}/);
      expect(organisationCodeCheckCharacter(e.uscc.slice(8, 16))).toBe(e.uscc[16]);
    }
    // Most people were born in Shenyang (division 2101xx).
    expect(d.persons.filter((p) => p.idNumber.startsWith('2101')).length / d.persons.length).toBeGreaterThan(0.8);
  });

  it('makes gender and birth date agree with the ID number', () => {
    for (const p of d.persons) {
      expect(p.gender).toBe(isMaleId(p.idNumber) ? '男' : '女');
      expect(p.birthDate).toBe(birthDateOf(p.idNumber));
      expect(p.birthDate <= asOf).toBe(true);
    }
    const men = d.persons.filter((p) => p.gender === '男').length / d.persons.length;
    expect(men).toBeGreaterThan(0.45);
    expect(men).toBeLessThan(0.55);
  });

  it('keys every row by item codes of its demo resource', () => {
    const check = (rows: readonly object[], resource: string, optional: readonly string[] = []): void => {
      const items = itemsOf(resource);
      for (const row of rows) {
        expect(Object.keys(row).filter((k) => !items.includes(k))).toEqual([]);
        expect(items.filter((i) => !(i in row) && !optional.includes(i))).toEqual([]);
      }
    };
    check(d.persons, '210100-GA-0001');
    check(d.enterprises, '210100-SC-0001', ['registeredCapital']);
    check(d.insurance, '210100-RS-0001');
    check(d.marriages, '210100-MZ-0001');
  });

  it('leaves out the capital of individual businesses (个体工商户) only', () => {
    for (const e of d.enterprises) expect(e.registeredCapital === undefined).toBe(e.uscc.startsWith('92'));
    for (const e of d.enterprises) if (e.registeredCapital !== undefined) expect(e.registeredCapital).toMatch(/^\d+\.\d{2}$/);
  });
});

describe('demo datasets: consistency between datasets', () => {
  it('names as legal representative a person who was an adult when the enterprise was founded', () => {
    expect(d.legalRepresentatives.size).toBe(d.enterprises.length);
    for (const e of d.enterprises) {
      const person = personById.get(d.legalRepresentatives.get(e.uscc)!)!;
      expect(person.name).toBe(e.legalRepresentative);
      expect(ageOn(person.birthDate, e.establishmentDate)).toBeGreaterThanOrEqual(18);
      expect(e.establishmentDate <= asOf).toBe(true);
    }
  });

  it('insures adults through registered employers, paying ones through companies in business', () => {
    expect(new Set(d.insurance.map((i) => i.idNumber)).size).toBe(d.insurance.length);
    for (const row of d.insurance) {
      const person = personById.get(row.idNumber)!;
      expect(person.name).toBe(row.name);
      const employer = enterpriseByUscc.get(d.employers.get(row.idNumber)!)!;
      expect(employer.entName).toBe(row.employerName);
      if (row.status === '参保缴费') expect(employer.status).toBe('存续');
      expect(row.startDate).toMatch(/-01$/);
      expect(ageOn(person.birthDate, row.startDate)).toBeGreaterThanOrEqual(18);
      expect(row.paymentMonths).toBeGreaterThanOrEqual(1);
      expect(row.paymentMonths).toBeLessThanOrEqual(months(row.startDate, asOf));
      if (row.status === '待遇领取') {
        expect(row.paymentMonths).toBeGreaterThanOrEqual(180);
        expect(ageOn(person.birthDate, asOf)).toBeGreaterThanOrEqual(person.gender === '男' ? 60 : 55);
      }
    }
    expect(d.insurance.filter((i) => ageOn(personById.get(i.idNumber)!.birthDate, asOf) < 18)).toEqual([]);
  });

  it('registers marriages between a man and a woman of legal age, each person once', () => {
    const seen = new Set<string>();
    for (const m of d.marriages) {
      const man = personById.get(m.maleIdNumber)!;
      const woman = personById.get(m.femaleIdNumber)!;
      expect([man.gender, woman.gender]).toEqual(['男', '女']);
      expect([man.name, woman.name]).toEqual([m.maleName, m.femaleName]);
      expect(ageOn(man.birthDate, m.registrationDate)).toBeGreaterThanOrEqual(22);
      expect(ageOn(woman.birthDate, m.registrationDate)).toBeGreaterThanOrEqual(20);
      expect(m.registrationDate <= asOf).toBe(true);
      const prefix = { 结婚: 'J', 离婚: 'L', 补领: 'BJ' }[m.registrationType];
      expect(m.certificateNumber).toMatch(new RegExp(`^${prefix}2101\\d{2}-${m.registrationDate.slice(0, 4)}-\\d{6}$`));
      expect(m.registrationAuthority).toMatch(/民政局$/);
      for (const id of [m.maleIdNumber, m.femaleIdNumber]) {
        expect(seen.has(id)).toBe(false);
        seen.add(id);
      }
      if (m.registrationType === '离婚') expect(man.householdNumber).not.toBe(woman.householdNumber);
      else expect([man.householdNumber, man.address]).toEqual([woman.householdNumber, woman.address]);
    }
    expect(new Set(d.marriages.map((m) => m.certificateNumber)).size).toBe(d.marriages.length);
    expect(d.marriages.some((m) => m.registrationType === '离婚')).toBe(true);
    expect(d.marriages.some((m) => m.registrationType === '补领')).toBe(true);
  });

  it('puts nearly every minor in a household with an adult old enough to be a parent', () => {
    const byHousehold = new Map<string, typeof d.persons>();
    for (const p of d.persons) byHousehold.set(p.householdNumber, [...(byHousehold.get(p.householdNumber) ?? []), p]);
    const minors = d.persons.filter((p) => ageOn(p.birthDate, asOf) < 18);
    expect(minors.length).toBeGreaterThan(300);
    const withParent = minors.filter((c) => byHousehold.get(c.householdNumber)!.some((a) => ageOn(a.birthDate, c.birthDate) >= 20));
    expect(withParent.length / minors.length).toBeGreaterThan(0.95);
  });
});

describe('demo datasets: the fixed subjects', () => {
  const S = DEMO_SUBJECTS;

  it('have valid identifiers', () => {
    for (const s of [S.applicant, S.spouse, S.child, S.divorced, S.formerSpouse, S.unknownPerson]) expect(isValidResidentId(s.idNumber)).toBe(true);
    for (const s of [S.restaurant, S.revokedCompany, S.unknownEnterprise]) expect(isValidUscc(s.uscc)).toBe(true);
  });

  it('come first, whatever the seed', () => {
    const other = generateDemoDatasets({ seed: 1, persons: 200, enterprises: 20 });
    for (const set of [d, other]) {
      expect(set.persons.slice(0, 5).map((p) => [p.idNumber, p.name])).toEqual(
        [S.applicant, S.spouse, S.child, S.divorced, S.formerSpouse].map((s) => [s.idNumber, s.name]),
      );
      expect(set.enterprises.slice(0, 2).map((e) => [e.uscc, e.entName])).toEqual([S.restaurant, S.revokedCompany].map((s) => [s.uscc, s.name]));
    }
  });

  it('make the applicant married, insured and the legal representative of a restaurant company', () => {
    const restaurant = enterpriseByUscc.get(S.restaurant.uscc)!;
    expect(restaurant).toMatchObject({ legalRepresentative: S.applicant.name, status: '存续' });
    expect(restaurant.entName).toMatch(/餐饮/);
    expect(d.legalRepresentatives.get(S.restaurant.uscc)).toBe(S.applicant.idNumber);
    expect(d.insurance.find((i) => i.idNumber === S.applicant.idNumber)).toMatchObject({ employerName: S.restaurant.name, status: '参保缴费' });
    expect(d.marriages.find((m) => m.maleIdNumber === S.applicant.idNumber)).toMatchObject({ femaleIdNumber: S.spouse.idNumber, registrationType: '结婚' });
    const household = personById.get(S.applicant.idNumber)!.householdNumber;
    expect([S.spouse, S.child].map((s) => personById.get(s.idNumber)!.householdNumber)).toEqual([household, household]);
  });

  it('make the divorced pair, the revoked company and the absent subjects what their names say', () => {
    expect(d.marriages.find((m) => m.femaleIdNumber === S.formerSpouse.idNumber)).toMatchObject({ maleIdNumber: S.divorced.idNumber, registrationType: '离婚' });
    expect(enterpriseByUscc.get(S.revokedCompany.uscc)).toMatchObject({ status: '吊销', legalRepresentative: S.divorced.name });
    expect(d.insurance.find((i) => i.idNumber === S.formerSpouse.idNumber)).toBeUndefined();
    expect(d.insurance.find((i) => i.idNumber === S.child.idNumber)).toBeUndefined();
    expect(ageOn(S.child.idNumber.slice(6, 10) + '-06-01', asOf)).toBeLessThan(18);
    const big = generateDemoDatasets({ persons: 20_000, enterprises: 5_000 });
    expect(big.persons.some((p) => p.idNumber === S.unknownPerson.idNumber)).toBe(false);
    expect(big.enterprises.some((e) => e.uscc === S.unknownEnterprise.uscc)).toBe(false);
  });
});

describe('demo datasets: determinism and options', () => {
  it('gives the same rows for the same options, and others for another seed', () => {
    const options = { seed: 42, persons: 800, enterprises: 150 };
    const a = generateDemoDatasets(options);
    const b = generateDemoDatasets(options);
    expect(b).toEqual(a);
    const c = generateDemoDatasets({ ...options, seed: 43 });
    expect(c.persons.slice(5).map((p) => p.idNumber)).not.toEqual(a.persons.slice(5).map((p) => p.idNumber));
    expect(c.persons.slice(0, 5)).toEqual(a.persons.slice(0, 5));
  });

  it('grows with the parameters, staying valid', () => {
    const big = generateDemoDatasets({ persons: 20_000, enterprises: 5_000, seed: 9 });
    expect(big.persons).toHaveLength(20_000);
    expect(big.enterprises).toHaveLength(5_000);
    expect(big.persons.every((p) => isValidResidentId(p.idNumber))).toBe(true);
    expect(big.enterprises.every((e) => isValidUscc(e.uscc))).toBe(true);
    expect(big.marriages.length).toBeGreaterThan(4 * d.marriages.length * 0.8);
  });

  it('refuses options it cannot honour', () => {
    expect(() => generateDemoDatasets({ persons: 10 })).toThrow(RangeError);
    expect(() => generateDemoDatasets({ enterprises: 2.5 })).toThrow(RangeError);
    expect(() => generateDemoDatasets({ asOf: '2021-12-31' })).toThrow(/asOf/);
    expect(() => generateDemoDatasets({ asOf: '2999-01-01' })).toThrow(/asOf/); // birth dates would lie in the future
    expect(() => generateDemoDatasets({ asOf: '2025-02-30' })).toThrow(/asOf/);
  });
});

describe('identifier composition and the random generator', () => {
  it('computes GB 11714 check characters as published codes carry them', () => {
    // 9144030071526726XG holds organisation code 71526726-X; 11100000000013338W holds 00001333-8.
    expect(organisationCodeCheckCharacter('71526726')).toBe('X');
    expect(organisationCodeCheckCharacter('00001333')).toBe('8');
    expect(composeUscc('91', '440300', '71526726')).toBe('9144030071526726XG');
  });

  it('draws uniformly enough, and by weight', () => {
    const r = new SeededRandom(1);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 40_000; i++) counts[r.int(4)]!++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(400);
    const table = new WeightedTable([['a', 1], ['b', 3]] as const);
    let b = 0;
    for (let i = 0; i < 40_000; i++) if (r.weighted(table) === 'b') b++;
    expect(Math.abs(b / 40_000 - 0.75)).toBeLessThan(0.01);
    expect(() => new WeightedTable([['x', 0]])).toThrow(RangeError);
  });
});
