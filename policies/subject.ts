// Subject categories (e.g. minors, 未成年人) derived from the subject's resident ID number and the decision time.
import { CHINA_OFFSET_MS } from '../core/china-date.js';

/**
 * minor: under 18 (《中华人民共和国未成年人保护法》第二条);
 * under-14: under 14, whose personal information is sensitive (《中华人民共和国个人信息保护法》第二十八条);
 * senior: 60 or over (《中华人民共和国老年人权益保障法》第二条).
 */
export const SUBJECT_CATEGORIES = ['minor', 'under-14', 'senior'] as const;
export type SubjectCategory = (typeof SUBJECT_CATEGORIES)[number];

export const SUBJECT_BIT: Readonly<Record<SubjectCategory, number>> = { minor: 1, 'under-14': 2, senior: 4 };
/** A person whose age cannot be read from the identifier: every restriction by age applies (fail closed). */
export const SUBJECT_UNKNOWN_AGE = 1 | 2 | 4;


function digits(s: string, from: number, to: number): number {
  let v = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** Start of the day (Beijing time) on which someone born y-m-d turns `years`, as epoch milliseconds. */
function birthday(y: number, m: number, d: number, years: number): number {
  return Date.UTC(y + years, m - 1, d) - CHINA_OFFSET_MS;
}

/**
 * Bit set of SUBJECT_BIT for a person identified by `id` at time `atMs`. Reads the birth date of an 18-character
 * (GB 11643) or 15-character (first-generation, 19yy) resident ID number; anything else gives SUBJECT_UNKNOWN_AGE.
 * Allocation-free: it runs on every decision that has age rules.
 */
export function personCategories(id: string, atMs: number): number {
  let y: number;
  let m: number;
  let d: number;
  if (id.length === 18) {
    y = digits(id, 6, 10);
    m = digits(id, 10, 12);
    d = digits(id, 12, 14);
  } else if (id.length === 15) {
    y = digits(id, 6, 8);
    y = y < 0 ? y : 1900 + y;
    m = digits(id, 8, 10);
    d = digits(id, 10, 12);
  } else {
    return SUBJECT_UNKNOWN_AGE;
  }
  if (y < 1850 || m < 1 || m > 12 || d < 1 || d > 31) return SUBJECT_UNKNOWN_AGE;
  let bits = 0;
  if (atMs < birthday(y, m, d, 18)) {
    bits |= SUBJECT_BIT.minor;
    if (atMs < birthday(y, m, d, 14)) bits |= SUBJECT_BIT['under-14'];
  } else if (atMs >= birthday(y, m, d, 60)) {
    bits |= SUBJECT_BIT.senior;
  }
  return bits;
}
