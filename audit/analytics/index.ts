// Analytics of the access log (效能分析) and anomaly flags: the projection fed by access.recorded events (consumer
// group zhengtong.audit-analytics), the report, the anomaly rules, and the service the gateway serves them with.
// docs/audit-analytics.md is the reference.
export { AnalyticsProjection, type ApplyReport, type ProjectionOptions, type PruneReport } from './projection.js';
export { AnalyticsConsumer, AUDIT_ANALYTICS_GROUP, recordOfEvent, type AnalyticsConsumerOptions, type AnalyticsConsumerStats } from './consumer.js';
export {
  analyticsReport,
  demandReplies,
  REPORT_MAX_ROWS,
  type AccessFigures,
  type AnalyticsReport,
  type AnalyticsReportQuery,
  type DemandReplyFigures,
  type ReportDimension,
  type ReportRow,
  type Spread,
} from './report.js';
export {
  ANOMALY_KINDS,
  anomalySettings,
  DEFAULT_SPIKE,
  detectAnomalies,
  type AnomalyFlag,
  type AnomalyKind,
  type AnomalyQuery,
  type AnomalyReport,
  type AnomalySettings,
  type SpikeSettings,
} from './anomalies.js';
export { anomalySettingsFromConfig, readAnalyticsRange, readAnomalyQuery, readReportQuery, type AnalyticsRange } from './query.js';
export { bucketLowerMs, bucketUpperMs, histogramQuantile, LATENCY_BUCKETS, latencyBucket } from './histogram.js';
export { DEFAULT_WORKING_HOURS, WorkingHours } from './working-hours.js';
export { AuditAnalytics, openAuditAnalytics, startAnalyticsConsumer, type AuditAnalyticsOptions, type StartAnalyticsOptions } from './service.js';
