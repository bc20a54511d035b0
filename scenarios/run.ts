// npm run scenario -- simulated-day [options]: plays the simulated day through a real gateway and analyses it as a
// supervisor would (scenarios/simulated-day/). Exits 1 when a planted anomaly is not found.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../core/config/index.js';
import { createLogger } from '../core/logging/index.js';
import { openDatabase } from '../core/storage/index.js';
import { demoKeyFiles, demoKeysDirectory, DemoSigners } from '../demo/index.js';
import { playSimulatedDay, scenarioDataDir } from './simulated-day/index.js';
import { analyseSimulatedDay, waitForAnalytics } from './simulated-day/analyse.js';

const HELP = `Usage: npm run scenario -- simulated-day [options]

Departments work through ordinary working days and then the simulated day, with five anomalies planted in it, all
through a real gateway (signed requests over HTTP and gRPC, the negative list, the access log). Then the supervisor's
API is asked for the day's anomaly flags, which must name every planted anomaly.

  --day YYYY-MM-DD     the simulated day, a working day (default: the last working day before today)
  --days N             ordinary working days before it (default 5)
  --scale X            ordinary volume, 1 = about 2,500 requests a day (default 1)
  --seed N             the plan's random seed
  --concurrency N      requests in flight (default 32)
  --serve              keep the gateway running afterwards, to try the audit commands on it (Ctrl-C stops)

Storage: the embedded database in a fresh directory, unless DATABASE_URL is set: then the schema
ZT_DATABASE_SCHEMA (default zt_scenario), which must not hold an earlier run (drop it first). KAFKA_BROKERS is used
when set.`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    args: process.argv.slice(2),
    allowPositionals: true,
    options: {
      day: { type: 'string' },
      days: { type: 'string' },
      scale: { type: 'string' },
      seed: { type: 'string' },
      concurrency: { type: 'string' },
      serve: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || positionals[0] !== 'simulated-day') {
    process.stdout.write(`${HELP}\n`);
    return values.help ? 0 : 2;
  }
  const number = (name: string, value: string | undefined): number | undefined => {
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number`);
    return n;
  };
  const dataDir = scenarioDataDir();
  const env = process.env;
  const config = loadConfig({
    overrides: {
      dataDir,
      caDir: join(dataDir, 'ca'),
      ...(values.serve ? {} : { httpPort: 0, grpcPort: 0 }),
      ...(env.DATABASE_URL ? { databaseSchema: env.ZT_DATABASE_SCHEMA || 'zt_scenario' } : {}),
      logLevel: (env.ZT_LOG_LEVEL as 'warn' | undefined) ?? 'warn',
    },
  });
  if (config.databaseUrl) {
    const db = await openDatabase(config, createLogger({ level: 'silent', instanceId: 'scenario' }));
    try {
      const { rows } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'access_record'`);
      if (Number(rows[0]!.n) > 0) {
        const { rows: records } = await db.query<{ n: string }>('SELECT count(*) AS n FROM access_record');
        if (Number(records[0]!.n) > 0) throw new Error(`schema ${config.databaseSchema} holds ${records[0]!.n} access records of an earlier run; drop it (DROP SCHEMA ${config.databaseSchema} CASCADE) or set ZT_DATABASE_SCHEMA`);
      }
    } finally {
      await db.close();
    }
  }
  const say = (message: string): void => void process.stderr.write(`scenario: ${message}\n`);
  const started = Date.now();
  const run = await playSimulatedDay({
    config,
    logger: createLogger({ level: config.logLevel, instanceId: 'scenario' }),
    ...(values.day ? { day: values.day } : {}),
    ...(values.days ? { baselineDays: number('days', values.days)! } : {}),
    ...(values.scale ? { scale: number('scale', values.scale)! } : {}),
    ...(values.seed ? { seed: number('seed', values.seed)! } : {}),
    ...(values.concurrency ? { concurrency: number('concurrency', values.concurrency)! } : {}),
    onProgress: say,
  });
  let missed = 0;
  try {
    say(`gateway on ${run.httpUrl} and ${run.grpcAddress}; ${config.databaseUrl ? `PostgreSQL schema ${config.databaseSchema}` : `embedded database in ${dataDir}`}, ${config.kafkaBrokers.length > 0 ? 'Kafka' : 'in-process bus'}`);
    const waited = Date.now();
    await waitForAnalytics(run.app.ctx.db);
    say(`analytics projection caught up in ${((Date.now() - waited) / 1000).toFixed(1)} s`);
    const supervisorUscc = config.auditSupervisors[0] ?? config.platformUscc;
    const supervisor = await new DemoSigners(run.app.ctx.ca!, dataDir).signerFor(supervisorUscc);
    const findings = await analyseSimulatedDay(run.plan, { httpUrl: run.httpUrl, grpcAddress: run.grpcAddress, supervisor });
    process.stdout.write(`\nSimulated day ${run.plan.day} (after ${run.plan.baselineDays.join(', ')}): ${run.traffic.sent} requests, ${run.traffic.permitted} permitted\n\n`);
    process.stdout.write('Planted anomalies and the flags the supervisor API raised for them:\n');
    for (const f of findings.findings) {
      process.stdout.write(`  ${f.flags.length > 0 ? 'found ' : 'MISSED'} ${f.planted.kind}: ${f.planted.description}\n`);
      for (const flag of f.flags) process.stdout.write(`         ${flag.reason}\n`);
    }
    missed = findings.missed.length;
    const others = findings.anomalies.flags.length - findings.findings.reduce((n, f) => n + f.flags.length, 0);
    process.stdout.write(`\n${findings.anomalies.flags.length} flags in all; ${findings.unplanned.length} about nothing planted; ${others - findings.unplanned.length} more about planted events under another kind\n`);
    for (const flag of findings.unplanned) process.stdout.write(`  unplanned ${flag.kind}: ${flag.reason}\n`);
    process.stdout.write(`Search: ${findings.operatorRecords} records of the flagged operator; subject ${findings.subjectView.subject} sees ${findings.subjectView.accesses} accesses${findings.subjectView.showsTheRead ? ', including the flagged read with its purpose' : ''}\n`);
    process.stdout.write(`Done in ${((Date.now() - started) / 1000).toFixed(0)} s.\n`);
    if (values.serve) {
      const key = demoKeyFiles(dataDir, supervisorUscc);
      process.stdout.write(
        `\nThe gateway keeps running. Try, as the supervisor:\n` +
          `  KEYS=${demoKeysDirectory(dataDir)}\n` +
          `  npx zhengtong audit anomalies --url ${run.httpUrl} --key ${key.key} --cert ${key.certificate} --from ${run.plan.day}\n` +
          `  npx zhengtong audit analyse --url ${run.httpUrl} --key ${key.key} --cert ${key.certificate} --from ${run.plan.baselineDays[0]}\n` +
          `  npx zhengtong audit search --url ${run.httpUrl} --key ${key.key} --cert ${key.certificate} --from ${run.plan.day} --decision deny\n` +
          `Ctrl-C stops it.\n`,
      );
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
    }
  } finally {
    await run.app.close();
    if (!config.databaseUrl && existsSync(dataDir)) rmSync(dataDir, { recursive: true, force: true });
  }
  return missed > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`scenario: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
