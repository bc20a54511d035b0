// `zhengtong licence verify-offline`: is a presented e-licence (a QR code's text, or a document and its envelope)
// genuine and still valid? Offline: no database, no servers, only the CA certificates and, for revocation, the
// issuer's status list downloaded beforehand (docs/licence-offline.md).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { isZtError, ZtError } from '../core/errors/index.js';
import { verifyLicenceOffline, type OfflineLicenceVerification } from '../licences/offline/index.js';
import { formatLicenceIdentifier } from '../licences/identifier.js';

export interface CommandIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

function usage(message: string): never {
  throw new ZtError('ZT_ERR_REQUEST_INVALID', `${message} (zhengtong licence verify-offline --help)`);
}

function read(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new ZtError('ZT_ERR_REQUEST_INVALID', `cannot read the ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
  }
}

function strings(value: string | boolean | (string | boolean)[] | undefined): string[] {
  return (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string');
}

/**
 * Entry point for `zhengtong licence verify-offline …`; argv may start with "licence" or with "verify-offline"; usage
 * is answered by cli/main.ts first. Returns the exit status: 0 genuine and valid, 1 genuine but not valid, 2 not
 * genuine or a usage error.
 */
export async function runLicenceOfflineCommand(argv: string[], io: CommandIo = process): Promise<number> {
  const args = argv[0] === 'licence' ? argv.slice(1) : argv;
  const command = args[0];
  let json = false;
  try {
    if (command !== 'verify-offline') usage(`unknown licence command "${command}"`);
    if (args.includes('--json')) json = true;
    const result = await verifyOffline(args.slice(1));
    const valid = result.status === 'valid';
    io.stdout.write(json ? `${JSON.stringify(toJson(result), null, 2)}\n` : describe(result));
    return valid ? 0 : 1;
  } catch (error) {
    const code = isZtError(error) ? error.code : 'ZT_ERR_INTERNAL';
    let message = isZtError(error) ? error.message : `unexpected error: ${(error as Error)?.message ?? String(error)}`;
    // The usual mistake: the root alone, while the platform certificate is issued by the issuing CA.
    if (code === 'ZT_ERR_CERT_UNKNOWN_ISSUER' && !args.includes('--intermediate')) message += ' (give the issuing CA certificate too: --intermediate ISSUING.pem)';
    if (json) io.stdout.write(`${JSON.stringify({ ok: false, error: { code, message } }, null, 2)}\n`);
    io.stderr.write(`zhengtong: ${message.replace(/\s*\n\s*/g, ' ')} [${code}]\n`);
    return 2;
  }
}

async function verifyOffline(argv: string[]): Promise<OfflineLicenceVerification> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: false,
      options: {
        payload: { type: 'string' },
        'payload-file': { type: 'string' },
        document: { type: 'string' },
        envelope: { type: 'string' },
        ca: { type: 'string', multiple: true },
        intermediate: { type: 'string', multiple: true },
        'status-list': { type: 'string' },
        'signer-cert': { type: 'string' },
        at: { type: 'string' },
        'require-fresh-list': { type: 'boolean' },
        json: { type: 'boolean' },
      },
    });
  } catch (error) {
    return usage((error as Error).message);
  }
  const v = parsed.values;
  const sources = [v.payload !== undefined, v['payload-file'] !== undefined, v.document !== undefined || v.envelope !== undefined].filter(Boolean).length;
  if (sources !== 1) usage('give the licence as --payload TEXT, --payload-file FILE, or --document FILE --envelope FILE (one of them)');
  if ((v.document === undefined) !== (v.envelope === undefined)) usage('--document and --envelope go together');
  const caFiles = strings(v.ca);
  if (caFiles.length === 0) usage('give the platform root CA certificate: --ca ROOT.pem');
  let at: Date | undefined;
  if (v.at !== undefined) {
    at = new Date(v.at);
    if (!/^\d{4}-\d{2}-\d{2}T/.test(v.at) || Number.isNaN(at.getTime())) usage(`--at ${JSON.stringify(v.at)} is not an RFC 3339 time`);
  }

  const payload = v.payload ?? (v['payload-file'] !== undefined ? read(v['payload-file'], 'payload file').toString('utf8').trim() : undefined);
  return verifyLicenceOffline({
    ...(payload !== undefined ? { payload } : {}),
    ...(v.document !== undefined ? { document: read(v.document, 'licence document'), envelope: read(v.envelope!, 'envelope').toString('utf8') } : {}),
    caCertificates: {
      trustAnchors: caFiles.map((f) => read(f, 'CA certificate')),
      intermediates: strings(v.intermediate).map((f) => read(f, 'intermediate certificate')),
    },
    ...(v['status-list'] !== undefined ? { statusList: read(v['status-list'], 'status list').toString('utf8') } : {}),
    ...(v['signer-cert'] !== undefined ? { signerCertificate: read(v['signer-cert'], 'signer certificate') } : {}),
    ...(at ? { at } : {}),
    ...(v['require-fresh-list'] ? { requireFreshStatusList: true } : {}),
  });
}

const VERDICT: Record<OfflineLicenceVerification['status'], string> = {
  valid: 'VALID',
  expired: 'NOT VALID (expired)',
  'not-yet-valid': 'NOT VALID (not yet valid)',
  suspended: 'NOT VALID (suspended)',
  revoked: 'NOT VALID (revoked)',
  superseded: 'NOT VALID (superseded by a newer version)',
  unknown: 'STATUS UNKNOWN (no status list)',
};

function describe(r: OfflineLicenceVerification): string {
  const d = r.document;
  const lines = [
    `${VERDICT[r.status]}: genuine ${d.name} ${formatLicenceIdentifier(r.identifier)}`,
    `  licence number  ${d.licenceNumber} (${d.typeName}, version ${d.version})`,
    `  holder          ${d.holder.name} (${d.holder.codeType === '001' ? 'USCC' : 'ID'} ${d.holder.code})`,
    `  issuer          ${d.issuer.name} (${d.issuer.code}), issued ${d.issueDate}`,
    `  validity        ${d.validFrom} to ${d.validTo ?? '长期 (no end)'}`,
    `  signed          ${r.signedAt.toISOString()} by ${r.signer.commonName ?? r.signer.subject}${r.signer.uscc ? ` (USCC ${r.signer.uscc})` : ''}, certificate SM3 ${r.signer.fingerprint}`,
  ];
  if (r.statusList) {
    const s = r.statusList;
    lines.push(`  status list     ${r.storedStatus} at index ${s.index} of ${s.url}, revision ${s.revision}, ${s.stale ? 'STALE since' : 'current until'} ${s.validUntil.toISOString()}`);
  }
  lines.push(`  checked         ${r.checks.join(', ')}`);
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  return `${lines.join('\n')}\n`;
}

function toJson(r: OfflineLicenceVerification): unknown {
  return {
    ok: true,
    genuine: true,
    valid: r.status === 'valid',
    status: r.status,
    ...(r.storedStatus !== undefined ? { storedStatus: r.storedStatus } : {}),
    identifier: r.document.identifier,
    document: r.document,
    signedAt: r.signedAt.toISOString(),
    signer: { ...r.signer, notAfter: r.signer.notAfter.toISOString() },
    ...(r.statusList ? { statusList: { ...r.statusList, validUntil: r.statusList.validUntil.toISOString(), signedAt: r.statusList.signedAt.toISOString() } } : {}),
    checks: r.checks,
    warnings: r.warnings,
  };
}
