// What a feature's gRPC handlers are written against: the unary handler type and what it sees of a call. The
// gateway's server (gateway/grpc/server.ts) decodes, authorises and encodes around them.
import type * as grpc from '@grpc/grpc-js';
import type { ErrorBody, ErrorCode, ZtError } from '../core/errors/index.js';
import type { Logger } from '../core/logging/index.js';
import type { AccessClass, Caller } from './access.js';
import type { SignedCall, Verification } from './signed-call.js';
import { GRPC_METADATA, presentedGrpcSignature } from './request-signature.js';

/** What a unary handler sees: the decoded request (plain object, camelCase) and the call's request id. */
export interface CallContext {
  requestId: string;
  logger: Logger;
  /** The request message as received (for signatures over its bytes). */
  raw: Buffer;
  metadata: grpc.Metadata;
  /** The client's address, without its port (for per-client limits). */
  peer: string;
  /** The department whose signed call the gateway verified; null on a public method called without a signature. */
  caller: Caller | null;
  /** The gateway's check of the call's signature, handed on to services that record refusals themselves. */
  verification: Verification | null;
}

export type UnaryHandler = ((request: Record<string, unknown>, call: CallContext) => Promise<Record<string, unknown>>) & {
  /**
   * Told when a request cannot be decoded or is refused before the handler would run (the exchange records it); the
   * refusal is answered once it settles, as over HTTP, so the record exists when the caller learns of the refusal.
   */
  onUndecodable?: (code: ErrorCode, latencyMs: number) => Promise<void>;
  /** Who may call the method (transport/access.ts); the gateway refuses to register a method without one. */
  access?: AccessClass;
};

/** Declares a method's access class where its handler is made. */
export function withAccess<H extends UnaryHandler>(access: AccessClass, handler: H): H {
  handler.access = access;
  return handler;
}

/** The call as a signed call over the request message's bytes, with the gateway's check of it. */
export function signedGrpcCall(path: string, call: Pick<CallContext, 'raw' | 'metadata' | 'verification'>): SignedCall {
  return { method: 'POST', path, body: call.raw, signature: () => presentedGrpcSignature(call.metadata), verification: call.verification };
}

/** Whether the call carries any of the signature's metadata entries. */
export function carriesGrpcSignature(metadata: grpc.Metadata): boolean {
  for (const key of Object.values(GRPC_METADATA)) if (metadata.get(key).length > 0) return true;
  return false;
}

export function toTimestamp(date: Date): { seconds: number; nanos: number } {
  const ms = date.getTime();
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 };
}

/** "ipv4:127.0.0.1:51234" or "ipv6:[::1]:51234" → the address alone. */
export function peerAddress(peer: string): string {
  const m = /^(?:ipv[46]:)?\[?([^\]]*?)\]?:\d+$/.exec(peer);
  return m?.[1] ?? peer;
}

/**
 * Declares the access class of each method of a service where its handlers are made: every handler must have one,
 * and no class may name a method that has no handler.
 */
export function declareAccess<M extends Record<string, UnaryHandler>>(handlers: M, access: { readonly [K in keyof M]: AccessClass }): M {
  for (const name of Object.keys(handlers)) {
    const a = access[name as keyof M];
    if (!a) throw new Error(`gRPC method ${name} declares no access class`);
    handlers[name]!.access = a;
  }
  return handlers;
}

/** The longest error message a gRPC answer carries, in characters (twice: in grpc-message and in zt-error-bin). */
export const GRPC_ERROR_MESSAGE_MAX = 1024;
/** The longest zt-error-bin; larger details are left out (the code and message still say what was wrong). */
const GRPC_ERROR_BODY_MAX = 8192;

/**
 * An error as a gRPC answer carries it in its trailers: the message (grpc-message) and the one error body
 * (zt-error-bin), bounded. A message that quotes what the caller sent (a code of 100,000 characters) would make
 * trailers larger than HTTP/2 lets a peer send, and the call would then never be answered at all.
 */
export function grpcErrorParts(zt: ZtError, requestId: string): { details: string; body: Buffer } {
  let details = zt.message;
  if (details.length > GRPC_ERROR_MESSAGE_MAX) {
    // Not between the two halves of a surrogate pair: grpc-js percent-encodes the message and a lone half throws.
    const cut = /[\ud800-\udbff]/.test(details[GRPC_ERROR_MESSAGE_MAX - 1]!) ? GRPC_ERROR_MESSAGE_MAX - 1 : GRPC_ERROR_MESSAGE_MAX;
    details = `${details.slice(0, cut)}… (${details.length} characters)`;
  }
  const body: ErrorBody = { ...zt.toBody(requestId), message: details };
  let json = JSON.stringify(body);
  if (json.length > GRPC_ERROR_BODY_MAX) {
    delete body.details;
    json = JSON.stringify(body);
  }
  return { details, body: Buffer.from(json, 'utf8') };
}
