// `zhengtong sign` and `zhengtong verify` as a user runs them (`node bin/zhengtong.js`), against a platform CA made
// by `zhengtong ca init` and a department whose key and CSR OpenSSL made: signatures cross-checked with OpenSSL and
// sm-crypto both ways, the three signature formats, and each failure as one line with its specific code.
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import smCrypto from 'sm-crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadSm2PublicKey, publicPoint, SM2_DEFAULT_USER_ID } from '../../certs/sm2/sm2.js';
import { ensureBuilt, killAll, runCli, tempDir, type CliRun } from './process.js';

const { sm2: smSm2 } = smCrypto as unknown as {
  sm2: { doVerifySignature(msg: number[], sigHex: string, publicKeyHex: string, options: { hash: boolean; der: boolean; userId?: string }): boolean };
};

const USCC = '11210100001000029N';
const NAME = '市场监管局';
const DISTID = `distid:${SM2_DEFAULT_USER_ID}`;

const dir = tempDir('zt-e2e-sign-');
const at = (name: string) => join(dir, name);
const caSettings = { ZT_CA_DIR: at('ca'), ZT_DATA_DIR: at('data') };
const otherCaSettings = { ZT_CA_DIR: at('other-ca'), ZT_DATA_DIR: at('other-data') };
// sign and verify are offline: a database that cannot be reached must not matter to them.
const offline = { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/unreachable' };
const root = at('ca/root-ca.cert.pem');
const issuing = at('ca/issuing-ca.cert.pem');
const chainArgs = ['--ca', root, '--intermediate', issuing];
let serial = '';
let initOutput = '';

const payload = Buffer.from('{"证照名称":"食品经营许可证","持证主体":"沈阳市某某餐饮有限公司","持证主体代码":"9144030071526726XG"}\n');

function openssl(args: string[]): string {
  return execFileSync('openssl', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function ok(run: CliRun): string {
  expect(run.code, `exit ${run.code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`).toBe(0);
  return run.stdout;
}

/** Exit 1 and exactly one line on stderr, `zhengtong: … [CODE]`; returns the code. */
function failure(run: CliRun): string {
  const context = `exit ${run.code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
  expect(run.code, context).toBe(1);
  expect(run.timedOut, context).toBe(false);
  const lines = run.stderr.split('\n').filter((l) => l.trim() !== '');
  expect(lines, context).toHaveLength(1);
  expect(lines[0], context).toMatch(/^zhengtong: .+ \[ZT_ERR_[A-Z0-9_]+\]$/);
  return /\[(ZT_ERR_[A-Z0-9_]+)\]$/.exec(lines[0]!)![1]!;
}

const zt = (args: string[], settings: Record<string, string> = offline) => runCli(args, settings, 60_000);
const verify = (sig: string, extra: string[], input = at('licence.json')) => zt(['verify', '--in', input, '--sig', sig, ...extra]);

beforeAll(async () => {
  await ensureBuilt();
  writeFileSync(at('licence.json'), payload);
  // The department's key and CSR come from OpenSSL; the CA is ours. Two CAs, so one can be the stranger.
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:SM2', '-out', 'dept.key']);
  openssl(['req', '-new', '-key', 'dept.key', '-sm3', '-sigopt', DISTID, '-subj', '/CN=market regulation', '-out', 'dept.csr']);
  openssl(['pkey', '-in', 'dept.key', '-pubout', '-out', 'dept.pub']);
  const [init, otherInit] = await Promise.all([zt(['ca', 'init'], caSettings), zt(['ca', 'init', '--organisation', '大连市大数据管理局'], otherCaSettings)]);
  initOutput = ok(init);
  ok(otherInit);
  const [enrol, otherEnrol] = await Promise.all([
    zt(['ca', 'enrol', '--uscc', USCC, '--name', NAME, '--csr', at('dept.csr'), '--out', at('dept.pem')], caSettings),
    zt(['ca', 'enrol', '--uscc', '9144030071526726XG', '--name', '外地某单位', '--generate', '--key-out', at('stranger.key'), '--out', at('stranger.pem')], otherCaSettings),
  ]);
  serial = /^serial\s+([0-9A-Fa-f]+)$/m.exec(ok(enrol))![1]!;
  ok(otherEnrol);
}, 240_000);

afterEach(async () => {
  await killAll();
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('zhengtong ca init: the root CA key apart from what serve reads', () => {
  it('init wrote the root key to <data>/ca-root and said so; ca crl --root --root-key re-signs the root CRL that ZT_CA_DIR publishes', async () => {
    expect(readdirSync(at('ca')).sort()).toEqual(['issuing-ca.cert.pem', 'issuing-ca.key.pem', 'root-ca.cert.pem', 'root-ca.crl.pem']);
    const rootKey = at('data/ca-root/root-ca.key.pem');
    expect(statSync(rootKey).mode & 0o777).toBe(0o600);
    expect(statSync(at('data/ca-root')).mode & 0o777).toBe(0o700);
    expect(initOutput).toContain(`root CA key: ${rootKey}`);
    expect(initOutput).toMatch(/serve never reads it: take it offline/);

    // The published root CRL is the one init signed (number 1); with the key brought back, a new one (number 2).
    expect(ok(await zt(['ca', 'crl', '--root', '--out', at('root-1.pem')], caSettings))).toMatch(/^CRL number 1, /m);
    const signed = await zt(['ca', 'crl', '--root', '--root-key', rootKey, '--days', '30', '--out', at('root-2.pem')], caSettings);
    expect(ok(signed)).toMatch(/^CRL number 2, next update /m);
    expect(signed.stderr).toContain(`published in ${at('ca/root-ca.crl.pem')}`);
    expect(readFileSync(at('ca/root-ca.crl.pem'), 'utf8')).toBe(readFileSync(at('root-2.pem'), 'utf8'));
    expect(openssl(['crl', '-in', 'root-2.pem', '-noout', '-text'])).toMatch(/X509v3 CRL Number:\s+2\b/);
    // Signing the root CRL with any other key is refused.
    expect(failure(await zt(['ca', 'crl', '--root', '--root-key', at('ca/issuing-ca.key.pem')], caSettings))).toBe('ZT_ERR_REQUEST_INVALID');
  }, 120_000);
});

describe('zhengtong sign / verify: interoperable SM2', () => {
  it('sign --format der: OpenSSL (with distid) and sm-crypto verify it, and so does zhengtong verify', async () => {
    const signed = ok(await zt(['sign', '--key', at('dept.key'), '--in', at('licence.json'), '--format', 'der', '--out', at('ours.der')]));
    expect(signed).toMatch(/der signature written to/);
    const signature = readFileSync(at('ours.der'));
    expect(signature[0]).toBe(0x30);
    expect(openssl(['pkeyutl', '-verify', '-pubin', '-inkey', 'dept.pub', '-rawin', '-digest', 'sm3', '-pkeyopt', DISTID, '-in', 'licence.json', '-sigfile', 'ours.der'])).toMatch(
      /Signature Verified Successfully/,
    );
    const xy = `04${publicPoint(loadSm2PublicKey(readFileSync(at('dept.pub')))).toString('hex')}`;
    expect(smSm2.doVerifySignature([...payload], signature.toString('hex'), xy, { hash: true, der: true })).toBe(true);
    const line = ok(await verify(at('ours.der'), ['--cert', at('dept.pem'), ...chainArgs]));
    expect(line).toMatch(new RegExp(`^verified: signed by ${NAME} \\(USCC ${USCC}\\)`));
    expect(line.trim().split('\n')).toHaveLength(1);
  }, 90_000);

  it('a signature OpenSSL made with distid passes verify --cert --ca --intermediate', async () => {
    openssl(['pkeyutl', '-sign', '-inkey', 'dept.key', '-rawin', '-digest', 'sm3', '-pkeyopt', DISTID, '-in', 'licence.json', '-out', 'openssl.der']);
    expect(ok(await verify(at('openssl.der'), ['--cert', at('dept.pem'), ...chainArgs]))).toMatch(new RegExp(`^verified: signed by ${NAME} \\(USCC ${USCC}\\)`));
    // The public key alone will do, without a certificate or trust anchor.
    expect(ok(await verify(at('openssl.der'), ['--pubkey', at('dept.pub')]))).toMatch(/^verified: signed by the key in /);
  }, 90_000);

  it('json and protobuf envelopes carry the certificate; verify detects the format and names signer and time', async () => {
    const [json, protobuf, toStdout] = await Promise.all([
      zt(['sign', '--key', at('dept.key'), '--cert', at('dept.pem'), '--in', at('licence.json'), '--out', at('envelope.json')]),
      zt(['sign', '--key', at('dept.key'), '--cert', at('dept.pem'), '--in', at('licence.json'), '--format', 'protobuf', '--out', at('envelope.pb')]),
      zt(['sign', '--key', at('dept.key'), '--in', at('licence.json'), '--format', 'json']),
    ]);
    ok(json);
    ok(protobuf);
    const envelope = JSON.parse(readFileSync(at('envelope.json'), 'utf8')) as { algorithm: string; userId: string; signer: { certificate?: string }; signingTime: string };
    expect(envelope).toMatchObject({ algorithm: 'SM2-SM3', userId: SM2_DEFAULT_USER_ID });
    expect(Buffer.from(envelope.signer.certificate!, 'base64')).toEqual(Buffer.from(readFileSync(at('dept.pem'), 'utf8').replace(/-----[^-]+-----|\s/g, ''), 'base64'));
    // Without --cert and --out: the envelope on standard output, no certificate in it.
    expect(JSON.parse(ok(toStdout))).toMatchObject({ algorithm: 'SM2-SM3', signer: {} });
    writeFileSync(at('bare.json'), toStdout.stdout);

    const [fromJson, fromProtobuf, bare] = await Promise.all([
      verify(at('envelope.json'), chainArgs),
      verify(at('envelope.pb'), chainArgs),
      verify(at('bare.json'), ['--cert', at('dept.pem'), ...chainArgs]),
    ]);
    expect(ok(fromJson)).toBe(`verified: signed by ${NAME} (USCC ${USCC}) at ${envelope.signingTime} [json envelope, user ID ${SM2_DEFAULT_USER_ID}]\n`);
    expect(ok(fromProtobuf)).toMatch(new RegExp(`^verified: signed by ${NAME} \\(USCC ${USCC}\\) at \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z \\[protobuf envelope`));
    expect(ok(bare)).toMatch(/\[json envelope/);
  }, 90_000);
});

describe('zhengtong verify: each failure with its code', () => {
  it('a tampered file is ZT_ERR_SIGNATURE_INVALID, for DER and for envelopes', async () => {
    const tampered = at('tampered.json');
    writeFileSync(tampered, Buffer.concat([payload.subarray(0, -2), Buffer.from(' }\n')]));
    const runs = await Promise.all([
      verify(at('ours.der'), ['--cert', at('dept.pem'), ...chainArgs], tampered),
      verify(at('envelope.json'), chainArgs, tampered),
      verify(at('envelope.pb'), chainArgs, tampered),
    ]);
    for (const run of runs) expect(failure(run)).toBe('ZT_ERR_SIGNATURE_INVALID');
  }, 90_000);

  it('an OpenSSL signature without distid (empty user ID) is ZT_ERR_SIGNATURE_EMPTY_ID', async () => {
    openssl(['pkeyutl', '-sign', '-inkey', 'dept.key', '-rawin', '-digest', 'sm3', '-in', 'licence.json', '-out', 'empty-id.der']);
    const run = await verify(at('empty-id.der'), ['--cert', at('dept.pem'), ...chainArgs]);
    expect(failure(run)).toBe('ZT_ERR_SIGNATURE_EMPTY_ID');
    expect(run.stderr).toContain('distid');
  }, 90_000);

  it("ECDSA from an 'ec' key on the SM2 curve is ZT_ERR_SIGNATURE_NOT_SM2; garbage is ZT_ERR_SIGNATURE_MALFORMED", async () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'SM2' });
    writeFileSync(at('ec.pub'), ec.publicKey.export({ type: 'spki', format: 'pem' }));
    writeFileSync(at('ecdsa.der'), nodeSign('sm3', payload, ec.privateKey));
    writeFileSync(at('garbage.sig'), Buffer.from('30060201000201ff', 'hex'));
    writeFileSync(at('text.sig'), 'not a signature at all');
    const [ecdsa, garbage, text] = await Promise.all([
      verify(at('ecdsa.der'), ['--pubkey', at('ec.pub')]),
      verify(at('garbage.sig'), ['--pubkey', at('dept.pub')]),
      verify(at('text.sig'), ['--pubkey', at('dept.pub')]),
    ]);
    expect(failure(ecdsa)).toBe('ZT_ERR_SIGNATURE_NOT_SM2');
    expect(failure(garbage)).toBe('ZT_ERR_SIGNATURE_MALFORMED');
    expect(failure(text)).toBe('ZT_ERR_SIGNATURE_MALFORMED');
  }, 90_000);

  it('a certificate from another CA is ZT_ERR_CERT_UNKNOWN_ISSUER, though its signature is good', async () => {
    ok(await zt(['sign', '--key', at('stranger.key'), '--cert', at('stranger.pem'), '--in', at('licence.json'), '--out', at('stranger.json')]));
    const [ours, theirs] = await Promise.all([verify(at('stranger.json'), chainArgs), verify(at('stranger.json'), ['--ca', at('other-ca/root-ca.cert.pem'), '--intermediate', at('other-ca/issuing-ca.cert.pem')])]);
    expect(failure(ours)).toBe('ZT_ERR_CERT_UNKNOWN_ISSUER');
    expect(ok(theirs)).toMatch(/^verified: signed by 外地某单位 \(USCC 9144030071526726XG\)/);
  }, 90_000);

  it('keys: malformed PEM is ZT_ERR_KEY_MALFORMED, a P-256 key ZT_ERR_KEY_NOT_SM2', async () => {
    writeFileSync(at('broken.key'), '-----BEGIN PRIVATE KEY-----\nTm90IGEga2V5IGF0IGFsbA==\n-----END PRIVATE KEY-----\n');
    const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(at('p256.key'), p256.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(at('p256.pub'), p256.publicKey.export({ type: 'spki', format: 'pem' }));
    const [broken, p256Sign, p256Verify] = await Promise.all([
      zt(['sign', '--key', at('broken.key'), '--in', at('licence.json'), '--format', 'der']),
      zt(['sign', '--key', at('p256.key'), '--in', at('licence.json'), '--format', 'der']),
      verify(at('ours.der'), ['--pubkey', at('p256.pub')]),
    ]);
    expect(failure(broken)).toBe('ZT_ERR_KEY_MALFORMED');
    expect(failure(p256Sign)).toBe('ZT_ERR_KEY_NOT_SM2');
    expect(failure(p256Verify)).toBe('ZT_ERR_KEY_NOT_SM2');
  }, 90_000);

  it('after `ca revoke` and `ca crl`, verify --crl is ZT_ERR_CERT_REVOKED; a CRL of another CA does not count', async () => {
    ok(await zt(['ca', 'crl', '--out', at('before.pem')], caSettings));
    expect(ok(await verify(at('envelope.json'), [...chainArgs, '--crl', at('before.pem')]))).toMatch(/^verified: /);
    ok(await zt(['ca', 'revoke', '--serial', serial, '--reason', 'keyCompromise'], caSettings));
    ok(await zt(['ca', 'crl', '--out', at('crl.pem')], caSettings));
    ok(await zt(['ca', 'crl', '--out', at('other-crl.pem')], otherCaSettings));
    const [envelope, der, foreignCrl, withoutCrl] = await Promise.all([
      verify(at('envelope.json'), [...chainArgs, '--crl', at('crl.pem')]),
      verify(at('openssl.der'), ['--cert', at('dept.pem'), ...chainArgs, '--crl', at('crl.pem')]),
      verify(at('envelope.json'), [...chainArgs, '--crl', at('other-crl.pem')]),
      verify(at('envelope.json'), chainArgs),
    ]);
    expect(failure(envelope)).toBe('ZT_ERR_CERT_REVOKED');
    expect(envelope.stderr).toContain('keyCompromise');
    expect(failure(der)).toBe('ZT_ERR_CERT_REVOKED');
    expect(failure(foreignCrl)).toBe('ZT_ERR_CERT_CHAIN_INVALID');
    // Without a CRL, revocation is not checked.
    expect(ok(withoutCrl)).toMatch(/^verified: /);
  }, 90_000);
});
