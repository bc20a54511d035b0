// `zhengtong ca …`: the platform CA from the command line.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CA_FILES, initPlatformCa, loadRootCaKey, ROOT_CRL_DAYS, writeRootCrl, type IssuedCertificate } from '../certs/ca/index.js';
import type { Config } from '../core/config/index.js';
import { ZtError } from '../core/errors/index.js';
import { createLogger } from '../core/logging/index.js';
import { buildApp, type App } from '../gateway/app.js';
import type { RevocationReason } from '../certs/x509/index.js';

function usage(command: string | undefined, message: string): never {
  throw new ZtError('ZT_ERR_REQUEST_INVALID', `${message} (zhengtong ca${command === undefined ? ' help' : ` ${command} --help`})`);
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

/** `zhengtong ca <command> …` (argv includes "ca"); usage, and unknown or missing commands, are answered by cli/main.ts first. */
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
      'root-key': { type: 'string' },
      'root-key-out': { type: 'string' },
      days: { type: 'string' },
    },
  });
  const command = positionals[1];
  const out = (text: string): void => void process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  const passphrase = (): string | undefined =>
    values['passphrase-file'] ? readText(values['passphrase-file'], 'passphrase file').replace(/\r?\n$/, '') : config.caPassphrase;

  switch (command) {
    case 'init': {
      const keyPassphrase = passphrase();
      const material = await initPlatformCa({
        dir: config.caDir,
        rootKeyDir: values['root-key-out'] ?? config.caRootKeyDir,
        passphrase: keyPassphrase,
        organisation: values.organisation ?? '沈阳市大数据管理局',
        province: values.province ?? '辽宁省',
        locality: values.locality ?? '沈阳市',
        publicUrl: config.publicUrl,
      });
      const rootCrl = await material.rootCrl();
      return out(
        [
          `created the platform CA${keyPassphrase ? ' (keys encrypted with the passphrase)' : ''}`,
          `  root     ${material.root.certificate.subject}  serial ${material.root.certificate.serialNumber.toUpperCase()}`,
          `  issuing  ${material.issuing.certificate.subject}  serial ${material.issuing.certificate.serialNumber.toUpperCase()}`,
          `serve reads ${material.dir}: ${CA_FILES.rootCertificate}, ${CA_FILES.rootCrl}, ${CA_FILES.issuingCertificate}, ${CA_FILES.issuingKey}`,
          `root CA key: ${material.rootKeyPath}`,
          `  serve never reads it: take it offline now (e.g. removable media kept locked away) and delete it here.`,
          `  It is needed only to re-sign the root CRL before ${rootCrl?.nextUpdate?.toISOString() ?? '?'}: zhengtong ca crl --root --root-key FILE`,
          `trust anchor: ${material.dir}/${CA_FILES.rootCertificate} (also served at ${config.publicUrl}/v1/ca/root.pem)`,
        ].join('\n'),
      );
    }
    case 'enrol': {
      if (!values.uscc || !values.name) usage(command, 'enrol needs --uscc and --name');
      if (!values.csr === !values.generate) usage(command, 'enrol needs either --csr FILE or --generate');
      if (values.generate && !values['key-out']) usage(command, '--generate needs --key-out FILE for the department\'s private key');
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
      if (!values.serial || !values.reason) usage(command, 'revoke needs --serial and --reason');
      const reason = values.reason as RevocationReason;
      return withApp(config, async (app) => out(describe(await app.ctx.ca!.revoke(values.serial!, reason))));
    }
    case 'status': {
      if (!values.serial) usage(command, 'status needs --serial');
      return withApp(config, async (app) => out(describe(await app.ctx.ca!.status(values.serial!))));
    }
    case 'crl': {
      if (values['root-key'] && !values.root) usage(command, '--root-key signs the root CRL: give --root too');
      if (values.days && !values['root-key']) usage(command, '--days applies to a root CRL signed with --root-key');
      const days = values.days === undefined ? ROOT_CRL_DAYS : Number(values.days);
      if (!Number.isInteger(days) || days < 1 || days > 3660) usage(command, '--days must be a whole number of days from 1 to 3660');
      return withApp(config, async (app) => {
        let crl;
        if (values['root-key']) {
          // The root key is read for this one signature and not kept; serve picks the new file up by itself.
          crl = await app.ctx.ca!.signRootCrl(loadRootCaKey(values['root-key'], passphrase()), { days });
          const path = writeRootCrl(config.caDir, crl.crl);
          process.stderr.write(`signed root CRL number ${crl.crlNumber}, next update ${crl.nextUpdate.toISOString()}, published in ${path}\n`);
        } else {
          crl = values.root ? await app.ctx.ca!.rootCrl() : await app.ctx.ca!.crl();
        }
        if (values.out) {
          writeFileSync(values.out, values.der ? crl.der : crl.pem);
          out(`CRL number ${crl.crlNumber}, next update ${crl.nextUpdate.toISOString()}, written to ${values.out}`);
        } else if (values.der) process.stdout.write(crl.der);
        else out(crl.pem);
      });
    }
    default:
      usage(undefined, command === undefined ? 'which ca command?' : `unknown ca command "${command}"`);
  }
}
