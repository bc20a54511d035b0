// Every gRPC method of proto/, called through a raw grpc-js client whose serialiser passes bytes through, so that
// what arrives is exactly what was generated: random bytes, messages cut short or with a byte flipped, wrong wire
// types, lengths past the end, groups nested thousands deep, messages over the limit, and garbage metadata in every
// signature key. Half the calls to the zhengtong services are signed by a demo department over the bytes sent.
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { protoDir, protoFiles } from '../../../gateway/grpc/protos.js';
import type { Signer } from '../../../certs/signer/index.js';
import { signGrpcRequest } from '../../../client/index.js';
import { GRPC_METADATA } from '../../../transport/request-signature.js';
import { Findings, isCatalogued, summary, type ErrorShape } from './findings.js';
import { NASTY_STRINGS, PLAUSIBLE_STRINGS } from './arbitraries.js';
import { pool } from './pool.js';
import { join } from 'node:path';

export interface GrpcMethod {
  path: string;
  requestType: protobuf.Type;
  serverStreaming: boolean;
  service: string;
}

export function grpcMethods(): GrpcMethod[] {
  const dir = protoDir();
  const root = new protobuf.Root();
  const resolvePath = root.resolvePath.bind(root);
  root.resolvePath = (origin, target) => (target.startsWith('google/protobuf/') ? resolvePath(origin, target) : join(dir, target));
  root.loadSync(protoFiles(dir), { keepCase: false });
  root.resolveAll();
  const methods: GrpcMethod[] = [];
  const walk = (ns: protobuf.NamespaceBase): void => {
    for (const nested of ns.nestedArray) {
      if (nested instanceof protobuf.Service) {
        for (const m of nested.methodsArray) {
          if (m.requestStream) continue;
          methods.push({ path: `/${nested.fullName.slice(1)}/${m.name}`, requestType: m.resolvedRequestType!, serverStreaming: m.responseStream === true, service: nested.name });
        }
      } else if (nested instanceof protobuf.Namespace) walk(nested);
    }
  };
  walk(root);
  return methods;
}

/** A plain object for `type`, filled field by field with plausible and nasty values (depth-limited). */
function messageArb(type: protobuf.Type, depth = 0): fc.Arbitrary<Record<string, unknown>> {
  const fields = type.fieldsArray.map((field) => {
    field.resolve();
    let value: fc.Arbitrary<unknown>;
    if (field.resolvedType instanceof protobuf.Type) value = depth > 3 ? fc.constant({}) : messageArb(field.resolvedType, depth + 1);
    else if (field.resolvedType instanceof protobuf.Enum) value = fc.constantFrom(...Object.values(field.resolvedType.values), 999, -1);
    else {
      switch (field.type) {
        case 'string':
          value = fc.oneof(fc.constantFrom(...PLAUSIBLE_STRINGS), fc.constantFrom(...NASTY_STRINGS), fc.string({ maxLength: 30 }));
          break;
        case 'bytes':
          value = fc.uint8Array({ maxLength: 64 });
          break;
        case 'bool':
          value = fc.boolean();
          break;
        case 'double':
        case 'float':
          value = fc.oneof(fc.double(), fc.constantFrom(Number.NaN, Infinity, -Infinity, 1e308));
          break;
        default:
          value = fc.oneof(fc.integer(), fc.constantFrom(0, -1, 2147483647, -2147483648), fc.constantFrom('9223372036854775807', '-9223372036854775808', '18446744073709551615'));
      }
    }
    return [field.name, field.repeated ? fc.array(value, { maxLength: 3 }) : value] as const;
  });
  return fc.record(Object.fromEntries(fields), { requiredKeys: [] }) as fc.Arbitrary<Record<string, unknown>>;
}

function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n >>> 0;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return Buffer.from(out);
}

/** The bytes of a call: an encoded message, maybe broken afterwards, or bytes protobuf never wrote. */
function bytesArb(method: GrpcMethod, limit: number): fc.Arbitrary<{ what: string; bytes: Buffer }> {
  const encoded = messageArb(method.requestType).map((m) => {
    try {
      return Buffer.from(method.requestType.encode(method.requestType.fromObject(m)).finish());
    } catch {
      return Buffer.from(JSON.stringify(m));
    }
  });
  return fc.oneof(
    { weight: 4, arbitrary: encoded.map((bytes) => ({ what: `message ${bytes.length} bytes`, bytes })) },
    { weight: 2, arbitrary: fc.tuple(encoded, fc.nat()).map(([b, n]) => ({ what: 'message cut short', bytes: b.subarray(0, b.length > 0 ? n % b.length : 0) })) },
    { weight: 2, arbitrary: fc.tuple(encoded, fc.nat(), fc.integer({ min: 1, max: 255 })).map(([b, n, x]) => ({ what: 'message with a byte flipped', bytes: b.length > 0 ? Buffer.from(b.map((v, i) => (i === n % b.length ? v ^ x : v))) : Buffer.from([x]) })) },
    { weight: 3, arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => ({ what: 'random bytes', bytes: Buffer.from(b) })) },
    {
      weight: 3,
      arbitrary: fc
        .constantFrom(
          { what: 'field 1 with wire type 7', bytes: Buffer.from([0x0f, 0x01]) },
          { what: 'field 1 with wire type 6', bytes: Buffer.from([0x0e]) },
          { what: 'field 0', bytes: Buffer.from([0x00, 0x01]) },
          { what: 'field 536870911 varint', bytes: Buffer.from([0xf8, 0xff, 0xff, 0xff, 0x0f, 0x01]) },
          { what: 'a length past the end', bytes: Buffer.concat([Buffer.from([0x0a]), varint(1_000_000), Buffer.from('abc')]) },
          { what: 'a length of 2^32-1', bytes: Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x61]) },
          { what: 'a varint of 11 bytes', bytes: Buffer.from([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]) },
          { what: 'field 1 (string) as a varint', bytes: Buffer.from([0x08, 0x96, 0x01]) },
          { what: 'invalid UTF-8 in field 1', bytes: Buffer.from([0x0a, 0x04, 0xff, 0xfe, 0xc0, 0xaf]) },
          { what: 'an end-group without a start', bytes: Buffer.from([0x0c]) },
          { what: 'groups nested 10,000 deep', bytes: Buffer.concat([Buffer.alloc(10_000, 0x0b), Buffer.alloc(10_000, 0x0c)]) },
          { what: 'an unterminated group', bytes: Buffer.alloc(2000, 0x0b) },
          { what: 'empty', bytes: Buffer.alloc(0) },
          { what: 'a JSON body', bytes: Buffer.from('{"requester":"112101000010000537"}') },
        ),
    },
    // Nested length-delimited field 1, thousands deep: what a recursive decoder of a recursive message meets.
    { weight: 1, arbitrary: fc.constantFrom(100, 5000).map((d) => ({ what: `field 1 nested ${d} deep`, bytes: nested(d) })) },
    // Just over the limit (the gateway refuses it), over twice the limit (grpc-js does), and a string field that fits
    // but is huge (a refusal that quotes it must still be answered).
    { weight: 1, arbitrary: fc.constantFrom(limit + 1, 2 * limit + 10, 100_000).map((n) => ({ what: `field 1 of ${n} bytes in all (limit ${limit})`, bytes: lengthDelimited(n) })) },
  );
}

/** Field 1, length-delimited, filled with 'a': `total` bytes in all. */
function lengthDelimited(total: number): Buffer {
  let length = total - 2;
  while (1 + varint(length).length + length > total) length--;
  return Buffer.concat([Buffer.from([0x0a]), varint(length), Buffer.alloc(length, 0x61)]);
}

function nested(depth: number): Buffer {
  let b = Buffer.alloc(0);
  for (let i = 0; i < depth; i++) b = Buffer.concat([Buffer.from([0x0a]), varint(b.length), b]);
  return b;
}

const asciiGarbage = fc.oneof(fc.constantFrom('', ' ', 'null', '2026-02-30T01:02:03.456Z', new Date().toISOString(), 'a'.repeat(4000), '====', '%ff'), fc.stringMatching(/^[ -~]{0,80}$/));

/** Metadata: the signature's keys with garbage (text and binary), a garbage request id, unknown keys. */
const metadataArb = fc.record({
  timestamp: fc.option(asciiGarbage, { nil: undefined }),
  nonce: fc.option(asciiGarbage, { nil: undefined }),
  certificate: fc.option(fc.uint8Array({ maxLength: 700 }), { nil: undefined }),
  signature: fc.option(fc.uint8Array({ maxLength: 90 }), { nil: undefined }),
  requestId: fc.option(asciiGarbage, { nil: undefined }),
  extra: fc.array(fc.tuple(fc.stringMatching(/^[a-z0-9_.-]{1,20}$/), asciiGarbage), { maxLength: 3 }),
});

export interface GrpcFuzzOutcome {
  exchangeAnswers: number;
}

const CATEGORY = 'grpc generated';
const CLIENT_OPTIONS: grpc.ChannelOptions = { 'grpc.max_send_message_length': -1, 'grpc.use_local_subchannel_pool': 1 };
const identity = (b: Buffer): Buffer => b;

interface CallOutcome {
  code: number;
  details: string;
  /** The zt-error-code and zt-error-bin trailers, when the call failed with them. */
  ztCode: string | undefined;
  ztBody: string | undefined;
}

/** One call (unary or server-streaming); resolves with its status and error trailers, OK when it succeeded. */
function call(client: grpc.Client, m: Pick<GrpcMethod, 'path' | 'serverStreaming'>, bytes: Buffer, metadata: grpc.Metadata, timeoutMs = 15_000): Promise<CallOutcome> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve) => {
    const settle = (e: grpc.ServiceError | null | grpc.StatusObject) => {
      const md = e?.metadata;
      const z = md?.get('zt-error-code')[0];
      const b = md?.get('zt-error-bin')[0];
      resolve({ code: e?.code ?? 0, details: e?.details ?? '', ztCode: typeof z === 'string' ? z : undefined, ztBody: Buffer.isBuffer(b) ? b.toString('utf8') : undefined });
    };
    if (m.serverStreaming) {
      const stream = client.makeServerStreamRequest(m.path, identity, identity, bytes, metadata, { deadline });
      stream.on('data', () => undefined);
      stream.on('error', (e: grpc.ServiceError) => settle(e));
      stream.on('status', (s: grpc.StatusObject) => {
        if (s.code === grpc.status.OK) settle(null);
      });
    } else client.makeUnaryRequest(m.path, identity, identity, bytes, metadata, { deadline }, (e) => settle(e));
  });
}

export async function fuzzGrpc(address: string, o: { runs: number; seed: number; bodyLimit: number; signerFor: (service: string) => Signer | null; findings: Findings; log: (l: string) => void }): Promise<GrpcFuzzOutcome> {
  const methods = grpcMethods();
  const f = o.findings;
  const outcome: GrpcFuzzOutcome = { exchangeAnswers: 0 };
  const cases: { m: GrpcMethod; what: string; bytes: Buffer; md: MetadataGarbage; signed: boolean }[] = [];
  for (const [i, m] of methods.entries()) {
    for (const c of fc.sample(fc.record({ body: bytesArb(m, o.bodyLimit), md: metadataArb, signed: fc.boolean() }), { numRuns: o.runs, seed: o.seed + 1000 + i })) {
      cases.push({ m, what: c.body.what, bytes: c.body.bytes, md: c.md, signed: c.signed });
    }
  }
  o.log(`gRPC: ${methods.length} methods, ${cases.length} generated calls`);
  // Another client, on its own connection, meanwhile: what the hostile calls do to their connection must not
  // reach anybody else's.
  const probe = new grpc.Client(address, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
  let fuzzing = true;
  let slowest = 0;
  let probes = 0;
  const probing = (async () => {
    while (fuzzing) {
      const t = performance.now();
      f.sent('grpc bystander');
      const r = await call(probe, { path: '/zhengtong.v1.PlatformService/GetInfo', serverStreaming: false }, Buffer.alloc(0), new grpc.Metadata(), 5000);
      slowest = Math.max(slowest, performance.now() - t);
      probes++;
      f.answered('grpc bystander', r.code === 0 ? 'OK' : (r.ztCode ?? grpc.status[r.code] ?? String(r.code)));
      if (r.code !== 0) f.problem('grpc bystander', `/zhengtong.v1.PlatformService/GetInfo from another connection during the gRPC fuzzing: ${grpc.status[r.code]} ${r.details}`);
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  })();
  await pool(cases, 8, async (c) => {
    const signer = c.signed && c.m.path.startsWith('/zhengtong.') ? o.signerFor(c.m.service) : null;
    const metadata = signer ? (await signGrpcRequest({ path: c.m.path, body: c.bytes, signer })).metadata : buildMetadata(c.md);
    const input = `${c.what} (${c.bytes.length > 24 ? `${c.bytes.subarray(0, 24).toString('hex')}…` : c.bytes.toString('hex')})${signer ? ' signed' : ` metadata ${Object.keys(metadata.toJSON()).join(',') || 'none'}`}`;
    f.sent(CATEGORY);
    // Every call on a connection of its own (grpc-js shares one among clients unless told not to): whatever a
    // hostile call does to its connection is then pinned on that call, not on the ones that shared it.
    const own = new grpc.Client(address, grpc.credentials.createInsecure(), CLIENT_OPTIONS);
    const r = await call(own, c.m, c.bytes, metadata);
    own.close();
    // Answered by the gateway (not by grpc-js before it): the exchange has recorded it.
    if (c.m.path === '/zhengtong.v1.ExchangeService/Query' && (r.code === 0 || r.ztCode !== undefined)) outcome.exchangeAnswers++;
    judgeGrpc(f, CATEGORY, c.m.path, input, r, c.bytes.length > 2 * o.bodyLimit);
  });
  fuzzing = false;
  await probing;
  probe.close();
  o.log(`gRPC: a bystander on its own connection was answered ${probes} times meanwhile, slowest ${Math.round(slowest)} ms`);
  if (slowest > 2000) f.problem('grpc bystander slow', `/zhengtong.v1.PlatformService/GetInfo from another connection took ${Math.round(slowest)} ms during the gRPC fuzzing`);
  return outcome;
}

type MetadataGarbage = typeof metadataArb extends fc.Arbitrary<infer T> ? T : never;

function buildMetadata(md: MetadataGarbage): grpc.Metadata {
  const metadata = new grpc.Metadata();
  if (md.timestamp !== undefined) metadata.set(GRPC_METADATA.timestamp, md.timestamp);
  if (md.nonce !== undefined) metadata.set(GRPC_METADATA.nonce, md.nonce);
  if (md.certificate !== undefined) metadata.set(GRPC_METADATA.certificate, Buffer.from(md.certificate));
  if (md.signature !== undefined) metadata.set(GRPC_METADATA.signature, Buffer.from(md.signature));
  if (md.requestId !== undefined) metadata.set('x-request-id', md.requestId);
  for (const [k, v] of md.extra) if (!k.endsWith('-bin') && !k.startsWith('grpc-')) metadata.add(k, v);
  return metadata;
}

/**
 * Judges a call by the promises: never INTERNAL or UNKNOWN, and every other failure carries a catalogued
 * zt-error-code and a JSON zt-error-bin { code, message, requestId } (except what grpc-js refuses itself: a
 * message over twice the limit, answered RESOURCE_EXHAUSTED before the gateway sees it).
 */
export function judgeGrpc(f: Findings, category: string, path: string, input: string, r: CallOutcome, overTransportLimit: boolean): void {
  const status = grpc.status[r.code] ?? String(r.code);
  f.answered(category, r.code === 0 ? 'OK' : (r.ztCode ?? status));
  if (r.code === grpc.status.INTERNAL || r.code === grpc.status.UNKNOWN) {
    f.serverErrors++;
    f.problem(`${path} ${status} ${r.ztCode}`, `${path} ← ${summary(input)}: ${status} ${r.ztCode ?? ''} ${summary(r.details, 120)}`);
    return;
  }
  if (r.code === grpc.status.DEADLINE_EXCEEDED && r.ztCode === undefined) {
    f.problem(`${path} no answer`, `${path} ← ${summary(input)}: no answer within 15 s`);
    return;
  }
  if (r.code === 0 || (overTransportLimit && r.code === grpc.status.RESOURCE_EXHAUSTED)) return;
  let body: ErrorShape | null = null;
  try {
    body = r.ztBody ? (JSON.parse(r.ztBody) as ErrorShape | null) : null;
  } catch {
    body = null;
  }
  if (!isCatalogued(r.ztCode) || !body || body.code !== r.ztCode || typeof body.message !== 'string' || typeof body.requestId !== 'string') {
    f.problem(`${path} ${status} uncatalogued ${r.ztCode}`, `${path} ← ${summary(input)}: ${status} without a catalogued zt-error-code and zt-error-bin (${r.ztCode ?? 'none'}: ${summary(r.details, 120)})`);
  }
}
