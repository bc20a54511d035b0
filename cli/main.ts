// zhengtong's command line: `zhengtong <command> [options]`.
import { parseArgs } from 'node:util';
import { loadConfig, redactUrl, settings, type Config, type SettingName } from '../core/config/index.js';
import { isZtError, ZtError } from '../core/errors/index.js';
import { createLogger } from '../core/logging/index.js';
import { packageVersion } from '../core/paths.js';
import { openPseudonyms, pseudonymSettings } from '../core/pseudonyms/index.js';
import { migrate, openDatabase } from '../core/storage/index.js';
import { demoKeysDirectory } from '../demo/keys.js';
import { COMMANDS } from './commands.js';
import { answerUsage, formatUsage } from './usage.js';

/** One line on stderr and a non-zero exit: no stack traces for problems a person can fix. */
function fail(error: unknown): never {
  if (isZtError(error)) {
    process.stderr.write(`zhengtong: ${error.message} [${error.code}]\n`);
  } else {
    process.stderr.write(`zhengtong: unexpected error: ${(error as Error)?.stack ?? String(error)}\n`);
  }
  process.exit(1);
}

function describeDatabase(config: Config): string {
  return config.databaseUrl ? `PostgreSQL ${redactUrl(config.databaseUrl)}${config.databaseSchema ? ` schema ${config.databaseSchema}` : ''}` : `PGlite (embedded) in ${config.dataDir}`;
}

async function serve(config: Config): Promise<void> {
  const { default: cluster } = await import('node:cluster');
  if (config.workers > 1 && cluster.isPrimary) return servePrimary(config);
  const logger = createLogger({ level: config.logLevel, instanceId: config.instanceId! });
  const { buildApp } = await import('../gateway/app.js');
  // A worker of `serve` with ZT_WORKERS > 1: the primary has migrated and seeded already.
  const app = await buildApp(config, { logger, seedDemo: config.seedDemo && !cluster.isWorker });
  let where: { httpUrl: string; grpcAddress: string };
  try {
    where = await app.listen();
  } catch (error) {
    await app.close().catch(() => undefined);
    throw error;
  }
  // In the background: the first exchange waits for the same key if it comes sooner. A failure is the exchange's to
  // report, to its caller; here it is only logged.
  app.prepareSigner().catch((error: unknown) => logger.warn({ err: error }, 'the platform signing key could not be opened at start-up; the first exchange will try again'));
  const lines = [
    `zhengtong ${app.ctx.version} is serving`,
    `  HTTP      ${where.httpUrl}   (API docs ${where.httpUrl}/docs, health ${where.httpUrl}/healthz, metrics ${where.httpUrl}/metrics)`,
    `  gRPC      ${where.grpcAddress}   (grpc.health.v1 and server reflection enabled)`,
    `  database  ${describeDatabase(config)}`,
    `  events    ${config.kafkaBrokers.length > 0 ? `Kafka ${config.kafkaBrokers.join(',')}` : 'in-process'}`,
  ];
  if (app.seed?.seeded) {
    lines.push(
      `  demo data seeded: ${app.seed.departments} departments, ${app.seed.resources} data resources, ${app.seed.demands} demands (try ${where.httpUrl}/v1/catalogue/resources), ${app.seed.licenceTypes} licence types, ${app.seed.licences} e-licences`,
      `  demo keys ${demoKeysDirectory(config.dataDir)}   (each demo department's SM2 key and certificate, to sign with)`,
    );
  }
  if (app.consoleDemo) {
    lines.push(`  console   ${where.httpUrl}/console   demo accounts (passwords also in ${app.consoleDemo.file}):`);
    for (const a of app.consoleDemo.accounts) lines.push(`            ${a.role.padEnd(13)} ${a.login.padEnd(22)} ${a.password ?? '(password set before; zhengtong operator reset)'}`);
  }
  lines.push(`  exchange  POST ${where.httpUrl}/v1/exchange/query, gRPC zhengtong.v1.ExchangeService; ${app.ctx.grants.size} grants in force (docs/exchange-protocol.md)`);
  lines.push(`  licences  ${where.httpUrl}/v1/licences, gRPC zhengtong.v1.LicenceService; ${app.ctx.licences.types().length} licence types (${where.httpUrl}/v1/licence-types, docs/licences.md)`);
  const policy = app.ctx.policy.current?.engine.status();
  if (policy) lines.push(`  negative list  revision ${policy.revision}, ${policy.rules} entries (${where.httpUrl}/v1/policies/rules)`);
  if (cluster.isWorker) process.send?.({ type: 'listening', httpUrl: where.httpUrl, grpcAddress: where.grpcAddress });
  else process.stderr.write(`${lines.join('\n')}\n`);

  let signals = 0;
  const stop = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      process.stderr.write(`zhengtong: second ${signal}, exiting without finishing the shutdown\n`);
      process.exit(130);
    }
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      process.stderr.write(`zhengtong: shutdown took longer than ZT_SHUTDOWN_TIMEOUT_MS (${config.shutdownTimeoutMs} ms); exiting\n`);
      process.exit(1);
    }, config.shutdownTimeoutMs + 2000);
    timer.unref();
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  // SIGHUP re-reads the negative list (ZT_POLICY_DIR); an invalid set is refused and the one in force stays. A set
  // that changed is announced, and the other instances reload their own files.
  process.on('SIGHUP', () => {
    app.ctx.policy.current?.reloadRequested().then(
      (r) =>
        logger.info(
          { previous: r.previous, revision: r.revision, changed: r.changed, announced: r.announced },
          !r.changed
            ? 'negative list reload requested: unchanged, nothing to tell the other instances'
            : r.announced
              ? 'negative list reload requested: reloaded, and the other instances were told to reload theirs'
              : 'negative list reload requested: reloaded here only; the other instances were not told',
        ),
      (error: unknown) => logger.error({ err: error }, 'negative list reload refused; the previous set stays in force'),
    );
  });
  process.on('SIGINT', stop);
}

async function runMigrate(config: Config): Promise<void> {
  const db = await openDatabase(config);
  try {
    const report = await migrate(db);
    const applied = report.applied.map((m) => `${String(m.version).padStart(4, '0')}_${m.name}`);
    process.stdout.write(
      applied.length > 0 ? `applied ${applied.join(', ')}; schema is at version ${report.version}\n` : `nothing to apply; schema is at version ${report.version}\n`,
    );
    // Migration 0016's data step: stored identifiers replaced by their blind index. The log's re-anchor is signed by
    // the platform key, which serve opens: a log that had signed checkpoints is re-anchored at the next serve.
    const { pseudonymiseStoredIdentifiers } = await import('../audit/pseudonymisation.js');
    const pseudonyms = await openPseudonyms(db, pseudonymSettings(config));
    const data = await pseudonymiseStoredIdentifiers({ db, pseudonyms, signer: null, platformUscc: config.platformUscc });
    if (!data.alreadyDone) {
      const c = data.converted;
      process.stdout.write(
        `identifiers replaced by their blind index (key version ${pseudonyms.current}): ${c.accessRecords} access records, ${c.exchangeRecords} exchange records, ${c.analyticsSubjects} analytics rows, ${c.auditQueries} audit queries, ${c.outboxEvents} outbox events\n`,
      );
      if (data.reanchor) process.stdout.write(`access log re-anchored at ${data.reanchor.old.treeSize} leaves (unsigned: the log before it had no signed checkpoint)\n`);
      if (data.reanchorPending) process.stdout.write('the access log is re-anchored at the next zhengtong serve, which signs the re-anchor with the platform key\n');
    }
  } finally {
    await db.close();
  }
}

async function runSeed(config: Config, force: boolean): Promise<void> {
  const logger = createLogger({ level: 'warn', instanceId: config.instanceId! });
  const { buildApp } = await import('../gateway/app.js');
  const app = await buildApp(config, { logger, seedDemo: true, forceSeed: force });
  try {
    const report = app.seed;
    process.stdout.write(
      report?.seeded
        ? `seeded ${report.departments} departments, ${report.resources} data resources, ${report.demands} demands, ${report.licenceTypes} licence types, ${report.licences} e-licences; demo keys in ${demoKeysDirectory(config.dataDir)}\n`
        : 'demo data was seeded before; use --force to add what is missing\n',
    );
  } finally {
    await app.close();
  }
}

function printConfig(config: Config): void {
  const rows = (Object.keys(settings) as SettingName[]).map((name) => {
    const value = config[name];
    const shown = name === 'databaseUrl' && typeof value === 'string' ? redactUrl(value) : (name === 'caPassphrase' || name === 'pseudonymKeys') && value ? '***' : value;
    return `${settings[name].env.padEnd(28)} ${JSON.stringify(shown ?? null)}`;
  });
  process.stdout.write(`${rows.join('\n')}\n`);
}

/**
 * serve with ZT_WORKERS > 1: migrate and seed once here, then run that many gateway processes sharing the HTTP and
 * gRPC ports (node:cluster), each an instance with its own id; a worker that dies is replaced, and SIGTERM or SIGINT
 * shuts every worker down gracefully.
 */
async function servePrimary(config: Config): Promise<void> {
  const { default: cluster } = await import('node:cluster');
  // Workers are instances: they share state through PostgreSQL, and hear each other's changes (grants, revocations,
  // catalogue) through Kafka; the embedded database and the in-process bus belong to one process.
  if (!config.databaseUrl || config.kafkaBrokers.length === 0) {
    throw new ZtError(
      'ZT_ERR_CONFIG_INVALID',
      `ZT_WORKERS=${config.workers} needs PostgreSQL (DATABASE_URL) and Kafka (KAFKA_BROKERS): each worker is an instance, and the embedded database and in-process event bus belong to one process; use ZT_WORKERS=1`,
    );
  }
  const logger = createLogger({ level: config.logLevel, instanceId: config.instanceId! });
  const { buildApp } = await import('../gateway/app.js');
  const setup = await buildApp(config, { logger, seedDemo: config.seedDemo });
  const seed = setup.seed;
  // Enrolled here, once, so that the workers load one key from ZT_PLATFORM_KEY_DIR instead of each enrolling its own.
  await setup.prepareSigner().catch((error: unknown) => logger.warn({ err: error }, 'the platform signing key could not be opened before starting the workers; each will try at its first exchange'));
  await setup.close();
  let stopping = false;
  let listening = 0;
  const fork = (index: number): void => {
    const worker = cluster.fork({ ZT_INSTANCE_ID: `${config.instanceId}-w${index}`, ZT_WORKERS: String(config.workers) });
    let started = false;
    worker.on('message', (message: { type?: string; httpUrl?: string; grpcAddress?: string }) => {
      if (message?.type !== 'listening') return;
      started = true;
      listening++;
      if (listening === config.workers) {
        const lines = [
          `zhengtong ${packageVersion()} is serving with ${config.workers} worker processes`,
          `  HTTP      ${message.httpUrl}   (API docs ${message.httpUrl}/docs, health ${message.httpUrl}/healthz)`,
          `  gRPC      ${message.grpcAddress}`,
          `  database  ${describeDatabase(config)}`,
          `  events    ${config.kafkaBrokers.length > 0 ? `Kafka ${config.kafkaBrokers.join(',')}` : 'in-process'}`,
        ];
        if (seed?.seeded) lines.push(`  demo data seeded: ${seed.departments} departments, ${seed.resources} data resources, ${seed.demands} demands`);
        process.stderr.write(`${lines.join('\n')}\n`);
      }
    });
    worker.on('exit', (code, signal) => {
      if (stopping) return;
      if (!started) {
        // It never served (a port in use, an unreachable database …; its own message is above): starting it again
        // would fail the same way, so stop.
        process.stderr.write(`zhengtong: gateway worker ${index} exited with ${code ?? signal} before serving; stopping\n`);
        stop('SIGTERM');
        process.exitCode = 1;
        return;
      }
      logger.error({ worker: index, code, signal }, 'a gateway worker exited; starting another');
      fork(index);
    });
  };
  for (let i = 1; i <= config.workers; i++) fork(i);
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down the workers');
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    const timer = setTimeout(() => process.exit(1), config.shutdownTimeoutMs + 5000);
    timer.unref();
    const done = (): void => {
      if (Object.values(cluster.workers ?? {}).every((w) => !w || w.isDead())) process.exit(process.exitCode ?? 0);
    };
    cluster.on('exit', done);
    done();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // SIGHUP re-reads the negative list in every worker.
  process.on('SIGHUP', () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGHUP');
  });
}

export async function main(argv: string[]): Promise<void> {
  // Help, and unknown or missing commands, are answered from the usage catalogue before anything is loaded or opened.
  const usageStatus = answerUsage(COMMANDS, argv, process);
  if (usageStatus !== undefined) {
    process.exitCode = usageStatus;
    return;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      // Sub-commands (ca …) parse their own options.
      strict: !['ca', 'sign', 'verify', 'extract', 'licence', 'audit', 'department', 'role', 'operator'].includes(argv[0] ?? ''),
      options: { config: { type: 'string' }, force: { type: 'boolean' }, version: { type: 'boolean' } },
    });
  } catch (error) {
    process.stderr.write(`zhengtong: ${(error as Error).message}\n\n${formatUsage([], COMMANDS)}`);
    process.exit(2);
  }
  const { values, positionals } = parsed;
  if (values.version) {
    process.stdout.write(`${packageVersion()}\n`);
    return;
  }
  const command = positionals[0];
  if (command === undefined) {
    process.stdout.write(formatUsage([], COMMANDS));
    return;
  }
  if (!Object.hasOwn(COMMANDS.commands, command)) {
    // Only reached when options come first (zhengtong --force frobnicate): answerUsage stops at an option.
    process.stderr.write(`zhengtong: unknown command "${command}"\n\n${formatUsage([], COMMANDS)}`);
    process.exitCode = 2;
    return;
  }
  try {
    // Offline commands: no configuration, database or servers.
    if (command === 'sign' || command === 'verify') return await (await import('./sign.js')).runSignCommand(argv);
    if (command === 'licence') {
      process.exitCode = await (await import('./licence.js')).runLicenceCommand(argv.slice(1));
      return;
    }
    if (command === 'department' || command === 'role') {
      process.exitCode = await (await import('./admin.js')).runAdminCommand(command, argv.slice(1));
      return;
    }
    if (command === 'audit') {
      process.exitCode = await (await import('./audit.js')).runAuditCommand(argv.slice(1), typeof values.config === 'string' ? values.config : undefined);
      return;
    }
    const config = loadConfig(typeof values.config === 'string' ? { file: values.config } : {});
    switch (command) {
      case 'serve':
        return await serve(config);
      case 'migrate':
        return await runMigrate(config);
      case 'seed':
        return await runSeed(config, values.force === true);
      case 'config':
        return printConfig(config);
      case 'ca':
        return await (await import('./ca.js')).runCa(config, argv);
      case 'extract':
        return await (await import('./extract.js')).runExtract(config, argv);
      case 'pseudonym':
        process.exitCode = await (await import('./pseudonym.js')).runPseudonym(config, argv);
        return;
      case 'operator':
        process.exitCode = await (await import('./operator.js')).runOperator(config, argv.slice(1));
        return;
      default:
        // The usage catalogue names a command this dispatcher does not run.
        throw new Error(`zhengtong ${command} is in the usage catalogue (cli/commands.ts) but has no runner`);
    }
  } catch (error) {
    fail(error);
  }
}
