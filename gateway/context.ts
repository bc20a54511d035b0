import type { Config } from '../core/config/index.js';
import type { EventBus } from '../core/events/index.js';
import type { Logger } from '../core/logging/index.js';
import type { Metrics } from '../core/metrics/index.js';
import type { OutboxRelay } from '../core/outbox/index.js';
import type { BlindIndex } from '../core/pseudonyms/index.js';
import type { Database } from '../core/storage/index.js';
import type { PlatformCa } from '../certs/ca/index.js';
import type { TrustStore } from '../certs/trust/index.js';
import type { PolicyHolder } from './policy.js';
import type { AccessLogWriter, AuditAccessGuard } from '../audit/index.js';
import type { AccessLogSearch } from '../audit/search/index.js';
import type { AuditAnalytics } from '../audit/analytics/index.js';
import type { AuditLogService } from '../audit/log/service.js';
import type { ExchangeService } from '../exchange/exchange-service.js';
import type { GrantIndex } from '../exchange/grants.js';
import type { CatalogueService, DemandService } from '../registry/catalogue/index.js';
import type { DepartmentService } from '../registry/departments/index.js';
import type { LicenceReads, LicenceRegistry, LicenceVerifier } from '../licences/index.js';
import type { IntakeService } from '../intake/index.js';
import type { RoleRegistry } from '../registry/roles/index.js';
import type { AccessEnforcer } from './access.js';
import type { ConsoleActionLog } from '../console/index.js';
import type { ConsoleAccounts, ConsoleSessions, OidcSignIn } from '../console/accounts/index.js';

/** What the servers are handed: built once by buildApp(), never rebuilt during a request. */
export interface AppContext {
  readonly config: Config;
  readonly logger: Logger;
  readonly db: Database;
  readonly bus: EventBus;
  readonly metrics: Metrics;
  readonly relay: OutboxRelay;
  readonly departments: DepartmentService;
  /** Roles in force (administrator, supervisor, portal), from the registry, in memory. */
  readonly roles: RoleRegistry;
  /** The enforcement of every route's and method's access class (gateway/access.ts). */
  readonly access: AccessEnforcer;
  /** Every console action, with the person and the department (console/api). */
  readonly consoleActions: ConsoleActionLog;
  /** The console's people (local accounts; OIDC people get one at first sign-in). */
  readonly consoleAccounts: ConsoleAccounts;
  /** Console sessions: sign-in, lockout, timeouts, CSRF; the gateway's PersonAuthenticator. */
  readonly consoleSessions: ConsoleSessions;
  /** Sign-in at the city's identity provider; null when ZT_OIDC_ISSUER is unset. */
  readonly oidc: OidcSignIn | null;
  /** The data catalogue's supply list (供给清单). */
  readonly catalogue: CatalogueService;
  /** Demand lists (需求清单) and the application–reply procedure. */
  readonly demands: DemandService;
  /** The platform CA, when ZT_CA_DIR holds one (zhengtong ca init); null otherwise. */
  readonly ca: PlatformCa | null;
  /** Validates signers' certificates against the platform CA; null without a CA. */
  readonly trust: TrustStore | null;
  /** The negative-list engine in force (set once the catalogue is loaded at start). */
  readonly policy: { readonly current: PolicyHolder | null };
  /** The real-time exchange (docs/exchange-protocol.md). */
  readonly exchange: ExchangeService;
  /** Grants in force (granted and approved demands), in memory. */
  readonly grants: GrantIndex;
  /** Access records, group-committed. */
  readonly accessLog: AccessLogWriter;
  /** The blind index subject identifiers are stored as outside the source records (core/pseudonyms). */
  readonly pseudonyms: BlindIndex;
  /** Who may read the access log: signed requests from supervisors, or portals for one subject's view. */
  readonly auditGuard: AuditAccessGuard;
  /** Search, export and trace of the access log, the subject's view, covert-case flags (audit/search). */
  readonly auditSearch: AccessLogSearch;
  /** Analytics and anomaly flags of the access log, and this instance's analytics consumer (audit/analytics). */
  readonly auditAnalytics: AuditAnalytics;
  /** The tamper-evident log: sequencer, checkpoints, proofs (audit/log, docs/audit-log.md). */
  readonly auditLog: AuditLogService;
  /** The e-licence registry (电子证照库). */
  readonly licences: LicenceRegistry;
  /** Licence verification, anonymous or by a department. */
  readonly licenceVerifier: LicenceVerifier;
  /** Licence lookups by departments, for a case, recorded (reads of personal data). */
  readonly licenceReads: LicenceReads;
  /** Application intake (受理): service items, preview, prefill, the submission check. */
  readonly intake: IntakeService;
  readonly version: string;
  readonly startedAt: Date;
  /** Set when a graceful shutdown begins: readiness fails and new requests get ZT_ERR_SHUTTING_DOWN. */
  readonly lifecycle: { closing: boolean };
}

export interface Readiness {
  /** The instance can serve: not closing, and its database answers. */
  ready: boolean;
  /** Ready, but the event bus is down: events wait in the outbox, and other instances hear of changes late. */
  degraded: boolean;
  checks: {
    database: { status: 'up' | 'down'; kind: string; error?: string };
    eventBus: { status: 'up' | 'down'; kind: string; error?: string; outboxWaiting?: number };
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * How long readiness waits for the event bus. Its state makes an instance degraded, never unready, so a load
 * balancer's check (often given 1 s) is answered quickly while the broker is away; a loopback broker answers in
 * milliseconds.
 */
const BUS_CHECK_MS = 500;

/**
 * Checks the database and the event bus, and records the result in the health gauges. An instance whose database
 * answers is ready: every change and every access record is committed with its event in the outbox, so while the
 * bus is down the exchange keeps answering and nothing is lost; readiness then says "degraded", with the events
 * waiting. Without its database an instance can serve nothing (no record, no data) and is not ready.
 */
export async function checkReadiness(ctx: AppContext): Promise<Readiness> {
  const [db, bus] = await Promise.allSettled([withTimeout(ctx.db.ping(), 2000, 'the database'), withTimeout(ctx.bus.ping(), BUS_CHECK_MS, 'the event bus')]);
  ctx.metrics.databaseUp.set(db.status === 'fulfilled' ? 1 : 0);
  ctx.metrics.eventBusUp.set(bus.status === 'fulfilled' ? 1 : 0);
  const describe = (r: PromiseSettledResult<void>, kind: string) =>
    r.status === 'fulfilled' ? { status: 'up' as const, kind } : { status: 'down' as const, kind, error: (r.reason as Error).message };
  const eventBus: Readiness['checks']['eventBus'] = describe(bus, ctx.bus.kind);
  if (bus.status === 'rejected' && db.status === 'fulfilled') {
    const waiting = await withTimeout(ctx.db.query<{ n: string }>('SELECT count(*)::text AS n FROM zt_outbox'), 2000, 'the outbox count').catch(() => null);
    if (waiting) eventBus.outboxWaiting = Number(waiting.rows[0]?.n ?? 0);
  }
  const ready = !ctx.lifecycle.closing && db.status === 'fulfilled';
  return { ready, degraded: ready && bus.status === 'rejected', checks: { database: describe(db, ctx.db.kind), eventBus } };
}
