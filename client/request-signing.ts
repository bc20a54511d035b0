// The request side of the exchange protocol (docs/exchange-protocol.md): the body in its two forms (JSON for HTTP,
// QueryRequest protobuf for gRPC) and the signature over it. The canonical request itself is
// exchange/protocol/request-signature.ts, the code the gateway verifies with; this file only fills in its parts.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { packageRoot } from '../core/paths.js';
import type { Signer } from '../certs/signer/index.js';
import { canonicalRequest, GRPC_METADATA, HTTP_HEADERS, type RequestSignatureParts } from '../transport/request-signature.js';
import { sm3 } from '../certs/sm2/sm2.js';
import { ExchangeClientError } from './errors.js';

export const EXCHANGE_HTTP_PATH = '/v1/exchange/query';
export const EXCHANGE_GRPC_PATH = '/zhengtong.v1.ExchangeService/Query';

export type SubjectKind = 'person' | 'organisation';

/** What a department asks for: one subject's items of one resource, for one case. */
export interface QueryInput {
  /** USCC of the requesting department; default: the one in the signer's certificate. */
  requester?: string;
  /** Catalogue code of the data resource, e.g. 210100-GA-0001. */
  resource: string;
  /** 1 to 100 item codes of the resource. */
  items: readonly string[];
  /** A person by resident ID number, an organisation by USCC. */
  subject: { kind: SubjectKind | (string & {}); code: string };
  /** The service item (事项编码) the grant names, and the case (办件编号). */
  purpose: { serviceItem: string; caseNumber: string };
  /** Who acts, in the department's own system, for the access record. */
  operator?: string;
}

/** The request as both forms carry it; `requester` filled in. */
export interface QueryRequestFields {
  requester: string;
  resource: string;
  items: readonly string[];
  subject: { kind: string; code: string };
  purpose: { serviceItem: string; caseNumber: string };
  operator?: string;
}

/** A fresh nonce: 16 random bytes in base64url, 22 characters (the protocol allows 16 to 64 of A-Z a-z 0-9 _ -). */
export function newNonce(): string {
  return randomBytes(16).toString('base64url');
}

/** The request fields in one fixed order, `operator` left out when absent: the object both encodings start from. */
export function queryRequestFields(input: QueryInput, defaultRequester?: string): QueryRequestFields {
  const requester = input.requester ?? defaultRequester;
  if (requester === undefined) throw new ExchangeClientError('ZT_CLIENT_CONFIG_INVALID', 'no requester given, and the signer certificate names no USCC');
  const fields: QueryRequestFields = {
    requester,
    resource: input.resource,
    items: input.items,
    subject: { kind: input.subject.kind, code: input.subject.code },
    purpose: { serviceItem: input.purpose.serviceItem, caseNumber: input.purpose.caseNumber },
  };
  if (input.operator !== undefined) fields.operator = input.operator;
  return fields;
}

/** The HTTP body: JSON text of the request, serialised once (these are the bytes signed and sent). */
export function encodeQueryJson(input: QueryInput, defaultRequester?: string): Buffer {
  return Buffer.from(JSON.stringify(queryRequestFields(input, defaultRequester)), 'utf8');
}

interface ExchangeTypes {
  queryRequest: protobuf.Type;
  queryResponse: protobuf.Type;
}
let types: ExchangeTypes | undefined;

/** zhengtong.v1.QueryRequest and QueryResponse, parsed from proto/ on first use. */
export function exchangeTypes(): ExchangeTypes {
  if (types) return types;
  const dir = join(packageRoot(), 'proto');
  const root = new protobuf.Root();
  const resolvePath = root.resolvePath.bind(root);
  // google/protobuf/* are protobufjs built-ins; everything else resolves under proto/.
  root.resolvePath = (origin, target) => (target.startsWith('google/protobuf/') ? resolvePath(origin, target) : join(dir, target));
  root.loadSync('zhengtong/v1/exchange.proto', { keepCase: false });
  root.resolveAll();
  types = { queryRequest: root.lookupType('zhengtong.v1.QueryRequest'), queryResponse: root.lookupType('zhengtong.v1.QueryResponse') };
  return types;
}

/** The gRPC body: a serialised zhengtong.v1.QueryRequest (these are the bytes signed and sent). */
export function encodeQueryRequest(input: QueryInput, defaultRequester?: string): Buffer {
  const { queryRequest } = exchangeTypes();
  const fields = queryRequestFields(input, defaultRequester);
  return Buffer.from(queryRequest.encode(queryRequest.fromObject({ ...fields, items: [...fields.items] })).finish());
}

export interface SignRequestInput {
  /** HTTP: the path and query as sent; gRPC: the full method name. Defaults to the exchange query's. */
  path?: string;
  /** The body bytes exactly as they will be sent. */
  body: Uint8Array;
  /** Signs with its SM2 key (its userId enters ZA: the protocol wants 1234567812345678) and must carry its certificate. */
  signer: Signer;
  /** Default: now, as Date.toISOString() writes it. */
  timestamp?: string;
  /** Default: newNonce(). */
  nonce?: string;
  /** Default: POST. */
  method?: string;
}

export interface SignedRequest {
  parts: RequestSignatureParts;
  certificate: Buffer;
  signature: Buffer;
  /** SM3 of the canonical request: what the platform's signed result must carry as requestDigest. */
  requestDigest: Buffer;
}

/** Signs a request: the canonical request (exchange/protocol) over the body bytes, with the signer's key. */
export async function signRequest(input: SignRequestInput, defaultPath: string): Promise<SignedRequest> {
  const certificate = input.signer.certificate;
  if (!certificate) throw new ExchangeClientError('ZT_CLIENT_CONFIG_INVALID', 'the signer has no certificate: an exchange request carries the signing certificate');
  const parts: RequestSignatureParts = {
    method: input.method ?? 'POST',
    path: input.path ?? defaultPath,
    timestamp: input.timestamp ?? new Date().toISOString(),
    nonce: input.nonce ?? newNonce(),
    bodySm3: sm3(input.body),
    certificateSm3: Buffer.from(certificate.fingerprint, 'hex'),
  };
  const canonical = canonicalRequest(parts);
  const signature = await input.signer.sign(canonical);
  return { parts, certificate: certificate.der, signature, requestDigest: sm3(canonical) };
}

export interface SignedHttpRequest {
  /** zt-timestamp, zt-nonce, zt-certificate (base64 DER), zt-request-signature (base64 DER); add content-type yourself. */
  headers: Record<string, string>;
  requestDigest: Buffer;
  parts: RequestSignatureParts;
}

/** Signs an HTTP request (default path /v1/exchange/query) and returns the headers that carry the signature. */
export async function signHttpRequest(input: SignRequestInput): Promise<SignedHttpRequest> {
  const signed = await signRequest(input, EXCHANGE_HTTP_PATH);
  return {
    headers: {
      [HTTP_HEADERS.timestamp]: signed.parts.timestamp,
      [HTTP_HEADERS.nonce]: signed.parts.nonce,
      [HTTP_HEADERS.certificate]: signed.certificate.toString('base64'),
      [HTTP_HEADERS.signature]: signed.signature.toString('base64'),
    },
    requestDigest: signed.requestDigest,
    parts: signed.parts,
  };
}

export interface SignedGrpcRequest {
  /** zt-timestamp, zt-nonce, zt-certificate-bin, zt-request-signature-bin. */
  metadata: grpc.Metadata;
  requestDigest: Buffer;
  parts: RequestSignatureParts;
}

/** Signs a gRPC call (default method /zhengtong.v1.ExchangeService/Query) and returns the metadata that carries the signature. */
export async function signGrpcRequest(input: SignRequestInput): Promise<SignedGrpcRequest> {
  const signed = await signRequest(input, EXCHANGE_GRPC_PATH);
  const metadata = new grpc.Metadata();
  metadata.set(GRPC_METADATA.timestamp, signed.parts.timestamp);
  metadata.set(GRPC_METADATA.nonce, signed.parts.nonce);
  metadata.set(GRPC_METADATA.certificate, signed.certificate);
  metadata.set(GRPC_METADATA.signature, signed.signature);
  return { metadata, requestDigest: signed.requestDigest, parts: signed.parts };
}
