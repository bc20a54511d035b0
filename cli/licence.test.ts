// `zhengtong licence …` run in-process against a real gateway (embedded database, demo data): what it prints, in
// text and JSON, and its exit status for success, a refusal, a licence that is not valid, and a usage error.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CA_FILES } from '../certs/ca/ca-files.js';
import { exportPem } from '../certs/x509/index.js';
import { makeTestPki } from '../certs/x509/test-pki.js';
import { DEMO_SUBJECTS } from '../exchange/datasets/index.js';
import { demoKeyFiles } from '../demo/index.js';
import { startTestApp, type TestApp } from '../test/support/app.js';
import { randomUscc } from '../test/support/ca.js';
import { runLicenceCommand } from './licence.js';

const MARKET = '11210100001000029N';
const CIVIL = '11210100001000045C';
const YS = '112101000010000537';
const BUSINESS_LICENCE = '11100000MB0002581X001';

let app: TestApp;
let dir: string;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function zt(...argv: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await runLicenceCommand(['licence', ...argv], { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) } });
  return { code, stdout, stderr };
}

function json<T = Record<string, any>>(run: Run): T { // eslint-disable-line @typescript-eslint/no-explicit-any
  return JSON.parse(run.stdout) as T;
}

/** The connection and trust options; `as` adds a department's key. */
function server(protocol: 'http' | 'grpc', as?: string): string[] {
  const ca = ['--ca', join(app.config.caDir, CA_FILES.rootCertificate), '--intermediate', join(app.config.caDir, CA_FILES.issuingCertificate)];
  const where = protocol === 'http' ? ['--server', app.httpUrl] : ['--grpc', app.grpcAddress];
  const key = as ? ['--key', demoKeyFiles(app.config.dataDir, as).key, '--cert', demoKeyFiles(app.config.dataDir, as).certificate] : [];
  return [...where, ...ca, ...key];
}

/** A licence read: signed by 市场监管局 (which issues 营业执照) for a case. */
function reading(protocol: 'http' | 'grpc'): string[] {
  return [...server(protocol, MARKET), '--service-item', 'QYKB-210100-0009', '--case-number', 'SC-2026-000321'];
}

function licenceFile(holder = randomUscc()): string {
  const file = join(dir, `${holder}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      typeCode: BUSINESS_LICENCE,
      licenceNumber: holder,
      holder: { name: '沈阳市命令行测试有限公司', code: holder },
      validFrom: '2026-01-15',
      fields: {
        enterpriseType: '有限责任公司',
        legalRepresentative: DEMO_SUBJECTS.applicant.name,
        registeredCapital: '80.00',
        establishedOn: '2026-01-15',
        address: '辽宁省沈阳市皇姑区黄河南大街1号',
        businessScope: '软件开发',
      },
    }),
  );
  return file;
}

beforeAll(async () => {
  app = await startTestApp({ licenceAnonymousRate: 0 });
  dir = mkdtempSync(join(tmpdir(), 'zt-licence-cli-'));
});

afterAll(async () => {
  await app?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.each(['http', 'grpc'] as const)('zhengtong licence over %s', (protocol) => {
  it('issues, gets, verifies and revokes a licence, with --json', async () => {
    const issue = await zt('issue', '--file', licenceFile(), ...server(protocol, MARKET), '--json');
    expect(issue.stderr).toBe('');
    expect(issue.code).toBe(0);
    const issued = json(issue);
    expect(issued).toMatchObject({ status: 'active', document: { issuer: { code: MARKET }, version: 1, holder: { name: '沈阳市命令行测试有限公司', codeType: '001' } } });
    const id = issued.identifier as string;
    expect(id.startsWith(`1.2.156.3005.2.${BUSINESS_LICENCE}.${MARKET}.`)).toBe(true);

    const get = await zt('get', id, ...reading(protocol), '--json', '--verify-document');
    expect(get.code).toBe(0);
    expect(json(get)).toMatchObject({ identifier: id, status: 'active', document: issued.document, envelope: issued.envelope, signer: { uscc: '11210100001000088R' } });

    const anonymous = await zt('verify', id, ...server(protocol), '--json');
    expect(anonymous.code).toBe(0);
    expect(json(anonymous)).toMatchObject({ ok: true, valid: true, result: { identifier: id, status: 'valid', audience: 'public', licence: { holder: { name: '沈阳******有限公司' } } } });

    const department = await zt('verify', id, ...server(protocol, YS), '--service-item', 'QYKB-210100-0009', '--case-number', 'YS-2026-000900', '--operator', 'wang.wu', '--json');
    expect(department.code).toBe(0);
    const checked = json(department);
    expect(checked.result).toMatchObject({ status: 'valid', audience: YS, licence: { holder: issued.document.holder } });
    expect(checked.result.requestDigest).toMatch(/^[0-9a-f]{64}$/);

    const revoke = await zt('revoke', id, '--reason', '营业执照被依法吊销', ...server(protocol, MARKET), '--json');
    expect(revoke.code).toBe(0);
    expect(json(revoke)).toMatchObject({ identifier: id, status: 'revoked' });

    // A revoked licence verifies (the answer is genuine) but is not valid: exit status 1.
    const after = await zt('verify', id, ...server(protocol), '--json');
    expect(after.code).toBe(1);
    expect(json(after)).toMatchObject({ ok: true, valid: false, result: { status: 'revoked' } });
    const text = await zt('verify', id, ...server(protocol));
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/^NOT VALID \(revoked\): 营业执照 /);

    // Revoking again is refused by the registry: exit status 1, the code in brackets.
    const again = await zt('revoke', id, '--reason', '重复', ...server(protocol, MARKET));
    expect(again.code).toBe(1);
    expect(again.stdout).toBe('');
    expect(again.stderr).toMatch(/^zhengtong: .+ \[ZT_ERR_LICENCE_STATE\]\n$/);
  });

  it('prints short summaries by default', async () => {
    const issue = await zt('issue', '--file', licenceFile(), ...server(protocol, MARKET));
    expect(issue.code).toBe(0);
    const id = issue.stdout.split(/\s/)[0]!;
    expect(issue.stdout).toMatch(/^1\.2\.156\.3005\.2\.\S+  active\n  licence number  /);
    expect(issue.stdout).toContain('  holder          沈阳市命令行测试有限公司 (USCC ');

    const change = await zt('change', id, '--reason', '注册资本变更', '--field', 'registeredCapital=120.00', ...server(protocol, MARKET));
    expect(change.code).toBe(0);
    expect(change.stdout).toContain(`  supersedes      ${id}`);
    expect(change.stdout).toContain('registeredCapital=120.00');

    const history = await zt('history', id, ...reading(protocol));
    expect(history.stdout.split('\n').filter(Boolean).map((l) => l.trim().split(/\s+/)[2])).toEqual(['issue', 'change']);
    expect(history.stdout).toContain(`by ${MARKET}  注册资本变更  (signed)`);

    const find = await zt('find', '--holder', DEMO_SUBJECTS.restaurant.uscc, '--type', BUSINESS_LICENCE, ...reading(protocol));
    expect(find.code).toBe(0);
    expect(find.stdout).toMatch(/superseded .* 营业执照 91210103MA0U7G5K1B  沈阳盛京味道餐饮有限公司\n/);
    expect(find.stdout).toMatch(/2 licence versions\n$/);

    const types = await zt('types', ...server(protocol));
    expect(types.stdout).toContain(`${BUSINESS_LICENCE}  营业执照  held by an organisation, issued by ${MARKET}`);

    const compact = await zt('compact', id, ...reading(protocol));
    expect(compact.stdout).toMatch(/^ZTL1:/);
    const byCompact = await zt('verify', '--compact', compact.stdout.trim(), ...server(protocol));
    expect(byCompact.code).toBe(1);
    expect(byCompact.stdout).toMatch(/^NOT VALID \(superseded by a newer version\)/);

    const list = await zt('status-list', MARKET, '--index', '0', ...server(protocol));
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^status list \S+\/v1\/licence-status-lists\/11210100001000029N\/1\n/);
    expect(list.stdout).toMatch(/entries {9}\d+: \d+ suspended, \d+ revoked, \d+ superseded/);
  });

  it('refuses what the registry refuses, with exit status 1', async () => {
    const civil = await zt('issue', '--file', licenceFile(), ...server(protocol, CIVIL), '--json');
    expect(civil.code).toBe(1);
    expect(json(civil)).toMatchObject({ ok: false, error: { code: 'ZT_ERR_LICENCE_ISSUER_NOT_AUTHORISED' } });
    expect(civil.stderr).toMatch(/\[ZT_ERR_LICENCE_ISSUER_NOT_AUTHORISED\]\n$/);

    const [restaurant] = json<{ licences: { identifier: string }[] }>(await zt('find', '--holder', DEMO_SUBJECTS.restaurant.uscc, '--type', BUSINESS_LICENCE, ...reading(protocol), '--json')).licences;
    const id = restaurant!.identifier;
    const wrong = id.slice(0, -1) + (id.endsWith('0') ? '1' : '0');
    const get = await zt('get', wrong, ...reading(protocol));
    expect(get.code).toBe(1);
    expect(get.stderr).toMatch(/\[ZT_ERR_LICENCE_IDENTIFIER_CHECK\]\n$/);
  });
});

describe('zhengtong licence', () => {
  it('fetches the issuing CA certificate from the server when only --ca is given', async () => {
    const [restaurant] = json<{ licences: { identifier: string }[] }>(await zt('find', '--holder', DEMO_SUBJECTS.restaurant.uscc, ...reading('http'), '--json')).licences;
    const run = await zt('verify', restaurant!.identifier, '--server', app.httpUrl, '--ca', join(app.config.caDir, CA_FILES.rootCertificate));
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^(VALID|NOT VALID)/);
  });

  it('finds the server and the CA from the settings when not told', async () => {
    const saved = { ZT_DATA_DIR: process.env.ZT_DATA_DIR, ZT_HTTP_PORT: process.env.ZT_HTTP_PORT, ZT_CA_DIR: process.env.ZT_CA_DIR };
    process.env.ZT_DATA_DIR = app.config.dataDir;
    process.env.ZT_HTTP_PORT = new URL(app.httpUrl).port;
    delete process.env.ZT_CA_DIR;
    try {
      const run = await zt('types', '--json');
      expect(run.stderr).toBe('');
      expect(json(run).types.map((t: { code: string }) => t.code)).toContain(BUSINESS_LICENCE);
      process.env.ZT_DATA_DIR = join(dir, 'nowhere');
      const none = await zt('types');
      expect(none.code).toBe(2);
      expect(none.stderr).toMatch(/give the platform CA: --ca ROOT\.pem .*there is none in .*nowhere/);
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it('refuses an answer signed under another CA', async () => {
    const other = await makeTestPki();
    const root = join(dir, 'other-root.pem');
    const issuing = join(dir, 'other-issuing.pem');
    writeFileSync(root, exportPem(other.root));
    writeFileSync(issuing, exportPem(other.issuing));
    const list = await zt('status-list', MARKET, '--server', app.httpUrl, '--ca', root, '--intermediate', issuing);
    expect(list.code).toBe(1);
    expect(list.stderr).toMatch(/^zhengtong: the status list 1 of 11210100001000029N is not verified: .*does not check out.*\[ZT_CLIENT_RESPONSE_UNVERIFIED\]\n$/);
    const [restaurant] = json<{ licences: { identifier: string }[] }>(await zt('find', '--holder', DEMO_SUBJECTS.restaurant.uscc, ...reading('grpc'), '--json')).licences;
    const run = await zt('verify', restaurant!.identifier, '--grpc', app.grpcAddress, '--ca', root, '--intermediate', issuing);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/the licence verification is not verified: the signer's certificate is not trusted.*\[ZT_CLIENT_RESPONSE_UNVERIFIED\]\n$/);
  });

  it('says what is wrong with the command line, with exit status 2', async () => {
    const cases: [string[], RegExp][] = [
      [['frobnicate'], /unknown licence command "frobnicate"/],
      [['issue', '--file', 'x.json', ...server('http')], /issue needs the department's key/],
      [['revoke', 'ID', ...server('http', MARKET)], /revoke needs --reason R/],
      [['verify', ...server('http')], /verify one licence/],
      [['verify', 'ID', '--service-item', 'X', '--case-number', 'Y', ...server('http')], /a department's verification needs the department's key/],
      [['find', ...reading('http')], /find needs --holder CODE, or --type TYPE --number N/],
      [['get', 'ID', ...server('http')], /get needs the department's key/],
      [['get', 'ID', ...server('http', MARKET)], /get needs --service-item ITEM/],
      [['change', 'ID', '--reason', 'r', ...server('http', MARKET)], /change needs what changes/],
      [['renew', 'ID', '--reason', 'r', '--valid-to', '2030/01/01', ...server('http', MARKET)], /--valid-to "2030\/01\/01" is not a date/],
      [['get', 'ID', '--bogus', ...server('http')], /Unknown option '--bogus'/],
      [['issue', '--file', join(dir, 'missing.json'), ...server('http', MARKET)], /cannot read the licence file .*ENOENT/],
    ];
    for (const [argv, message] of cases) {
      const run = await zt(...argv);
      expect(run.code, argv.join(' ')).toBe(2);
      expect(run.stderr, argv.join(' ')).toMatch(message);
    }
  });

  it('hands verify-offline to the offline verifier', async () => {
    const run = await zt('verify-offline');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/give the licence as --payload/);
  });
});
