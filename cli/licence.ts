// `zhengtong licence …`: the e-licence registry (电子证照库) of a running gateway from the command line, through the
// licence client (client/licence-client.ts): look licences up, verify them (anonymously, or as a department for a
// case), and, with a department's key, issue them and take the lifecycle steps. `verify-offline` needs no server:
// cli/licence-offline.ts.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig, type Config } from '../core/config/index.js';
import { isZtError } from '../core/errors/index.js';
import { envelopeToJson, type SignedEnvelope } from '../certs/envelope/index.js';
import { CA_FILES } from '../certs/ca/ca-files.js';
import { STATUS_LIST_MESSAGES, type LicenceDocument } from '../licences/licence.js';
import type { LicenceType } from '../licences/licence-type.js';
import { statusAt, type VerifiedStatusList } from '../licences/status-list/index.js';
import { ExchangeClientError, ExchangeError } from '../client/errors.js';
import { LicenceClient, type LicenceClientOptions, type LicenceIssueInput, type LicenceReadOptions, type LicenceTransition, type LicenceVerificationTarget, type LicenceVersion, type VerifiedLicence } from '../client/licence-client.js';
import { departmentKeyOf, readInput, UsageError } from './common.js';

export interface LicenceCommandIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

const OPTIONS = {
  server: { type: 'string' },
  grpc: { type: 'string' },
  key: { type: 'string' },
  cert: { type: 'string' },
  'passphrase-file': { type: 'string' },
  ca: { type: 'string' },
  intermediate: { type: 'string' },
  'platform-uscc': { type: 'string' },
  'verify-document': { type: 'boolean' },
  json: { type: 'boolean' },
  config: { type: 'string' },
  file: { type: 'string' },
  holder: { type: 'string' },
  'holder-type': { type: 'string' },
  type: { type: 'string' },
  number: { type: 'string' },
  compact: { type: 'string' },
  document: { type: 'string' },
  envelope: { type: 'string' },
  'service-item': { type: 'string' },
  'case-number': { type: 'string' },
  operator: { type: 'string' },
  reason: { type: 'string' },
  field: { type: 'string', multiple: true },
  'holder-name': { type: 'string' },
  'valid-to': { type: 'string' },
  index: { type: 'string' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

function usage(message: string): never {
  throw new UsageError(message);
}

function readJson(path: string, what: string): unknown {
  try {
    return JSON.parse(readInput(path, what).toString('utf8'));
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`the ${what} ${path} is not JSON: ${(error as Error).message}`);
  }
}

/** The commands run against a gateway (besides convert and verify-offline); cli/commands.test.ts checks them against the usage catalogue. */
export const LICENCE_GATEWAY_COMMANDS: ReadonlySet<string> = new Set(['types', 'get', 'find', 'history', 'compact', 'verify', 'status-list', 'issue', 'revoke', 'suspend', 'resume', 'change', 'renew']);
// Reads are reads of personal data, signed by a department for a case; steps are signed statements.
const SIGNED = new Set(['get', 'find', 'history', 'compact', 'issue', 'revoke', 'suspend', 'resume', 'change', 'renew']);

/**
 * Entry point for `zhengtong licence …`; argv may start with "licence" or with the sub-command; usage is answered by
 * cli/main.ts first. Returns the exit status: 0 done (for verify: the licence is valid), 1 refused, not verified or
 * (verify) not valid, 2 a usage error.
 */
export async function runLicenceCommand(argv: string[], io: LicenceCommandIo = process): Promise<number> {
  const args = argv[0] === 'licence' ? argv.slice(1) : argv;
  const command = args[0] ?? '';
  if (command === 'convert') {
    const { runLicenceConvertCommand } = await import('./licence-convert.js');
    return runLicenceConvertCommand(args, io);
  }
  if (command === 'verify-offline') {
    const { runLicenceOfflineCommand } = await import('./licence-offline.js');
    return runLicenceOfflineCommand(args, io);
  }
  const json = args.includes('--json');
  let client: LicenceClient | undefined;
  try {
    if (!LICENCE_GATEWAY_COMMANDS.has(command)) usage(`unknown licence command "${command}"`);
    let parsed;
    try {
      parsed = parseArgs({ args: args.slice(1), allowPositionals: true, options: OPTIONS });
    } catch (error) {
      usage((error as Error).message);
    }
    const { values, positionals } = parsed;
    client = await openClient(command, values);
    const { output, exitCode } = await run(client, command, values, positionals);
    io.stdout.write(json ? `${JSON.stringify(output.json, null, 2)}\n` : output.text);
    return exitCode;
  } catch (error) {
    const { code, message, exitCode } = failure(error, command);
    if (json) io.stdout.write(`${JSON.stringify({ ok: false, error: { code, message } }, null, 2)}\n`);
    io.stderr.write(`zhengtong: ${message.replace(/\s*\n\s*/g, ' ')}${code ? ` [${code}]` : ''}\n`);
    return exitCode;
  } finally {
    await client?.close();
  }
}

function failure(error: unknown, command: string): { code: string | undefined; message: string; exitCode: number } {
  if (error instanceof UsageError) {
    const help = LICENCE_GATEWAY_COMMANDS.has(command) ? `zhengtong licence ${command} --help` : 'zhengtong licence help';
    return { code: undefined, message: `${error.message} (${help})`, exitCode: 2 };
  }
  if (error instanceof ExchangeError) return { code: error.code, message: error.message, exitCode: 1 };
  if (error instanceof ExchangeClientError) return { code: error.code, message: error.message, exitCode: error.code === 'ZT_CLIENT_CONFIG_INVALID' ? 2 : 1 };
  if (isZtError(error)) return { code: error.code, message: error.message, exitCode: error.code === 'ZT_ERR_CONFIG_INVALID' ? 2 : 1 };
  return { code: undefined, message: `unexpected error: ${(error as Error)?.stack ?? String(error)}`, exitCode: 1 };
}

// ---- the client, from the options and the configuration's defaults ----

async function openClient(command: string, v: Values): Promise<LicenceClient> {
  let config: Config | undefined;
  const settings = (): Config => {
    if (!config) {
      try {
        config = loadConfig(v.config !== undefined ? { file: v.config } : {});
      } catch (error) {
        if (isZtError(error)) throw new UsageError(`${error.message} (give --server and --ca to do without the settings)`);
        throw error;
      }
    }
    return config;
  };
  const httpUrl = v.server ?? (v.grpc === undefined ? `http://127.0.0.1:${settings().httpPort}` : undefined);
  const signer = departmentKeyOf(v);
  const department = v['service-item'] !== undefined || v['case-number'] !== undefined;
  if (!signer && (SIGNED.has(command) || (command === 'verify' && department))) {
    usage(`${command === 'verify' ? 'a department\'s verification' : command} needs the department's key: --key KEY.pem --cert CERT.pem`);
  }
  const options: LicenceClientOptions = {
    ...(httpUrl !== undefined ? { httpUrl } : {}),
    ...(v.grpc !== undefined ? { grpcAddress: v.grpc, protocol: 'grpc' as const } : {}),
    ...(signer ? { signer } : {}),
    trust: await readTrust(v, httpUrl, settings),
    ...(v['verify-document'] ? { verifyDocument: true } : {}),
  };
  const platformUscc = v['platform-uscc'] ?? (process.env.ZT_PLATFORM_USCC || undefined);
  if (platformUscc !== undefined) options.platformUscc = platformUscc.toUpperCase();
  return new LicenceClient(options);
}

async function readTrust(v: Values, httpUrl: string | undefined, settings: () => Config): Promise<LicenceClientOptions['trust']> {
  if (v.ca === undefined) {
    if (v.intermediate !== undefined) usage('--intermediate goes with --ca');
    const dir = settings().caDir;
    const root = join(dir, CA_FILES.rootCertificate);
    const issuing = join(dir, CA_FILES.issuingCertificate);
    if (!existsSync(root) || !existsSync(issuing)) usage(`give the platform CA: --ca ROOT.pem [--intermediate ISSUING.pem] (there is none in ${dir})`);
    return { root: readInput(root, 'root CA certificate'), issuing: readInput(issuing, 'issuing CA certificate') };
  }
  const root = readInput(v.ca, 'root CA certificate');
  if (v.intermediate !== undefined) return { root, issuing: readInput(v.intermediate, 'issuing CA certificate') };
  // The issuing CA's certificate is not a trust anchor: whatever the server sends must chain to ROOT.pem.
  if (httpUrl === undefined) usage('over gRPC alone, give the issuing CA certificate too: --intermediate ISSUING.pem');
  const url = new URL('/v1/ca/issuing.pem', httpUrl);
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new ExchangeClientError('ZT_CLIENT_TRANSPORT_FAILED', `GET ${url.href} failed: ${(error as Error).message}`, { cause: error });
  }
  if (!response.ok) throw new ExchangeClientError('ZT_CLIENT_TRANSPORT_FAILED', `GET ${url.href} answered HTTP ${response.status}: give --intermediate ISSUING.pem`);
  return { root, issuing: Buffer.from(await response.arrayBuffer()) };
}

// ---- the commands ----

interface Output {
  text: string;
  json: unknown;
}

function oneId(positionals: string[], command: string): string {
  if (positionals.length !== 1) usage(`${command} takes one licence identifier`);
  return positionals[0]!;
}

function required(value: string | undefined, option: string, command: string): string {
  if (value === undefined || value === '') usage(`${command} needs ${option}`);
  return value;
}

function date(value: string | undefined, option: string): string | undefined {
  if (value !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(value)) usage(`${option} ${JSON.stringify(value)} is not a date YYYY-MM-DD`);
  return value;
}

async function run(client: LicenceClient, command: string, v: Values, positionals: string[]): Promise<{ output: Output; exitCode: number }> {
  const done = (output: Output) => ({ output, exitCode: 0 });
  switch (command) {
    case 'types': {
      if (positionals.length > 0) usage('types takes no arguments');
      const types = await client.listTypes();
      return done({ text: types.map(describeType).join(''), json: { types } });
    }
    case 'get':
      return done(licenceOutput(await client.get(oneId(positionals, command), readOptions(v, command))));
    case 'find': {
      if (positionals.length > 0) usage('find takes options only: --holder CODE, or --type TYPE --number N');
      let licences: LicenceVersion[];
      if (v.holder !== undefined) {
        if (v.number !== undefined) usage('find by --holder or by --number, not both');
        const codeType = v['holder-type'];
        if (codeType !== undefined && codeType !== '111' && codeType !== '001') usage('--holder-type is 111 (resident ID number) or 001 (USCC)');
        licences = await client.findByHolder(v.holder, codeType, v.type, readOptions(v, command));
      } else if (v.number !== undefined) {
        licences = await client.findByNumber(required(v.type, '--type TYPE', 'find --number'), v.number, readOptions(v, command));
      } else usage('find needs --holder CODE, or --type TYPE --number N');
      return done({
        text: licences.length === 0 ? 'no licences\n' : `${licences.map(licenceLine).join('')}${licences.length} licence version${licences.length === 1 ? '' : 's'}\n`,
        json: { licences: licences.map(licenceJson) },
      });
    }
    case 'history': {
      const identifier = oneId(positionals, command);
      const transitions = await client.history(identifier, readOptions(v, command));
      return done({ text: transitions.map(transitionLine).join(''), json: { identifier, transitions: transitions.map(transitionJson) } });
    }
    case 'compact': {
      const identifier = oneId(positionals, command);
      const compact = await client.compact(identifier, readOptions(v, command));
      return done({ text: `${compact}\n`, json: { identifier, compact, length: compact.length } });
    }
    case 'verify': {
      const verified = await client.verify(verificationTarget(v, positionals), verifyOptions(v));
      return { output: { text: describeVerification(verified), json: verificationJson(verified) }, exitCode: verified.result.status === 'valid' ? 0 : 1 };
    }
    case 'status-list': {
      if (positionals.length < 1 || positionals.length > 2) usage('status-list takes the issuer USCC and, optionally, the list number');
      const list = positionals[1] === undefined ? 1 : Number(positionals[1]);
      if (!Number.isInteger(list) || list < 1) usage(`the list number ${JSON.stringify(positionals[1])} is not a whole number from 1`);
      const index = v.index === undefined ? undefined : Number(v.index);
      if (index !== undefined && (!Number.isInteger(index) || index < 0)) usage(`--index ${JSON.stringify(v.index)} is not a whole number from 0`);
      return done(statusListOutput(await client.statusList(positionals[0]!, list), index));
    }
    case 'issue': {
      if (positionals.length > 0) usage('issue takes the licence as --file LICENCE.json');
      const input = readJson(required(v.file, '--file LICENCE.json', command), 'licence file');
      if (typeof input !== 'object' || input === null || Array.isArray(input)) usage('the licence file must hold one JSON object');
      return done(licenceOutput(await client.issue(input as LicenceIssueInput)));
    }
    case 'revoke':
    case 'suspend':
      return done(licenceOutput(await client[command](oneId(positionals, command), { reason: required(v.reason, '--reason R', command) })));
    case 'resume':
      return done(licenceOutput(await client.resume(oneId(positionals, command), v.reason !== undefined ? { reason: v.reason } : {})));
    case 'change': {
      const identifier = oneId(positionals, command);
      const fields = readFields(v.field);
      const validTo = date(v['valid-to'], '--valid-to');
      if (fields === undefined && v['holder-name'] === undefined && validTo === undefined) usage('change needs what changes: --field CODE=VALUE, --holder-name or --valid-to');
      return done(
        licenceOutput(
          await client.change(identifier, {
            reason: required(v.reason, '--reason R', command),
            ...(fields ? { fields } : {}),
            ...(v['holder-name'] !== undefined ? { holderName: v['holder-name'] } : {}),
            ...(validTo !== undefined ? { validTo } : {}),
          }),
        ),
      );
    }
    case 'renew':
      return done(
        licenceOutput(
          await client.renew(oneId(positionals, command), { reason: required(v.reason, '--reason R', command), validTo: date(required(v['valid-to'], '--valid-to YYYY-MM-DD', command), '--valid-to')! }),
        ),
      );
    default:
      return usage(`unknown licence command "${command}"`);
  }
}

function readFields(given: string[] | undefined): Record<string, string> | undefined {
  if (!given || given.length === 0) return undefined;
  const fields: Record<string, string> = {};
  for (const f of given) {
    const at = f.indexOf('=');
    if (at < 1) usage(`--field ${JSON.stringify(f)} is not CODE=VALUE`);
    fields[f.slice(0, at)] = f.slice(at + 1);
  }
  return fields;
}

function verificationTarget(v: Values, positionals: string[]): LicenceVerificationTarget {
  const given = [positionals.length > 0, v.compact !== undefined, v.document !== undefined || v.envelope !== undefined].filter(Boolean).length;
  if (given !== 1 || positionals.length > 1) usage('verify one licence: ID, --compact TEXT, or --document DOC.json --envelope ENV.json');
  if (positionals.length === 1) return { identifier: positionals[0]! };
  if (v.compact !== undefined) return { compact: v.compact.trim() };
  if (v.document === undefined || v.envelope === undefined) usage('--document and --envelope go together');
  return { document: readInput(v.document, 'licence document'), envelope: readInput(v.envelope, 'envelope').toString('utf8') };
}

/** A licence read is signed by a department (--key, --cert) for a case (--service-item, --case-number). */
function readOptions(v: Values, command: string): LicenceReadOptions {
  return {
    purpose: { serviceItem: required(v['service-item'], '--service-item ITEM', command), caseNumber: required(v['case-number'], '--case-number CASE', command) },
    ...(v.operator !== undefined ? { operator: v.operator } : {}),
  };
}

function verifyOptions(v: Values): Parameters<LicenceClient['verify']>[1] {
  if (v['service-item'] === undefined && v['case-number'] === undefined) {
    if (v.operator !== undefined) usage('--operator goes with --service-item and --case-number');
    return {};
  }
  return {
    purpose: { serviceItem: required(v['service-item'], '--service-item ITEM', 'a department\'s verification'), caseNumber: required(v['case-number'], '--case-number CASE', 'a department\'s verification') },
    ...(v.operator !== undefined ? { operator: v.operator } : {}),
  };
}

// ---- what is printed ----

const HOLDER_CODE = { '111': 'ID', '001': 'USCC' } as const;

function describeType(t: LicenceType): string {
  const fields = t.fields.map((f) => `${f.code}${f.required ? '' : '?'}${f.sensitive ? ' (sensitive)' : ''}`).join(', ');
  return `${t.code}  ${t.name}  held by ${t.holderKind === 'person' ? 'a person' : 'an organisation'}, issued by ${t.issuers.join(', ')}${t.validityYears ? `, valid ${t.validityYears} years` : ''}\n  fields: ${fields}\n`;
}

/** The CN of a distinguished name, else the whole name. */
function commonName(subject: string): string {
  return /(?:^|,\s*)CN=([^,]+)/.exec(subject)?.[1] ?? subject;
}

function holderText(holder: { name: string; code: string; codeType: string }): string {
  return `${holder.name} (${HOLDER_CODE[holder.codeType as '111' | '001'] ?? holder.codeType} ${holder.code})`;
}

function licenceLine(l: LicenceVersion): string {
  return `${l.identifier}  ${l.status.padEnd(10)}  ${l.document.name} ${l.document.licenceNumber}  ${l.document.holder.name}\n`;
}

function describeLicence(l: LicenceVersion): string {
  const d: LicenceDocument = l.document;
  const lines = [
    `${l.identifier}  ${l.status}`,
    `  licence number  ${d.licenceNumber} (${d.name}, version ${d.version}${l.source === 'converted' ? ', converted from stock' : ''})`,
    `  holder          ${holderText(d.holder)}`,
    `  issuer          ${d.issuer.name} (${d.issuer.code}), issued ${d.issueDate}`,
    `  validity        ${d.validFrom} to ${d.validTo ?? '长期 (no end)'}`,
  ];
  if (l.supersedes) lines.push(`  supersedes      ${l.supersedes}`);
  if (l.supersededBy) lines.push(`  superseded by   ${l.supersededBy}`);
  const fields = Object.entries(d.fields);
  if (fields.length > 0) lines.push(`  fields          ${fields.map(([k, value]) => `${k}=${String(value)}`).join('; ')}`);
  lines.push(`  status entry    ${d.status.index} of ${d.status.list}`);
  if (l.signer) lines.push(`  signed          by ${commonName(l.signer.subject)}${l.signer.uscc ? ` (USCC ${l.signer.uscc})` : ''}, checked`);
  if (l.flags.length > 0) lines.push(`  flags           ${l.flags.join(', ')}`);
  return `${lines.join('\n')}\n`;
}

function envelopeJson(envelope: SignedEnvelope): unknown {
  return envelopeToJson(envelope);
}

function licenceJson(l: LicenceVersion): unknown {
  return {
    identifier: l.identifier,
    status: l.status,
    document: l.document,
    envelope: envelopeJson(l.envelope),
    supersedes: l.supersedes,
    supersededBy: l.supersededBy,
    source: l.source,
    flags: l.flags,
    issuedAt: l.issuedAt.toISOString(),
    updatedAt: l.updatedAt.toISOString(),
    ...(l.signer ? { signer: l.signer } : {}),
  };
}

function licenceOutput(l: LicenceVersion): Output {
  return { text: describeLicence(l), json: licenceJson(l) };
}

function transitionLine(t: LicenceTransition): string {
  const change = t.from ? `${t.from} → ${t.to}` : t.to;
  return `${String(t.seq).padStart(4)}  ${t.at.toISOString()}  ${t.kind.padEnd(7)}  ${change.padEnd(24)}  by ${t.actor}${t.reason ? `  ${t.reason}` : ''}${t.envelope ? '  (signed)' : ''}\n`;
}

function transitionJson(t: LicenceTransition): unknown {
  return { ...t, at: t.at.toISOString(), envelope: t.envelope ? envelopeJson(t.envelope) : null };
}

const VERDICT: Record<string, string> = {
  valid: 'VALID',
  expired: 'NOT VALID (expired)',
  'not-yet-valid': 'NOT VALID (not yet valid)',
  suspended: 'NOT VALID (suspended)',
  revoked: 'NOT VALID (revoked)',
  superseded: 'NOT VALID (superseded by a newer version)',
};

function describeVerification(v: VerifiedLicence): string {
  const r = v.result;
  const l = r.licence;
  const lines = [
    `${VERDICT[r.status] ?? r.status}: ${l.name} ${r.identifier}`,
    `  licence number  ${l.licenceNumber} (${l.typeName}, version ${l.version})`,
    `  holder          ${holderText(l.holder)}`,
    `  issuer          ${l.issuer.name} (${l.issuer.code}), issued ${l.issueDate}`,
    `  validity        ${l.validFrom} to ${l.validTo ?? '长期 (no end)'}`,
  ];
  if (l.supersededBy) lines.push(`  superseded by   ${l.supersededBy}`);
  const fields = Object.entries(l.fields);
  if (fields.length > 0) lines.push(`  fields          ${fields.map(([k, value]) => `${k}=${String(value)}`).join('; ')}`);
  lines.push(
    `  checked         ${r.checked === 'presented' ? 'the presented document' : 'by identifier'} at ${r.checkedAt}, ${r.audience === 'public' ? 'anonymously (holder masked)' : `for ${r.audience}, access record ${r.accessId}`}`,
    `  answer signed   by ${commonName(v.signer.subject)}${v.signer.uscc ? ` (USCC ${v.signer.uscc})` : ''}, checked against the platform CA`,
  );
  return `${lines.join('\n')}\n`;
}

function verificationJson(v: VerifiedLicence): unknown {
  return { ok: true, valid: v.result.status === 'valid', result: v.result, signature: envelopeJson(v.signature), signer: v.signer };
}

function statusListOutput(list: VerifiedStatusList, index: number | undefined): Output {
  const counts = [0, 0, 0, 0];
  for (let i = 0; i < list.bitstring.size; i++) counts[list.bitstring.get(i)]!++;
  const entry = index === undefined ? undefined : { index, status: statusAt(list, index) };
  const summary = STATUS_LIST_MESSAGES.slice(1)
    .map((status, i) => `${counts[i + 1]} ${status}`)
    .join(', ');
  const lines = [
    `status list ${list.url}`,
    `  issuer          ${list.issuer.name} (${list.issuer.code})`,
    `  revision        ${list.revision}, valid ${list.validFrom.toISOString()} to ${list.validUntil.toISOString()}${list.stale ? ' (STALE)' : ''}`,
    `  entries         ${list.bitstring.size}: ${summary}, the rest active or unused`,
    `  signed          ${list.signedAt.toISOString()} by ${commonName(list.signer.subject)}${list.signer.uscc ? ` (USCC ${list.signer.uscc})` : ''}, checked against the platform CA`,
  ];
  if (entry) lines.push(`  entry ${entry.index}       ${entry.status}`);
  return {
    text: `${lines.join('\n')}\n`,
    json: {
      url: list.url,
      issuer: list.issuer,
      revision: list.revision,
      validFrom: list.validFrom.toISOString(),
      validUntil: list.validUntil.toISOString(),
      signedAt: list.signedAt.toISOString(),
      signer: { subject: list.signer.subject, uscc: list.signer.uscc ?? null, fingerprint: list.signer.fingerprint.toString('hex') },
      counts: Object.fromEntries(STATUS_LIST_MESSAGES.map((status, i) => [status, counts[i]])),
      ...(entry ? { entry } : {}),
      credential: list.credential,
    },
  };
}

