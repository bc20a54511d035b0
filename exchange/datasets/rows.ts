// The rows of the four demo datasets, keyed by the data item codes of the demo catalogue (demo/catalogue.ts),
// as a supplier department would deliver them in an extract. Type aliases (not interfaces) so that a row is also a
// Record<string, unknown>, which is what an extract takes.

/** 人口基本信息 (210100-GA-0001), held by the public security bureau. */
export type PersonRow = {
  name: string;
  /** 男 / 女, as the ID number's 17th digit says (odd for men). */
  gender: '男' | '女';
  ethnicity: string;
  /** YYYY-MM-DD, the same date as in the ID number. */
  birthDate: string;
  idNumber: string;
  address: string;
  householdNumber: string;
  /** A placeholder, not a photograph: see PLACEHOLDER_PHOTO. */
  photo: string;
};

/** 企业登记信息 (210100-SC-0001), held by the market regulation bureau. */
export type EnterpriseRow = {
  uscc: string;
  entName: string;
  /** The name of a person in the population dataset. */
  legalRepresentative: string;
  /** 万元, as a decimal string (numeric values travel as strings, as the storage port returns them); absent for an individual business (个体工商户), which registers no capital. */
  registeredCapital?: string;
  establishmentDate: string;
  address: string;
  businessScope: string;
  status: EnterpriseStatus;
};

/** 存续 (in business), 吊销 (licence revoked), 注销 (deregistered). */
export type EnterpriseStatus = '存续' | '吊销' | '注销';

/** 社保参保信息 (210100-RS-0001), held by the human resources and social security bureau. */
export type InsuranceRow = {
  idNumber: string;
  name: string;
  insuranceType: string;
  /** The name of an enterprise in the enterprise dataset. */
  employerName: string;
  status: InsuranceStatus;
  /** The first day of the first insured month. */
  startDate: string;
  paymentMonths: number;
};

/** 参保缴费 (paying), 暂停缴费 (paused), 待遇领取 (drawing a pension). */
export type InsuranceStatus = '参保缴费' | '暂停缴费' | '待遇领取';

/** 婚姻登记信息 (210100-MZ-0001), held by the civil affairs bureau: each person's latest registration. */
export type MarriageRow = {
  maleName: string;
  maleIdNumber: string;
  femaleName: string;
  femaleIdNumber: string;
  /** 结婚 (marriage), 离婚 (divorce), 补领 (re-issue of a lost marriage certificate). */
  registrationType: '结婚' | '离婚' | '补领';
  registrationDate: string;
  registrationAuthority: string;
  /** J (结婚证), L (离婚证) or BJ (补发结婚证) + division code + year + serial, e.g. J210103-2013-004512. */
  certificateNumber: string;
};

/**
 * Stands in for the photo item: a 1×1 grey PNG as a data URI (67 bytes). The demo has no photographs, and must not
 * have any; the item is there so that rules about biometric data (e.g. refusing 照片) have something to refuse.
 */
export const PLACEHOLDER_PHOTO = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGM4AAAAwgDBUl5XUQAAAABJRU5ErkJggg==';
