// The platform's signing key lives in a directory of its own (ZT_PLATFORM_KEY_DIR), never in the CA directory; a key
// that an earlier version kept there is moved out on first use, with a log line.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPlatformCa, PlatformCa } from '../certs/ca/index.js';
import { loadSm2PrivateKey, loadSm2PublicKey, publicPoint, sm2Verify, sm3 } from '../certs/sm2/sm2.js';
import { parseCertificate } from '../certs/x509/index.js';
import type { PgliteDatabase } from '../core/storage/index.js';
import { makeTestCaDir, openMigratedDatabase, rejectionCode, TEST_PUBLIC_URL, type TestCaDir } from '../test/support/ca.js';
import { EXCHANGE_SIGNER_FILES, openPlatformSigner } from './platform-signer.js';

const PLATFORM_USCC = '11210100001000088R';
const NAME = '沈阳市大数据管理局（数据共享交换）';

/** Records what is said about the key's place and state in `lines`, and counts the routine line of each loading. */
function logger() {
  const lines: { level: 'info' | 'warn'; message: string }[] = [];
  const counts = { loaded: 0 };
  return {
    lines,
    counts,
    info: (_fields: object, message: string) => void (message === 'platform signing key loaded' ? counts.loaded++ : lines.push({ level: 'info', message })),
    warn: (_fields: object, message: string) => void lines.push({ level: 'warn', message }),
  } as unknown as { lines: typeof lines; counts: typeof counts; info: () => void; warn: () => void };
}

describe('the platform signing key, apart from the CA directory', () => {
  let caDir: TestCaDir;
  let db: PgliteDatabase;
  let ca: PlatformCa;

  beforeAll(async () => {
    caDir = await makeTestCaDir();
    db = await openMigratedDatabase();
    ca = new PlatformCa({ db, material: loadPlatformCa(caDir.dir), certificateDays: 365, publicUrl: TEST_PUBLIC_URL });
  });
  afterAll(async () => {
    await db?.close();
    caDir?.remove();
  });

  it('a key that an earlier version kept in the CA directory is moved to its own directory on first use, with a log line', async () => {
    // As before: enrolled by the CA and written beside it.
    const { certificate, privateKeyPem } = await ca.enrolWithGeneratedKey({ uscc: PLATFORM_USCC, name: NAME });
    writeFileSync(join(caDir.dir, EXCHANGE_SIGNER_FILES.key), privateKeyPem, { mode: 0o600 });
    writeFileSync(join(caDir.dir, EXCHANGE_SIGNER_FILES.certificate), certificate.pem);
    const keyDir = join(caDir.dir, '..', 'moved-platform-keys');
    const log = logger();
    const platform = await openPlatformSigner(ca, keyDir, PLATFORM_USCC, NAME, { logger: log });
    try {
      expect(platform.signer.certificate?.fingerprint).toBe(sm3(new Uint8Array(parseCertificate(certificate.pem).rawData)).toString('hex'));
    } finally {
      await platform.close();
    }
    for (const f of Object.values(EXCHANGE_SIGNER_FILES)) expect(existsSync(join(caDir.dir, f)), f).toBe(false);
    expect(readFileSync(join(keyDir, EXCHANGE_SIGNER_FILES.key), 'utf8')).toBe(privateKeyPem);
    expect(statSync(join(keyDir, EXCHANGE_SIGNER_FILES.key)).mode & 0o777).toBe(0o600);
    expect(statSync(keyDir).mode & 0o077).toBe(0);
    expect(log.lines).toEqual([{ level: 'info', message: expect.stringMatching(/^moved the platform signing key from the CA directory .* to .*moved-platform-keys/) }]);
    expect(log.counts.loaded).toBe(1);

    // The next start finds it where it is and says nothing.
    const again = logger();
    const reopened = await openPlatformSigner(ca, keyDir, PLATFORM_USCC, NAME, { logger: again });
    await reopened.close();
    expect(readFileSync(join(keyDir, EXCHANGE_SIGNER_FILES.key), 'utf8')).toBe(privateKeyPem);
    expect(again.lines).toEqual([]);

    // A stale copy left in the CA directory is not used, and the operator is told to delete it.
    writeFileSync(join(caDir.dir, EXCHANGE_SIGNER_FILES.key), 'stale', { mode: 0o600 });
    const stale = logger();
    await (await openPlatformSigner(ca, keyDir, PLATFORM_USCC, NAME, { logger: stale })).close();
    expect(stale.lines).toEqual([{ level: 'warn', message: expect.stringContaining('an older platform signing key is still in the CA directory') }]);
    rmSync(join(caDir.dir, EXCHANGE_SIGNER_FILES.key));
  });

  it('two processes opening a fresh directory at once each sign with a pair that verifies, and a mismatched pair on disk is set aside, not used', async () => {
    const keyDir = mkdtempSync(join(tmpdir(), 'zt-platform-keys-'));
    const keyPath = join(keyDir, EXCHANGE_SIGNER_FILES.key);
    const certPath = join(keyDir, EXCHANGE_SIGNER_FILES.certificate);
    const matches = (keyPem: string, certPem: string): boolean =>
      publicPoint(loadSm2PrivateKey(keyPem)).equals(publicPoint(loadSm2PublicKey(new Uint8Array(parseCertificate(certPem).publicKey.rawData))));
    try {
      // As two gateway processes do on their first answers (ZT_WORKERS): both enrol; each must sign with its own pair.
      const both = await Promise.all([openPlatformSigner(ca, keyDir, PLATFORM_USCC, NAME), openPlatformSigner(ca, keyDir, PLATFORM_USCC, NAME)]);
      try {
        for (const platform of both) {
          const message = Buffer.from('a tree head');
          const signature = await platform.signer.sign(message);
          const certified = loadSm2PublicKey(new Uint8Array(parseCertificate(Buffer.from(platform.signer.certificate!.der)).publicKey.rawData));
          expect(sm2Verify(certified, message, signature)).toBe(true);
        }
      } finally {
        for (const platform of both) await platform.close();
      }
      expect(readdirSync(keyDir).filter((f) => f.endsWith('.tmp'))).toEqual([]);

      // A key and a certificate that do not belong together (the interleaving of two such writers, or an operator's
      // slip): the key is moved aside, with a warning, and a new pair enrolled.
      const other = await ca.enrolWithGeneratedKey({ uscc: PLATFORM_USCC, name: NAME });
      writeFileSync(certPath, other.certificate.pem);
      const strayKey = readFileSync(keyPath, 'utf8');
      expect(matches(strayKey, other.certificate.pem)).toBe(false);
      const log = logger();
      const reopened = await openPlatformSigner(ca, keyDir, PLATFORM_USCC, NAME, { logger: log });
      await reopened.close();
      expect(log.lines).toEqual([{ level: 'warn', message: expect.stringContaining('does not match its certificate') }]);
      expect(matches(readFileSync(keyPath, 'utf8'), readFileSync(certPath, 'utf8'))).toBe(true);
      const kept = readdirSync(keyDir).filter((f) => f.startsWith(`${EXCHANGE_SIGNER_FILES.key}.mismatched-`));
      expect(kept).toHaveLength(1);
      expect(readFileSync(join(keyDir, kept[0]!), 'utf8')).toBe(strayKey);
    } finally {
      rmSync(keyDir, { recursive: true, force: true });
    }
  });

  it('a new platform gets a key of its own there, never in the CA directory, which is refused as the key directory', async () => {
    const keyDir = caDir.platformKeyDir;
    const platform = await openPlatformSigner(ca, keyDir, PLATFORM_USCC, NAME);
    await platform.close();
    expect(existsSync(join(keyDir, EXCHANGE_SIGNER_FILES.key))).toBe(true);
    expect(parseCertificate(readFileSync(join(keyDir, EXCHANGE_SIGNER_FILES.certificate), 'utf8')).issuer).toBe(ca.issuing.subject);
    for (const inside of [caDir.dir, join(caDir.dir, 'platform'), `${caDir.dir}/`]) {
      expect(await rejectionCode(openPlatformSigner(ca, inside, PLATFORM_USCC, NAME)), inside).toBe('ZT_ERR_CONFIG_INVALID');
    }
  });
});
