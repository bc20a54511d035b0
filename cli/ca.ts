// `zhengtong ca …`: the platform CA from the command line.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { initPlatformCa, REVOCATION_REASONS, type IssuedCertificate } from '../certs/ca/index.js';
import type { Config } from '../core/config/index.js';
import { ZtError } from '../core/errors/index.js';
import { createLogger } from '../core/logging/index.js';
import { buildApp, type App } from '../gateway/app.js';
import type { RevocationReason } from '../certs/x509/index.js';

export const CA_HELP = `Usage: zhengtong ca <command> [options]

  init    [--organisation NAME] [--province P] [--locality L] [--passphrase-file F]
          create the root and issuing CA in ZT_CA_DIR (keys PKCS#8 PEM, mode 0600; encrypted with the
          passphrase if given, which the service then needs in ZT_CA_PASSPHRASE)
  enrol   --uscc CODE --name NAME (--csr FILE | --generate --key-out FILE) [--out FILE]
          issue a department certificate for the key of a CSR (the department keeps its private key), or, for
          demos, generate the key here; registers the department if it is new
  revoke  --serial HEX --reason REASON      reasons: ${REVOCATION_REASONS.join(', ')}
  status  --serial HEX                      good, revoked (when, why) or expired
  crl     [--root] [--out FILE] [--der]     write the issuing CA's current CRL (or, with --root, the root CA's;
                                            PEM by default); verify --crl takes both for a full offline check`;

function usage(message: string): never {
  throw new ZtError('ZT_ERR_REQUEST_INVALID', `${message} (zhengtong ca help)`);
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ZtError('ZT_ERR_REQUEST_INVALID', `cannot read the ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
  }
}

function describe(c: IssuedCertificate): string {
  const revoked = c.revokedAt ? ` (revoked ${c.revokedAt.toISOString()}, ${c.revocationReason})` : '';
  return [
    `serial       ${c.serial}`,
    `subject      ${c.subject}`,
    `department   ${c.departmentUscc ?? '-'}`,
    `valid        ${c.notBefore.toISOString()} to ${c.notAfter.toISOString()}`,
    `fingerprint  SM3 ${c.fingerprintSm3}`,
    `status       ${c.status}${revoked}`,
  ].join('\n');
}

async function withApp<T>(config: Config, fn: (app: App) => Promise<T>): Promise<T> {
  const app = await buildApp(config, { logger: createLogger({ level: 'warn', instanceId: config.instanceId! }) });
  try {
    if (!app.ctx.ca) throw new ZtError('ZT_ERR_CA_NOT_INITIALISED', `no platform CA in ${config.caDir}; run \`zhengtong ca init\` first`);
    return await fn(app);
  } finally {
    await app.close();
  }
}

export async function runCa(config: Config, argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      organisation: { type: 'string' },
      province: { type: 'string' },
      locality: { type: 'string' },
      'passphrase-file': { type: 'string' },
      uscc: { type: 'string' },
      name: { type: 'string' },
      csr: { type: 'string' },
      generate: { type: 'boolean' },
      'key-out': { type: 'string' },
      out: { type: 'string' },
      serial: { type: 'string' },
      reason: { type: 'string' },
      der: { type: 'boolean' },
      root: { type: 'boolean' },
    },
  });
  const command = positionals[1] ?? 'help';
  const out = (text: string): void => void process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);

  switch (command) {
    case 'help':
      return out(CA_HELP);
    case 'init': {
      const passphrase = values['passphrase-file'] ? readText(values['passphrase-file'], 'passphrase file').replace(/\r?\n$/, '') : config.caPassphrase;
      const material = await initPlatformCa({
        dir: config.caDir,
        passphrase,
        organisation: values.organisation ?? '沈阳市大数据管理局',
        province: values.province ?? '辽宁省',
        locality: values.locality ?? '沈阳市',
        publicUrl: config.publicUrl,
      });
      return out(
        [
          `created the platform CA in ${material.dir}${passphrase ? ' (keys encrypted with the passphrase)' : ''}`,
          `  root     ${material.root.certificate.subject}  serial ${material.root.certificate.serialNumber.toUpperCase()}`,
          `  issuing  ${material.issuing.certificate.subject}  serial ${material.issuing.certificate.serialNumber.toUpperCase()}`,
          `trust anchor: ${material.dir}/root-ca.cert.pem (also served at ${config.publicUrl}/v1/ca/root.pem)`,
        ].join('\n'),
      );
    }
    case 'enrol': {
      if (!values.uscc || !values.name) usage('enrol needs --uscc and --name');
      if (!values.csr === !values.generate) usage('enrol needs either --csr FILE or --generate');
      if (values.generate && !values['key-out']) usage('--generate needs --key-out FILE for the department\'s private key');
      const uscc = values.uscc;
      const name = values.name;
      return withApp(config, async (app) => {
        const ca = app.ctx.ca!;
        await app.ctx.departments.get(uscc.toUpperCase()).catch(async (error: unknown) => {
          if ((error as ZtError).code !== 'ZT_ERR_DEPARTMENT_NOT_FOUND') throw error;
          await app.ctx.departments.register({ uscc, name });
        });
        let certificate: IssuedCertificate;
        if (values.csr) {
          certificate = await ca.enrolFromCsr(readText(values.csr, 'CSR'), { uscc, name });
        } else {
          const issued = await ca.enrolWithGeneratedKey({ uscc, name });
          writeFileSync(values['key-out']!, issued.privateKeyPem, { mode: 0o600, flag: 'wx' });
          certificate = issued.certificate;
        }
        if (values.out) writeFileSync(values.out, certificate.pem);
        out(`${describe(certificate)}\n${values.out ? `certificate written to ${values.out}` : certificate.pem}`);
      });
    }
    case 'revoke': {
      if (!values.serial || !values.reason) usage('revoke needs --serial and --reason');
      const reason = values.reason as RevocationReason;
      return withApp(config, async (app) => out(describe(await app.ctx.ca!.revoke(values.serial!, reason))));
    }
    case 'status': {
      if (!values.serial) usage('status needs --serial');
      return withApp(config, async (app) => out(describe(await app.ctx.ca!.status(values.serial!))));
    }
    case 'crl':
      return withApp(config, async (app) => {
        const crl = values.root ? await app.ctx.ca!.rootCrl() : await app.ctx.ca!.crl();
        if (values.out) {
          writeFileSync(values.out, values.der ? crl.der : crl.pem);
          out(`CRL number ${crl.crlNumber}, next update ${crl.nextUpdate.toISOString()}, written to ${values.out}`);
        } else if (values.der) process.stdout.write(crl.der);
        else out(crl.pem);
      });
    default:
      usage(`unknown ca command "${command}"`);
  }
}
