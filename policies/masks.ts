// Masking (脱敏) of released data items. A mask is data (MaskSpec) so that a decision can say exactly what will be
// hidden; applyMasks turns a supplier's record into what the requester may see.
import { CHINA_OFFSET_MS } from '../core/china-date.js';
import type { DataItemType } from './catalogue.js';

export const MASK_KINDS = ['keep-ends', 'redact', 'year-only', 'year-month'] as const;
export type MaskKind = (typeof MASK_KINDS)[number];

/**
 * keep-ends: keep the first keepStart and last keepEnd characters, replace each other one by '*'
 *            (an ID number with 6/4 keeps its area code and last four); a value no longer than
 *            keepStart + keepEnd is masked entirely, so a mask never reveals a whole value.
 * year-only, year-month: a date keeps only its year ('2009') or year and month ('2009-03').
 * redact: the value becomes null; the item is still released, so its presence is known.
 * keepStart and keepEnd are 0 for the kinds that do not use them (one object shape for all masks).
 */
export interface MaskSpec {
  readonly kind: MaskKind;
  readonly keepStart: number;
  readonly keepEnd: number;
}

/** The item types a mask kind can apply to; a policy putting a mask on another type is refused at load. */
export const MASK_TYPES: Readonly<Record<MaskKind, readonly DataItemType[]>> = {
  'keep-ends': ['string'],
  redact: ['string', 'integer', 'decimal', 'boolean', 'date', 'datetime', 'binary'],
  'year-only': ['date', 'datetime'],
  'year-month': ['date', 'datetime'],
};

export function maskSpec(kind: MaskKind, keepStart = 0, keepEnd = 0): MaskSpec {
  return Object.freeze({ kind, keepStart: kind === 'keep-ends' ? keepStart : 0, keepEnd: kind === 'keep-ends' ? keepEnd : 0 });
}

export function sameMask(a: MaskSpec, b: MaskSpec): boolean {
  return a.kind === b.kind && a.keepStart === b.keepStart && a.keepEnd === b.keepEnd;
}

const REDACT = maskSpec('redact');

/**
 * Two masks on one item combine into one that hides everything either hides: redact wins; year-only wins over
 * year-month; two keep-ends keep the fewer characters at each end. Kinds that cannot meet on one item type
 * (the compiler refuses them) combine to redact, the safe answer.
 */
export function combineMasks(a: MaskSpec, b: MaskSpec): MaskSpec {
  if (sameMask(a, b)) return a;
  if (a.kind === 'redact') return a;
  if (b.kind === 'redact') return b;
  if (a.kind === 'keep-ends' && b.kind === 'keep-ends') {
    return maskSpec('keep-ends', Math.min(a.keepStart, b.keepStart), Math.min(a.keepEnd, b.keepEnd));
  }
  if ((a.kind === 'year-only' || a.kind === 'year-month') && (b.kind === 'year-only' || b.kind === 'year-month')) {
    return a.kind === 'year-only' ? a : b;
  }
  return REDACT;
}

const DATE = /^(\d{4})-?(\d{2})(?:-?(\d{2}))?/;

function datePart(value: unknown, withMonth: boolean): string | null {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) return null;
    // Dates are China dates (UTC+8, no daylight saving).
    const d = new Date(value.getTime() + CHINA_OFFSET_MS);
    const y = String(d.getUTCFullYear()).padStart(4, '0');
    return withMonth ? `${y}-${String(d.getUTCMonth() + 1).padStart(2, '0')}` : y;
  }
  const m = DATE.exec(String(value));
  if (m === null) return null; // unrecognised: hide it rather than guess
  return withMonth ? `${m[1]}-${m[2]}` : m[1]!;
}

/** Masks one value. null and undefined stay as they are (nothing to hide). */
export function maskValue(value: unknown, mask: MaskSpec): unknown {
  if (value === null || value === undefined) return value;
  switch (mask.kind) {
    case 'redact':
      return null;
    case 'year-only':
      return datePart(value, false);
    case 'year-month':
      return datePart(value, true);
    case 'keep-ends': {
      if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'bigint') return null;
      const chars = Array.from(String(value)); // code points: a rare character in a name is one character
      const n = chars.length;
      if (n <= mask.keepStart + mask.keepEnd) return '*'.repeat(n);
      return chars.slice(0, mask.keepStart).join('') + '*'.repeat(n - mask.keepStart - mask.keepEnd) + chars.slice(n - mask.keepEnd).join('');
    }
  }
}

/** What applyMasks needs from a decision: the released items and their masks. */
export interface ReleasedItems {
  readonly items: readonly { readonly code: string; readonly mask: MaskSpec | null }[];
}

/**
 * The part of a supplier's record that a decision releases, masked as the decision says. Items the decision does
 * not release (withheld, pending approval, or never asked for) are left out, so a record can be passed whole.
 */
export function applyMasks(record: Readonly<Record<string, unknown>>, decision: ReleasedItems): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const item of decision.items) {
    if (!Object.prototype.hasOwnProperty.call(record, item.code)) continue;
    const value = record[item.code];
    out[item.code] = item.mask === null ? value : maskValue(value, item.mask);
  }
  return out;
}
