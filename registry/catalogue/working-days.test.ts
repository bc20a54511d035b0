import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../core/paths.js';
import { addCalendarDays, chinaDate, CHINA_CALENDAR_FILE, isIsoDate, loadWorkingCalendar, parseHolidayCalendar, weekday } from './working-days.js';

const calendar = loadWorkingCalendar();

describe('China working-day calendar 2025–2026 (State Council schedules)', () => {
  it('knows the public holidays, including those on weekdays', () => {
    for (const day of ['2025-01-01', '2025-01-28', '2025-02-04', '2025-04-04', '2025-05-05', '2025-06-02', '2025-10-08', '2026-01-02', '2026-02-23', '2026-04-06', '2026-05-05', '2026-06-19', '2026-09-25', '2026-10-07']) {
      expect(calendar.isWorkingDay(day), day).toBe(false);
    }
  });

  it('knows the make-up working days (调休) on weekends', () => {
    for (const day of ['2025-01-26', '2025-02-08', '2025-04-27', '2025-09-28', '2025-10-11', '2026-01-04', '2026-02-14', '2026-02-28', '2026-05-09', '2026-09-20', '2026-10-10']) {
      expect([0, 6]).toContain(weekday(day));
      expect(calendar.isWorkingDay(day), day).toBe(true);
    }
  });

  it('treats ordinary weekdays as working days and ordinary weekends as days off', () => {
    expect(calendar.isWorkingDay('2025-03-12')).toBe(true); // a Wednesday
    expect(calendar.isWorkingDay('2025-03-15')).toBe(false); // a Saturday
    expect(calendar.isWorkingDay('2026-07-05')).toBe(false); // a Sunday
  });

  it('has the published number of days off for each holiday', () => {
    const file = JSON.parse(readFileSync(join(packageRoot(), CHINA_CALENDAR_FILE), 'utf8')) as { years: Record<string, { holidays: Record<string, string[]> }> };
    const lengths = (year: string) => Object.values(file.years[year]!.holidays).map((d) => d.length);
    expect(lengths('2025')).toEqual([1, 8, 3, 5, 3, 8]);
    expect(lengths('2026')).toEqual([3, 9, 3, 5, 3, 3, 7]);
  });

  it('counts a reply deadline across the 2025 National Day week and its make-up days', () => {
    // Friday 26 Sep: Sun 28 Sep is a working day (1), 29 (2), 30 (3), 1–8 Oct off, Thu 9 (4), Fri 10 (5).
    expect(calendar.addWorkingDays('2025-09-26', 5)).toBe('2025-10-10');
    // Sat 11 Oct is a make-up working day too.
    expect(calendar.addWorkingDays('2025-10-09', 2)).toBe('2025-10-11');
  });

  it('counts across the 2026 Spring Festival (nine days off, Saturday make-up days on both sides)', () => {
    // Fri 13 Feb: Sat 14 (1), 15–23 off, Tue 24 (2), 25 (3), 26 (4), Fri 27 (5).
    expect(calendar.addWorkingDays('2026-02-13', 5)).toBe('2026-02-27');
    // Sat 28 Feb is a working day, so the sixth is on that Saturday.
    expect(calendar.addWorkingDays('2026-02-13', 6)).toBe('2026-02-28');
  });

  it('counts across the 2025 Spring Festival and New Year', () => {
    // Fri 24 Jan 2025: Sun 26 (1), Mon 27 (2), 28 Jan–4 Feb off, Wed 5 (3), Thu 6 (4), Fri 7 (5).
    expect(calendar.addWorkingDays('2025-01-24', 5)).toBe('2025-02-07');
    // 31 Dec 2025 → 1–3 Jan 2026 off, Sun 4 Jan 2026 is a working day.
    expect(calendar.addWorkingDays('2025-12-31', 1)).toBe('2026-01-04');
  });

  it('starts counting on the next day even when registered on a holiday', () => {
    expect(calendar.addWorkingDays('2025-05-01', 1)).toBe('2025-05-06');
    expect(calendar.addWorkingDays('2025-05-03', 0)).toBe('2025-05-03');
  });

  it('counts working days between two dates', () => {
    expect(calendar.workingDaysBetween('2025-09-26', '2025-10-10')).toBe(5);
    expect(calendar.workingDaysBetween('2025-10-10', '2025-09-26')).toBe(0);
  });

  it('falls back to weekdays outside the years it covers, and says so', () => {
    expect(calendar.covers('2026-12-31')).toBe(true);
    expect(calendar.covers('2027-01-01')).toBe(false);
    expect(calendar.addWorkingDays('2027-01-01', 1)).toBe('2027-01-04'); // Friday → Monday
  });

  it('rejects a schedule with a weekday make-up day, a day both off and on, or a date in the wrong year', () => {
    const year = (holidays: Record<string, string[]>, workdays: Record<string, string[]>) => ({ years: { '2025': { notice: 'x', holidays, workdays } } });
    expect(() => parseHolidayCalendar(year({}, { x: ['2025-03-12'] }))).toThrow(/not a weekend day/);
    expect(() => parseHolidayCalendar(year({ a: ['2025-01-26'] }, { b: ['2025-01-26'] }))).toThrow(/both as holiday and as working day/);
    expect(() => parseHolidayCalendar(year({ a: ['2026-01-01'] }, {}))).toThrow(/not a date in 2025/);
    expect(() => parseHolidayCalendar(year({ a: ['2025-02-30'] }, {}))).toThrow(/not a date/);
    expect(() => parseHolidayCalendar({})).toThrow(/"years"/);
  });
});

describe('dates', () => {
  it('takes the calendar date in China (UTC+8)', () => {
    expect(chinaDate(new Date('2025-09-30T15:59:59Z'))).toBe('2025-09-30');
    expect(chinaDate(new Date('2025-09-30T16:00:00Z'))).toBe('2025-10-01');
  });

  it('checks and adds calendar dates', () => {
    expect(isIsoDate('2024-02-29')).toBe(true);
    expect(isIsoDate('2025-02-29')).toBe(false);
    expect(isIsoDate('2025-1-01')).toBe(false);
    expect(addCalendarDays('2025-12-31', 1)).toBe('2026-01-01');
    expect(addCalendarDays('2025-03-01', -1)).toBe('2025-02-28');
  });
});
