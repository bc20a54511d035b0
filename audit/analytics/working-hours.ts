// Working hours (工作时间) in China time (Asia/Shanghai, UTC+8 all year, no daylight saving): the intervals of
// ZT_AUDIT_WORKING_HOURS on the working days of the State Council's holiday schedule (registry/catalogue/
// working-days.ts: public holidays are days off, make-up days 调休 are working days).
import { ZtError } from '../../core/errors/index.js';
import { chinaDate, loadWorkingCalendar, type WorkingCalendar } from '../../registry/catalogue/working-days.js';

export const DEFAULT_WORKING_HOURS = '08:30-12:00,13:00-17:30';
const CHINA_OFFSET_MS = 8 * 3_600_000;
const DAY_MS = 86_400_000;
const INTERVAL = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$/;

export interface WorkingInterval {
  /** Minutes after local midnight: [from, to). */
  readonly from: number;
  readonly to: number;
}

export class WorkingHours {
  readonly text: string;
  readonly intervals: readonly WorkingInterval[];
  readonly calendar: WorkingCalendar;

  constructor(text: string, intervals: readonly WorkingInterval[], calendar: WorkingCalendar) {
    this.text = text;
    this.intervals = intervals;
    this.calendar = calendar;
  }

  /** Parses "08:30-12:00,13:00-17:30"; ZT_ERR_CONFIG_INVALID names what is wrong. */
  static parse(text: string = DEFAULT_WORKING_HOURS, calendar: WorkingCalendar = loadWorkingCalendar()): WorkingHours {
    const intervals: WorkingInterval[] = [];
    for (const part of text.split(',').map((s) => s.trim())) {
      const m = INTERVAL.exec(part);
      const from = m ? Number(m[1]) * 60 + Number(m[2]) : NaN;
      const to = m ? Number(m[3]) * 60 + Number(m[4]) : NaN;
      if (!m || to > 24 * 60 || from >= to) {
        throw new ZtError('ZT_ERR_CONFIG_INVALID', `ZT_AUDIT_WORKING_HOURS: ${JSON.stringify(part)} is not an interval HH:MM-HH:MM with its start before its end (e.g. ${DEFAULT_WORKING_HOURS})`);
      }
      const last = intervals.at(-1);
      if (last && from < last.to) throw new ZtError('ZT_ERR_CONFIG_INVALID', `ZT_AUDIT_WORKING_HOURS: the intervals must be in order and not overlap (${text})`);
      intervals.push({ from, to });
    }
    return new WorkingHours(intervals.map((i) => `${hhmm(i.from)}-${hhmm(i.to)}`).join(','), intervals, calendar);
  }

  /** Whether the instant falls inside working hours of a working day. */
  isWorkingTime(at: Date): boolean {
    const local = at.getTime() + CHINA_OFFSET_MS;
    const date = new Date(local).toISOString().slice(0, 10);
    if (!this.calendar.isWorkingDay(date)) return false;
    const minute = Math.floor((((local % DAY_MS) + DAY_MS) % DAY_MS) / 60_000);
    return this.intervals.some((i) => minute >= i.from && minute < i.to);
  }

  /** Whether the whole UTC hour starting at `hour` lies inside working hours (the hours a volume baseline is made of). */
  isWholeWorkingHour(hour: Date): boolean {
    const local = hour.getTime() + CHINA_OFFSET_MS;
    const date = new Date(local).toISOString().slice(0, 10);
    if (!this.calendar.isWorkingDay(date)) return false;
    const minute = Math.floor((((local % DAY_MS) + DAY_MS) % DAY_MS) / 60_000);
    return this.intervals.some((i) => minute >= i.from && minute + 60 <= i.to);
  }

  isWorkingDay(date: string): boolean {
    return this.calendar.isWorkingDay(date);
  }
}

function hhmm(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

export { chinaDate };
