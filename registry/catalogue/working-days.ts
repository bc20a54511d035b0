// Working days (工作日) by the State Council's yearly holiday schedule: public holidays (法定节假日) are days off
// even on a weekday, and make-up working days (调休上班日) are working days even on a weekend. Reply deadlines of
// the application–reply procedure (申请–答复) are counted in these days.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chinaDate } from '../../core/china-date.js';
import { packageRoot } from '../../core/paths.js';

export { chinaDate };

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;

/** True for a real calendar date written YYYY-MM-DD. */
export function isIsoDate(value: string): boolean {
  const m = ISO_DATE.exec(value);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === value;
}

function toUtcMs(date: string): number {
  if (!isIsoDate(date)) throw new RangeError(`${JSON.stringify(date)} is not a date (YYYY-MM-DD)`);
  return Date.parse(`${date}T00:00:00Z`);
}

function fromUtcMs(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** date + days, in calendar days. */
export function addCalendarDays(date: string, days: number): string {
  return fromUtcMs(toUtcMs(date) + days * DAY_MS);
}

/** 0 = Sunday … 6 = Saturday. */
export function weekday(date: string): number {
  return new Date(toUtcMs(date)).getUTCDay();
}

export class WorkingCalendar {
  readonly #holidays: ReadonlySet<string>;
  readonly #workdays: ReadonlySet<string>;
  readonly #years: ReadonlySet<number>;

  /**
   * @param holidays days off that would otherwise be working days (or fall on a weekend inside a holiday)
   * @param workdays weekend days that are working days (调休)
   * @param years the years the schedule covers; outside them only weekends are days off
   */
  constructor(holidays: Iterable<string>, workdays: Iterable<string>, years: Iterable<number>) {
    this.#holidays = new Set(holidays);
    this.#workdays = new Set(workdays);
    this.#years = new Set(years);
  }

  /** Whether the published schedule covers the date's year (outside it, holidays are unknown). */
  covers(date: string): boolean {
    return this.#years.has(Number(date.slice(0, 4)));
  }

  isWorkingDay(date: string): boolean {
    if (this.#workdays.has(date)) return true;
    if (this.#holidays.has(date)) return false;
    const day = weekday(date);
    return day !== 0 && day !== 6;
  }

  /** The n-th working day after `date` (the day itself does not count, whether or not it is a working day). */
  addWorkingDays(date: string, n: number): string {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`working days must be a whole number ≥ 0, got ${n}`);
    let ms = toUtcMs(date);
    for (let left = n; left > 0; ) {
      ms += DAY_MS;
      if (this.isWorkingDay(fromUtcMs(ms))) left--;
    }
    return fromUtcMs(ms);
  }

  /** Working days in (from, to]: how many working days `to` lies after `from`; 0 when to ≤ from. */
  workingDaysBetween(from: string, to: string): number {
    let count = 0;
    for (let ms = toUtcMs(from) + DAY_MS, end = toUtcMs(to); ms <= end; ms += DAY_MS) {
      if (this.isWorkingDay(fromUtcMs(ms))) count++;
    }
    return count;
  }
}

interface CalendarYear {
  notice: string;
  holidays: Record<string, string[]>;
  workdays: Record<string, string[]>;
}

/**
 * Builds a calendar from the JSON schedule format of holidays/cn-2025-2026.json, checking it on the way: every
 * date real and in its year, no day both a holiday and a make-up working day, every make-up day on a weekend.
 */
export function parseHolidayCalendar(json: unknown, source = 'holiday calendar'): WorkingCalendar {
  const fail = (why: string): never => {
    throw new Error(`${source}: ${why}`);
  };
  const years = (json as { years?: unknown } | null)?.years;
  if (!years || typeof years !== 'object') fail('expected an object with "years"');
  const holidays: string[] = [];
  const workdays: string[] = [];
  const covered: number[] = [];
  for (const [year, entry] of Object.entries(years as Record<string, CalendarYear>)) {
    if (!/^\d{4}$/.test(year)) fail(`year ${JSON.stringify(year)} is not four digits`);
    covered.push(Number(year));
    for (const [field, into] of [
      ['holidays', holidays],
      ['workdays', workdays],
    ] as const) {
      const groups = entry?.[field];
      if (!groups || typeof groups !== 'object') fail(`${year}.${field} is missing`);
      for (const [name, dates] of Object.entries(groups)) {
        if (!Array.isArray(dates)) fail(`${year}.${field}.${name} is not a list of dates`);
        for (const date of dates) {
          if (typeof date !== 'string' || !isIsoDate(date) || !date.startsWith(year)) fail(`${year}.${field}.${name}: ${JSON.stringify(date)} is not a date in ${year}`);
          if (field === 'workdays' && weekday(date) !== 0 && weekday(date) !== 6) fail(`${year}.workdays.${name}: ${date} is not a weekend day, so it cannot be a make-up working day`);
          into.push(date);
        }
      }
    }
  }
  const both = workdays.filter((d) => holidays.includes(d));
  if (both.length > 0) fail(`${both.join(', ')} listed both as holiday and as working day`);
  return new WorkingCalendar(holidays, workdays, covered);
}

export const CHINA_CALENDAR_FILE = 'registry/catalogue/holidays/cn-2025-2026.json';

/** Reads a schedule file (default: China 2025–2026, relative to the package root). */
export function loadWorkingCalendar(path: string = join(packageRoot(), CHINA_CALENDAR_FILE)): WorkingCalendar {
  return parseHolidayCalendar(JSON.parse(readFileSync(path, 'utf8')) as unknown, path);
}
