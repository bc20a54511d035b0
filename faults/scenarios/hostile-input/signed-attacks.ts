// Adversarial signed exchange queries, over HTTP (POST /v1/exchange/query) and gRPC (ExchangeService/Query), one at
// a time, each against a well-formed query that the demo grants permit: a forgery, a replay, a stale and a future
// timestamp, a body changed after signing, another department's certificate, an ECDSA P-256 signature, SM2 with
// another or an empty user ID, ECDSA over the SM2 curve, a certificate from a foreign CA, a signature that is not
// DER, a certificate that is not X.509. Each must be refused with its own code and leave exactly one access record:
// decision 'deny', that code (the well-formed query one 'permit').
import { createHash, generateKeyPairSync, randomBytes, sign as nodeSign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { encodeQueryJson, encodeQueryRequest, EXCHANGE_GRPC_PATH, EXCHANGE_HTTP_PATH, newNonce } from '../../../client/index.js';
import { encodeSignature, loadSm2PrivateKey, SM2_CURVE, sm2Sign, sm3 } from '../../../certs/sm2/sm2.js';
import { parseCertificate } from '../../../certs/x509/index.js';
import { DEPARTMENT_USCC, makeTestPki } from '../../../certs/x509/test-pki.js';
import { demoKeyFiles } from '../../../demo/index.js';
import { canonicalRequest, GRPC_METADATA, HTTP_HEADERS } from '../../../transport/request-signature.js';
import { LOAD_REQUESTER, loadQuery } from '../../load.js';
import { Findings } from './findings.js';
import { judgeGrpc } from './grpc-fuzz.js';
import { judgeHttp, send } from './http-wire.js';

const SCJG = '11210100001000029N';
const QUERY = loadQuery(0);
const CATEGORY = 'signed attacks';

interface Identity {
  key: KeyObject;
  certificate: Buffer;
}

function demoIdentity(dataDir: string, uscc: string): Identity {
  const files = demoKeyFiles(dataDir, uscc);
  return { key: loadSm2PrivateKey(readFileSync(files.key)), certificate: Buffer.from(parseCertificate(readFileSync(files.certificate)).rawData) };
}

/** A protocol the exchange speaks: the path signed, and the body for a requester and a case. */
interface Wire {
  name: 'HTTP' | 'gRPC';
  path: string;
  body: (requester: string, caseNumber: string) => Buffer;
}

const WIRES: readonly Wire[] = [
  { name: 'HTTP', path: EXCHANGE_HTTP_PATH, body: (requester, caseNumber) => encodeQueryJson({ ...QUERY, purpose: { ...QUERY.purpose, caseNumber } }, requester) },
  { name: 'gRPC', path: EXCHANGE_GRPC_PATH, body: (requester, caseNumber) => encodeQueryRequest({ ...QUERY, purpose: { ...QUERY.purpose, caseNumber } }, requester) },
];

/** A query as sent: the body, and the signature's parts. */
interface Signed {
  body: Buffer;
  timestamp: string;
  nonce: string;
  certificate: Buffer;
  signature: Buffer;
}

/** A query of `requester` signed by `sign` over its canonical request, carrying `certificate`; `tamper` changes the case after signing. */
function signedQuery(wire: Wire, o: { requester?: string; certificate: Buffer; sign: (canonical: Buffer) => Buffer; timestamp?: string; tamper?: boolean }): Signed {
  const timestamp = o.timestamp ?? new Date().toISOString();
  const nonce = newNonce();
  const body = wire.body(o.requester ?? LOAD_REQUESTER, 'HOSTILE-000001');
  const canonical = canonicalRequest({ method: 'POST', path: wire.path, timestamp, nonce, bodySm3: sm3(body), certificateSm3: sm3(o.certificate) });
  return { body: o.tamper ? wire.body(o.requester ?? LOAD_REQUESTER, 'HOSTILE-000002') : body, timestamp, nonce, certificate: o.certificate, signature: o.sign(canonical) };
}

function randomScalar(): bigint {
  return (BigInt(`0x${randomBytes(32).toString('hex')}`) % (SM2_CURVE.n - 1n)) + 1n;
}

/** ECDSA over the SM2 curve with e = SM3(M): what an 'ec' key on the SM2 curve signs (DOMAIN.md, "Pitfalls"). */
function ecdsaOverSm2(privateKey: KeyObject, message: Buffer): Buffer {
  // The private scalar from PKCS#8: ECPrivateKey { version 1, OCTET STRING (32) d, … }.
  const der = privateKey.export({ format: 'der', type: 'pkcs8' });
  const at = der.indexOf(Buffer.from([0x02, 0x01, 0x01, 0x04, 0x20])) + 5;
  const d = BigInt(`0x${der.subarray(at, at + 32).toString('hex')}`);
  const e = BigInt(`0x${createHash('sm3').update(message).digest('hex')}`);
  const { n, gx, gy, p, a } = SM2_CURVE;
  const mod = (v: bigint, m: bigint) => ((v % m) + m) % m;
  const inv = (v: bigint, m: bigint) => {
    let [r0, r1, s0, s1] = [mod(v, m), m, 1n, 0n];
    while (r1 !== 0n) {
      const q = r0 / r1;
      [r0, r1] = [r1, r0 - q * r1];
      [s0, s1] = [s1, s0 - q * s1];
    }
    return mod(s0, m);
  };
  const add = (P: [bigint, bigint] | null, Q: [bigint, bigint] | null): [bigint, bigint] | null => {
    if (!P) return Q;
    if (!Q) return P;
    if (P[0] === Q[0] && mod(P[1] + Q[1], p) === 0n) return null;
    const l = P[0] === Q[0] ? mod((3n * P[0] * P[0] + a) * inv(2n * P[1], p), p) : mod((Q[1] - P[1]) * inv(Q[0] - P[0], p), p);
    const x = mod(l * l - P[0] - Q[0], p);
    return [x, mod(l * (P[0] - x) - P[1], p)];
  };
  for (;;) {
    const k = randomScalar();
    let R: [bigint, bigint] | null = null;
    let G: [bigint, bigint] | null = [gx, gy];
    for (let kk = k; kk > 0n; kk >>= 1n) {
      if (kk & 1n) R = add(R, G);
      G = add(G, G);
    }
    const r = mod(R![0], n);
    const s = mod(inv(k, n) * (e + r * d), n);
    if (r !== 0n && s !== 0n) return encodeSignature(r, s);
  }
}

interface Attack {
  name: string;
  expected: string;
  make: (wire: Wire) => Signed;
}

/** The records an answer should have added ('permit', or deny with `code`), and all records. */
async function counts(query: (sql: string, params?: readonly unknown[]) => Promise<Record<string, unknown>[]>, code: string): Promise<{ matching: number; all: number }> {
  const [row] = await query(
    `SELECT count(*) FILTER (WHERE CASE WHEN $1 = 'permit' THEN decision = 'permit' ELSE decision = 'deny' AND error_code = $1 END)::int AS matching, count(*)::int AS "all" FROM access_record`,
    [code],
  );
  return { matching: Number(row!.matching), all: Number(row!.all) };
}

const identity = (b: Buffer): Buffer => b;

/** Sends a signed query over its wire; resolves with the code it was answered with ('permit' for a success). */
async function sendQuery(wire: Wire, q: Signed, to: { base: URL; grpc: string }, f: Findings, what: string): Promise<string | null> {
  const route = wire.name === 'HTTP' ? `POST ${wire.path}` : wire.path;
  if (wire.name === 'HTTP') {
    const headers = {
      'content-type': 'application/json',
      [HTTP_HEADERS.timestamp]: q.timestamp,
      [HTTP_HEADERS.nonce]: q.nonce,
      [HTTP_HEADERS.certificate]: q.certificate.toString('base64'),
      [HTTP_HEADERS.signature]: q.signature.toString('base64'),
    };
    const answer = await send(to.base, { method: 'POST', path: wire.path, headers, body: q.body });
    if (answer instanceof Error) {
      f.problem(`attack ${route} ${what} no answer`, `${route} ← ${what}: no answer (${answer.message})`);
      return null;
    }
    const code = judgeHttp(f, CATEGORY, route, what, answer, 'POST');
    return answer.status === 200 ? 'permit' : (code ?? `HTTP ${answer.status}`);
  }
  const metadata = new grpc.Metadata();
  metadata.set(GRPC_METADATA.timestamp, q.timestamp);
  metadata.set(GRPC_METADATA.nonce, q.nonce);
  metadata.set(GRPC_METADATA.certificate, q.certificate);
  metadata.set(GRPC_METADATA.signature, q.signature);
  const client = new grpc.Client(to.grpc, grpc.credentials.createInsecure());
  try {
    const r = await new Promise<{ code: number; details: string; ztCode: string | undefined; ztBody: string | undefined }>((resolve) =>
      client.makeUnaryRequest(wire.path, identity, identity, q.body, metadata, { deadline: Date.now() + 15_000 }, (e) => {
        const z = e?.metadata?.get('zt-error-code')[0];
        const b = e?.metadata?.get('zt-error-bin')[0];
        resolve({ code: e?.code ?? 0, details: e?.details ?? '', ztCode: typeof z === 'string' ? z : undefined, ztBody: Buffer.isBuffer(b) ? b.toString('utf8') : undefined });
      }),
    );
    judgeGrpc(f, CATEGORY, route, what, r, false);
    return r.code === 0 ? 'permit' : (r.ztCode ?? grpc.status[r.code] ?? String(r.code));
  } finally {
    client.close();
  }
}

export async function signedAttacks(
  to: { base: URL; grpc: string },
  o: { dataDir: string; query: (sql: string, params?: readonly unknown[]) => Promise<Record<string, unknown>[]>; findings: Findings; log: (l: string) => void },
): Promise<{ exchangeAnswers: number; codes: string[] }> {
  const f = o.findings;
  const ys = demoIdentity(o.dataDir, LOAD_REQUESTER);
  const scjg = demoIdentity(o.dataDir, SCJG);
  const pki = await makeTestPki();
  const foreign: Identity = { key: pki.leafKeys.privateKey, certificate: Buffer.from(pki.leaf.rawData) };
  const p256 = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
  const sm2 = (who: Identity, userId?: string) => (canonical: Buffer) => sm2Sign(who.key, canonical, userId === undefined ? {} : { userId });
  const minutes = (n: number) => new Date(Date.now() + n * 60_000).toISOString();
  const baselines = new Map<Wire, Signed>();

  const attacks: Attack[] = [
    { name: 'well-formed (the baseline)', expected: 'permit', make: (w) => baselines.set(w, signedQuery(w, { certificate: ys.certificate, sign: sm2(ys) })).get(w)! },
    { name: 'replayed (the baseline again)', expected: 'ZT_ERR_REQUEST_REPLAYED', make: (w) => baselines.get(w)! },
    { name: 'forged (a random r, s)', expected: 'ZT_ERR_SIGNATURE_INVALID', make: (w) => signedQuery(w, { certificate: ys.certificate, sign: () => encodeSignature(randomScalar(), randomScalar()) }) },
    { name: 'signed 2 hours ago', expected: 'ZT_ERR_REQUEST_STALE', make: (w) => signedQuery(w, { certificate: ys.certificate, sign: sm2(ys), timestamp: minutes(-120) }) },
    { name: 'signed 2 hours ahead', expected: 'ZT_ERR_REQUEST_STALE', make: (w) => signedQuery(w, { certificate: ys.certificate, sign: sm2(ys), timestamp: minutes(120) }) },
    { name: 'body changed after signing', expected: 'ZT_ERR_SIGNATURE_INVALID', make: (w) => signedQuery(w, { certificate: ys.certificate, sign: sm2(ys), tamper: true }) },
    { name: 'another department\'s certificate (requester ≠ signer)', expected: 'ZT_ERR_SIGNER_MISMATCH', make: (w) => signedQuery(w, { certificate: scjg.certificate, sign: sm2(scjg) }) },
    { name: 'ECDSA P-256 signature', expected: 'ZT_ERR_SIGNATURE_INVALID', make: (w) => signedQuery(w, { certificate: ys.certificate, sign: (c) => nodeSign('sha256', c, p256) }) },
    { name: 'SM2 with user ID ALICE123@YAHOO.COM', expected: 'ZT_ERR_SIGNATURE_INVALID', make: (w) => signedQuery(w, { certificate: ys.certificate, sign: sm2(ys, 'ALICE123@YAHOO.COM') }) },
    { name: 'SM2 with an empty user ID', expected: 'ZT_ERR_SIGNATURE_EMPTY_ID', make: (w) => signedQuery(w, { certificate: ys.certificate, sign: sm2(ys, '') }) },
    { name: 'ECDSA-SM3 over the SM2 curve', expected: 'ZT_ERR_SIGNATURE_NOT_SM2', make: (w) => signedQuery(w, { certificate: ys.certificate, sign: (c) => ecdsaOverSm2(ys.key, c) }) },
    { name: 'certificate from a foreign CA', expected: 'ZT_ERR_CERT_UNKNOWN_ISSUER', make: (w) => signedQuery(w, { requester: DEPARTMENT_USCC, certificate: foreign.certificate, sign: sm2(foreign) }) },
    { name: 'a signature that is not DER', expected: 'ZT_ERR_SIGNATURE_MALFORMED', make: (w) => signedQuery(w, { certificate: ys.certificate, sign: () => randomBytes(64) }) },
    { name: 'a certificate that is not X.509', expected: 'ZT_ERR_CERT_MALFORMED', make: (w) => signedQuery(w, { certificate: randomBytes(300), sign: sm2(ys) }) },
  ];

  const codes: string[] = [];
  let exchangeAnswers = 0;
  for (const wire of WIRES) {
    for (const attack of attacks) {
      const what = `${wire.name}: ${attack.name}`;
      const route = wire.name === 'HTTP' ? `POST ${wire.path}` : wire.path;
      const before = await counts(o.query, attack.expected);
      f.sent(CATEGORY);
      const answer = await sendQuery(wire, attack.make(wire), to, f, what);
      if (answer === null) continue;
      exchangeAnswers++;
      codes.push(`${what} → ${answer}`);
      if (answer !== attack.expected) f.problem(`attack ${what} ${answer}`, `${route} ← ${attack.name}: ${answer}, ${attack.expected} expected`);
      // The record is committed before the answer is sent; the little grace for a slow commit is there to say so.
      let after = await counts(o.query, attack.expected);
      for (let i = 0; i < 20 && after.all === before.all; i++) {
        await new Promise((r) => setTimeout(r, 100));
        after = await counts(o.query, attack.expected);
      }
      if (after.matching !== before.matching + 1 || after.all !== before.all + 1) {
        const kind = attack.expected === 'permit' ? 'permit' : `deny ${attack.expected}`;
        f.problem(`attack ${what} record`, `${route} ← ${attack.name}: answered ${answer} but the access log gained ${after.all - before.all} records, ${after.matching - before.matching} of them ${kind}`);
      }
    }
  }
  o.log(`signed attacks: ${codes.join('; ')}`);
  return { exchangeAnswers, codes };
}
