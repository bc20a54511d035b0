// The client against two small exchanges started here, one on node:http and one on grpc-js. Each checks the
// client's request signature with exchange/protocol and sm2Verify over the bytes it received (so the bytes signed are
// the bytes sent), decodes the request independently of the client (JSON.parse; @grpc/proto-loader), and answers as
// the current test tells it: a result signed by a platform certificate from a test CA, a tampered or mis-bound one,
// one signed under another CA, or a refusal. Every case runs over both protocols.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PlatformCa } from '../certs/ca/index.js';
import { envelopeToJson, envelopeToMessage, signEnvelope, type SignedEnvelope } from '../certs/envelope/index.js';
import { InProcessSm2Signer, type Signer } from '../certs/signer/index.js';
import { generateSm2KeyPair, loadSm2PublicKey, sm2Verify, sm3 } from '../certs/sm2/sm2.js';
import { DEPARTMENT_USCC, makeTestPki } from '../certs/x509/test-pki.js';
import { exportPem, parseCertificate } from '../certs/x509/index.js';
import { canonicalJson } from '../core/canonical-json.js';
import { isZtError } from '../core/errors/index.js';
import { packageRoot } from '../core/paths.js';
import type { PgliteDatabase } from '../core/storage/index.js';
import { canonicalRequest, GRPC_METADATA, HTTP_HEADERS, NONCE, presentedSignature, type RequestSignatureParts } from '../transport/request-signature.js';
import { makeTestCaDir, openMigratedDatabase, TEST_PUBLIC_URL, type TestCaDir } from '../test/support/ca.js';
import {
  DepartmentKey,
  encodeQueryJson,
  encodeQueryRequest,
  EXCHANGE_RESULT_SCHEMA,
  ExchangeClient,
  ExchangeClientError,
  ExchangeError,
  newNonce,
  ResponseVerifier,
  signHttpRequest,
  signGrpcRequest,
  verifyExchangeResponse,
  type ExchangeClientOptions,
  type QueryInput,
} from './index.js';

// The platform's USCC is the one test-pki's CA puts in its certificates: a certificate from that other CA naming the
// platform is the forgery to refuse.
const PLATFORM_USCC = DEPARTMENT_USCC;
const REQUESTER_USCC = '11100000000013338W';
const QUERY: QueryInput = {
  resource: '210100-GA-0001',
  items: ['name', 'idNumber', 'address'],
  subject: { kind: 'person', code: '11010519491231002X' },
  purpose: { serviceItem: 'QYKB-210100-0002', caseNumber: 'YS-2026-000123' },
  operator: 'zhang.san',
};
const PROTOCOLS = ['http', 'grpc'] as const;

interface Received {
  protocol: 'http' | 'grpc';
  body: Buffer;
  /** The request as the server decoded it. */
  fields: Record<string, unknown>;
  parts: RequestSignatureParts;
  /** SM3 of the canonical request, as the server computes it. */
  digest: Buffer;
  signatureValid: boolean;
  certificate: Buffer;
}

type Reply =
  | { result: Record<string, unknown>; envelope: SignedEnvelope; /** gRPC: send these bytes rather than canonicalJson(result). */ bytes?: Buffer }
  | { refusal: { httpStatus: number; grpcStatus: grpc.status; body: { code: string; message: string; requestId: string; details?: unknown } } };

type Behaviour = (request: Received) => Promise<Reply>;

let caDir: TestCaDir;
let db: PgliteDatabase;
let ca: PlatformCa;
let platformSigner: InProcessSm2Signer;
let revokedSigner: InProcessSm2Signer;
let foreignSigner: InProcessSm2Signer;
let department: { privateKeyPem: string; certificatePem: string };
let httpServer: Server;
let grpcServer: grpc.Server;
let httpUrl: string;
let grpcAddress: string;
let behaviour: Behaviour;
const received: Received[] = [];
const clients: ExchangeClient[] = [];

function resultFor(r: Received, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const f = r.fields as { requester: string; resource: string; subject: object; purpose: object };
  return {
    schema: EXCHANGE_RESULT_SCHEMA,
    accessId: '0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
    requestDigest: r.digest.toString('hex'),
    requester: f.requester,
    resource: f.resource,
    subject: f.subject,
    purpose: f.purpose,
    decision: 'permit',
    policyRevision: '2025-08-01.1',
    ruleIds: ['NL-GA-0001'],
    items: { name: '张三', idNumber: '110105********002X' },
    masked: ['idNumber'],
    withheld: [{ item: 'address', ruleIds: ['NL-GA-0003'] }],
    provenance: [{ item: 'name', supplier: '11210100001000010R', resource: f.resource, source: 'table:210100-GA-0001', retrievedAt: '2026-11-27T01:02:03.700Z' }],
    respondedAt: '2026-11-27T01:02:03.789Z',
    // Canonical JSON leaves null members out: over HTTP the client must do the same before verifying.
    note: null,
    ...overrides,
  };
}

async function signed(result: Record<string, unknown>, signer: Signer = platformSigner): Promise<Reply> {
  return { result, envelope: await signEnvelope(signer, Buffer.from(canonicalJson(result), 'utf8')) };
}

const good: Behaviour = (r) => signed(resultFor(r));

function refusal(code: string, httpStatus: number, grpcStatus: grpc.status, details?: unknown): Reply {
  return { refusal: { httpStatus, grpcStatus, body: { code, message: `refused: ${code}`, requestId: `req-${code}`, ...(details !== undefined ? { details } : {}) } } };
}

/** What both test exchanges do with a request: check its signature as the gateway does, then ask the behaviour. */
async function handle(protocol: 'http' | 'grpc', path: string, body: Buffer, read: (k: keyof typeof HTTP_HEADERS) => string | Buffer | undefined, decode: () => Record<string, unknown>): Promise<Reply> {
  let presented;
  try {
    presented = presentedSignature(read);
  } catch (error) {
    if (!isZtError(error)) throw error;
    return refusal(error.code, error.httpStatus, error.grpcStatus as grpc.status);
  }
  const parts: RequestSignatureParts = { method: 'POST', path, timestamp: presented.timestamp, nonce: presented.nonce, bodySm3: sm3(body), certificateSm3: sm3(presented.certificate) };
  const publicKey = loadSm2PublicKey(new Uint8Array(parseCertificate(presented.certificate).publicKey.rawData));
  const r: Received = {
    protocol,
    body,
    fields: decode(),
    parts,
    digest: sm3(canonicalRequest(parts)),
    // sm2Verify uses the GM/T 0009 default user ID, as the protocol says.
    signatureValid: sm2Verify(publicKey, canonicalRequest(parts), presented.signature),
    certificate: presented.certificate,
  };
  received.push(r);
  if (!r.signatureValid) return refusal('ZT_ERR_SIGNATURE_INVALID', 401, grpc.status.UNAUTHENTICATED);
  return behaviour(r);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

async function onHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readBody(req);
  if (req.method !== 'POST' || req.url !== '/v1/exchange/query' || req.headers['content-type'] !== 'application/json') {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not here');
    return;
  }
  const header = (k: keyof typeof HTTP_HEADERS) => {
    const v = req.headers[HTTP_HEADERS[k]];
    return Array.isArray(v) ? v.join(',') : v;
  };
  const reply = await handle('http', req.url, body, header, () => JSON.parse(body.toString('utf8')) as Record<string, unknown>);
  if ('refusal' in reply) {
    res.writeHead(reply.refusal.httpStatus, { 'content-type': 'application/json', 'x-request-id': reply.refusal.body.requestId }).end(JSON.stringify(reply.refusal.body));
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ result: reply.result, signature: envelopeToJson(reply.envelope) }));
}

function startGrpc(): Promise<number> {
  const definition = protoLoader.loadSync('zhengtong/v1/exchange.proto', { includeDirs: [join(packageRoot(), 'proto')], keepCase: false, longs: String, enums: String, defaults: true, oneofs: true });
  const query = (definition['zhengtong.v1.ExchangeService'] as protoLoader.ServiceDefinition).Query!;
  const identity = (b: Buffer) => b;
  grpcServer = new grpc.Server();
  grpcServer.addService(
    { Query: { path: query.path, requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity } },
    {
      Query: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        const read = (k: keyof typeof GRPC_METADATA) => call.metadata.get(GRPC_METADATA[k])[0];
        handle('grpc', query.path, call.request, read, () => query.requestDeserialize(call.request) as Record<string, unknown>).then(
          (reply) => {
            if ('refusal' in reply) {
              const trailers = new grpc.Metadata();
              trailers.set('zt-error-code', reply.refusal.body.code);
              trailers.set('zt-error-bin', Buffer.from(JSON.stringify(reply.refusal.body), 'utf8'));
              trailers.set('x-request-id', reply.refusal.body.requestId);
              callback({ code: reply.refusal.grpcStatus, details: reply.refusal.body.message, metadata: trailers });
              return;
            }
            const bytes = reply.bytes ?? Buffer.from(canonicalJson(reply.result), 'utf8');
            callback(null, query.responseSerialize({ result: bytes, signature: envelopeToMessage(reply.envelope) }));
          },
          (error: Error) => callback({ code: grpc.status.INTERNAL, details: error.message }),
        );
      },
    },
  );
  return new Promise((resolve, reject) => grpcServer.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, port) => (e ? reject(e) : resolve(port))));
}

function newClient(overrides: Partial<ExchangeClientOptions> = {}): ExchangeClient {
  const client = new ExchangeClient({
    httpUrl,
    grpcAddress,
    signer: { privateKey: department.privateKeyPem, certificate: department.certificatePem },
    trust: { root: exportPem(ca.root), issuing: Buffer.from(ca.issuing.rawData) },
    platformUscc: PLATFORM_USCC,
    ...overrides,
  });
  clients.push(client);
  return client;
}

/** The error a promise rejects with; fails if it resolves. */
async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the query to fail, but it resolved');
}

async function unverified(promise: Promise<unknown>): Promise<ExchangeClientError> {
  const error = await failure(promise);
  expect(error).toBeInstanceOf(ExchangeClientError);
  expect((error as ExchangeClientError).code).toBe('ZT_CLIENT_RESPONSE_UNVERIFIED');
  return error as ExchangeClientError;
}

function causeCode(error: Error): string | undefined {
  const cause = (error as { cause?: unknown }).cause;
  return isZtError(cause) ? cause.code : undefined;
}

beforeAll(async () => {
  caDir = await makeTestCaDir();
  db = await openMigratedDatabase();
  ca = new PlatformCa({ db, material: caDir.material, certificateDays: 30, publicUrl: TEST_PUBLIC_URL });
  const signerFrom = (issued: { certificate: { pem: string }; privateKeyPem: string }) =>
    new InProcessSm2Signer({ privateKey: issued.privateKeyPem, certificate: new Uint8Array(parseCertificate(issued.certificate.pem).rawData) });
  platformSigner = signerFrom(await ca.enrolWithGeneratedKey({ uscc: PLATFORM_USCC, name: '沈阳市大数据管理局' }));
  const revoked = await ca.enrolWithGeneratedKey({ uscc: PLATFORM_USCC, name: '沈阳市大数据管理局' });
  revokedSigner = signerFrom(revoked);
  await ca.revoke(revoked.certificate.serial, 'keyCompromise');
  const issued = await ca.enrolWithGeneratedKey({ uscc: REQUESTER_USCC, name: '沈阳市市场监督管理局' });
  department = { privateKeyPem: issued.privateKeyPem, certificatePem: issued.certificate.pem };
  const other = await makeTestPki();
  foreignSigner = new InProcessSm2Signer({ privateKey: other.leafKeys.privateKey, certificate: new Uint8Array(other.leaf.rawData) });

  httpServer = createServer((req, res) => {
    onHttp(req, res).catch((error: Error) => res.writeHead(500).end(error.message));
  });
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  httpUrl = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;
  grpcAddress = `127.0.0.1:${await startGrpc()}`;
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  received.length = 0;
  behaviour = good;
});

afterAll(async () => {
  httpServer?.closeAllConnections();
  await new Promise((resolve) => (httpServer ? httpServer.close(resolve) : resolve(undefined)));
  grpcServer?.forceShutdown();
  await db?.close();
  caDir?.remove();
});

describe.each(PROTOCOLS)('ExchangeClient.query over %s', (protocol) => {
  it('signs the bytes it sends, and returns the verified result bound to that request', async () => {
    behaviour = good;
    const client = newClient();
    const verified = await client.query(QUERY, { protocol });

    expect(received).toHaveLength(1);
    const r = received[0]!;
    expect(r.protocol).toBe(protocol);
    expect(r.signatureValid).toBe(true);
    // The requester defaults to the USCC of the signer's certificate, and the rest goes as given.
    expect(r.fields).toMatchObject({ requester: REQUESTER_USCC, resource: QUERY.resource, items: QUERY.items, subject: QUERY.subject, purpose: QUERY.purpose, operator: 'zhang.san' });
    expect(r.certificate).toEqual(Buffer.from(parseCertificate(department.certificatePem).rawData));
    expect(NONCE.test(r.parts.nonce)).toBe(true);

    expect(verified.result.requestDigest).toBe(r.digest.toString('hex'));
    expect(verified.result.items).toEqual({ name: '张三', idNumber: '110105********002X' });
    expect(verified.result.withheld).toEqual([{ item: 'address', ruleIds: ['NL-GA-0003'] }]);
    expect(verified.signer.uscc).toBe(PLATFORM_USCC);
    expect(verified.signer.fingerprintSm3).toBe(platformSigner.certificate!.fingerprint);
    expect(verified.signedBytes.toString('utf8')).toBe(canonicalJson(resultFor(r)));
    expect(verified.signedBytes.includes('note')).toBe(false);
  });

  it('sends the body encodeQueryJson / encodeQueryRequest make, with the clock and nonce given', async () => {
    // A fixed instant near now: the clock also checks the platform certificate, which was issued a moment ago.
    const at = Math.floor(Date.now() / 1000) * 1000 + 456;
    const client = newClient({ clock: () => at, nonce: () => 'fixed-nonce_0123456789' });
    await client.query(QUERY, { protocol });
    const r = received[0]!;
    expect(r.parts.timestamp).toBe(new Date(at).toISOString());
    expect(r.parts.timestamp).toMatch(/\.456Z$/);
    expect(r.parts.nonce).toBe('fixed-nonce_0123456789');
    expect(r.body).toEqual(protocol === 'http' ? encodeQueryJson(QUERY, REQUESTER_USCC) : encodeQueryRequest(QUERY, REQUESTER_USCC));
  });

  it('uses a fresh nonce for every request', async () => {
    const client = newClient();
    await client.query(QUERY, { protocol });
    await client.query(QUERY, { protocol });
    expect(received).toHaveLength(2);
    expect(received[0]!.parts.nonce).not.toBe(received[1]!.parts.nonce);
    expect(received[0]!.digest).not.toEqual(received[1]!.digest);
  });

  it('an explicit requester is sent as given, and a signer object works as well as key material', async () => {
    const signer = DepartmentKey.fromMaterial({ privateKey: department.privateKeyPem, certificate: Buffer.from(parseCertificate(department.certificatePem).rawData) });
    const client = newClient({ signer });
    await client.query({ ...QUERY, requester: '91350100M0001TGQXM' }, { protocol });
    expect(received[0]!.fields.requester).toBe('91350100M0001TGQXM');
    expect(received[0]!.signatureValid).toBe(true);
    await signer.close();
  });

  it('a result altered after signing is ZT_CLIENT_RESPONSE_UNVERIFIED', async () => {
    behaviour = async (r) => {
      const reply = (await signed(resultFor(r))) as { result: Record<string, unknown>; envelope: SignedEnvelope };
      return { ...reply, result: { ...reply.result, items: { name: '李四', idNumber: '110105********002X' } } };
    };
    const error = await unverified(newClient().query(QUERY, { protocol }));
    expect(causeCode(error)).toBe('ZT_ERR_SIGNATURE_INVALID');
  });

  it('a signed result bound to another request (requestDigest) is ZT_CLIENT_RESPONSE_UNVERIFIED', async () => {
    behaviour = (r) => signed(resultFor(r, { requestDigest: sm3(Buffer.from('another request')).toString('hex') }));
    const error = await unverified(newClient().query(QUERY, { protocol }));
    expect(error.message).toMatch(/requestDigest/);
  });

  it('a result signed by a certificate from another CA, naming the platform USCC, is ZT_CLIENT_RESPONSE_UNVERIFIED', async () => {
    behaviour = (r) => signed(resultFor(r), foreignSigner);
    const error = await unverified(newClient().query(QUERY, { protocol }));
    expect(causeCode(error)).toBe('ZT_ERR_CERT_UNKNOWN_ISSUER');
  });

  it('a result signed by a platform-CA certificate of another USCC than platformUscc is ZT_CLIENT_RESPONSE_UNVERIFIED', async () => {
    const error = await unverified(newClient({ platformUscc: REQUESTER_USCC }).query(QUERY, { protocol }));
    expect(error.message).toContain(PLATFORM_USCC);
    // Without platformUscc, the same answer is accepted.
    await expect(newClient({ platformUscc: undefined }).query(QUERY, { protocol })).resolves.toMatchObject({ signer: { uscc: PLATFORM_USCC } });
  });

  it('a result whose schema is not the exchange result schema is ZT_CLIENT_RESPONSE_UNVERIFIED', async () => {
    behaviour = (r) => signed(resultFor(r, { schema: 'zhengtong/demand-transition/v1' }));
    const error = await unverified(newClient().query(QUERY, { protocol }));
    expect(error.message).toMatch(/schema/);
  });

  it('a signature over a non-canonical form of the result is ZT_CLIENT_RESPONSE_UNVERIFIED', async () => {
    behaviour = async (r) => {
      const result = resultFor(r, { note: 'x' });
      const pretty = Buffer.from(JSON.stringify(result, null, 2), 'utf8');
      return { result, envelope: await signEnvelope(platformSigner, pretty), bytes: pretty };
    };
    const error = await unverified(newClient().query(QUERY, { protocol }));
    expect(error.message).toMatch(protocol === 'grpc' ? /not canonical JSON/ : /signature does not cover/);
  });

  it('with CRLs, a result signed by a revoked platform certificate is ZT_CLIENT_RESPONSE_UNVERIFIED', async () => {
    const crls = async () => [(await ca.crl()).crl, (await ca.rootCrl()).crl];
    await expect(newClient({ trust: { root: ca.root, issuing: ca.issuing, crls } }).query(QUERY, { protocol })).resolves.toBeDefined();
    behaviour = (r) => signed(resultFor(r), revokedSigner);
    const error = await unverified(newClient({ trust: { root: ca.root, issuing: ca.issuing, crls } }).query(QUERY, { protocol }));
    expect(causeCode(error)).toBe('ZT_ERR_CERT_REVOKED');
  });

  it('a refusal is an ExchangeError with its code, message, request id and details', async () => {
    const details = { ruleIds: ['NL-GA-0002'], legalBasis: '《居民身份证法》第十九条', policyRevision: '2025-08-01.1', accessId: '0199aaaa' };
    behaviour = async () => refusal('ZT_ERR_ACCESS_DENIED', 403, grpc.status.PERMISSION_DENIED, details);
    const error = await failure(newClient().query(QUERY, { protocol }));
    expect(error).toBeInstanceOf(ExchangeError);
    const e = error as ExchangeError;
    expect({ code: e.code, message: e.message, requestId: e.requestId, details: e.details }).toEqual({
      code: 'ZT_ERR_ACCESS_DENIED',
      message: 'refused: ZT_ERR_ACCESS_DENIED',
      requestId: 'req-ZT_ERR_ACCESS_DENIED',
      details,
    });
    if (protocol === 'http') expect([e.httpStatus, e.grpcStatus]).toEqual([403, undefined]);
    else expect([e.httpStatus, e.grpcStatus]).toEqual([undefined, grpc.status.PERMISSION_DENIED]);
  });

  it('the test exchange refuses a signature that does not cover the body sent (the check above can fail)', async () => {
    const signer = DepartmentKey.fromMaterial({ privateKey: department.privateKeyPem, certificate: department.certificatePem });
    const sentBody = protocol === 'http' ? encodeQueryJson(QUERY, REQUESTER_USCC) : encodeQueryRequest(QUERY, REQUESTER_USCC);
    const otherBody = protocol === 'http' ? encodeQueryJson({ ...QUERY, operator: 'li.si' }, REQUESTER_USCC) : encodeQueryRequest({ ...QUERY, operator: 'li.si' }, REQUESTER_USCC);
    let reply: { status: number; code: string };
    if (protocol === 'http') {
      const { headers } = await signHttpRequest({ body: otherBody, signer });
      const response = await fetch(`${httpUrl}/v1/exchange/query`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: sentBody });
      reply = { status: response.status, code: ((await response.json()) as { code: string }).code };
    } else {
      const { metadata } = await signGrpcRequest({ body: otherBody, signer });
      const raw = new grpc.Client(grpcAddress, grpc.credentials.createInsecure());
      const error = await new Promise<grpc.ServiceError>((resolve) =>
        raw.makeUnaryRequest('/zhengtong.v1.ExchangeService/Query', (b: Buffer) => b, (b: Buffer) => b, sentBody, metadata, (e) => resolve(e!)),
      );
      raw.close();
      reply = { status: error.code, code: String(error.metadata.get('zt-error-code')[0]) };
    }
    expect(reply).toEqual({ status: protocol === 'http' ? 401 : grpc.status.UNAUTHENTICATED, code: 'ZT_ERR_SIGNATURE_INVALID' });
    expect(received[0]!.signatureValid).toBe(false);
    await signer.close();
  });

  it('an exchange that cannot be reached is ZT_CLIENT_TRANSPORT_FAILED', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const error = await failure(newClient({ httpUrl: `http://127.0.0.1:${port}`, grpcAddress: `127.0.0.1:${port}` }).query(QUERY, { protocol }));
    expect(error).toBeInstanceOf(ExchangeClientError);
    expect((error as ExchangeClientError).code).toBe('ZT_CLIENT_TRANSPORT_FAILED');
  });

  it('an aborted request is ZT_CLIENT_ABORTED', async () => {
    // The exchange aborts the call itself once it holds the request, then holds its answer back: a client that did
    // not stop at the abort would get that answer when it is released.
    const controller = new AbortController();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    behaviour = async (r) => {
      controller.abort(new Error('enough'));
      await held;
      return signed(resultFor(r));
    };
    const timer = setTimeout(release, 300);
    const error = await failure(newClient().query(QUERY, { protocol, signal: controller.signal }));
    clearTimeout(timer);
    release();
    expect(received).toHaveLength(1);
    expect(error).toBeInstanceOf(ExchangeClientError);
    expect((error as ExchangeClientError).code).toBe('ZT_CLIENT_ABORTED');
  });
});

describe('ExchangeClient over HTTP only', () => {
  it('an error status without an exchange error body is ZT_CLIENT_TRANSPORT_FAILED, a 200 that is not { result, signature } is unverified', async () => {
    const proxy = createServer((req, res) => {
      if (req.headers['x-request-id'] === 'bad-gateway') res.writeHead(502, { 'content-type': 'text/html' }).end('<html>Bad Gateway</html>');
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const client = newClient({ httpUrl: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}` });
    try {
      const badGateway = await failure(client.query(QUERY, { requestId: 'bad-gateway' }));
      expect(badGateway).toBeInstanceOf(ExchangeClientError);
      expect((badGateway as ExchangeClientError).code).toBe('ZT_CLIENT_TRANSPORT_FAILED');
      expect((badGateway as ExchangeClientError).details).toMatchObject({ httpStatus: 502 });
      await unverified(client.query(QUERY));
    } finally {
      proxy.closeAllConnections();
      await new Promise((resolve) => proxy.close(resolve));
    }
  });
});

describe('ExchangeClient options', () => {
  it('refuses a signer without a certificate, or with another SM2 user ID than the default', () => {
    const keys = generateSm2KeyPair();
    const bare = new InProcessSm2Signer({ privateKey: keys.privateKey });
    expect(() => newClient({ signer: bare })).toThrow(expect.objectContaining({ code: 'ZT_CLIENT_CONFIG_INVALID' }));
    const otherId = new InProcessSm2Signer({ privateKey: department.privateKeyPem, certificate: new Uint8Array(parseCertificate(department.certificatePem).rawData), userId: 'ALICE123@YAHOO.COM' });
    expect(() => newClient({ signer: otherId })).toThrow(expect.objectContaining({ code: 'ZT_CLIENT_CONFIG_INVALID', message: expect.stringContaining('user ID') }));
  });

  it('refuses key material whose certificate is not for the key, and a query over a protocol it has no address for', async () => {
    expect(() => newClient({ signer: { privateKey: generateSm2KeyPair().privateKey, certificate: department.certificatePem } })).toThrow(
      expect.objectContaining({ code: 'ZT_CLIENT_CONFIG_INVALID' }),
    );
    const httpOnly = newClient({ grpcAddress: undefined });
    await expect(httpOnly.query(QUERY, { protocol: 'grpc' })).rejects.toMatchObject({ code: 'ZT_CLIENT_CONFIG_INVALID' });
  });
});

describe('helpers', () => {
  it('newNonce gives 22 base64url characters, fresh each time', () => {
    const nonces = new Set(Array.from({ length: 1000 }, newNonce));
    expect(nonces.size).toBe(1000);
    for (const n of nonces) expect(n).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('signHttpRequest signs the canonical request over the body with the default user ID, and returns its digest', async () => {
    const signer = DepartmentKey.fromMaterial({ privateKey: department.privateKeyPem, certificate: department.certificatePem });
    const body = Buffer.from('{"a":1}');
    const signedRequest = await signHttpRequest({ body, signer, timestamp: '2026-11-27T01:02:03.456Z', nonce: 'q7hF0mZ2xY8sV1bN4cT9dW' });
    const presented = presentedSignature((k) => signedRequest.headers[HTTP_HEADERS[k]]);
    const parts: RequestSignatureParts = {
      method: 'POST',
      path: '/v1/exchange/query',
      timestamp: '2026-11-27T01:02:03.456Z',
      nonce: 'q7hF0mZ2xY8sV1bN4cT9dW',
      bodySm3: sm3(body),
      certificateSm3: sm3(presented.certificate),
    };
    expect(sm2Verify(signer.publicKey, canonicalRequest(parts), presented.signature)).toBe(true);
    expect(sm2Verify(signer.publicKey, canonicalRequest({ ...parts, bodySm3: sm3(Buffer.from('{"a":2}')) }), presented.signature)).toBe(false);
    expect(signedRequest.requestDigest).toEqual(sm3(canonicalRequest(parts)));
    await signer.close();
  });

  it('encodeQueryRequest leaves an absent operator out, and decodes to the same fields as the JSON form', () => {
    const definition = protoLoader.loadSync('zhengtong/v1/exchange.proto', { includeDirs: [join(packageRoot(), 'proto')], keepCase: false, defaults: false });
    const decode = (definition['zhengtong.v1.ExchangeService'] as protoLoader.ServiceDefinition).Query!.requestDeserialize;
    const { operator: _operator, ...withoutOperator } = QUERY;
    expect(decode(encodeQueryRequest(withoutOperator, REQUESTER_USCC))).toEqual(JSON.parse(encodeQueryJson(withoutOperator, REQUESTER_USCC).toString('utf8')));
    expect(JSON.parse(encodeQueryJson(withoutOperator, REQUESTER_USCC).toString('utf8'))).not.toHaveProperty('operator');
    expect(decode(encodeQueryRequest(QUERY, REQUESTER_USCC))).toEqual(JSON.parse(encodeQueryJson(QUERY, REQUESTER_USCC).toString('utf8')));
  });

  describe('verifyExchangeResponse and ResponseVerifier', () => {
    const digest = sm3(Buffer.from('the request'));
    const fakeReceived = (): Received => ({
      protocol: 'http',
      body: Buffer.alloc(0),
      fields: { requester: REQUESTER_USCC, resource: QUERY.resource, subject: QUERY.subject, purpose: QUERY.purpose },
      parts: {} as RequestSignatureParts,
      digest,
      signatureValid: true,
      certificate: Buffer.alloc(0),
    });

    it('verifies a result given as canonical bytes or as an object, the envelope decoded or as JSON, the digest as bytes or hex', async () => {
      const { result, envelope } = (await signed(resultFor(fakeReceived()))) as { result: Record<string, unknown>; envelope: SignedEnvelope };
      const trust = { root: ca.root, issuing: ca.issuing, platformUscc: PLATFORM_USCC };
      const bytes = Buffer.from(canonicalJson(result), 'utf8');
      for (const [r, e, d] of [
        [result, envelope, digest],
        [bytes, envelopeToJson(envelope), digest.toString('hex').toUpperCase()],
      ] as const) {
        const verified = await verifyExchangeResponse(r, e, d, trust);
        expect(verified.result.requestDigest).toBe(digest.toString('hex'));
      }
      await unverified(verifyExchangeResponse(result, envelope, sm3(Buffer.from('another')), trust));
      await unverified(verifyExchangeResponse(Buffer.concat([bytes, Buffer.from(' ')]), envelope, digest, trust));
      await unverified(verifyExchangeResponse(result, { ...envelopeToJson(envelope), algorithm: 'SM2' }, digest, trust));
    });

    it('caches a validated certificate by fingerprint: a later envelope may name it by fingerprint alone, until the cache entry ages out', async () => {
      let now = Date.now();
      const verifier = new ResponseVerifier({ root: ca.root, issuing: ca.issuing, clock: () => now, maxAgeMs: 60_000 });
      const first = (await signed(resultFor(fakeReceived()))) as { result: Record<string, unknown>; envelope: SignedEnvelope };
      const second = (await signed(resultFor(fakeReceived(), { accessId: 'second' }))) as { result: Record<string, unknown>; envelope: SignedEnvelope };
      const fingerprintOnly: SignedEnvelope = { ...second.envelope, signer: { certificateSm3: second.envelope.signer.certificateSm3! } };

      // Never seen: the fingerprint alone is not enough.
      await unverified(new ResponseVerifier({ root: ca.root, issuing: ca.issuing }).verify(second.result, fingerprintOnly, digest));
      await verifier.verify(first.result, first.envelope, digest);
      await expect(verifier.verify(second.result, fingerprintOnly, digest)).resolves.toMatchObject({ result: { accessId: 'second' } });
      now += 61_000;
      await unverified(verifier.verify(second.result, fingerprintOnly, digest));
    });

    it('refuses a result signed by a CA certificate itself', async () => {
      const caSigner = new InProcessSm2Signer({ privateKey: caDir.material.issuing.privateKey, certificate: new Uint8Array(ca.issuing.rawData) });
      const { result, envelope } = (await signed(resultFor(fakeReceived()), caSigner)) as { result: Record<string, unknown>; envelope: SignedEnvelope };
      const error = await unverified(verifyExchangeResponse(result, envelope, digest, { root: ca.root, issuing: ca.issuing }));
      expect(error.message).toMatch(/CA certificate/);
    });
  });
});
