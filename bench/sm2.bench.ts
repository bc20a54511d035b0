// SM2 signatures per second on one core: certs/sm2/sm2.ts (Node's OpenSSL 3 with ZA), against `openssl speed sm2`
// (the same OpenSSL code without Node in between) and sm-crypto (pure JavaScript), with ECDSA P-256 on the same
// OpenSSL as the figure a tuned curve implementation reaches. All measured in the same run.
import { execFile } from 'node:child_process';
import { createSign, createVerify, generateKeyPairSync, randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import smCrypto from 'sm-crypto';
import { generateSm2KeyPair, publicPoint, sm2Sign, sm2Verify } from '../certs/sm2/sm2.js';
import { describeMachine } from './machine.js';

const { sm2: smSm2 } = smCrypto as unknown as {
  sm2: {
    doSignature(msg: number[], privateKeyHex: string, options: { hash: boolean; der: boolean; publicKey?: string }): string;
    doVerifySignature(msg: number[], sigHex: string, publicKeyHex: string, options: { hash: boolean; der: boolean }): boolean;
  };
};

export interface Sm2Rate {
  name: string;
  signPerSecond: number;
  verifyPerSecond: number;
  note?: string;
}

/** Runs `op` for `seconds` (after a short warm-up) and returns operations per second. */
export function opsPerSecond(op: () => unknown, seconds: number): number {
  const warmUntil = performance.now() + 200;
  while (performance.now() < warmUntil) op();
  const start = performance.now();
  const end = start + seconds * 1000;
  let n = 0;
  for (let now = start; now < end; now = performance.now()) {
    for (let i = 0; i < 32; i++) op();
    n += 32;
  }
  return n / ((performance.now() - start) / 1000);
}

/** Times exactly `count` operations: for implementations too slow for a time-boxed loop. */
function rateOf(op: () => unknown, count: number): number {
  op();
  const start = performance.now();
  for (let i = 0; i < count; i++) op();
  return count / ((performance.now() - start) / 1000);
}

const run = promisify(execFile);

/** `openssl speed -seconds N sm2`, parsed; when this OpenSSL's speed has no sm2, what it does have, said plainly. */
async function opensslSpeed(seconds: number): Promise<Sm2Rate> {
  const version = (await run('openssl', ['version'])).stdout.trim().split(' ').slice(0, 2).join(' ');
  try {
    const { stdout } = await run('openssl', ['speed', '-seconds', String(seconds), 'sm2'], { maxBuffer: 1 << 20 });
    // "                              sign    verify    sign/s verify/s"
    // " 256 bits SM2 (CurveSM2)   0.0003s   0.0003s   3262.4   3526.3"
    const m = /SM2 \(CurveSM2\)\s+[\d.]+s\s+[\d.]+s\s+([\d.]+)\s+([\d.]+)/.exec(stdout);
    if (!m) throw new Error(`no SM2 line in:\n${stdout}`);
    return { name: `openssl speed sm2 (${version})`, signPerSecond: Number(m[1]), verifyPerSecond: Number(m[2]), note: 'one process, one core' };
  } catch (error) {
    // Not comparable with a signature rate, and said so: SM3 throughput is what this OpenSSL can report.
    let sm3 = '';
    try {
      const { stdout } = await run('openssl', ['speed', '-seconds', String(seconds), '-evp', 'sm3'], { maxBuffer: 1 << 20 });
      sm3 = stdout.trim().split('\n').slice(-2).join(' | ');
    } catch {
      sm3 = 'openssl speed -evp sm3 failed too';
    }
    return {
      name: `openssl speed (${version})`,
      signPerSecond: Number.NaN,
      verifyPerSecond: Number.NaN,
      note: `speed sm2 unsupported (${(error as Error).message.split('\n')[0]}); SM3 only, not comparable: ${sm3}`,
    };
  }
}

export async function benchSm2(seconds: number, smCryptoOps = 20): Promise<Sm2Rate[]> {
  const message = randomBytes(62); // the size of a batch tree head
  const { privateKey, publicKey } = generateSm2KeyPair();
  const signature = sm2Sign(privateKey, message);
  // Two rounds, before and after openssl: on a shared machine a single round can catch someone else's load.
  const round = () => [opsPerSecond(() => sm2Sign(privateKey, message), seconds / 2), opsPerSecond(() => sm2Verify(publicKey, message, signature), seconds / 2)] as const;
  const first = round();
  const openssl = await opensslSpeed(seconds);
  const second = round();
  const results: Sm2Rate[] = [
    {
      name: 'certs/sm2 sm2Sign / sm2Verify (Node, ZA cached)',
      signPerSecond: Math.max(first[0], second[0]),
      verifyPerSecond: Math.max(first[1], second[1]),
      note: `better of 2 rounds: sign ${first[0].toFixed(0)} / ${second[0].toFixed(0)}, verify ${first[1].toFixed(0)} / ${second[1].toFixed(0)}`,
    },
    openssl,
  ];
  const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const p256Signature = createSign('sha256').update(message).sign(p256.privateKey);
  results.push({
    name: 'reference: Node ECDSA P-256 / SHA-256',
    signPerSecond: opsPerSecond(() => createSign('sha256').update(message).sign(p256.privateKey), seconds),
    verifyPerSecond: opsPerSecond(() => createVerify('sha256').update(message).verify(p256.publicKey, p256Signature), seconds),
    note: "OpenSSL's tuned P-256 code",
  });
  // PKCS#8 → ECPrivateKey: the 32-byte scalar follows 02 01 01 (version) 04 20 (OCTET STRING header).
  const der = privateKey.export({ type: 'pkcs8', format: 'der' });
  const at = der.indexOf(Buffer.from('0201010420', 'hex'));
  const privateHex = der.subarray(at + 5, at + 37).toString('hex');
  const publicHex = `04${publicPoint(publicKey).toString('hex')}`;
  const bytes = [...message];
  const sig = smSm2.doSignature(bytes, privateHex, { hash: true, der: true, publicKey: publicHex });
  results.push({
    name: 'sm-crypto 0.5 (pure JavaScript)',
    signPerSecond: rateOf(() => smSm2.doSignature(bytes, privateHex, { hash: true, der: true, publicKey: publicHex }), smCryptoOps),
    verifyPerSecond: rateOf(() => smSm2.doVerifySignature(bytes, sig, publicHex, { hash: true, der: true }), smCryptoOps),
    note: `${smCryptoOps} operations each`,
  });
  return results;
}

export function printSm2(results: Sm2Rate[], seconds: number): void {
  process.stdout.write(`SM2 on one core (${seconds} s per loop; 62-byte messages, default ID):\n`);
  const base = results[0]!;
  for (const r of results) {
    const share = (v: number, b: number) => (Number.isFinite(v) ? `${((v / b) * 100).toFixed(0).padStart(4)} %` : '     ');
    const fmt = (v: number) => (Number.isFinite(v) ? v.toFixed(0) : 'n/a').padStart(7);
    process.stdout.write(
      `  ${r.name.padEnd(48)} sign ${fmt(r.signPerSecond)}/s ${share(r.signPerSecond, base.signPerSecond)}   verify ${fmt(r.verifyPerSecond)}/s ${share(r.verifyPerSecond, base.verifyPerSecond)}${r.note ? `   (${r.note})` : ''}\n`,
    );
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const seconds = Number(process.env.ZT_BENCH_SECONDS ?? 3);
  process.stdout.write(`machine: ${describeMachine()}\n`);
  printSm2(await benchSm2(seconds), seconds);
}
