// Well-known subjects at the start of every generated dataset, whatever the seed, so that tests, the README and
// demos (prefilling an application to open a restaurant, say) can name them. Their identifiers are made up and pass
// the GB 11643 / GB 32100 checks.
import { INDUSTRIES } from './industries.js';
import { PLACEHOLDER_PHOTO, type EnterpriseRow, type InsuranceRow, type MarriageRow, type PersonRow } from './rows.js';

export const DEMO_SUBJECTS = {
  /**
   * 刘志强, man, born 1985-03-12 in 沈河区: married to `spouse` (结婚 2013-10-02), insured and paying through
   * `restaurant`, and its legal representative; lives with `spouse` and `child`.
   */
  applicant: { idNumber: '210103198503120312', name: '刘志强' },
  /** 陈静, woman (满族), born 1987-09-23: married to `applicant`, insured through `restaurant`. */
  spouse: { idNumber: '210105198709230421', name: '陈静' },
  /** 刘子涵, boy born 2016-06-01: a minor, in the household of `applicant` and `spouse`; no insurance, no marriage. */
  child: { idNumber: '210103201606010153', name: '刘子涵' },
  /** 赵磊, man, born 1979-11-30: divorced from `formerSpouse` (离婚 2021-04-15), legal representative of `revokedCompany`, insurance paused. */
  divorced: { idNumber: '210106197911300579', name: '赵磊' },
  /** 孙丽, woman, born 1982-02-14: divorced from `divorced`; holds no social insurance record. */
  formerSpouse: { idNumber: '210104198202140682', name: '孙丽' },
  /** A valid resident ID number that no dataset holds (every lookup finds nothing). */
  unknownPerson: { idNumber: '210112199507080793' },
  /** 沈阳盛京味道餐饮有限公司: a restaurant company in business (存续) since 2018-04-20, legal representative `applicant`. */
  restaurant: { uscc: '91210103MA0U7G5K1B', name: '沈阳盛京味道餐饮有限公司' },
  /** 沈阳鑫达商贸有限公司: a trading company whose licence was revoked (吊销), legal representative `divorced`. */
  revokedCompany: { uscc: '91210106243198760J', name: '沈阳鑫达商贸有限公司' },
  /** A valid USCC that no dataset holds. */
  unknownEnterprise: { uscc: '91210105MA0XY1232L' },
} as const;

/** The earliest date a dataset may describe: the fixed subjects' facts (the latest a 2021 divorce) lie before it. */
export const EARLIEST_AS_OF = '2022-01-01';

/** Whole months from one date's month to another's (2007-07-01 → 2025-06-30 is 215). */
export function monthsBetween(from: string, to: string): number {
  return (Number(to.slice(0, 4)) - Number(from.slice(0, 4))) * 12 + (Number(to.slice(5, 7)) - Number(from.slice(5, 7)));
}

const S = DEMO_SUBJECTS;
const FAMILY_ADDRESS = '辽宁省沈阳市沈河区青年大街185号2-3-1201';
const FAMILY_HOUSEHOLD = '103051287';
const restaurantScope = INDUSTRIES.find((i) => i.trade === '餐饮管理')!.scope;
const tradingScope = INDUSTRIES.find((i) => i.trade === '商贸')!.scope;

export interface FixedRows {
  persons: PersonRow[];
  enterprises: EnterpriseRow[];
  insurance: InsuranceRow[];
  marriages: MarriageRow[];
}

/** The fixed subjects' rows as of a date (only the months of contributions depend on it). */
export function fixedRows(asOf: string): FixedRows {
  const person = (p: { idNumber: string; name: string }, rest: Omit<PersonRow, 'idNumber' | 'name' | 'photo' | 'gender' | 'birthDate'>): PersonRow => ({
    name: p.name,
    gender: Number(p.idNumber[16]) % 2 === 1 ? '男' : '女',
    ethnicity: rest.ethnicity,
    birthDate: `${p.idNumber.slice(6, 10)}-${p.idNumber.slice(10, 12)}-${p.idNumber.slice(12, 14)}`,
    idNumber: p.idNumber,
    address: rest.address,
    householdNumber: rest.householdNumber,
    photo: PLACEHOLDER_PHOTO,
  });
  return {
    persons: [
      person(S.applicant, { ethnicity: '汉族', address: FAMILY_ADDRESS, householdNumber: FAMILY_HOUSEHOLD }),
      person(S.spouse, { ethnicity: '满族', address: FAMILY_ADDRESS, householdNumber: FAMILY_HOUSEHOLD }),
      person(S.child, { ethnicity: '汉族', address: FAMILY_ADDRESS, householdNumber: FAMILY_HOUSEHOLD }),
      person(S.divorced, { ethnicity: '汉族', address: '辽宁省沈阳市铁西区兴华南街58号1-5-602', householdNumber: '106033914' }),
      person(S.formerSpouse, { ethnicity: '汉族', address: '辽宁省沈阳市大东区东北大马路201号3-1-301', householdNumber: '104072265' }),
    ],
    enterprises: [
      {
        uscc: S.restaurant.uscc,
        entName: S.restaurant.name,
        legalRepresentative: S.applicant.name,
        registeredCapital: '100.00',
        establishmentDate: '2018-04-20',
        address: '辽宁省沈阳市沈河区中街路128号',
        businessScope: restaurantScope,
        status: '存续',
      },
      {
        uscc: S.revokedCompany.uscc,
        entName: S.revokedCompany.name,
        legalRepresentative: S.divorced.name,
        registeredCapital: '50.00',
        establishmentDate: '2009-07-15',
        address: '辽宁省沈阳市铁西区兴华南街12号',
        businessScope: tradingScope,
        status: '吊销',
      },
    ],
    insurance: [
      {
        idNumber: S.applicant.idNumber,
        name: S.applicant.name,
        insuranceType: '企业职工基本养老保险',
        employerName: S.restaurant.name,
        status: '参保缴费',
        startDate: '2007-07-01',
        paymentMonths: monthsBetween('2007-07-01', asOf),
      },
      {
        idNumber: S.spouse.idNumber,
        name: S.spouse.name,
        insuranceType: '企业职工基本养老保险',
        employerName: S.restaurant.name,
        status: '参保缴费',
        startDate: '2010-09-01',
        // Two years without contributions around the child's birth.
        paymentMonths: monthsBetween('2010-09-01', asOf) - 24,
      },
      {
        idNumber: S.divorced.idNumber,
        name: S.divorced.name,
        insuranceType: '企业职工基本养老保险',
        employerName: S.revokedCompany.name,
        status: '暂停缴费',
        startDate: '2001-03-01',
        paymentMonths: 196,
      },
    ],
    marriages: [
      {
        maleName: S.applicant.name,
        maleIdNumber: S.applicant.idNumber,
        femaleName: S.spouse.name,
        femaleIdNumber: S.spouse.idNumber,
        registrationType: '结婚',
        registrationDate: '2013-10-02',
        registrationAuthority: '沈阳市沈河区民政局',
        certificateNumber: 'J210103-2013-004512',
      },
      {
        maleName: S.divorced.name,
        maleIdNumber: S.divorced.idNumber,
        femaleName: S.formerSpouse.name,
        femaleIdNumber: S.formerSpouse.idNumber,
        registrationType: '离婚',
        registrationDate: '2021-04-15',
        registrationAuthority: '沈阳市铁西区民政局',
        certificateNumber: 'L210106-2021-000873',
      },
    ],
  };
}
