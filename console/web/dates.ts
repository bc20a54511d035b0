// Calendar dates as the audit API reads them: a bare date (2026-12-08) is a China date (Asia/Shanghai, UTC+8 all
// year) meaning its first moment, 00:00 +08:00. The browser's own zone plays no part.

import { chinaDate } from '../../core/china-date.js';

const DAY_MS = 86_400_000;

/**
 * The default [from, to) of the anomaly and analytics pages: the last seven China days and all of today. `to` is the
 * China date after today, so the range runs until today's end in China whatever the hour is in UTC.
 */
export function recentDays(now: number, days = 7): { from: string; to: string } {
  return { from: chinaDate(new Date(now - days * DAY_MS)), to: chinaDate(new Date(now + DAY_MS)) };
}
