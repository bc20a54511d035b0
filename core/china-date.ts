// China calendar dates (Asia/Shanghai: UTC+8 all year, no daylight saving). Licence validity, grants, quotas, working
// days and the audit API's bare dates are all China dates. Pure: the console's page imports it too.

export const CHINA_OFFSET_MS = 8 * 3_600_000;

/** The China calendar date of an instant, YYYY-MM-DD. */
export function chinaDate(at: Date): string {
  return new Date(at.getTime() + CHINA_OFFSET_MS).toISOString().slice(0, 10);
}
