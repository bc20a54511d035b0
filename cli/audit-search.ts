// `zhengtong audit search | export | trace | subject | covert`: the access-log search of a running gateway from the
// command line, through the audit client (client/audit-client.ts), signed with a supervisor's (or a portal's, or for
// covert flags a department's) key. Tables for people, --json for programs; an export goes to a file or stdout.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { isZtError } from '../core/errors/index.js';
import { AuditClient, type AuditFilters, type AuditRecord } from '../client/audit-client.js';
import { ExchangeClientError, ExchangeError } from '../client/errors.js';
import type { ConfigLoader } from './common.js';
import { departmentKeyOf, UsageError } from './common.js';

const OPTIONS = {
  server: { type: 'string' },
  grpc: { type: 'string' },
  key: { type: 'string' },
  cert: { type: 'string' },
  'passphrase-file': { type: 'string' },
  json: { type: 'boolean' },
  config: { type: 'string' },
  department: { type: 'string' },
  operator: { type: 'string' },
  subject: { type: 'string' },
  resource: { type: 'string' },
  decision: { type: 'string' },
  'case-number': { type: 'string' },
  'service-item': { type: 'string' },
  record: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  limit: { type: 'string' },
  cursor: { type: 'string' },
  all: { type: 'boolean' },
  format: { type: 'string' },
  out: { type: 'string' },
  'release-on': { type: 'string' },
  reason: { type: 'string' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

const usage = (message: string): never => {
  throw new UsageError(message);
};

export interface AuditSearchIo {
  stdout: { write(text: string | Uint8Array): unknown };
  stderr: { write(text: string): unknown };
}

function filters(v: Values): AuditFilters {
  const f: AuditFilters = {};
  if (v.department) f.department = v.department;
  if (v.operator) f.operator = v.operator;
  if (v.subject) f.subject = v.subject;
  if (v.resource) f.resource = v.resource;
  if (v.decision) f.decision = v.decision as AuditFilters['decision'];
  if (v['case-number']) f.caseNumber = v['case-number'];
  if (v['service-item']) f.serviceItem = v['service-item'];
  if (v.record) f.record = v.record;
  if (v.from) f.from = v.from;
  if (v.to) f.to = v.to;
  return f;
}

function limitOf(v: Values): number | undefined {
  if (v.limit === undefined) return undefined;
  if (!/^\d{1,4}$/.test(v.limit)) usage('--limit is a whole number from 1 to 500');
  return Number(v.limit);
}

function cell(value: unknown, width: number): string {
  const text = value === null || value === undefined ? '' : String(value);
  // East Asian characters take two columns.
  let cols = 0;
  let out = '';
  for (const ch of text) {
    const w = /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/.test(ch) ? 2 : 1;
    if (cols + w > width) break;
    out += ch;
    cols += w;
  }
  return out + ' '.repeat(Math.max(0, width - cols));
}

function recordTable(records: readonly AuditRecord[]): string {
  const head = `${cell('time', 25)} ${cell('department', 24)} ${cell('operator', 12)} ${cell('subject', 18)} ${cell('resource', 16)} ${cell('case', 18)} decision\n`;
  return (
    head +
    records
      .map(
        (r) =>
          `${cell(r.at, 25)} ${cell(r.requesterName ?? r.requester, 24)} ${cell(r.operator, 12)} ${cell(r.subjectCode, 18)} ${cell(r.resource, 16)} ${cell(r.caseNumber, 18)} ${r.decision}${r.errorCode ? ` ${r.errorCode}` : ''}${r.covert ? ` [covert until ${r.covert.releaseOn}]` : ''}  ${r.id}\n`,
      )
      .join('')
  );
}

export async function runAuditSearchCommand(config: ConfigLoader, command: string, argv: string[], io: AuditSearchIo = process): Promise<number> {
  let client: AuditClient | undefined;
  const json = argv.includes('--json');
  // What a usage error points at: the command's own usage (a covert action's, once known).
  let helpPath = command;
  try {
    let parsed;
    try {
      parsed = parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
    } catch (error) {
      return usage((error as Error).message);
    }
    const { values: v, positionals } = parsed;
    if (command === 'covert' && ['flag', 'lift', 'list'].includes(positionals[0] ?? '')) helpPath = `covert ${positionals[0]}`;
    if (v.key === undefined || v.cert === undefined) usage('every audit call is signed: give --key KEY.pem --cert CERT.pem');
    const signer = departmentKeyOf(v)!;
    let httpUrl = v.server;
    if (httpUrl === undefined && v.grpc === undefined) {
      try {
        httpUrl = `http://127.0.0.1:${config().httpPort}`;
      } catch (error) {
        if (isZtError(error)) usage(`${error.message} (give --server to do without the settings)`);
        throw error;
      }
    }
    client = new AuditClient({ ...(httpUrl ? { httpUrl } : {}), ...(v.grpc ? { grpcAddress: v.grpc, protocol: 'grpc' as const } : {}), signer });
    const print = (value: unknown, text: string) => io.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : text);

    switch (command) {
      case 'search': {
        const limit = limitOf(v);
        const input = { ...filters(v), ...(limit !== undefined ? { limit } : {}), ...(v.cursor ? { cursor: v.cursor } : {}) };
        if (v.all) {
          const all: AuditRecord[] = [];
          for await (const page of client.searchAll(input)) all.push(...page);
          print({ records: all, next: null }, `${recordTable(all)}${all.length} records\n`);
        } else {
          const page = await client.search(input);
          print(page, `${recordTable(page.records)}${page.records.length} records${page.next ? `; more: --cursor ${page.next}` : ''}\n`);
        }
        return 0;
      }
      case 'export': {
        const format = (v.format ?? 'csv') as 'csv' | 'jsonl';
        if (format !== 'csv' && format !== 'jsonl') usage('--format is csv or jsonl');
        const out = v.out ? createWriteStream(v.out) : null;
        let bytes = 0;
        for await (const chunk of client.export({ ...filters(v), format })) {
          bytes += chunk.length;
          if (out) {
            if (!out.write(chunk)) await once(out, 'drain');
          } else io.stdout.write(chunk);
        }
        if (out) {
          out.end();
          await once(out, 'finish');
          io.stderr.write(`exported ${bytes} bytes to ${v.out}\n`);
        }
        return 0;
      }
      case 'trace': {
        const id = positionals[0] ?? usage('trace needs a record id');
        const t = (await client.trace(id)) as Record<string, any>;
        const lines = [
          `record     ${t.record.id} (seq ${t.record.seq}) at ${t.record.at}: ${t.record.decision}${t.record.errorCode ? ` ${t.record.errorCode}` : ''}`,
          `department ${t.department ? `${t.department.name ?? '?'} (${t.department.uscc})` : '-'}; operator ${t.record.operator ?? '-'}`,
          `subject    ${t.record.subjectCode ?? '-'}; resource ${t.resource ? `${t.resource.name ?? '?'} (${t.resource.code})` : '-'}; items ${t.record.itemsReturned.join(', ') || '-'}`,
          `purpose    service item ${t.record.serviceItem ?? '-'}, case ${t.record.caseNumber ?? '-'}`,
          `policy     ${t.policy ? `${t.policy.revision} (${t.policy.source}): ${t.policy.explanation}` : 'none (the request failed before a decision)'}`,
          ...(t.policy?.rules ?? []).map(
            (r: { id: string; title: string | null; effect: string; legalBasis: { title: string; article: string | null }[]; found: boolean }) =>
              `  rule ${r.id} ${r.effect}: ${r.title ?? '(not kept)'}; ${r.legalBasis.map((b) => `${b.title}${b.article ?? ''}`).join('; ')}`,
          ),
          `grant      ${t.grant ? `demand ${t.grant.demandId} (${t.grant.state}), ${t.grant.serviceItem}, ${t.grant.validFrom}–${t.grant.validTo}` : '-'}`,
          ...(t.covert ? [`covert     case flagged by ${t.covert.flaggedBy} until ${t.covert.releaseOn}: ${t.covert.reason}`] : []),
        ];
        print(t, `${lines.join('\n')}\n`);
        return 0;
      }
      case 'subject': {
        const code = positionals[0] ?? usage('subject needs a resident ID number or USCC');
        const limit = limitOf(v);
        const answer = await client.subjectAccesses(code, { ...(v.from ? { from: v.from } : {}), ...(v.to ? { to: v.to } : {}), ...(limit !== undefined ? { limit } : {}), ...(v.cursor ? { cursor: v.cursor } : {}) });
        const rows = answer.accesses.map((a: Record<string, any>) => `${cell(a.at, 25)} ${cell(a.department.name ?? a.department.uscc, 26)} ${cell(a.resource.name ?? a.resource.code, 20)} ${cell(a.purpose.serviceItem, 18)} ${cell(a.purpose.caseNumber, 18)} ${a.decision} ${(a.itemsReleased as string[]).join(',')}${a.covert ? ` [covert until ${a.covert.releaseOn}]` : ''}\n`);
        print(answer, `${cell('time', 25)} ${cell('department', 26)} ${cell('resource', 20)} ${cell('service item', 18)} ${cell('case', 18)} decision items\n${rows.join('')}${rows.length} accesses${answer.next ? `; more: --cursor ${answer.next}` : ''}\n`);
        return 0;
      }
      case 'covert': {
        const action = positionals[0];
        if (action === 'flag') {
          if (!v['case-number'] || !v['release-on'] || !v.reason) usage('covert flag needs --case-number, --release-on and --reason');
          const flag = await client.flagCovert({ caseNumber: v['case-number']!, releaseOn: v['release-on']!, reason: v.reason!, ...(v.department ? { department: v.department } : {}) });
          print(flag, `flagged ${flag.id}: case ${flag.caseNumber} of ${flag.requester} hidden from the subject until ${flag.releaseOn}\n`);
          return 0;
        }
        if (action === 'lift') {
          const id = positionals[1] ?? usage('covert lift needs the flag id');
          const lifted = await client.liftCovert(id, v.reason);
          print(lifted, `lifted ${lifted.id}: case ${lifted.caseNumber} of ${lifted.requester} is visible to the subject\n`);
          return 0;
        }
        if (action === 'list') {
          const cases = await client.listCovert({ ...(v.department ? { department: v.department } : {}), ...(v.all ? { all: true } : {}) });
          print({ cases }, cases.map((c) => `${c.id}  ${c.requester}  ${cell(c.caseNumber, 20)} until ${c.releaseOn}${c.liftedAt ? ` (lifted ${c.liftedAt} by ${c.liftedBy})` : ''}  ${c.reason}\n`).join('') + `${cases.length} flags\n`);
          return 0;
        }
        return usage('covert takes flag, lift or list');
      }
      default:
        return usage(`unknown audit command "${command}"`);
    }
  } catch (error) {
    const { code, message, exitCode } = failure(error, helpPath);
    if (json) io.stdout.write(`${JSON.stringify({ ok: false, error: { code, message } }, null, 2)}\n`);
    io.stderr.write(`zhengtong: ${message.replace(/\s*\n\s*/g, ' ')}${code ? ` [${code}]` : ''}\n`);
    return exitCode;
  } finally {
    await client?.close();
  }
}

function failure(error: unknown, command: string): { code: string | undefined; message: string; exitCode: number } {
  if (error instanceof UsageError) return { code: undefined, message: `${error.message} (zhengtong audit ${command} --help)`, exitCode: 2 };
  if (error instanceof ExchangeError) return { code: error.code, message: error.message, exitCode: 1 };
  if (error instanceof ExchangeClientError) return { code: error.code, message: error.message, exitCode: error.code === 'ZT_CLIENT_CONFIG_INVALID' ? 2 : 1 };
  if (isZtError(error)) return { code: error.code, message: error.message, exitCode: 1 };
  return { code: undefined, message: `unexpected error: ${(error as Error)?.stack ?? String(error)}`, exitCode: 1 };
}
