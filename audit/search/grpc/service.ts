// zhengtong.v1.AuditService: the access-log search over gRPC, with the semantics and refusal codes of the HTTP
// routes. It is registered by itself (gateway/grpc/server.ts calls addAuditService) because Export streams, and
// the gateway's table of services is unary. Messages are decoded and encoded here with protobufjs, from the bytes,
// so the signature is checked over exactly the bytes received, and a malformed message gets a catalogue code.
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import { toZtError, ZtError } from '../../../core/errors/index.js';
import type { Logger } from '../../../core/logging/index.js';
import { grpcErrorParts } from '../../../transport/grpc.js';
import { presentedGrpcSignature } from '../../../transport/request-signature.js';
import { covertCaseJson } from '../covert-cases.js';
import type { RawParameters } from '../query.js';
import type { AccessLogSearch, AuditCall, SearchHitJson } from '../search-service.js';

export const AUDIT_GRPC_SERVICE = 'zhengtong.v1.AuditService';
type Msg = Record<string, unknown>;
const TO_OBJECT: protobuf.IConversionOptions = { longs: String, enums: String, defaults: true };
const identity = (b: Buffer): Buffer => b;
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export interface AuditServiceDeps {
  search: AccessLogSearch;
  logger: Logger;
  bodyLimitBytes: number;
  closing: () => boolean;
}


/** The status a failed call ends with: its code, its bounded message, and the error trailers. */
function errorStatus(zt: ZtError, requestId: string): { code: grpc.status; details: string; metadata: grpc.Metadata } {
  const { details, body } = grpcErrorParts(zt, requestId);
  const metadata = new grpc.Metadata();
  metadata.set('zt-error-code', zt.code);
  metadata.set('x-request-id', requestId);
  metadata.set('zt-error-bin', body);
  return { code: zt.grpcStatus as grpc.status, details, metadata };
}

/** The filters message as the query-string parameters the service reads ("" = absent). */
function filtersOf(message: unknown): Msg {
  const f = (message ?? {}) as Msg;
  const out: Msg = {};
  for (const key of ['department', 'operator', 'subject', 'resource', 'decision', 'caseNumber', 'serviceItem', 'record', 'from', 'to']) {
    const v = f[key];
    if (typeof v === 'string' && v !== '') out[key] = v;
  }
  return out;
}

function present(out: Msg, request: Msg, keys: readonly string[]): Msg {
  for (const key of keys) {
    const v = request[key];
    if (typeof v === 'string' && v !== '') out[key] = v;
    else if (typeof v === 'number' && v !== 0) out[key] = String(v);
    else if (typeof v === 'boolean' && v) out[key] = 'true';
  }
  return out;
}

const json = (value: unknown): Msg => ({ json: Buffer.from(JSON.stringify(value), 'utf8') });

function recordMessage(r: SearchHitJson): Msg {
  const ms = Date.parse(r.at);
  return {
    seq: r.seq,
    id: r.id,
    at: { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 },
    requester: r.requester ?? '',
    requesterName: r.requesterName ?? '',
    operator: r.operator ?? '',
    subjectKind: r.subjectKind ?? '',
    subjectCode: r.subjectCode ?? '',
    resource: r.resource ?? '',
    itemsRequested: [...r.itemsRequested],
    itemsReturned: [...r.itemsReturned],
    serviceItem: r.serviceItem ?? '',
    caseNumber: r.caseNumber ?? '',
    decision: r.decision,
    ruleIds: [...r.ruleIds],
    policyRevision: r.policyRevision ?? '',
    errorCode: r.errorCode ?? '',
    latencyMs: r.latencyMs,
    requestDigest: r.requestDigest ?? '',
    responseDigest: r.responseDigest ?? '',
    certificateSm3: r.certificateSm3 ?? '',
    instance: r.instance,
    protocol: r.protocol,
    covertReleaseOn: r.covert?.releaseOn ?? '',
  };
}

/** Resolves when the stream can take more, or the client has gone. */
function drained(call: grpc.ServerWritableStream<Buffer, Buffer>): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      call.off('drain', done);
      call.off('cancelled', done);
      resolve();
    };
    call.once('drain', done);
    call.once('cancelled', done);
  });
}

type Unary = (request: Msg, call: AuditCall) => Promise<Msg>;
type Streaming = (request: Msg, call: AuditCall) => Promise<AsyncIterable<Msg>>;

function handlers(search: AccessLogSearch): { unary: Record<string, Unary>; streaming: Record<string, Streaming> } {
  return {
    unary: {
      Search: async (request, call) => {
        const raw: RawParameters = { requester: request.requester, ...filtersOf(request.filters), ...present({}, request, ['limit', 'cursor']) };
        const answer = await search.search(call, raw);
        return { records: answer.records.map(recordMessage), next: answer.next ?? '' };
      },
      Trace: async (request, call) => json(await search.trace(call, { requester: request.requester }, String(request.id ?? ''))),
      SubjectAccesses: async (request, call) =>
        json(await search.subject(call, present({ requester: request.requester }, request, ['from', 'to', 'limit', 'cursor']), String(request.code ?? ''))),
      FlagCovertCase: async (request, call) =>
        json(covertCaseJson(await search.flagCovert(call, present({ requester: request.requester }, request, ['department', 'caseNumber', 'releaseOn', 'reason'])))),
      LiftCovertCase: async (request, call) =>
        json(covertCaseJson(await search.liftCovert(call, present({ requester: request.requester }, request, ['reason']), String(request.id ?? '')))),
      ListCovertCases: async (request, call) =>
        json({ cases: (await search.listCovert(call, present({ requester: request.requester }, request, ['department', 'all', 'limit']))).map(covertCaseJson) }),
    },
    streaming: {
      Export: async (request, call) => {
        const raw: RawParameters = { requester: request.requester, ...filtersOf(request.filters), ...present({}, request, ['format']) };
        const prepared = await search.prepareExport(call, raw);
        return (async function* () {
          for await (const data of prepared.chunks()) yield { data, rows: 0 };
        })();
      },
    },
  };
}

/** Adds zhengtong.v1.AuditService to the server; returns its name (for the health service). */
export function addAuditService(server: grpc.Server, root: protobuf.Root, deps: AuditServiceDeps): string {
  const service = root.lookupService(AUDIT_GRPC_SERVICE);
  const { unary, streaming } = handlers(deps.search);
  const definition: Record<string, grpc.MethodDefinition<Buffer, Buffer>> = {};
  const implementation: grpc.UntypedServiceImplementation = {};
  for (const method of service.methodsArray) {
    const requestType = method.resolvedRequestType!;
    const responseType = method.resolvedResponseType!;
    const path = `/${AUDIT_GRPC_SERVICE}/${method.name}`;
    const stream = method.responseStream === true;
    definition[method.name] = {
      path,
      requestStream: false,
      responseStream: stream,
      requestSerialize: identity,
      requestDeserialize: identity,
      responseSerialize: identity,
      responseDeserialize: identity,
      originalName: method.name,
    };
    const prepare = (request: Buffer, metadata: grpc.Metadata): { message: Msg; call: AuditCall } => {
      if (deps.closing()) throw new ZtError('ZT_ERR_SHUTTING_DOWN');
      if (request.length > deps.bodyLimitBytes) throw new ZtError('ZT_ERR_REQUEST_TOO_LARGE', `the ${requestType.name} message has ${request.length} bytes; at most ${deps.bodyLimitBytes} are accepted`);
      let message: Msg;
      try {
        message = requestType.toObject(requestType.decode(request), TO_OBJECT);
      } catch (error) {
        throw new ZtError('ZT_ERR_REQUEST_MALFORMED_PROTOBUF', `the ${requestType.name} message cannot be decoded: ${(error as Error).message}`, { cause: error });
      }
      // Every method is signed (docs/access-control.md): an unsigned call is refused before its fields are read.
      presentedGrpcSignature(metadata);
      const call = { method: 'POST', path, body: request, signature: () => presentedGrpcSignature(metadata) };
      return { message, call: { call, protocol: 'grpc' } };
    };
    const requestIdOf = (metadata: grpc.Metadata): string => {
      const given = metadata.get('x-request-id')[0];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    };
    const logFailure = (error: unknown, requestId: string): ZtError => {
      const zt = toZtError(error);
      const logger = deps.logger.child({ reqId: requestId, grpcMethod: path });
      if (zt.httpStatus >= 500) logger.error({ err: error, code: zt.code }, zt.message);
      else logger.info({ code: zt.code }, zt.message);
      return zt;
    };
    if (stream) {
      const handler = streaming[method.name];
      if (!handler) throw new Error(`gRPC method ${path} has no handler`);
      implementation[method.name] = ((call: grpc.ServerWritableStream<Buffer, Buffer>) => {
        const requestId = requestIdOf(call.metadata);
        void (async () => {
          try {
            const { message, call: signed } = prepare(call.request, call.metadata);
            const chunks = await handler(message, signed);
            for await (const chunk of chunks) {
              if (call.cancelled) break;
              // Honour back-pressure: wait for the transport to drain before the next batch is read.
              if (!call.write(Buffer.from(responseType.encode(responseType.fromObject(chunk)).finish()))) await drained(call);
            }
            const trailer = new grpc.Metadata();
            trailer.set('x-request-id', requestId);
            call.end(trailer);
          } catch (error) {
            const zt = logFailure(error, requestId);
            call.emit('error', errorStatus(zt, requestId));
          }
        })();
      }) as grpc.handleServerStreamingCall<Buffer, Buffer>;
    } else {
      const handler = unary[method.name];
      if (!handler) throw new Error(`gRPC method ${path} has no handler`);
      implementation[method.name] = ((call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        const requestId = requestIdOf(call.metadata);
        void (async () => {
          try {
            const { message, call: signed } = prepare(call.request, call.metadata);
            const answer = await handler(message, signed);
            const trailer = new grpc.Metadata();
            trailer.set('x-request-id', requestId);
            callback(null, Buffer.from(responseType.encode(responseType.fromObject(answer)).finish()), trailer);
          } catch (error) {
            const zt = logFailure(error, requestId);
            callback(errorStatus(zt, requestId));
          }
        })();
      }) as grpc.handleUnaryCall<Buffer, Buffer>;
    }
  }
  server.addService(definition, implementation);
  return AUDIT_GRPC_SERVICE;
}
