// The parameters of an analytics report or an anomaly query, checked before any SQL is built: a time range (from, to;
// ISO 8601 instants or China dates) no longer than ZT_AUDIT_MAX_RANGE_DAYS, and the report's dimension. Bad values
// are refused with ZT_ERR_AUDIT_QUERY_INVALID naming the parameter.
import type { Config } from '../../core/config/index.js';
import { instant, invalidParameter, refuseUnknown, single, type RawParameters } from '../search/query.js';
import { anomalySettings, type AnomalySettings } from './anomalies.js';
import type { ReportDimension } from './report.js';
import { WorkingHours } from './working-hours.js';

const DAY_MS = 86_400_000;

export interface AnalyticsRange {
  from: Date;
  to: Date;
}

export interface RangeOptions {
  maxRangeDays: number;
  /** Length of the range when `from` is absent. */
  defaultDays: number;
  now?: Date;
}

/** [from, to): `to` defaults to now, `from` to `defaultDays` before `to`. */
export function readAnalyticsRange(raw: RawParameters, options: RangeOptions): AnalyticsRange {
  const to = instant(raw, 'to') ?? options.now ?? new Date();
  const from = instant(raw, 'from') ?? new Date(to.getTime() - options.defaultDays * DAY_MS);
  if (from.getTime() >= to.getTime()) throw invalidParameter('from', 'must be before to');
  if (to.getTime() - from.getTime() > options.maxRangeDays * DAY_MS) {
    throw invalidParameter('to', `the range covers more than ${options.maxRangeDays} days (ZT_AUDIT_MAX_RANGE_DAYS); narrow it`);
  }
  return { from, to };
}

export function readDimension(raw: RawParameters): ReportDimension {
  const by = single(raw, 'by') ?? 'department';
  if (by !== 'department' && by !== 'resource') throw invalidParameter('by', 'must be department or resource');
  return by;
}

export const REPORT_PARAMETERS = ['from', 'to', 'by', 'requester'] as const;
export const ANOMALY_PARAMETERS = ['from', 'to', 'requester'] as const;

export function readReportQuery(raw: RawParameters, options: RangeOptions): AnalyticsRange & { by: ReportDimension } {
  refuseUnknown(raw, REPORT_PARAMETERS);
  return { ...readAnalyticsRange(raw, options), by: readDimension(raw) };
}

export function readAnomalyQuery(raw: RawParameters, options: RangeOptions): AnalyticsRange {
  refuseUnknown(raw, ANOMALY_PARAMETERS);
  return readAnalyticsRange(raw, options);
}

/** The anomaly rules' settings from the configuration (ZT_AUDIT_*); the working hours are parsed here, once. */
export function anomalySettingsFromConfig(config: Config, workingHours: WorkingHours = WorkingHours.parse(config.auditWorkingHours)): AnomalySettings {
  return anomalySettings(workingHours, {
    operatorSubjectsPerDay: config.auditOperatorSubjectsPerDay,
    caseNumberPattern: config.auditCaseNumberPattern ?? null,
    spike: { minRequests: config.auditSpikeMinRequests, ratio: config.auditSpikeRatio, sigmas: config.auditSpikeSigmas },
  });
}
