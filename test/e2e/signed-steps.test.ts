// Signing demand steps from the command line, as a department's operator without an SDK does: `zhengtong sign
// --step` with the key and certificate the demo wrote, then curl-style POSTs to a running instance.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoKeyFiles } from '../../demo/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { ensureBuilt, runCli, tempDir } from './process.js';

const GA = '11210100001000010R';
const YS = '112101000010000537';
const offline = { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/unreachable' };

let app: TestApp;
const dir = tempDir('zt-e2e-steps-');

beforeAll(async () => {
  await ensureBuilt();
  app = await startTestApp();
}, 240_000);
afterAll(async () => {
  await app?.close();
});

const keyArgs = (uscc: string) => ['--key', demoKeyFiles(app.config.dataDir, uscc).key, '--cert', demoKeyFiles(app.config.dataDir, uscc).certificate];

async function post(path: string, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) {
  const response = await fetch(app.httpUrl + path, { method: 'POST', body, headers });
  return { status: response.status, json: (await response.json()) as Record<string, any> };
}

describe('zhengtong sign --step', () => {
  it('signs a registration and the supplier’s approval that the API then takes', async () => {
    const registration = {
      requester: YS,
      resource: '210100-GA-0001',
      items: ['name', 'idNumber'],
      serviceItem: 'CLI-STEP-0001',
      legalBasis: { title: '《优化营商环境条例》' },
      expectedDailyVolume: 20,
      validTo: '2099-12-31',
    };
    writeFileSync(join(dir, 'register.json'), JSON.stringify(registration));
    const unsigned = await post('/v1/catalogue/demands', JSON.stringify(registration));
    expect(unsigned.json.code).toBe('ZT_ERR_TRANSITION_UNSIGNED');
    const signedRegistration = await runCli(['sign', '--step', 'register', ...keyArgs(YS), '--in', join(dir, 'register.json')], offline, 60_000);
    expect(signedRegistration.code, signedRegistration.stderr).toBe(0);
    const registered = await post('/v1/catalogue/demands', signedRegistration.stdout);
    expect(registered.status).toBe(201);
    expect(registered.json.state).toBe('pending');

    writeFileSync(join(dir, 'approve.json'), JSON.stringify({ actor: GA, terms: { dailyQuota: 10 } }));
    // The requester's key cannot sign the supplier's approval.
    const wrongKey = await runCli(['sign', '--step', 'approve', '--demand', registered.json.id, ...keyArgs(YS), '--in', join(dir, 'approve.json')], offline, 60_000);
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stderr).toContain('the certificate is 112101000010000537');
    const approval = await runCli(['sign', '--step', 'approve', '--demand', registered.json.id, ...keyArgs(GA), '--in', join(dir, 'approve.json')], offline, 60_000);
    expect(approval.code, approval.stderr).toBe(0);
    const approved = await post(`/v1/catalogue/demands/${registered.json.id}/approve`, approval.stdout);
    expect(approved.json).toMatchObject({ state: 'approved', terms: { dailyQuota: 10 } });
    // The same signed approval again: the demand has moved on.
    expect((await post(`/v1/catalogue/demands/${registered.json.id}/approve`, approval.stdout)).json.code).toBe('ZT_ERR_DEMAND_STATE');
  });

  it('signs a demand-list import for the Zt-Signature header', async () => {
    const csv = [
      'requester,resource,items,serviceItem,legalBasisTitle,legalBasisArticle,expectedDailyVolume,validFrom,validTo',
      `${YS},210100-SC-0001,uscc;entName,CLI-IMPORT-0001,《优化营商环境条例》,,5,,2099-12-31`,
      '',
    ].join('\n');
    writeFileSync(join(dir, 'demands.csv'), csv);
    const header = await runCli(['sign', '--step', 'import', ...keyArgs(YS), '--in', join(dir, 'demands.csv')], offline, 60_000);
    expect(header.code, header.stderr).toBe(0);
    const imported = await post('/v1/catalogue/demands/import', csv, { 'content-type': 'text/csv', 'zt-signature': header.stdout.trim() });
    expect(imported.json, JSON.stringify(imported.json)).toMatchObject({ imported: 1 });
    const tampered = await post('/v1/catalogue/demands/import', csv.replace('5,,2099', '50,,2099'), { 'content-type': 'text/csv', 'zt-signature': header.stdout.trim() });
    expect(tampered.json.code).toBe('ZT_ERR_SIGNATURE_INVALID');
  });
});
