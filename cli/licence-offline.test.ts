import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envelopeToJson } from '../certs/envelope/index.js';
import { exportPem } from '../certs/x509/index.js';
import { encodeCompactLicence } from '../licences/offline/index.js';
import { businessLicence, makeLicenceWorld, PLATFORM_USCC, signedList, signLicence, type LicenceWorld } from '../licences/offline/test-support.js';
import { runLicenceOfflineCommand } from './licence-offline.js';

let dir: string;
let world: LicenceWorld;
let other: LicenceWorld;
const file = (name: string): string => join(dir, name);

async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runLicenceOfflineCommand(['licence', 'verify-offline', ...argv], {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
  });
  return { code, stdout, stderr };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'zt-licence-offline-'));
  world = await makeLicenceWorld();
  other = await makeLicenceWorld();
  const valid = businessLicence(world, 0);
  const validEnvelope = await signLicence(world, valid);
  const revoked = businessLicence(world, 1);
  const expired = businessLicence(world, 2, { validFrom: '2015-01-01', validTo: '2020-12-31' });
  writeFileSync(file('root.pem'), exportPem(world.pki.root));
  writeFileSync(file('issuing.pem'), exportPem(world.pki.issuing));
  writeFileSync(file('other-root.pem'), exportPem(other.pki.root));
  writeFileSync(file('platform.pem'), exportPem(world.platformCertificate));
  writeFileSync(file('list.json'), JSON.stringify(await signedList(world, [{ counter: 1, status: 'revoked' }]), null, 2));
  writeFileSync(file('valid.txt'), `${encodeCompactLicence({ document: valid, envelope: validEnvelope })}\n`);
  writeFileSync(file('revoked.txt'), encodeCompactLicence({ document: revoked, envelope: await signLicence(world, revoked) }));
  writeFileSync(file('expired.txt'), encodeCompactLicence({ document: expired, envelope: await signLicence(world, expired) }));
  writeFileSync(file('document.json'), JSON.stringify(valid, null, 2));
  writeFileSync(file('envelope.json'), JSON.stringify(envelopeToJson(validEnvelope)));
  writeFileSync(file('tampered.json'), JSON.stringify({ ...valid, holder: { ...valid.holder, name: '冒名顶替有限公司' } }));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const trust = (): string[] => ['--ca', file('root.pem'), '--intermediate', file('issuing.pem')];

describe('zhengtong licence verify-offline', () => {
  it('exits 0 and summarises a genuine, valid licence from its QR text', async () => {
    const r = await run('--payload-file', file('valid.txt'), ...trust(), '--status-list', file('list.json'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^VALID: genuine 营业执照 1\.2\.156\.3005\.2\./);
    expect(r.stdout).toContain('沈阳市和平区老边饺子餐饮有限公司');
    expect(r.stdout).toContain(`USCC ${PLATFORM_USCC}`);
    expect(r.stdout).toMatch(/status list +active at index \d+ of https:/);
  });

  it('prints JSON with --json', async () => {
    const payload = (await import('node:fs')).readFileSync(file('valid.txt'), 'utf8').trim();
    const r = await run('--payload', payload, ...trust(), '--status-list', file('list.json'), '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, any>;
    expect(out).toMatchObject({ ok: true, genuine: true, valid: true, status: 'valid', storedStatus: 'active', signer: { uscc: PLATFORM_USCC, source: 'status-list' } });
    expect(out.document.holder.name).toBe('沈阳市和平区老边饺子餐饮有限公司');
  });

  it('exits 1 for a genuine licence that is revoked, or expired', async () => {
    const revoked = await run('--payload-file', file('revoked.txt'), ...trust(), '--status-list', file('list.json'));
    expect(revoked.code).toBe(1);
    expect(revoked.stdout).toMatch(/^NOT VALID \(revoked\): genuine/);
    const expired = await run('--payload-file', file('expired.txt'), ...trust(), '--status-list', file('list.json'), '--json');
    expect(expired.code).toBe(1);
    expect(JSON.parse(expired.stdout)).toMatchObject({ genuine: true, valid: false, status: 'expired' });
  });

  it('exits 1 when the status cannot be known for want of a list, saying so', async () => {
    const r = await run('--document', file('document.json'), '--envelope', file('envelope.json'), ...trust());
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^STATUS UNKNOWN/);
    expect(r.stdout).toMatch(/warning: no status list given/);
  });

  it('exits 2 with the code on standard error for a tampered document', async () => {
    const r = await run('--document', file('tampered.json'), '--envelope', file('envelope.json'), ...trust(), '--json');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^zhengtong: the licence does not match the registry's signature.*\[ZT_ERR_LICENCE_TAMPERED\]\n$/);
    expect(r.stderr.split('\n')).toHaveLength(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, error: { code: 'ZT_ERR_LICENCE_TAMPERED' } });
  });

  it('exits 2 when the licence does not chain to the CA given', async () => {
    const r = await run('--payload-file', file('valid.txt'), '--ca', file('other-root.pem'), '--signer-cert', file('platform.pem'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\[ZT_ERR_CERT_UNKNOWN_ISSUER\]\n$/);
  });

  it('exits 2 on usage errors', async () => {
    for (const argv of [
      ['--payload-file', file('valid.txt')],
      [...trust()],
      ['--payload', 'x', '--document', file('document.json'), ...trust()],
      ['--document', file('document.json'), ...trust()],
      ['--payload-file', file('missing.txt'), ...trust()],
      ['--payload-file', file('valid.txt'), ...trust(), '--at', 'yesterday'],
      ['--payload-file', file('valid.txt'), ...trust(), '--frobnicate'],
    ]) {
      const r = await run(...argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr, argv.join(' ')).toMatch(/^zhengtong: .*\[ZT_ERR_REQUEST_INVALID\]\n$/);
    }
    const garbage = await run('--payload', 'ZTL1:%%%', ...trust());
    expect(garbage.code).toBe(2);
    expect(garbage.stderr).toMatch(/\[ZT_ERR_LICENCE_DOCUMENT_MALFORMED\]/);
  });

  it('checks as of --at', async () => {
    const r = await run('--payload-file', file('valid.txt'), ...trust(), '--status-list', file('list.json'), '--at', new Date(Date.now() + 3 * 86_400_000).toISOString());
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/STALE since/);
    const strict = await run('--payload-file', file('valid.txt'), ...trust(), '--status-list', file('list.json'), '--at', new Date(Date.now() + 3 * 86_400_000).toISOString(), '--require-fresh-list');
    expect(strict.code).toBe(2);
    expect(strict.stderr).toMatch(/expired at .*\[ZT_ERR_STATUS_LIST_INVALID\]/);
  });
});
