// The one place where zhengtong is wired together from its configuration. `serve`, `migrate`, `seed` and the
// tests all build the application here, with different settings.
import { format } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import type { FastifyInstance } from 'fastify';
import { settings, type Config } from '../core/config/index.js';
import { ZtError } from '../core/errors/index.js';
import { openEventBus, type EventBus } from '../core/events/index.js';
import { createLogger, type Logger } from '../core/logging/index.js';
import { Metrics } from '../core/metrics/index.js';
import { enqueueEvent, OutboxRelay } from '../core/outbox/index.js';
import { packageVersion } from '../core/paths.js';
import { migrate, openDatabase, type Database, type MigrationReport } from '../core/storage/index.js';
import { openPseudonyms, pseudonymSettings } from '../core/pseudonyms/index.js';
import { pseudonymiseStoredIdentifiers } from '../audit/pseudonymisation.js';
import { CATALOGUE_EVENTS_TOPIC, CatalogueService, DemandService, SignedTransitionAuthenticator, SqlDemandStore, SqlResourceStore } from '../registry/catalogue/index.js';
import { DEPARTMENT_EVENTS_TOPIC, DepartmentService, SqlDepartmentStore } from '../registry/departments/index.js';
import { demoSeeded, DemoSigners, ensureDemoCa, seedDemoData, type SeedReport } from '../demo/index.js';
import { loadPlatformCa, PlatformCa, platformCaExists, reviewCaDirectory } from '../certs/ca/index.js';
import { REVOCATION_TOPIC, TrustStore } from '../certs/trust/index.js';
import type { AppContext } from './context.js';
import { PolicyHolder, policyReloadedEvent, type PolicyHolderOptions } from './policy.js';
import { AccessLogSearch } from '../audit/search/index.js';
import { AuditLogService } from '../audit/log/service.js';
import { openAuditAnalytics } from '../audit/analytics/index.js';
import { defaultPolicyDirectory } from '../policies/index.js';
import { createGrpcServer, type GrpcServer } from './grpc/server.js';
import { ACCESS_RECORD_TOPIC, AccessLogWriter, AuditAccessGuard, newAccessRecordId } from '../audit/index.js';
import { ConnectorRegistry } from '../exchange/connectors/registry.js';
import { ExchangeService } from '../exchange/exchange-service.js';
import { seedDemoDatasets } from '../exchange/extracts/index.js';
import { GrantIndex } from '../exchange/grants.js';
import { GrantUsage } from '../exchange/grant-usage.js';
import { NonceStore } from '../exchange/nonce-store.js';
import { SignedRequestVerifier } from '../exchange/signed-request.js';
import { openPlatformSigner, type PlatformSigner } from '../exchange/platform-signer.js';
import { createHttpServer } from './http/server.js';
import { RateLimiter } from '../core/rate-limit.js';
import { LICENCE_EVENTS_TOPIC, LicenceReads, LicenceRegistry, LicenceVerifier, SqlLicenceStore } from '../licences/index.js';
import { IntakeService, loadShippedServiceItems } from '../intake/index.js';
import { RoleRegistry } from '../registry/roles/index.js';
import { AccessEnforcer } from './access.js';
import { ConsoleActionLog } from '../console/index.js';
import { ConsoleAccounts, ConsoleSessions, OidcSignIn, parseOidcDepartments, seedDemoAccounts, DEMO_ACCOUNTS_FILE_NAME, type DemoAccountsReport } from '../console/accounts/index.js';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { defaultVerifyThreads, Sm2VerifyPool } from '../certs/sm2/verify-pool.js';

/** Topics the application publishes to; created at start when the bus needs it. */
export const TOPICS = [DEPARTMENT_EVENTS_TOPIC, CATALOGUE_EVENTS_TOPIC, REVOCATION_TOPIC, ACCESS_RECORD_TOPIC, LICENCE_EVENTS_TOPIC] as const;

/**
 * The shipped list (policies/default) names the demo catalogue's resources; on a catalogue without them it cannot
 * compile, and the exchange starts with an empty list (everything shared as the catalogue classes say) and a warning.
 * A list the operator chose (ZT_POLICY_DIR) that does not compile stops start-up instead.
 */
async function loadPolicies(config: Config, catalogue: CatalogueService, logger: Logger, options: PolicyHolderOptions = {}): Promise<PolicyHolder> {
  try {
    return await PolicyHolder.load(config.policyDir, catalogue, logger, options);
  } catch (error) {
    if (config.policyDir !== defaultPolicyDirectory() || (error as ZtError).code !== 'ZT_ERR_POLICY_INVALID') throw error;
    logger.warn({ err: error }, 'the shipped demo negative list does not fit this catalogue; starting with an empty list (set ZT_POLICY_DIR)');
    return PolicyHolder.empty(catalogue, logger, '', options);
  }
}

/** How often each instance looks for demands whose access period has ended. */
const HOUSEKEEPING_INTERVAL_MS = 3600_000;

export interface BuildOptions {
  logger?: Logger;
  /** Seed demo data when the database has never been seeded (serve does; tests choose). */
  seedDemo?: boolean;
  /** With seedDemo: add whatever demo data is missing even if the database was seeded before (zhengtong seed --force). */
  forceSeed?: boolean;
  /**
   * Business time of exchange requests and licence checks (milliseconds since 1970): what access records are stamped
   * with and what grants and licences are valid at. Default Date.now; the simulated-day scenario runs a day in
   * minutes with it. Signature windows, certificates and nonces always use the real time.
   */
  clock?: () => number;
}

export interface App {
  readonly ctx: AppContext;
  readonly migrations: MigrationReport;
  readonly seed: SeedReport | null;
  /** The demo's console accounts and how to sign in as each, when the demo was seeded. */
  readonly consoleDemo: DemoAccountsReport | null;
  readonly http: FastifyInstance;
  readonly grpc: GrpcServer;
  /** Binds the HTTP and gRPC ports and starts background work; returns where it listens. */
  listen(): Promise<{ httpUrl: string; grpcAddress: string }>;
  /**
   * Loads the platform's signing key for the exchange's answers, enrolling one with the CA if there is none, now
   * rather than at the first exchange (which otherwise waits for it, about 0.2 s). Nothing to do without a CA.
   */
  prepareSigner(): Promise<void>;
  /** Graceful shutdown: stop accepting, drain requests, publish the outbox, flush events, close the database. */
  close(): Promise<void>;
}

/** Opens storage and the event bus, applies migrations and builds the servers (ports are bound by listen()). */
export async function buildApp(config: Config, options: BuildOptions = {}): Promise<App> {
  const logger = options.logger ?? createLogger({ level: config.logLevel, instanceId: config.instanceId! });
  // grpc-js prints its own diagnostics bare on stderr (e.g. "E No address added out of total 1 resolved" next to the
  // ZT_ERR_PORT_IN_USE line); they belong in the structured log, so stderr keeps the CLI's one-line messages.
  const grpcLog = logger.child({ component: 'grpc-js' });
  grpc.setLogger({
    error: (...args: unknown[]) => grpcLog.error(format(...args)),
    info: (...args: unknown[]) => grpcLog.info(format(...args)),
    debug: (...args: unknown[]) => grpcLog.debug(format(...args)),
  });
  let db: Database | undefined;
  let bus: EventBus | undefined;
  let verifyPool: Sm2VerifyPool | undefined;
  try {
    db = await openDatabase(config, logger);
    const migrations = await migrate(db);
    if (migrations.applied.length > 0) {
      logger.info({ applied: migrations.applied.map((m) => `${m.version}_${m.name}`), version: migrations.version }, 'database migrated');
    }
    // Subject identifiers are stored as their blind index outside the source records; the keys are checked against
    // the database (an instance with another key file is refused here).
    const pseudonyms = await openPseudonyms(db, pseudonymSettings(config));
    bus = await openEventBus(config, logger);
    await bus.ensureTopics(TOPICS);

    // On PGlite every relay pass and the analytics it feeds run on the event loop: fewer, larger passes there.
    const relay = new OutboxRelay({ db, bus, logger: logger.child({ component: 'outbox' }), minGapMs: db.kind === 'pglite' ? 200 : 50 });
    const eventBus = bus;
    const metrics = new Metrics(
      { instance: config.instanceId!, database: db.kind, eventBus: bus.kind },
      { eventBusPending: () => eventBus.pending(), outboxBacklog: () => relay.backlog, outboxPublished: () => relay.published },
    );
    // The demo's steps are signed by its departments, so a first demo start without a CA gets a demo CA. Only on a
    // database never seeded: another instance sharing it must use the CA the seed was signed under (ZT_CA_DIR).
    if (options.seedDemo && !(await demoSeeded(db)) && (await ensureDemoCa(config.caDir, config.publicUrl))) {
      logger.warn({ caDir: config.caDir }, 'created a demo platform CA for the demo departments; for evaluation only (zhengtong ca init makes a real one)');
    }
    const departments = new DepartmentService(db, new SqlDepartmentStore(db), () => relay.nudge());
    // Roles live in the registry; configuration only starts it: the platform operator becomes the first
    // administrator, and the older supervisor and portal lists are granted once each, with a warning.
    const roles = new RoleRegistry({ db, departments, onOutboxWrite: () => relay.nudge(), logger: logger.child({ component: 'roles' }) });
    const bootstrapped = await roles.bootstrap({ administrator: config.platformUscc, supervisors: config.auditSupervisors, portals: config.auditPortals });
    if (bootstrapped.length > 0) logger.info({ roles: bootstrapped }, 'roles bootstrapped from configuration');
    // Only lists an operator set are worth a warning; the demo's defaults are what a first `npm start` runs on.
    const setByOperator = (value: readonly string[], byDefault: readonly string[]): boolean => value.join(',') !== byDefault.join(',');
    if (setByOperator(config.auditSupervisors, settings.auditSupervisors.default) || setByOperator(config.auditPortals, settings.auditPortals.default)) {
      logger.warn('ZT_AUDIT_SUPERVISORS and ZT_AUDIT_PORTALS are deprecated: they only bootstrap roles once; grant and withdraw roles with zhengtong role grant|withdraw (docs/access-control.md)');
    }
    await (await roles.listen(bus, config.instanceId!)).ready;
    const resourceStore = new SqlResourceStore(db);
    const catalogue = new CatalogueService(db, resourceStore, departments, { onOutboxWrite: () => relay.nudge() });
    // A refusal citing the negative list must cite an entry of the set in force (loaded below, after the catalogue).
    const policyRef: { current: PolicyHolder | null } = { current: null };
    const ca = platformCaExists(config.caDir)
      ? new PlatformCa({
          db,
          material: loadPlatformCa(config.caDir, config.caPassphrase),
          certificateDays: config.caCertificateDays,
          publicUrl: config.publicUrl,
          onOutboxWrite: () => relay.nudge(),
        })
      : null;
    // A root CA key left in ZT_CA_DIR by an older `ca init`, or a root CRL about to lapse: the operator is told.
    if (ca) for (const warning of await reviewCaDirectory(ca, config.caDir, config.caPassphrase)) logger.warn({ caDir: config.caDir }, warning);
    const trust = ca
      ? new TrustStore({
          trustAnchors: [ca.root],
          intermediates: [ca.issuing],
          crls: async () => [(await ca.crl()).crl, (await ca.rootCrl()).crl],
        })
      : null;
    // Set once the grant index is loaded (below); until then a demand change has nothing to rebuild.
    let grantsChanged: () => Promise<void> = async () => undefined;
    const demands = new DemandService(db, new SqlDemandStore(db), resourceStore, departments, {
      onOutboxWrite: () => relay.nudge(),
      onChanged: () => grantsChanged(),
      replyWorkingDays: config.demandReplyWorkingDays,
      negativeList: { has: async (id: string) => policyRef.current?.engine.has(id) ?? false },
      authenticator: new SignedTransitionAuthenticator({
        validate: async (der) => {
          if (!trust) throw new ZtError('ZT_ERR_CA_NOT_INITIALISED', `no platform CA in ${config.caDir} to check the signature against; run zhengtong ca init and enrol the departments`);
          return trust.validate(der);
        },
        windowMs: config.signatureWindowSeconds * 1000,
      }),
    });
    // Revocations made by any instance (or the CLI) reach every instance's trust cache and CRL. The group reads from
    // the latest offset once assigned, so wait for the assignment: a revocation before it would never be heard here.
    if (ca && trust) await (await trust.listen(bus, config.instanceId!, () => ca.invalidateCrl())).ready;
    // The exchange: grants in memory (rebuilt when a demand changes, in every instance), nonces shared through the
    // database, the platform's signing key opened on first use, access records group-committed.
    const grants = new GrantIndex();
    // One rebuild at a time. A caller arriving while one runs (which may have read before its change) gets the next
    // one, shared by everyone who arrives meanwhile.
    let rebuilding: Promise<void> | null = null;
    let queued: Promise<void> | null = null;
    const reloadGrants = (): Promise<void> => {
      if (queued) return queued;
      if (rebuilding) {
        queued = rebuilding.then(() => {
          queued = null;
          return reloadGrants();
        });
        return queued;
      }
      rebuilding = grants
        .reload(demands)
        .catch((error: unknown) => logger.warn({ err: error }, 'reloading the grants failed; the previous index stays in force'))
        .finally(() => {
          rebuilding = null;
        });
      return rebuilding;
    };
    const businessClock = options.clock;
    // PGlite runs each statement on the event loop at a fixed cost of a millisecond or more: under load, the access
    // log's batches and the table lookups wait up to 2 ms to gather more (an idle gateway still goes at once).
    const lingerMs = db.kind === 'pglite' ? 2 : 0;
    const accessLog = new AccessLogWriter(db, {
      pseudonyms,
      lingerMs,
      instance: config.instanceId!,
      onOutboxWrite: () => relay.nudgeSoon(),
      ...(businessClock ? { now: () => new Date(businessClock()) } : {}),
    });
    const connectors = new ConnectorRegistry(db, catalogue, { pseudonyms, lingerMs });
    let platformSigner: Promise<PlatformSigner> | null = null;
    const signer = (): Promise<PlatformSigner> => {
      if (!ca) return Promise.reject(new ZtError('ZT_ERR_CA_NOT_INITIALISED', 'the exchange signs its answers with a platform certificate; run zhengtong ca init'));
      platformSigner ??= openPlatformSigner(ca, config.platformKeyDir, config.platformUscc, `${ca.issuing.subject.match(/O=([^,]+)/)?.[1] ?? '政务数据共享平台'}（数据共享交换）`, {
        batchIntervalMs: config.batchSignIntervalMs,
        fullBatch: config.batchSignFull,
        logger,
      });
      platformSigner.catch(() => (platformSigner = null));
      return platformSigner;
    };
    const nonces = new NonceStore(db);
    // Request signatures are verified off the event loop, by threads of their own.
    verifyPool = await Sm2VerifyPool.start({ threads: config.verifyThreads || defaultVerifyThreads(availableParallelism(), config.workers, db.kind) });
    const pool = verifyPool;
    const requests = new SignedRequestVerifier({
      trust,
      nonces,
      windowMs: config.signatureWindowSeconds * 1000,
      verifySignature: (publicKey, message, signature) => pool.verify(publicKey, message, signature),
    });
    // Reading the access log takes a signed request from a supervisor, or from a portal for one subject's view; a
    // department that tries without being either is recorded with the queries (audit_queries), then refused.
    const auditGuard: AuditAccessGuard = new AuditAccessGuard({
      requests,
      roles,
      onForbidden: (attempt): Promise<void> =>
        auditSearch.recordForbidden(attempt).catch((error: unknown) => logger.error({ err: error, requester: attempt.requester }, 'a forbidden read of the access log could not be recorded')),
    });
    // Search, export, trace and the subject's view of the log; the business clock decides when covert cases are released.
    const auditSearch: AccessLogSearch = new AccessLogSearch({
      db,
      pseudonyms,
      guard: auditGuard,
      maxRangeDays: config.auditMaxRangeDays,
      exportMaxRows: config.auditExportMaxRows,
      ...(businessClock ? { now: () => new Date(businessClock()) } : {}),
    });
    // Analytics and anomaly flags; with ZT_AUDIT_ANALYTICS=inline this instance joins the consumer group of the
    // access-record topic (zhengtong.audit-analytics), with off it only serves the reports (audit consume feeds them).
    const auditAnalytics = await openAuditAnalytics({
      config,
      db,
      pseudonyms,
      bus,
      guard: auditGuard,
      logger: logger.child({ component: 'audit-analytics' }),
      ...(businessClock ? { now: () => new Date(businessClock()) } : {}),
    });
    const exchange = new ExchangeService({
      requests,
      policy: () => policyRef.current?.engine ?? null,
      grants,
      usage: new GrantUsage(db),
      nonces,
      connectors,
      log: accessLog,
      signer,
      newAccessId: () => newAccessRecordId(businessClock ? new Date(businessClock()) : undefined),
      logger: logger.child({ component: 'exchange' }),
      ...(businessClock ? { clock: businessClock } : {}),
    });
    // The e-licence registry: documents signed with the platform key, lookups cached in every instance and dropped
    // there when any instance changes a licence.
    const signatures = {
      validate: async (der: Buffer) => {
        if (!trust) throw new ZtError('ZT_ERR_CA_NOT_INITIALISED', `no platform CA in ${config.caDir} to check the signature against; run zhengtong ca init and enrol the departments`);
        return trust.validate(der);
      },
      windowMs: config.signatureWindowSeconds * 1000,
    };
    const licences = new LicenceRegistry({
      db,
      store: new SqlLicenceStore(db),
      departments,
      signatures,
      signer: () => signer().then((p) => p.signer),
      typeAuthority: config.platformUscc,
      publicUrl: config.publicUrl,
      onOutboxWrite: () => relay.nudge(),
      cacheSize: config.licenceCacheSize,
    });
    await licences.load();
    metrics.watchLicenceCache(() => licences.cacheStats);
    await (await licences.listen(bus, config.instanceId!)).ready;
    const licenceVerifier = new LicenceVerifier({
      registry: licences,
      requests,
      log: accessLog,
      signer,
      trust,
      limiter: new RateLimiter({ ratePerSecond: config.licenceAnonymousRate }),
      anonymousReuseMs: config.licenceAnswerReuseMs,
      newAccessId: () => newAccessRecordId(businessClock ? new Date(businessClock()) : undefined),
      ...(businessClock ? { clock: () => new Date(businessClock()) } : {}),
    });
    // Application intake: prefill reads through the exchange's and the registry's own paths, for the one signed
    // request verified by the same verifier; its service items are loaded below, once the catalogue is seeded.
    const intake = new IntakeService({
      db,
      exchange,
      licences,
      licenceVerifier,
      requests,
      signer,
      trust,
      ...(businessClock ? { now: () => new Date(businessClock()) } : {}),
    });
    // Migration 0016's data step: rows written before hold identifiers in clear; they get their blind index, and the
    // log is re-anchored (signed by the platform key). Once done, a start finds nothing to do.
    await pseudonymiseStoredIdentifiers({
      db,
      pseudonyms,
      signer: ca ? () => signer().then((p) => p.signer) : null,
      platformUscc: config.platformUscc,
      logger: logger.child({ component: 'pseudonymisation' }),
    });
    // The tamper-evident log: every instance offers to sequence records and sign checkpoints; one at a time does.
    const auditLog = new AuditLogService({
      db,
      signer: () => signer().then((p) => p.signer),
      platformUscc: config.platformUscc,
      sequenceMs: config.auditSequenceMs,
      batchSize: config.auditSequenceBatch,
      gapSeconds: config.auditGapSeconds,
      gapWatchSeconds: config.auditGapWatchSeconds,
      checkpointSeconds: config.auditCheckpointSeconds,
      logger: logger.child({ component: 'audit-log' }),
    });
    const consoleActions = new ConsoleActionLog(db);
    // People of the web console: local accounts, sessions in the database, and the city's identity provider when set.
    const consoleAccounts = new ConsoleAccounts({ db, pseudonyms });
    const consoleSessions = new ConsoleSessions({
      db,
      accounts: consoleAccounts,
      rolesOf: (uscc) => roles.rolesOf(uscc),
      settings: { maxFailures: config.consoleMaxFailures, lockMinutes: config.consoleLockMinutes, idleMinutes: config.consoleIdleMinutes, sessionHours: config.consoleSessionHours },
    });
    const oidc = openOidc(config, db, consoleAccounts, consoleSessions);
    const ctx: AppContext = {
      config,
      logger,
      db,
      bus,
      metrics,
      relay,
      departments,
      roles,
      access: new AccessEnforcer({
        requests,
        roles,
        persons: consoleSessions,
        onForbidden: (attempt): Promise<void> =>
          auditSearch.recordForbidden(attempt).catch((error: unknown) => logger.error({ err: error, requester: attempt.requester }, 'a forbidden call could not be recorded')),
        onPersonRefused: (person, path, code): Promise<void> =>
          consoleActions
            .record({ person, action: 'console.refused', target: path, status: 403, errorCode: code })
            .catch((error: unknown) => logger.error({ err: error, login: person.login }, 'a refused console call could not be recorded')),
      }),
      consoleActions,
      consoleAccounts,
      consoleSessions,
      oidc,
      catalogue,
      demands,
      ca,
      trust,
      policy: policyRef,
      exchange,
      grants,
      accessLog,
      pseudonyms,
      auditGuard,
      auditSearch,
      auditAnalytics,
      auditLog,
      licences,
      licenceVerifier,
      licenceReads: new LicenceReads({ db, registry: licences, log: accessLog, newAccessId: () => newAccessRecordId(businessClock ? new Date(businessClock()) : undefined) }),
      intake,
      version: packageVersion(),
      startedAt: new Date(),
      lifecycle: { closing: false },
    };
    const seed =
      options.seedDemo && ca
        ? await seedDemoData(db, departments, { catalogue: { catalogue, demands }, licences, signers: new DemoSigners(ca, config.dataDir), force: options.forceSeed ?? false })
        : null;
    if (options.forceSeed && !ca) logger.warn({ caDir: config.caDir }, 'demo data not seeded: the database was seeded before, and ZT_CA_DIR holds no CA to sign with');
    const demoAccounts = options.seedDemo
      ? await seedDemoAccounts(consoleAccounts, { platformUscc: config.platformUscc, file: join(config.dataDir, DEMO_ACCOUNTS_FILE_NAME) })
      : null;
    if (options.seedDemo) {
      const datasets = await seedDemoDatasets(db, { pseudonyms });
      if (datasets.seeded) logger.info({ extracts: datasets.extracts.length, ms: Math.round(datasets.loadMs) }, 'demo datasets loaded into the exchange tables');
    }
    // Every negative-list revision put in force is kept with its rules, so records citing it stay explainable. A
    // reload requested here is announced through the outbox, as other changes are, and the other instances reload.
    policyRef.current = await loadPolicies(config, catalogue, logger, {
      onLoaded: (engine) => auditSearch.revisions.record(engine, config.instanceId!),
      instanceId: config.instanceId!,
      announce: async (reloaded) => {
        await ctx.db.transaction((tx) => enqueueEvent(tx, CATALOGUE_EVENTS_TOPIC, policyReloadedEvent(reloaded)));
        relay.nudge();
      },
    });
    await grants.reload(demands);
    await loadShippedServiceItems(intake, catalogue, departments, logger);
    // Any change of a demand (granted, approved, withdrawn, expired …) rebuilds this instance's grant index: at once
    // where it was made (DemandService awaits it before answering), through the event everywhere else.
    grantsChanged = reloadGrants;
    await (
      await bus.subscribe({
        topics: [CATALOGUE_EVENTS_TOPIC],
        group: `exchange-grants.${config.instanceId!}`,
        fromBeginning: false,
        handler: async (event) => {
          if (event.headers['zt-event-type']?.startsWith('demand.')) void reloadGrants();
        },
      })
    ).ready;
    const closeExchange = async (): Promise<void> => {
      await accessLog.close();
      await connectors.close();
      if (platformSigner) await (await platformSigner.catch(() => null))?.close();
      await pool.close();
    };
    await (await policyRef.current.listen(bus, config.instanceId!)).ready;
    const http = await createHttpServer(ctx);
    const grpc = createGrpcServer(ctx);
    // Without a CA there is nothing to open; the exchange says so to its first caller.
    const prepareSigner = async (): Promise<void> => {
      if (ca) await signer();
    };
    return assemble(ctx, migrations, seed, demoAccounts, http, grpc, closeExchange, prepareSigner);
  } catch (error) {
    await verifyPool?.close().catch(() => undefined);
    await bus?.close().catch(() => undefined);
    await db?.close().catch(() => undefined);
    throw error;
  }
}

function assemble(
  ctx: AppContext,
  migrations: MigrationReport,
  seed: SeedReport | null,
  consoleDemo: DemoAccountsReport | null,
  http: FastifyInstance,
  grpc: GrpcServer,
  closeExchange: () => Promise<void>,
  prepareSigner: () => Promise<void>,
): App {
  const { config, logger } = ctx;
  let closing: Promise<void> | null = null;
  let housekeeping: NodeJS.Timeout | null = null;
  let nonceSweeper: NodeJS.Timeout | null = null;
  let housework: Promise<void> = Promise.resolve();
  // Demands whose access period has ended become expired; safe to run from every instance.
  const expireDemands = (): void => {
    housework = ctx.demands
      .expireLapsed()
      .then((n) => (n > 0 ? logger.info({ expired: n }, 'demands expired') : undefined))
      .catch((error: unknown) => logger.warn({ err: error }, 'expiring demands failed; will retry'));
  };
  return {
    ctx,
    migrations,
    seed,
    consoleDemo,
    http,
    grpc,
    prepareSigner,
    async listen() {
      let httpUrl: string;
      try {
        httpUrl = await http.listen({ host: config.httpHost, port: config.httpPort });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
          throw new ZtError('ZT_ERR_PORT_IN_USE', `HTTP port ${config.httpHost}:${config.httpPort} is in use; stop the other process or set ZT_HTTP_PORT`, {
            cause: error,
          });
        }
        throw error;
      }
      let grpcPort: number;
      try {
        grpcPort = await grpc.listen(config.grpcHost, config.grpcPort);
      } catch (error) {
        await http.close();
        throw error;
      }
      ctx.relay.start();
      expireDemands();
      housekeeping = setInterval(expireDemands, HOUSEKEEPING_INTERVAL_MS);
      housekeeping.unref();
      // Nonces outlive the signature window only to refuse replays; remove them every minute.
      nonceSweeper = setInterval(() => {
        ctx.exchange.sweepNonces().catch((error: unknown) => logger.warn({ err: error }, 'removing expired nonces failed; will retry'));
      }, 60_000);
      nonceSweeper.unref();
      ctx.auditLog.start();
      return { httpUrl, grpcAddress: `${config.grpcHost}:${grpcPort}` };
    },
    close() {
      closing ??= (async () => {
        const deadline = Date.now() + config.shutdownTimeoutMs;
        const left = (): number => Math.max(100, deadline - Date.now());
        ctx.lifecycle.closing = true;
        if (housekeeping) clearInterval(housekeeping);
        if (nonceSweeper) clearInterval(nonceSweeper);
        await ctx.auditLog.stop();
        grpc.setServing('NOT_SERVING');
        // In-flight requests finish; their events are already committed to the outbox.
        await Promise.all([http.close(), grpc.close(left())]);
        await housework;
        // Access records accepted before the servers closed are committed before the outbox is drained.
        await closeExchange();
        await ctx.relay.drainAndStop(left());
        await ctx.bus.close();
        await ctx.auditAnalytics.close();
        await ctx.db.close();
        logger.info('shut down cleanly');
      })();
      return closing;
    },
  };
}

/** Sign-in at the city's identity provider, when ZT_OIDC_ISSUER is set (docs/console-sign-in.md). */
function openOidc(config: Config, db: Database, accounts: ConsoleAccounts, sessions: ConsoleSessions): OidcSignIn | null {
  if (!config.oidcIssuer) return null;
  const missing = (['oidcClientId', 'oidcRedirectUri'] as const).filter((k) => !config[k]);
  if (missing.length > 0) {
    throw new ZtError('ZT_ERR_CONFIG_INVALID', `ZT_OIDC_ISSUER is set, so ${missing.map((k) => (k === 'oidcClientId' ? 'ZT_OIDC_CLIENT_ID' : 'ZT_OIDC_REDIRECT_URI')).join(' and ')} must be too`);
  }
  return new OidcSignIn({
    db,
    accounts,
    sessions,
    settings: {
      issuer: config.oidcIssuer,
      clientId: config.oidcClientId!,
      clientSecret: config.oidcClientSecret,
      redirectUri: config.oidcRedirectUri!,
      personClaim: config.oidcPersonClaim,
      nameClaim: config.oidcNameClaim,
      departmentClaim: config.oidcDepartmentClaim,
      departments: parseOidcDepartments(config.oidcDepartments),
    },
  });
}
