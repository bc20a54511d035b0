// One row of a stock conversion file checked against its licence type: the same rules an online issue follows
// (holder code of the type's holder kind, dates, fields of the type, an authorised issuer), plus what only stock has:
// an identifier given by another region, and the serial derived from the licence number when none is given.
import { isZtError, ZtError, type ErrorCode } from '../../core/errors/index.js';
import { isValidUscc } from '../../core/identifiers/index.js';
import { sm3 } from '../../certs/sm2/sm2.js';
import { makeLicenceIdentifier, parseLicenceIdentifier, type LicenceIdentifier } from '../identifier.js';
import { isValidDate, isValidHolderCode, readLicenceFields, type LicenceType } from '../licence-type.js';
import { HOLDER_CODE_TYPE, type HolderCodeType, type LicenceFieldValue } from '../licence.js';
import { LICENCE_NUMBER } from '../licence-registry.js';

/** The columns (CSV) or members (JSON Lines) every row may have; any other name is a field of the type. */
export const STOCK_COLUMNS = ['licenceNumber', 'holderName', 'holderCode', 'issueDate', 'validFrom', 'validTo', 'issuerCode', 'areaCode', 'identifier'] as const;
export const REQUIRED_STOCK_COLUMNS = ['licenceNumber', 'holderName', 'holderCode', 'issueDate'] as const;
const STANDARD: ReadonlySet<string> = new Set([...STOCK_COLUMNS, 'fields']);

/** The flag a converted licence carries when its given identifier has a non-standard check character. */
export const NON_STANDARD_CHECK_FLAG = 'non-standard-check';

// As the registry checks a licence number on issue (licence-registry.ts).
const SERIAL = /^[0-9A-Za-z]{1,64}$/;
const AREA_CODE = /^\d{6}$/;
const MAX_HOLDER_NAME = 200;

/** A row that passed every check, ready for a status index and a signature. */
export interface StockLicence {
  row: number;
  line: number;
  licenceNumber: string;
  holder: { name: string; code: string; codeType: HolderCodeType };
  /** The issuing department (USCC, one of the type's issuers): the document's issuer and seal. */
  issuerCode: string;
  /** The identifier's issuer code: the issuing department, or a 6-digit area code in a region's own identifier. */
  identifierIssuer: string;
  identifier: LicenceIdentifier & { text: string };
  issueDate: string;
  validFrom: string;
  validTo: string | undefined;
  areaCode: string;
  fields: Record<string, LicenceFieldValue>;
  flags: string[];
}

export interface StockRejection {
  row: number;
  line: number;
  licenceNumber: string | undefined;
  code: ErrorCode;
  reason: string;
}

export interface StockRowOptions {
  /** The issuer of rows that name none (CLI --issuer); when absent and the type has one issuer, that one. */
  defaultIssuer?: string;
  /** Today in China (YYYY-MM-DD): no stock licence is issued after it. */
  today: string;
}

/**
 * The serial of a licence converted without an identifier, derived from its number so that the same licence gets
 * the same identifier on every run: the number itself when it is 1 to 64 ASCII letters and digits, else the first 32
 * hex digits of its SM3. Stripping the other characters would be more readable but not one-to-one (JY-2210-1 and
 * JY2210-1 would share a serial, hence an identifier).
 */
export function serialFromLicenceNumber(licenceNumber: string): string {
  return SERIAL.test(licenceNumber) ? licenceNumber : sm3(Buffer.from(licenceNumber, 'utf8')).toString('hex').slice(0, 32);
}

function fail(code: ErrorCode, message: string): never {
  throw new ZtError(code, message);
}

function text(values: Record<string, unknown>, name: string): string | undefined {
  const v = values[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') fail('ZT_ERR_LICENCE_FIELDS_INVALID', `${name} must be text, not ${Array.isArray(v) ? 'a list' : typeof v}`);
  const s = v.trim();
  return s === '' ? undefined : s;
}

function date(values: Record<string, unknown>, name: string): string | undefined {
  const v = text(values, name);
  if (v !== undefined && !isValidDate(v)) fail('ZT_ERR_LICENCE_FIELDS_INVALID', `${name} ${JSON.stringify(v)} is not a date YYYY-MM-DD`);
  return v;
}

function addYears(day: string, years: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCFullYear(d.getUTCFullYear() + years);
  d.setUTCDate(d.getUTCDate() - 1);
  return d.toISOString().slice(0, 10);
}

/** Checks rows of one licence type; built once per run, so per-row work is only the checks. */
export class StockRowReader {
  readonly #type: LicenceType;
  readonly #issuers: ReadonlySet<string>;
  readonly #defaultIssuer: string | undefined;
  readonly #today: string;
  readonly #fieldCodes: ReadonlySet<string>;
  readonly #codeType: HolderCodeType;

  constructor(type: LicenceType, options: StockRowOptions) {
    this.#type = type;
    this.#issuers = new Set(type.issuers);
    const given = options.defaultIssuer?.trim().toUpperCase();
    this.#defaultIssuer = given || (type.issuers.length === 1 ? type.issuers[0] : undefined);
    this.#today = options.today;
    this.#fieldCodes = new Set(type.fields.map((f) => f.code));
    this.#codeType = HOLDER_CODE_TYPE[type.holderKind];
  }

  /** The header's problem, if any: a required column missing (ZT_ERR_CONVERSION_INPUT). */
  checkColumns(columns: readonly string[]): void {
    const missing = REQUIRED_STOCK_COLUMNS.filter((c) => !columns.includes(c));
    if (missing.length > 0) {
      throw new ZtError('ZT_ERR_CONVERSION_INPUT', `the header has no column ${missing.join(', ')}; a stock conversion file needs ${REQUIRED_STOCK_COLUMNS.join(', ')}, and may have ${STOCK_COLUMNS.filter((c) => !(REQUIRED_STOCK_COLUMNS as readonly string[]).includes(c)).join(', ')} and the fields of ${this.#type.name} (${[...this.#fieldCodes].join(', ')})`);
    }
  }

  /** The licence number of a row as far as it can be read, for the rejects file. */
  static numberOf(values: Record<string, unknown> | null): string | undefined {
    const v = values?.licenceNumber;
    return typeof v === 'string' && v.trim() !== '' ? v.trim() : typeof v === 'number' ? String(v) : undefined;
  }

  read(values: Record<string, unknown>, row: number, line: number): StockLicence | StockRejection {
    try {
      return this.#read(values, row, line);
    } catch (error) {
      if (!isZtError(error)) throw error;
      return { row, line, licenceNumber: StockRowReader.numberOf(values), code: error.code, reason: error.message };
    }
  }

  #read(values: Record<string, unknown>, row: number, line: number): StockLicence {
    const type = this.#type;
    const licenceNumber = text(values, 'licenceNumber');
    if (licenceNumber === undefined) fail('ZT_ERR_LICENCE_FIELDS_INVALID', 'licenceNumber (证照编号) is missing');
    if (!LICENCE_NUMBER.test(licenceNumber)) fail('ZT_ERR_LICENCE_FIELDS_INVALID', `licenceNumber ${JSON.stringify(licenceNumber)} is not 1 to 64 letters, digits or _-./() characters`);

    const holderName = text(values, 'holderName');
    if (holderName === undefined || holderName.length > MAX_HOLDER_NAME) fail('ZT_ERR_LICENCE_HOLDER_INVALID', `holderName (持证主体) must have 1 to ${MAX_HOLDER_NAME} characters`);
    const holderCode = (text(values, 'holderCode') ?? '').toUpperCase();
    if (!isValidHolderCode(type.holderKind, holderCode)) {
      fail(
        'ZT_ERR_LICENCE_HOLDER_INVALID',
        type.holderKind === 'person'
          ? `${type.name} is held by a person: ${JSON.stringify(holderCode)} is not a valid resident ID number (GB 11643)`
          : `${type.name} is held by an organisation: ${JSON.stringify(holderCode)} is not a valid unified social credit code (GB 32100)`,
      );
    }

    const issueDate = date(values, 'issueDate');
    if (issueDate === undefined) fail('ZT_ERR_LICENCE_FIELDS_INVALID', 'issueDate (证照颁发日期) is missing');
    if (issueDate > this.#today) fail('ZT_ERR_LICENCE_FIELDS_INVALID', `issueDate ${issueDate} is after today (${this.#today}): a stock licence was issued already`);
    const validFrom = date(values, 'validFrom') ?? issueDate;
    const validTo = date(values, 'validTo') ?? (type.validityYears ? addYears(validFrom, type.validityYears) : undefined);
    if (validTo !== undefined && validTo < validFrom) fail('ZT_ERR_LICENCE_FIELDS_INVALID', `validTo ${validTo} is before validFrom ${validFrom}`);

    // The identifier another region gave the licence, if any: its check character may be non-standard (flagged).
    const givenIdentifier = text(values, 'identifier');
    let given: LicenceIdentifier | undefined;
    if (givenIdentifier !== undefined) {
      given = parseLicenceIdentifier(givenIdentifier, { lenient: true });
      if (given.typeCode !== type.code) fail('ZT_ERR_LICENCE_IDENTIFIER_INVALID', `identifier ${givenIdentifier} is of licence type ${given.typeCode}, not ${type.code} (${type.name})`);
    }

    const issuerColumn = text(values, 'issuerCode')?.toUpperCase();
    const issuerCode = issuerColumn ?? (given && isValidUscc(given.issuerCode) ? given.issuerCode : this.#defaultIssuer);
    if (issuerCode === undefined) {
      fail('ZT_ERR_LICENCE_ISSUER_NOT_AUTHORISED', `the row names no issuerCode and the run no default issuer; ${type.name} is issued by ${type.issuers.join(', ')}`);
    }
    if (!isValidUscc(issuerCode)) fail('ZT_ERR_LICENCE_ISSUER_NOT_AUTHORISED', `issuerCode ${JSON.stringify(issuerCode)} is not a valid unified social credit code (GB 32100)`);
    if (!this.#issuers.has(issuerCode)) fail('ZT_ERR_LICENCE_ISSUER_NOT_AUTHORISED', `${issuerCode} may not issue ${type.name} (${type.code}); its issuers are ${type.issuers.join(', ')}`);
    if (given && given.issuerCode !== issuerCode && !AREA_CODE.test(given.issuerCode)) {
      fail('ZT_ERR_LICENCE_IDENTIFIER_INVALID', `identifier ${givenIdentifier} names issuer ${given.issuerCode}, but the row's issuer is ${issuerCode}`);
    }

    const areaCode = text(values, 'areaCode') ?? (given && AREA_CODE.test(given.issuerCode) ? given.issuerCode : issuerCode.slice(2, 8));
    if (!AREA_CODE.test(areaCode)) fail('ZT_ERR_LICENCE_FIELDS_INVALID', `areaCode ${JSON.stringify(areaCode)} is not a 6-digit area code`);

    const fields = readLicenceFields(type, this.#fieldValues(values));
    const identifier = given
      ? { ...given, text: givenIdentifier! }
      : makeLicenceIdentifier({ typeCode: type.code, issuerCode, serial: serialFromLicenceNumber(licenceNumber), version: 1 });
    return {
      row,
      line,
      licenceNumber,
      holder: { name: holderName, code: holderCode, codeType: this.#codeType },
      issuerCode,
      identifierIssuer: identifier.issuerCode,
      identifier,
      issueDate,
      validFrom,
      validTo,
      areaCode,
      fields,
      flags: given?.nonStandardCheck ? [NON_STANDARD_CHECK_FLAG] : [],
    };
  }

  /** The type's fields: every name that is not a standard column, and (JSON Lines) the members of `fields`. */
  #fieldValues(values: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(values)) {
      const value = values[key];
      // No value (null, '') is the same as no member, as an empty CSV cell is.
      if (!STANDARD.has(key) && value !== undefined && value !== null && value !== '') out[key] = value;
    }
    const nested = values.fields;
    if (nested !== undefined && nested !== null) {
      if (typeof nested !== 'object' || Array.isArray(nested)) fail('ZT_ERR_LICENCE_FIELDS_INVALID', 'fields must be an object of field codes to values');
      for (const [key, value] of Object.entries(nested)) {
        if (key in out) fail('ZT_ERR_LICENCE_FIELDS_INVALID', `field ${key} is given twice, at the top level and under fields`);
        out[key] = value;
      }
    }
    return out;
  }
}
