// Calendar dates as the audit API reads them: a bare date (2026-12-08) is a China date (Asia/Shanghai, UTC+8 all
// year) meaning its first moment, 00:00 +08:00. The browser's own zone plays no part.

const CHINA_OFFSET_MS = 8 * 3600_000;
const DAY_MS = 86_400_000;

/** The China calendar date of an instant, YYYY-MM-DD. */
export function chinaDate(at: number): string {
  return new Date(at + CHINA_OFFSET_MS).toISOString().slice(0, 10);
}

/**
 * The default [from, to) of the anomaly and analytics pages: the last seven China days and all of today. `to` is the
 * China date after today, so the range runs until today's end in China whatever the hour is in UTC.
 */
export function recentDays(now: number, days = 7): { from: string; to: string } {
  return { from: chinaDate(now - days * DAY_MS), to: chinaDate(now + DAY_MS) };
}
