// npm run faults [-- --quick] [scenario …]: the fault suite (docs/reliability.md). Each scenario starts real gateway
// processes on PostgreSQL and the Kafka broker, injects its faults into the real processes, checks what the
// promises say, and removes what it made. The table at the end has one row per scenario; the exit status is 1 when
// any scenario failed, 2 for a usage error or a missing service.
//   ZT_FAULTS_DATABASE_URL   PostgreSQL (default postgres://postgres@127.0.0.1:5432/test)
//   ZT_FAULTS_KAFKA_BROKERS  the broker (default 127.0.0.1:9092, as scripts/kafka.sh runs it)
//   ZT_FAULTS_RATE           requests a second of the kill-9 load (default 150; 60 with --quick)
//   ZT_FAULTS_SOAK_SECONDS, ZT_FAULTS_SOAK_RATE  the soak's length and load (default 600 s at 150/s; 60 s at 60/s quick)
//   ZT_FAULTS_SEED           the hostile-input scenario's fast-check seed (default: from the clock; printed)
//   ZT_FAULTS_KAFKA_STOP/START, ZT_FAULTS_PG_STOP/START  commands that stop and start the broker and the database
//                            (default scripts/kafka.sh and pg_ctlcluster)
import { Socket } from 'node:net';
import { describeMachine } from '../bench/machine.js';
import { PgDatabase } from '../core/storage/index.js';
import type { Scenario, ScenarioResult } from './scenario.js';
import { agree } from './scenarios/agree.js';
import { hostileInput } from './scenarios/hostile-input.js';
import { kafkaOutage } from './scenarios/kafka-outage.js';
import { kill9 } from './scenarios/kill-9.js';
import { pgRestart } from './scenarios/pg-restart.js';
import { soak } from './scenarios/soak.js';

const SCENARIOS: Scenario[] = [kill9, kafkaOutage, pgRestart, soak, hostileInput, agree];

function usage(message: string): never {
  process.stderr.write(`npm run faults: ${message}\nusage: npm run faults [-- --quick] [${SCENARIOS.map((s) => s.name).join(' | ')} …]\n`);
  process.exit(2);
}

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write(
    'npm run faults [-- --quick] [scenario …]: the fault suite (docs/reliability.md)\n' +
      SCENARIOS.map((s) => `  ${s.name.padEnd(16)} ${s.title}\n`).join('') +
      '  --quick          the short form .ci/run runs (fewer faults, shorter load, the same checks)\n',
  );
  process.exit(0);
}
const quick = args.includes('--quick');
const names = args.filter((a) => !a.startsWith('--'));
for (const a of args.filter((x) => x.startsWith('--') && x !== '--quick')) usage(`unknown option ${a}`);
for (const n of names) if (!SCENARIOS.some((s) => s.name === n)) usage(`unknown scenario ${n}`);
const chosen = names.length ? SCENARIOS.filter((s) => names.includes(s.name)) : SCENARIOS;

const databaseUrl = process.env.ZT_FAULTS_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const kafkaBrokers = process.env.ZT_FAULTS_KAFKA_BROKERS ?? '127.0.0.1:9092';

async function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.setTimeout(2000);
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
    socket.connect(port, host);
  });
}

try {
  const db = await PgDatabase.open({ url: databaseUrl, poolSize: 1, schema: undefined });
  await db.query('SELECT 1');
  await db.close();
} catch (error) {
  process.stderr.write(`npm run faults: PostgreSQL at ${databaseUrl} does not answer (${(error as Error).message}); the fault suite needs it (ZT_FAULTS_DATABASE_URL)\n`);
  process.exit(2);
}
const [kafkaHost, kafkaPort] = kafkaBrokers.split(',')[0]!.split(':');
if (!(await reachable(kafkaHost!, Number(kafkaPort)))) {
  process.stderr.write(`npm run faults: no Kafka broker at ${kafkaBrokers}; start one with npm run kafka -- start (ZT_FAULTS_KAFKA_BROKERS)\n`);
  process.exit(2);
}

process.stdout.write(`fault suite${quick ? ' (quick)' : ''} on ${describeMachine()}; PostgreSQL ${databaseUrl.replace(/\/\/[^@]*@/, '//')}, Kafka ${kafkaBrokers}\n`);
const rows: { scenario: Scenario; result: ScenarioResult | null; error?: string; seconds: number }[] = [];
for (const scenario of chosen) {
  const started = performance.now();
  process.stdout.write(`\n== ${scenario.name}: ${scenario.title}\n`);
  try {
    const result = await scenario.run({ quick, databaseUrl, kafkaBrokers, log: (line) => process.stdout.write(`[${scenario.name} ${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}\n`) });
    rows.push({ scenario, result, seconds: (performance.now() - started) / 1000 });
    for (const n of result.notes) process.stdout.write(`  ${n}\n`);
    for (const f of result.failures) process.stdout.write(`  FAIL ${f}\n`);
  } catch (error) {
    rows.push({ scenario, result: null, error: (error as Error).stack ?? String(error), seconds: (performance.now() - started) / 1000 });
    process.stdout.write(`  FAIL the scenario could not run: ${(error as Error).stack ?? String(error)}\n`);
  }
}

const table: string[][] = [['scenario', 'load held', 'faults injected', 'requests', 'lost', '5xx', 'recovery', 'time', 'result']];
for (const r of rows) {
  const x = r.result;
  const ok = x !== null && x.failures.length === 0;
  table.push([
    r.scenario.name,
    x?.load ?? '-',
    x?.faults ?? '-',
    x ? String(x.requests) : '-',
    x ? String(x.lost) : '-',
    x ? String(x.serverErrors) : '-',
    x?.recoverySeconds != null ? `${x.recoverySeconds.toFixed(1)} s` : '-',
    `${r.seconds.toFixed(0)} s`,
    ok ? 'pass' : `FAIL${x ? ` (${x.failures.length})` : ''}`,
  ]);
}
const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
process.stdout.write(`\n${table.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ')).join('\n')}\n`);
const failed = rows.filter((r) => r.result === null || r.result.failures.length > 0);
process.exit(failed.length > 0 ? 1 : 0);
