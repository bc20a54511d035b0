// The exchange benchmark's baselines: what a minimal signed exchange costs on this machine, over HTTP (fastify) and
// gRPC (grpc-js), taking the same presigned requests as the gateway. Each request's Zt-* signature is checked as the
// gateway checks it (transport/request-signature.ts reads the parts, the certificate is parsed once per distinct
// certificate and cached, SM2 verify on the main thread). Then, with ZT_BASELINE_SIGN=1 (baseline A), an answer of
// the exchange answer's size and shape is signed in a LocalSm2Signer worker pool, one signature per request; without
// it (baseline B) the exchange's own answer, captured by the bench, is sent back as a constant. Baseline C is A with
// a durable record: while the answer is signed, one row (the request's digest and the answer's SM3) is inserted into
// a PostgreSQL table in a transaction of its own, and the answer leaves only after both. It is the least a route
// must pay that keeps the exchange's rule "no record, no data" on this machine's disk: one commit per request, as a
// bare route would do it, with a pool of connections.
//
// Not done here, though the gateway does it: the time window (the bench cycles its requests, so they age), the
// chain, the nonce, the grant, the negative list, the data and the access record with its outbox event (C's row
// stands for them). That is the gateway's own work.
//
//   PORT, GRPC_PORT              where to listen (127.0.0.1)
//   ZT_BASELINE_SIGN=1           baseline A; otherwise B
//   ZT_BASELINE_RECORD_URL       with ZT_BASELINE_SIGN=1: baseline C, recording in this PostgreSQL database
//   ZT_BASELINE_RECORD_SCHEMA    C's schema there, created at start and dropped at SIGTERM
//   ZT_BASELINE_HTTP_ANSWER      the exchange's HTTP answer body (JSON text), as the bench captured it
//   ZT_BASELINE_GRPC_ANSWER      the exchange's gRPC answer (a serialised QueryResponse), base64
import type { KeyObject } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import Fastify from 'fastify';
import pg from 'pg';
import { generateSm2KeyPair, sm2Verify, sm3 } from '../certs/sm2/sm2.js';
import { LocalSm2Signer } from '../certs/signer/index.js';
import { parseCertificate } from '../certs/x509/index.js';
import { sm2PublicKey } from '../certs/x509/keys.js';
import { exchangeTypes } from '../client/request-signing.js';
import { canonicalRequest, HTTP_HEADERS, presentedGrpcSignature, presentedSignature, type PresentedSignature } from '../transport/request-signature.js';

const HTTP_PATH = '/v1/exchange/query';
const GRPC_PATH = '/zhengtong.v1.ExchangeService/Query';

const signs = process.env.ZT_BASELINE_SIGN === '1';
const httpAnswer = process.env.ZT_BASELINE_HTTP_ANSWER ?? '{}';
const grpcAnswer = Buffer.from(process.env.ZT_BASELINE_GRPC_ANSWER ?? '', 'base64');

interface KnownCertificate {
  publicKey: KeyObject;
  fingerprint: Buffer;
}
/** Parsed certificates by their DER in base64: a department presents the same one on every request. */
const certificates = new Map<string, KnownCertificate>();

function knownCertificate(der: Buffer): KnownCertificate {
  const key = der.toString('base64');
  let known = certificates.get(key);
  if (!known) {
    known = { publicKey: sm2PublicKey(parseCertificate(der).publicKey), fingerprint: sm3(der) };
    certificates.set(key, known);
  }
  return known;
}

/** The request digest of a request whose signature verifies; undefined when it does not. */
function verified(presented: PresentedSignature, path: string, body: Buffer): Buffer | undefined {
  const certificate = knownCertificate(presented.certificate);
  const canonical = canonicalRequest({ method: 'POST', path, timestamp: presented.timestamp, nonce: presented.nonce, bodySm3: sm3(body), certificateSm3: certificate.fingerprint });
  return sm2Verify(certificate.publicKey, canonical, presented.signature) ? sm3(canonical) : undefined;
}

// Baseline A's answer: the exchange's result with this request's digest, signed; the envelope as the exchange's.
const template = JSON.parse(httpAnswer) as { result?: Record<string, unknown>; signature?: Record<string, unknown> };
const { queryRequest, queryResponse } = exchangeTypes();
const grpcTemplate =
  grpcAnswer.length > 0 ? (queryResponse.toObject(queryResponse.decode(grpcAnswer), { longs: Number, defaults: false }) as { result?: Uint8Array; signature?: Record<string, unknown> }) : {};
const signer = signs ? await LocalSm2Signer.start({ privateKey: generateSm2KeyPair().privateKey }) : null;

// Baseline C's table, in a schema of its own. A logged table: its commits wait for the WAL to reach the disk, as the
// access log's do.
const recordSchema = process.env.ZT_BASELINE_RECORD_SCHEMA ?? 'zt_bench_baseline_c';
if (!/^[a-z_][a-z0-9_]*$/.test(recordSchema)) throw new Error(`ZT_BASELINE_RECORD_SCHEMA ${recordSchema} is not a plain identifier`);
const records = signs && process.env.ZT_BASELINE_RECORD_URL ? new pg.Pool({ connectionString: process.env.ZT_BASELINE_RECORD_URL, max: 16 }) : null;
if (records) {
  await records.query(`CREATE SCHEMA IF NOT EXISTS ${recordSchema}`);
  await records.query(`CREATE TABLE IF NOT EXISTS ${recordSchema}.record (seq bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(), request_digest bytea NOT NULL, response_sm3 bytea NOT NULL)`);
}
const INSERT_RECORD = `INSERT INTO ${recordSchema}.record (request_digest, response_sm3) VALUES ($1, $2)`;

/** Baseline C: the answer's signature, once the request's row is committed (A: at once). */
async function recorded<T>(digest: Buffer, payloadSm3: Buffer, signing: Promise<T>): Promise<T> {
  if (!records) return signing;
  const [signature] = await Promise.all([signing, records.query(INSERT_RECORD, [digest, payloadSm3])]);
  return signature;
}

async function signedHttpAnswer(digest: Buffer): Promise<string> {
  const result = JSON.stringify({ ...template.result, requestDigest: digest.toString('hex') });
  const payload = Buffer.from(result, 'utf8');
  const payloadSm3 = sm3(payload);
  const signature = await recorded(digest, payloadSm3, signer!.sign(payload));
  return `{"result":${result},"signature":${JSON.stringify({ ...template.signature, signature: signature.toString('base64'), payloadSm3: payloadSm3.toString('hex') })}}`;
}

async function signedGrpcAnswer(digest: Buffer): Promise<Buffer> {
  const result = template.result ? Buffer.from(JSON.stringify({ ...template.result, requestDigest: digest.toString('hex') }), 'utf8') : digest;
  const payloadSm3 = sm3(result);
  const signature = await recorded(digest, payloadSm3, signer!.sign(result));
  return Buffer.from(queryResponse.encode(queryResponse.fromObject({ result, signature: { ...grpcTemplate.signature, signature, payloadSm3 } })).finish());
}

const app = Fastify({ logger: false });
// The signature covers the body as sent: keep the bytes, and parse them as the gateway does.
app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => {
  try {
    done(null, { raw: body, json: JSON.parse((body as Buffer).toString('utf8')) as unknown });
  } catch (error) {
    done(error as Error, undefined);
  }
});
app.get('/healthz', async () => ({ status: 'ok' }));
app.post(HTTP_PATH, async (request, reply) => {
  const presented = presentedSignature((name) => request.headers[HTTP_HEADERS[name]] as string | undefined);
  const digest = verified(presented, HTTP_PATH, (request.body as { raw: Buffer }).raw);
  if (!digest) return reply.code(401).send({ code: 'ZT_ERR_SIGNATURE_INVALID' });
  reply.type('application/json; charset=utf-8');
  return signer ? signedHttpAnswer(digest) : httpAnswer;
});

const identity = (b: Buffer): Buffer => b;
const grpcServer = new grpc.Server();
grpcServer.addService(
  { Query: { path: GRPC_PATH, requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity } },
  {
    Query: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      try {
        queryRequest.decode(call.request);
        const digest = verified(presentedGrpcSignature(call.metadata), GRPC_PATH, call.request);
        if (!digest) return callback({ code: grpc.status.UNAUTHENTICATED, details: 'ZT_ERR_SIGNATURE_INVALID' });
        if (!signer) return callback(null, grpcAnswer);
        signedGrpcAnswer(digest).then(
          (answer) => callback(null, answer),
          (error: Error) => callback({ code: grpc.status.INTERNAL, details: error.message }),
        );
      } catch (error) {
        callback({ code: grpc.status.INVALID_ARGUMENT, details: (error as Error).message });
      }
    },
  },
);
await new Promise<void>((resolve, reject) =>
  grpcServer.bindAsync(`127.0.0.1:${Number(process.env.GRPC_PORT ?? 0)}`, grpc.ServerCredentials.createInsecure(), (error) => (error ? reject(error) : resolve())),
);
const address = await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) });
process.stdout.write(`listening ${address}\n`);
process.on('SIGTERM', () => {
  grpcServer.forceShutdown();
  const dropRecords = async (): Promise<void> => {
    if (!records) return;
    await records.query(`DROP SCHEMA IF EXISTS ${recordSchema} CASCADE`).catch(() => undefined);
    await records.end();
  };
  void Promise.all([app.close(), signer?.close()])
    .then(dropRecords)
    .then(() => process.exit(0));
});
