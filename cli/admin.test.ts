// `zhengtong department register` and `zhengtong role …` against a running gateway: only the administrator changes
// anything, a role granted through the API takes effect at once and is withdrawn the same way, and every change
// keeps the signed request that made it, which verifies again offline.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSm2PublicKey, sm2Verify, sm3 } from '../certs/sm2/sm2.js';
import { parseCertificate } from '../certs/x509/index.js';
import { usccCheckCharacter } from '../core/identifiers/index.js';
import { demoKeyFiles } from '../demo/index.js';
import { startTestApp, type TestApp } from '../test/support/app.js';
import { canonicalRequest } from '../transport/request-signature.js';
import { runAdminCommand } from './admin.js';

const MARKET = '11210100001000029N'; // 市场监管局: no role
const PLATFORM = '11210100001000088R';
let app: TestApp;

beforeAll(async () => {
  app = await startTestApp();
}, 120_000);
afterAll(async () => {
  await app?.close();
});

async function zt(group: 'department' | 'role', ...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runAdminCommand(group, argv, { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) } });
  return { code, stdout, stderr };
}

const as = (who: 'admin' | string): string[] => {
  if (who === 'admin') {
    const dir = (app.config as { platformKeyDir?: string }).platformKeyDir ?? app.config.caDir;
    return ['--server', app.httpUrl, '--key', join(dir, 'exchange-signer.key.pem'), '--cert', join(dir, 'exchange-signer.cert.pem')];
  }
  const files = demoKeyFiles(app.config.dataDir, who);
  return ['--server', app.httpUrl, '--key', files.key, '--cert', files.certificate];
};

function newUscc(n: number): string {
  const first = `1121010090${String(Date.now() % 1e6).padStart(6, '0')}${n}`;
  return first + usccCheckCharacter(first)!;
}

describe('zhengtong department register', () => {
  it('registers a department only when the platform administrator signs', async () => {
    const uscc = newUscc(1);
    const unsigned = await zt('department', 'register', '--uscc', uscc, '--name', '冒充局', '--server', app.httpUrl);
    expect(unsigned.code).toBe(2);
    expect(unsigned.stderr).toMatch(/--key KEY.pem --cert CERT.pem/);
    const other = await zt('department', 'register', '--uscc', uscc, '--name', '冒充局', ...as(MARKET));
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/\[ZT_ERR_ACCESS_FORBIDDEN\]/);
    expect((await fetch(`${app.httpUrl}/v1/departments/${uscc}`)).status).toBe(404);
    const ok = await zt('department', 'register', '--uscc', uscc, '--name', '沈阳市测试局', ...as('admin'), '--json');
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ uscc, name: '沈阳市测试局' });
    expect((await fetch(`${app.httpUrl}/v1/departments/${uscc}`)).status).toBe(200);
  });
});

describe('zhengtong role', () => {
  it('grants and withdraws a role with signed requests that take effect at once and verify again offline', async () => {
    const supervisors = async () => JSON.parse((await zt('role', 'list', '--role', 'supervisor', ...as(MARKET), '--json')).stdout).holders as { department: string; grantedBy: string | null; source: string }[];
    // The platform operator was bootstrapped from configuration, once: administrator and supervisor.
    expect(await supervisors()).toContainEqual(expect.objectContaining({ department: PLATFORM, grantedBy: null, source: 'bootstrap:ZT_PLATFORM_USCC' }));
    expect((await supervisors()).some((h) => h.department === MARKET)).toBe(false);

    // 市场监管局 may not read the access log, and may not grant itself the right to.
    const search = () => fetchAs(MARKET, '/v1/audit/access-records?requester=' + MARKET + '&from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z');
    expect((await search()).status).toBe(403);
    const self = await zt('role', 'grant', '--role', 'supervisor', '--department', MARKET, ...as(MARKET));
    expect(self.code).toBe(1);
    expect(self.stderr).toMatch(/\[ZT_ERR_ACCESS_FORBIDDEN\]/);

    const granted = await zt('role', 'grant', '--role', 'supervisor', '--department', MARKET, '--reason', '专项检查', ...as('admin'), '--json');
    expect(granted.stderr).toBe('');
    expect(JSON.parse(granted.stdout)).toMatchObject({ role: 'supervisor', department: MARKET, grantedBy: PLATFORM, source: 'signed', reason: '专项检查' });
    expect((await supervisors()).some((h) => h.department === MARKET)).toBe(true);
    expect((await search()).status).toBe(200);
    expect((await zt('role', 'grant', '--role', 'supervisor', '--department', MARKET, ...as('admin'))).stderr).toMatch(/\[ZT_ERR_ROLE_ALREADY_HELD\]/);

    const withdrawn = await zt('role', 'withdraw', '--role', 'supervisor', '--department', MARKET, ...as('admin'));
    expect(withdrawn.code).toBe(0);
    expect((await search()).status).toBe(403);
    expect((await zt('role', 'withdraw', '--role', 'administrator', '--department', PLATFORM, ...as('admin'))).stderr).toMatch(/\[ZT_ERR_ROLE_LAST_ADMINISTRATOR\]/);

    // The history keeps each signed request; its signature verifies over the canonical request, offline.
    const history = JSON.parse((await zt('role', 'history', '--department', MARKET, ...as(MARKET), '--json')).stdout).changes as {
      action: string;
      by: string;
      statement: { signedRequest: { method: string; path: string; timestamp: string; nonce: string; certificate: string; signature: string; body: string } };
    }[];
    expect(history.map((c) => c.action)).toEqual(['grant', 'withdraw']);
    for (const change of history) {
      const r = change.statement.signedRequest;
      const certificate = Buffer.from(r.certificate, 'base64');
      const canonical = canonicalRequest({ method: r.method, path: r.path, timestamp: r.timestamp, nonce: r.nonce, bodySm3: sm3(Buffer.from(r.body, 'utf8')), certificateSm3: sm3(certificate) });
      expect(sm2Verify(loadSm2PublicKey(new Uint8Array(parseCertificate(certificate).publicKey.rawData)), canonical, Buffer.from(r.signature, 'base64'))).toBe(true);
      expect(JSON.parse(r.body)).toMatchObject({ role: 'supervisor', department: MARKET });
    }
  });
});

async function fetchAs(who: string, path: string): Promise<Response> {
  const { signedHeaders, demoSigner } = await import('../test/support/signing.js');
  return fetch(app.httpUrl + path, { headers: await signedHeaders(demoSigner(app.config.dataDir, who), 'GET', path) });
}
