import { describe, expect, it } from 'vitest';
import { chinaDate } from '../../core/china-date.js';
import { recentDays } from './dates.js';

/** What the server makes of a bare date: its first moment in China time. */
const startOf = (date: string): number => Date.parse(`${date}T00:00:00+08:00`);

describe('console dates', () => {
  it('gives the China calendar date, which is a day ahead of UTC from 16:00 UTC', () => {
    expect(chinaDate(new Date('2026-12-07T15:59:59Z'))).toBe('2026-12-07');
    expect(chinaDate(new Date('2026-12-07T16:00:00Z'))).toBe('2026-12-08');
  });

  it('ends the default range after now and starts it seven China days back, at every hour of the day', () => {
    for (let hour = 0; hour < 24; hour++) {
      const now = Date.parse(`2026-12-07T${String(hour).padStart(2, '0')}:17:00Z`);
      const { from, to } = recentDays(now);
      expect(startOf(to), `to at ${hour}:17 UTC`).toBeGreaterThan(now);
      expect(startOf(to) - now, `to at ${hour}:17 UTC`).toBeLessThanOrEqual(86_400_000);
      expect(now - startOf(from), `from at ${hour}:17 UTC`).toBeGreaterThanOrEqual(7 * 86_400_000);
      expect(now - startOf(from), `from at ${hour}:17 UTC`).toBeLessThan(8 * 86_400_000);
    }
  });
});
