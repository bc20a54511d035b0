import { isValidUscc } from '../../core/identifiers/index.js';
import { ZtError } from '../../core/errors/index.js';

/** A department (部门) of the city government, identified by its unified social credit code. */
export interface Department {
  uscc: string;
  name: string;
  shortName: string | null;
  /** Administrative area code (行政区划代码) of its jurisdiction. */
  areaCode: string;
  createdAt: Date;
}

export interface DepartmentRegistration {
  uscc: string;
  name: string;
  shortName?: string | null;
  areaCode?: string;
}

export const DEPARTMENT_EVENTS_TOPIC = 'registry.departments';

export function assertUscc(uscc: string): void {
  if (!isValidUscc(uscc)) {
    throw new ZtError('ZT_ERR_ID_INVALID_USCC', `${JSON.stringify(uscc)} is not a valid unified social credit code (GB 32100): 18 characters with a correct check character`);
  }
}

/** Validates a registration and fills the defaults: the area code comes from the code's characters 3–8. */
export function normaliseRegistration(input: DepartmentRegistration): Omit<Department, 'createdAt'> {
  const uscc = input.uscc.trim().toUpperCase();
  assertUscc(uscc);
  const name = input.name.trim();
  if (name.length === 0 || name.length > 200) throw new ZtError('ZT_ERR_REQUEST_INVALID', 'name must have 1 to 200 characters');
  const areaCode = input.areaCode ?? uscc.slice(2, 8);
  if (!/^\d{6}$/.test(areaCode)) throw new ZtError('ZT_ERR_REQUEST_INVALID', `areaCode must be 6 digits, got ${JSON.stringify(areaCode)}`);
  return { uscc, name, shortName: input.shortName?.trim() || null, areaCode };
}
