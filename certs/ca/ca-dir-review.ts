// What serve tells the operator about its CA directory at start: a root CA key still beside the issuing key (a
// directory made before the root key was kept apart), and a root CRL missing or near its nextUpdate. Serve never
// signs with the root key, with one exception for such an old directory: it has no root CRL file yet (serve used to
// sign the root CRL itself), and without one no department certificate would validate, so the root CRL is signed
// once with the key found there, exactly as `ca crl --root --root-key` would, and the operator is told to move it.
import { join } from 'node:path';
import { CA_FILES, loadRootCaKey, rootKeyBesideIssuingKey, writeRootCrl } from './ca-files.js';
import type { PlatformCa } from './platform-ca.js';

/** Warn this long before the root CRL's nextUpdate: it takes the offline root key to re-sign it. */
const ROOT_CRL_WARNING_DAYS = 30;
const DAY_MS = 24 * 3600 * 1000;

/** Reviews the CA directory for serve; returns the warnings to log (none for a directory as `ca init` makes it). */
export async function reviewCaDirectory(ca: PlatformCa, dir: string, passphrase?: string, now = new Date()): Promise<string[]> {
  const warnings: string[] = [];
  const legacyKey = join(dir, CA_FILES.rootKey);
  let unreadable: string | null = null;
  let rootCrl = await ca.rootCrl().catch((error: unknown) => {
    if ((error as { code?: string }).code !== 'ZT_ERR_CA_NOT_INITIALISED') unreadable = (error as Error).message;
    return null;
  });
  if (rootKeyBesideIssuingKey(dir)) {
    if (!rootCrl) {
      const signed = await ca.signRootCrl(loadRootCaKey(legacyKey, passphrase));
      writeRootCrl(dir, signed.crl);
      rootCrl = signed;
      warnings.push(`signed the root CRL (${join(dir, CA_FILES.rootCrl)}, next update ${signed.nextUpdate.toISOString()}) once with the root CA key found in ${dir}; serve will not use that key again`);
    }
    warnings.push(
      `the root CA key ${legacyKey} is in the CA directory beside the issuing key; serve does not need it: move it to a directory of its own ` +
        `(e.g. mkdir -m 700 ${dir}-root && mv ${legacyKey} ${dir}-root/) and take that offline; ` +
        `\`zhengtong ca crl --root --root-key FILE\` re-signs the root CRL with it`,
    );
  }
  if (!rootCrl && unreadable) {
    warnings.push(`${unreadable}: certificates will not validate until it is signed again with \`zhengtong ca crl --root --root-key FILE\``);
  } else if (!rootCrl) {
    warnings.push(`no root CRL in ${dir} (${CA_FILES.rootCrl}): certificates will not validate until one is signed with \`zhengtong ca crl --root --root-key FILE\``);
  } else if (rootCrl.nextUpdate.getTime() - now.getTime() < ROOT_CRL_WARNING_DAYS * DAY_MS) {
    const when = rootCrl.nextUpdate.getTime() <= now.getTime() ? 'expired at' : 'expires at';
    warnings.push(`the root CRL ${when} ${rootCrl.nextUpdate.toISOString()}; re-sign it with the offline root key: \`zhengtong ca crl --root --root-key FILE\``);
  }
  return warnings;
}
