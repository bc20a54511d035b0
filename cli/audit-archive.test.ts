// `zhengtong audit archive …` end to end on an embedded database in a data directory: seal --remove, list, verify
// offline (right CA, wrong CA, altered file), restore, and the usage errors.
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CA_FILES, loadPlatformCa, PlatformCa } from '../certs/ca/index.js';
import { loadConfig, type Config } from '../core/config/index.js';
import { BlindIndex } from '../core/pseudonyms/index.js';
import { migrate, openDatabase } from '../core/storage/index.js';
import { openPlatformSigner } from '../exchange/platform-signer.js';
import { AccessLogWriter } from '../audit/access-log-writer.js';
import { AuditLogService } from '../audit/log/service.js';
import { makeTestCaDir, type TestCaDir } from '../test/support/ca.js';
import { runAuditArchiveCommand } from './audit-archive.js';

const DAY = 86_400_000;

/** A checkpoint of everything sequenced so far. */
async function checkpointNow(log: AuditLogService): Promise<void> {
  await log.checkpoint({ force: true });
}

describe('zhengtong audit archive', () => {
  let root: string;
  let ca: TestCaDir;
  let otherCa: TestCaDir;
  let config: Config;
  let archiveDir: string;

  async function zt(...argv: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
    let stdout = '';
    let stderr = '';
    const io = { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) } };
    const status = await runAuditArchiveCommand(() => config, 'archive', argv, io);
    return { status, stdout, stderr };
  }

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'zt-archive-cli-'));
    ca = await makeTestCaDir();
    otherCa = await makeTestCaDir();
    archiveDir = join(root, 'sealed');
    config = loadConfig({
      env: { ZT_DATA_DIR: join(root, 'data'), ZT_CA_DIR: ca.dir, ZT_AUDIT_ARCHIVE_SEGMENT_BITS: '2', ZT_AUDIT_ARCHIVE_DIR: archiveDir, ZT_LOG_LEVEL: 'silent' },
    });
    // Nine records from 200 days ago, sequenced and checkpointed as the gateways would.
    const db = await openDatabase(config);
    try {
      await migrate(db);
      const platformCa = new PlatformCa({ db, material: loadPlatformCa(ca.dir), certificateDays: 730, publicUrl: config.publicUrl });
      const platform = await openPlatformSigner(platformCa, config.platformKeyDir, config.platformUscc, '沈阳市大数据管理局（数据共享交换）');
      const writer = new AccessLogWriter(db, { pseudonyms: new BlindIndex([{ version: 1, key: randomBytes(32) }]), instance: 'gw-cli' });
      for (let i = 0; i < 9; i++) {
        await writer.write({ decision: 'deny', errorCode: 'ZT_ERR_REQUEST_INVALID', protocol: 'http', latencyMs: 1.5, at: new Date(Date.now() - 200 * DAY + i * 1000), operator: `op-${i}`, caseNumber: randomBytes(4).toString('hex') });
      }
      await writer.close();
      const log = new AuditLogService({ db, signer: async () => platform.signer, platformUscc: config.platformUscc, sequenceMs: 0, checkpointSeconds: 0, gapSeconds: 0, gapWatchSeconds: 0, batchSize: 100 });
      await log.sequence();
      await checkpointNow(log);
      await platform.close();
    } finally {
      await db.close();
    }
  }, 60_000);

  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
    ca?.remove();
    otherCa?.remove();
  });

  it('seals and removes, lists, verifies offline, and restores', async () => {
    const dry = await zt('seal', '--dry-run');
    expect(dry.status).toBe(0);
    expect(dry.stdout).toMatch(/would seal \[0, 4\)[\s\S]*would seal \[4, 8\)[\s\S]*2 segment\(s\) would be sealed/);

    const sealed = await zt('seal', '--remove');
    expect(sealed.status, sealed.stderr).toBe(0);
    expect(sealed.stderr).toMatch(/sealing segment \[0, 4\) \(1 of 2\)/);
    expect(sealed.stdout).toMatch(/sealed \[0, 4\): 4 records in .*access-log-000000000000-000000000004\.jsonl\.gz/);
    expect(sealed.stdout).toMatch(/removed \[4, 8\) from the live log: 4 records/);
    const files = readdirSync(archiveDir).sort().map((f) => join(archiveDir, f));
    expect(files).toHaveLength(2);

    const listed = await zt('list');
    expect(listed.stdout).toMatch(/\[0, 4\) {2}sealed, records removed/);
    expect(listed.stdout).toMatch(/2 sealed segment\(s\); 0 more can be sealed now/);

    const verified = await zt('verify', ...files, '--ca-dir', ca.dir);
    expect(verified.status, verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(/^OK .*000000000000-000000000004[\s\S]*in checkpoint 9[\s\S]*2 of 2 archive files verify/);
    const explicit = await zt('verify', files[0]!, '--ca', join(ca.dir, CA_FILES.rootCertificate), '--intermediate', join(ca.dir, CA_FILES.issuingCertificate), '--json');
    expect(JSON.parse(explicit.stdout)).toMatchObject({ ok: true, header: { leafFrom: 0, leafTo: 4, records: 4 } });

    const restored = await zt('restore', files[1]!);
    expect(restored.status, restored.stderr).toBe(0);
    expect(restored.stdout).toMatch(/restored 4 records \(segment \[4, 8\), 0 already present\); the segment is marked restored/);
    expect((await zt('restore', files[1]!)).stdout).toMatch(/nothing to restore/);
    expect((await zt('list')).stdout).toMatch(/\[4, 8\) {2}sealed, records restored/);
  }, 120_000);

  it('refuses an altered file naming its line, and a file checked against another CA', async () => {
    const file = readdirSync(archiveDir).sort().map((f) => join(archiveDir, f))[0]!;
    const lines = gunzipSync(readFileSync(file)).toString('utf8').split('\n');
    lines[3] = lines[3]!.replace('op-2', 'op-X');
    const altered = join(root, 'altered.jsonl.gz');
    writeFileSync(altered, gzipSync(lines.join('\n')));
    const bad = await zt('verify', altered, file, '--ca-dir', ca.dir);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/FAILED .*altered\.jsonl\.gz[\s\S]*OK [\s\S]*1 of 2 archive files verify/);
    expect(bad.stderr).toMatch(/altered\.jsonl\.gz: line 4: the record of leaf 2 \(seq 3, .*this record was altered \[ZT_ERR_ARCHIVE_INVALID\]/);

    const copy = join(root, 'copy.jsonl.gz');
    copyFileSync(file, copy);
    const wrongCa = await zt('verify', copy, '--ca-dir', otherCa.dir);
    expect(wrongCa.status).toBe(1);
    expect(wrongCa.stderr).toMatch(/checkpoint 9 is not a valid signed checkpoint of the platform: .*not trusted/);
  });

  it('answers usage errors with status 2', async () => {
    expect((await zt('verify')).status).toBe(2);
    expect((await zt('frobnicate')).status).toBe(2);
    expect((await zt('seal', '--max-segments', 'many')).status).toBe(2);
    expect((await zt('restore')).status).toBe(2);
  });
});
