// The analytics as the gateway serves them: signed requests from supervisors, checked parameters, the report and
// the anomaly flags; and, with ZT_AUDIT_ANALYTICS=inline, this instance's member of the analytics consumer group.
import type { PersonCall } from '../../transport/person.js';
import type { Config } from '../../core/config/index.js';
import type { EventBus } from '../../core/events/index.js';
import type { Logger } from '../../core/logging/index.js';
import type { BlindIndex } from '../../core/pseudonyms/index.js';
import type { Database } from '../../core/storage/index.js';
import type { SignedCall } from '../../exchange/signed-request.js';
import { invalidParameter, uscc, type RawParameters } from '../search/query.js';
import type { AuditAccessGuard } from '../supervision/access-guard.js';
import { detectAnomalies, type AnomalyReport, type AnomalySettings } from './anomalies.js';
import { AnalyticsConsumer } from './consumer.js';
import { AnalyticsProjection } from './projection.js';
import { anomalySettingsFromConfig, readAnomalyQuery, readReportQuery } from './query.js';
import { analyticsReport, type AnalyticsReport } from './report.js';
import { WorkingHours } from './working-hours.js';

export interface AuditAnalyticsOptions {
  db: Database;
  guard: AuditAccessGuard;
  settings: AnomalySettings;
  /** ZT_AUDIT_MAX_RANGE_DAYS. */
  maxRangeDays: number;
  /** The business clock (default ranges end now). */
  now?: () => Date;
  consumer?: AnalyticsConsumer | null;
}

export class AuditAnalytics {
  readonly #o: AuditAnalyticsOptions;
  readonly consumer: AnalyticsConsumer | null;

  constructor(options: AuditAnalyticsOptions) {
    this.#o = options;
    this.consumer = options.consumer ?? null;
  }

  get settings(): AnomalySettings {
    return this.#o.settings;
  }

  async #authorise(raw: RawParameters, call: SignedCall | PersonCall): Promise<void> {
    const requester = uscc(raw, 'requester');
    if (requester === undefined) throw invalidParameter('requester', 'is required: the USCC of the signing department');
    await this.#o.guard.authorise(call, requester, 'supervisor');
  }

  #now(): Date {
    return this.#o.now?.() ?? new Date();
  }

  /** GET /v1/audit/analytics, AuditAnalyticsService/Report. */
  async report(raw: RawParameters, call: SignedCall | PersonCall): Promise<AnalyticsReport> {
    await this.#authorise(raw, call);
    const now = this.#now();
    const q = readReportQuery(raw, { maxRangeDays: this.#o.maxRangeDays, defaultDays: 7, now });
    return analyticsReport(this.#o.db, { ...q, now, calendar: this.#o.settings.workingHours.calendar });
  }

  /** GET /v1/audit/anomalies, AuditAnalyticsService/Anomalies. */
  async anomalies(raw: RawParameters, call: SignedCall | PersonCall): Promise<AnomalyReport> {
    await this.#authorise(raw, call);
    const q = readAnomalyQuery(raw, { maxRangeDays: this.#o.maxRangeDays, defaultDays: 1, now: this.#now() });
    return detectAnomalies(this.#o.db, { ...q, settings: this.#o.settings });
  }

  /** Leaves the consumer group (if this instance is a member). */
  async close(): Promise<void> {
    await this.consumer?.close();
  }
}

export interface StartAnalyticsOptions {
  config: Config;
  db: Database;
  bus: EventBus;
  logger: Logger;
  /** Join the consumer group (ZT_AUDIT_ANALYTICS=inline, or `audit consume`). */
  consume: boolean;
  pruneIntervalMs?: number;
  /** Indexes the subject of events written before identifiers were pseudonymised (see ProjectionOptions). */
  pseudonyms?: BlindIndex;
}

/** The projection and, when asked, this process's member of the consumer group. Settings are parsed here, once. */
export async function startAnalyticsConsumer(options: StartAnalyticsOptions): Promise<{ projection: AnalyticsProjection; consumer: AnalyticsConsumer | null; workingHours: WorkingHours }> {
  const workingHours = WorkingHours.parse(options.config.auditWorkingHours);
  const projection = new AnalyticsProjection(options.db, {
    workingHours,
    retentionDays: options.config.auditAnalyticsRetentionDays,
    ...(options.pseudonyms ? { pseudonyms: options.pseudonyms } : {}),
  });
  const consumer = options.consume
    ? await AnalyticsConsumer.start({
        bus: options.bus,
        projection,
        logger: options.logger,
        ...(options.pruneIntervalMs !== undefined ? { pruneIntervalMs: options.pruneIntervalMs } : {}),
      })
    : null;
  if (consumer && options.bus.kind === 'memory') {
    // Events on the in-process bus do not outlive the process: records committed before a crash are applied from
    // the log itself (Kafka keeps them, and the group's position says where to resume).
    projection
      .catchUp()
      .then((n) => (n > 0 ? options.logger.info({ applied: n }, 'analytics caught up with access records the event bus had lost') : undefined))
      .catch((error: unknown) => options.logger.warn({ err: error }, 'catching the analytics up with the access log failed; figures may miss records until the next start'));
  }
  return { projection, consumer, workingHours };
}

/** What buildApp wires: the service, with this instance consuming when ZT_AUDIT_ANALYTICS=inline. */
export async function openAuditAnalytics(options: Omit<StartAnalyticsOptions, 'consume'> & { guard: AuditAccessGuard; now?: () => Date }): Promise<AuditAnalytics> {
  const { consumer, workingHours } = await startAnalyticsConsumer({ ...options, consume: options.config.auditAnalytics === 'inline' });
  return new AuditAnalytics({
    db: options.db,
    guard: options.guard,
    settings: anomalySettingsFromConfig(options.config, workingHours),
    maxRangeDays: options.config.auditMaxRangeDays,
    consumer,
    ...(options.now ? { now: options.now } : {}),
  });
}
