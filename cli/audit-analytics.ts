// `zhengtong audit analyse | anomalies | consume`: the access log's analytics (效能分析) and anomaly flags from a
// running gateway (signed as a supervisor with --key/--cert, through client/audit-analytics-client.ts), and the
// analytics consumer as a process of its own (`consume`: the configuration's database and event bus, consumer group
// zhengtong.audit-analytics), for gateways run with ZT_AUDIT_ANALYTICS=off.
import { parseArgs } from 'node:util';
import { isZtError } from '../core/errors/index.js';
import { openEventBus } from '../core/events/index.js';
import { createLogger } from '../core/logging/index.js';
import { migrate, openDatabase } from '../core/storage/index.js';
import { startAnalyticsConsumer, type AnalyticsReport, type AnomalyReport, type ReportDimension } from '../audit/analytics/index.js';
import { AuditAnalyticsClient } from '../client/audit-analytics-client.js';
import { ExchangeClientError, ExchangeError } from '../client/errors.js';
import { ACCESS_RECORD_TOPIC } from '../audit/access-record.js';
import type { ConfigLoader } from './common.js';
import { departmentKeyOf, UsageError } from './common.js';

const OPTIONS = {
  server: { type: 'string' },
  url: { type: 'string' },
  grpc: { type: 'string' },
  key: { type: 'string' },
  cert: { type: 'string' },
  'passphrase-file': { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  by: { type: 'string' },
  json: { type: 'boolean' },
  // Read by cli/main.ts (the configuration of consume, and of the default server).
  config: { type: 'string' },
} as const;

function usage(message: string): never {
  throw new UsageError(message);
}

// ---- tables ----

/** Display width: CJK characters take two columns. */
function width(text: string): number {
  let w = 0;
  for (const ch of text) w += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/.test(ch) ? 2 : 1;
  return w;
}

function table(head: string[], rows: string[][], numeric: boolean[]): string {
  const widths = head.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ''))));
  const cell = (text: string, i: number): string => {
    const pad = ' '.repeat(widths[i]! - width(text));
    return numeric[i] ? pad + text : text + pad;
  };
  const line = (r: string[]): string => r.map(cell).join('  ').trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const int = new Intl.NumberFormat('en-US');
function count(n: number): string {
  return int.format(n);
}
function percent(r: number | null): string {
  return r === null ? '–' : `${(r * 100).toFixed(1)}%`;
}
function ms(v: number | undefined): string {
  return v === undefined ? '–' : v < 10 ? v.toFixed(2) : v.toFixed(0);
}

export function formatReport(report: AnalyticsReport): string {
  const head = [report.by === 'resource' ? 'Resource' : 'Department', 'Name', 'Requests', 'Permit', 'Deny', 'Error', 'Refused', 'p50 ms', 'p95 ms', 'p99 ms', 'Permitted', 'Items ret.', 'Off-hours', 'No case'];
  const row = (key: string, name: string, f: AnalyticsReport['totals']): string[] => [
    key,
    name,
    count(f.requests),
    count(f.permitted),
    count(f.denied),
    count(f.errors),
    percent(f.refusalRate),
    ms(f.latencyMs?.p50),
    ms(f.latencyMs?.p95),
    ms(f.latencyMs?.p99),
    percent(f.fulfilment.permittedShare),
    percent(f.fulfilment.itemsReturnedShare),
    count(f.outsideWorkingHours),
    count(f.withoutCaseNumber),
  ];
  const rows = report.rows.map((r) => row(r.key || '(none)', r.name ?? '', r));
  rows.push(row('Total', '', report.totals));
  const numeric = head.map((_, i) => i >= 2);
  const out = [`Access log analytics, ${report.from} to ${report.to}, by ${report.by}${report.truncated ? ' (truncated)' : ''}`, '', table(head, rows, numeric)];
  const d = report.demandReplies;
  const spread = (s: { mean: number; p50: number; max: number } | null): string => (s === null ? '–' : `${s.mean} / ${s.p50} / ${s.max}`);
  const dHead = ['Supplier', 'Name', 'Replies', 'Approved', 'Refused', 'Working days mean/p50/max', 'Hours mean/p50/max', 'Late', 'Open', 'Overdue'];
  const dRow = (key: string, name: string, f: typeof d.totals): string[] => [
    key,
    name,
    count(f.replies),
    count(f.approved),
    count(f.refused),
    spread(f.replyWorkingDays),
    spread(f.replyHours),
    count(f.answeredLate),
    count(f.open),
    count(f.overdue),
  ];
  const dRows = d.departments.map((r) => dRow(r.department, r.name ?? '', r));
  dRows.push(dRow('Total', '', d.totals));
  out.push('', `Demand replies (申请–答复), open and overdue as of ${d.asOf}`, '', table(dHead, dRows, dHead.map((_, i) => i >= 2)));
  return `${out.join('\n')}\n`;
}

export function formatAnomalies(report: AnomalyReport): string {
  const out = [`Anomaly flags, ${report.from} to ${report.to}: ${report.flags.length}${report.truncated ? ' (truncated)' : ''}`];
  for (const f of report.flags) {
    out.push('', `[${f.kind}] ${f.department || '(no department)'}${f.departmentName ? ` ${f.departmentName}` : ''}${f.operator ? `, operator ${f.operator}` : ''}`);
    out.push(`  ${f.window.from} – ${f.window.to}`);
    out.push(`  ${f.reason}`);
    const samples = [...f.samples.caseNumbers.map((c) => `case ${c}`), ...f.samples.recordIds.slice(0, 3)];
    if (samples.length > 0) out.push(`  samples: ${samples.join(', ')}`);
  }
  return `${out.join('\n')}\n`;
}

// ---- commands ----

async function consume(config: ConfigLoader): Promise<number> {
  const settings = config();
  const logger = createLogger({ level: settings.logLevel, instanceId: settings.instanceId! }).child({ component: 'audit-consume' });
  // Installed first, so a signal during start-up (a Kafka group join can take seconds) still stops cleanly.
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  process.once('SIGINT', () => stop());
  process.once('SIGTERM', () => stop());
  const db = await openDatabase(settings, logger);
  let bus: Awaited<ReturnType<typeof openEventBus>> | undefined;
  try {
    await migrate(db);
    bus = await openEventBus(settings, logger);
    await bus.ensureTopics([ACCESS_RECORD_TOPIC]);
    if (bus.kind === 'memory') {
      logger.warn('no Kafka configured (KAFKA_BROKERS): the in-process bus of this process receives no events from the gateways; the consumer will idle');
    }
    const starting = startAnalyticsConsumer({ config: settings, db, bus, logger, consume: true });
    if ((await Promise.race([starting.then(() => 'started' as const), stopped.then(() => 'stopped' as const)])) === 'stopped') {
      logger.info('stopped before the consumer joined its group');
      await (await starting.catch(() => null))?.consumer?.close();
      return 0;
    }
    const { consumer } = await starting;
    logger.info({ group: 'zhengtong.audit-analytics', database: db.location, eventBus: bus.kind }, 'analytics consumer started');
    let last = { events: 0, at: Date.now() };
    const progress = setInterval(() => {
      const s = consumer!.stats;
      const now = Date.now();
      const rate = ((s.events - last.events) * 1000) / Math.max(1, now - last.at);
      last = { events: s.events, at: now };
      logger.info({ ...s, eventsPerSecond: Math.round(rate) }, 'analytics consumer progress');
    }, 10_000);
    // Not unref'd: it also keeps the process alive while librdkafka's threads (no event-loop handles) do the work.
    await stopped;
    clearInterval(progress);
    logger.info({ ...consumer!.stats }, 'analytics consumer stopping');
    await consumer!.close();
    return 0;
  } finally {
    await bus?.close().catch(() => undefined);
    await db.close().catch(() => undefined);
  }
}

async function remote(config: ConfigLoader, command: 'analyse' | 'anomalies', v: ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>['values']): Promise<number> {
  if (v.key === undefined || v.cert === undefined) usage('a supervisor\'s key is needed: --key KEY.pem --cert CERT.pem');
  const signer = departmentKeyOf(v)!;
  const server = v.server ?? v.url;
  const httpUrl = v.grpc === undefined ? (server ?? `http://127.0.0.1:${config().httpPort}`) : undefined;
  if (command === 'anomalies' && v.by !== undefined) usage('--by belongs to analyse');
  if (v.by !== undefined && v.by !== 'department' && v.by !== 'resource') usage('--by is department or resource');
  const client = new AuditAnalyticsClient({ signer, ...(httpUrl ? { httpUrl } : {}), ...(v.grpc ? { grpcAddress: v.grpc, protocol: 'grpc' as const } : {}) });
  try {
    const range = { ...(v.from ? { from: v.from } : {}), ...(v.to ? { to: v.to } : {}) };
    if (command === 'analyse') {
      const report = await client.report({ ...range, ...(v.by ? { by: v.by as ReportDimension } : {}) });
      process.stdout.write(v.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
    } else {
      const report = await client.anomalies(range);
      process.stdout.write(v.json ? `${JSON.stringify(report, null, 2)}\n` : formatAnomalies(report));
    }
    return 0;
  } finally {
    await client.close();
  }
}

/** `zhengtong audit analyse | anomalies | consume`; usage is answered by cli/main.ts first. Resolves with the exit status. */
export async function runAuditAnalyticsCommand(config: ConfigLoader, command: string, argv: string[]): Promise<number> {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true });
    if (positionals.length > 0) usage(`unexpected argument ${JSON.stringify(positionals[0])}`);
    if (command === 'consume') return await consume(config);
    if (command === 'analyse' || command === 'anomalies') return await remote(config, command, values);
    usage(`unknown command ${command}`);
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`zhengtong audit ${command}: ${(error as Error).message} (zhengtong audit ${command} --help)\n`);
      return 2;
    }
    if (error instanceof ExchangeError || isZtError(error) || error instanceof ExchangeClientError) {
      const e = error as { code: string; message: string };
      process.stderr.write(`zhengtong audit ${command}: ${e.message} [${e.code}]\n`);
      return 1;
    }
    throw error;
  }
}
