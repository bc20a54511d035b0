import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation, protoPath as healthProtoPath, type ServingStatus } from 'grpc-health-check';
import type protobuf from 'protobufjs';
import { toZtError, ZtError, type ErrorCode } from '../../core/errors/index.js';
import { exchangeHandlers } from '../../exchange/grpc/handlers.js';
import { carriesGrpcSignature, grpcErrorParts, peerAddress, signedGrpcCall, toTimestamp, withAccess, type CallContext, type UnaryHandler } from '../../transport/grpc.js';
import { carriesStatement, department, PUBLIC, role, withWhileVerifying, type AccessClass } from '../../transport/access.js';
import { policyHandlers } from '../../policies/grpc/handlers.js';
import { catalogueHandlers } from '../../registry/catalogue/grpc/handlers.js';
import { departmentHandlers } from '../../registry/departments/grpc/handlers.js';
import { roleHandlers } from '../../registry/roles/index.js';
import { licenceHandlers } from '../../licences/grpc/handlers.js';
import { intakeHandlers } from '../../intake/grpc/handlers.js';
import { addAuditService } from '../../audit/search/grpc/service.js';
import { auditAnalyticsHandlers } from '../../audit/analytics/grpc/handlers.js';
import { auditLogHandlers } from '../../audit/log/grpc/handlers.js';
import { AuditLogApi } from '../../audit/log/api.js';
import type { AppContext } from '../context.js';
import { loadProtos } from './protos.js';

const TO_OBJECT: protobuf.IConversionOptions = { longs: String, enums: String, defaults: true };
const identity = (b: Buffer): Buffer => b;
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export interface GrpcServer {
  readonly server: grpc.Server;
  readonly health: HealthImplementation;
  readonly services: string[];
  /** Every method's access class, by full method name (service/method): what docs/access-control.md lists. */
  readonly access: ReadonlyMap<string, AccessClass>;
  listen(host: string, port: number): Promise<number>;
  setServing(status: ServingStatus): void;
  /** Stops accepting calls, waits for those in progress up to timeoutMs, then cancels the rest. */
  close(timeoutMs: number): Promise<void>;
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

export function createGrpcServer(ctx: AppContext): GrpcServer {
  const { root, packageDefinition } = loadProtos();
  const server = new grpc.Server({
    // Up to twice the limit reaches the handler, which refuses it with ZT_ERR_REQUEST_TOO_LARGE (and the exchange
    // records it); grpc-js itself refuses anything larger, with RESOURCE_EXHAUSTED and no catalogue code.
    'grpc.max_receive_message_length': 2 * ctx.config.bodyLimitBytes,
    'grpc.max_send_message_length': 64 * 1024 * 1024,
  });
  const implementations: Record<string, Record<string, UnaryHandler>> = {
    'zhengtong.v1.PlatformService': {
      GetInfo: withAccess(PUBLIC, async () => ({
        name: 'zhengtong',
        version: ctx.version,
        instance: ctx.config.instanceId!,
        database: ctx.db.kind,
        eventBus: ctx.bus.kind,
        startedAt: toTimestamp(ctx.startedAt),
      })),
    },
    'zhengtong.v1.DepartmentService': departmentHandlers(ctx.departments),
    'zhengtong.v1.RoleService': roleHandlers(ctx.roles),
    'zhengtong.v1.CatalogueService': catalogueHandlers(ctx.catalogue, ctx.demands),
    'zhengtong.v1.PolicyService': policyHandlers(ctx.policy),
    'zhengtong.v1.ExchangeService': exchangeHandlers(ctx.exchange),
    'zhengtong.v1.LicenceService': licenceHandlers(ctx.licences, ctx.licenceVerifier, ctx.licenceReads),
    'zhengtong.v1.IntakeService': intakeHandlers(ctx.intake),
    'zhengtong.v1.AuditAnalyticsService': auditAnalyticsHandlers(ctx.auditAnalytics),
    'zhengtong.v1.AuditLogService': auditLogHandlers(new AuditLogApi(ctx.auditLog, ctx.auditGuard)),
  };

  const access = new Map<string, AccessClass>();
  for (const [serviceName, handlers] of Object.entries(implementations)) {
    const service = root.lookupService(serviceName);
    const definition: Record<string, grpc.MethodDefinition<Buffer, Buffer>> = {};
    const implementation: grpc.UntypedServiceImplementation = {};
    for (const method of service.methodsArray) {
      const handler = handlers[method.name];
      if (!handler) throw new Error(`gRPC method ${serviceName}/${method.name} has no handler`);
      if (!handler.access) throw new Error(`gRPC method ${serviceName}/${method.name} declares no access class (withAccess, transport/access.ts)`);
      access.set(`${serviceName}/${method.name}`, handler.access);
      const requestType = method.resolvedRequestType!;
      const responseType = method.resolvedResponseType!;
      const fullName = `${serviceName}/${method.name}`;
      definition[method.name] = {
        path: `/${fullName}`,
        requestStream: false,
        responseStream: false,
        requestSerialize: identity,
        requestDeserialize: identity,
        responseSerialize: identity,
        responseDeserialize: identity,
        originalName: method.name,
      };
      implementation[method.name] = unary(ctx, fullName, requestType, responseType, handler);
    }
    server.addService(definition, implementation);
  }
  // The audit search streams its exports, so it registers itself (audit/search/grpc/service.ts).
  const auditService = addAuditService(server, root, { search: ctx.auditSearch, logger: ctx.logger, bodyLimitBytes: ctx.config.bodyLimitBytes, closing: () => ctx.lifecycle.closing });
  // Its methods check the signature and the role through the access log's guard (which records refused reads).
  const supervisor = role('supervisor', { recordsRefusals: true });
  for (const [method, a] of Object.entries({
    Search: supervisor,
    Export: supervisor,
    Trace: supervisor,
    SubjectAccesses: role(['portal', 'supervisor'], { recordsRefusals: true, scope: 'a service portal that authenticated the subject, or a supervisor' }),
    FlagCovertCase: department('the department whose case it is, or a supervisor', { recordsRefusals: true }),
    LiftCovertCase: department('the department whose case it is, or a supervisor', { recordsRefusals: true }),
    ListCovertCases: department('the department whose cases they are, or a supervisor', { recordsRefusals: true }),
  })) access.set(`${auditService}/${method}`, a);

  const health = new HealthImplementation({ '': 'SERVING', ...Object.fromEntries([...Object.keys(implementations), auditService].map((s) => [s, 'SERVING' as const])) });
  health.addToServer(server);
  // Reflection describes every service the server answers, the standard health service included.
  const healthDefinition = protoLoader.loadSync(healthProtoPath, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  new ReflectionService({ ...packageDefinition, ...healthDefinition }).addToServer(server);

  return {
    server,
    health,
    services: Object.keys(implementations),
    access,
    listen: (host, port) =>
      new Promise((resolve, reject) => {
        server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (error, bound) => {
          if (error) {
            reject(
              /EADDRINUSE/.test(error.message)
                ? new ZtError('ZT_ERR_PORT_IN_USE', `gRPC port ${host}:${port} is in use; stop the other process or set ZT_GRPC_PORT`, { cause: error })
                : error,
            );
          } else resolve(bound);
        });
      }),
    setServing: (status) => {
      health.setStatus('', status);
      for (const s of Object.keys(implementations)) health.setStatus(s, status);
    },
    close: (timeoutMs) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, timeoutMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}

function unary(
  ctx: AppContext,
  fullName: string,
  requestType: protobuf.Type,
  responseType: protobuf.Type,
  handler: UnaryHandler,
): grpc.handleUnaryCall<Buffer, Buffer> {
  return (call, callback) => {
    const started = process.hrtime.bigint();
    const given = call.metadata.get('x-request-id')[0];
    const requestId = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    const logger = ctx.logger.child({ reqId: requestId, grpcMethod: fullName });
    const finish = (code: grpc.status): void => {
      ctx.metrics.grpcDuration.observe({ method: fullName, code: grpc.status[code] ?? String(code) }, Number(process.hrtime.bigint() - started) / 1e9);
    };
    const fail = (error: unknown): void => {
      const zt = toZtError(error);
      if (zt.httpStatus >= 500) logger.error({ err: error, code: zt.code }, zt.message);
      else logger.info({ code: zt.code }, zt.message);
      finish(zt.grpcStatus as grpc.status);
      callback(errorStatus(zt, requestId));
    };
    if (ctx.lifecycle.closing) return fail(new ZtError('ZT_ERR_SHUTTING_DOWN'));
    // A refusal the handler is told of is answered once it has recorded it (never rejects: recordUnreadable logs).
    const refuse = (error: ZtError): void => {
      const told = handler.onUndecodable?.(error.code as ErrorCode, Number(process.hrtime.bigint() - started) / 1e6);
      if (told) void told.finally(() => fail(error));
      else fail(error);
    };
    if (call.request.length > ctx.config.bodyLimitBytes) {
      return refuse(new ZtError('ZT_ERR_REQUEST_TOO_LARGE', `the ${requestType.name} message has ${call.request.length} bytes; at most ${ctx.config.bodyLimitBytes} are accepted (ZT_BODY_LIMIT_BYTES)`));
    }
    let request: Record<string, unknown>;
    try {
      request = requestType.toObject(requestType.decode(call.request), TO_OBJECT);
    } catch (error) {
      return refuse(new ZtError('ZT_ERR_REQUEST_MALFORMED_PROTOBUF', `the ${requestType.name} message cannot be decoded: ${(error as Error).message}`, { cause: error }));
    }
    const access = handler.access!;
    const context = { requestId, logger, raw: call.request, metadata: call.metadata, peer: peerAddress(call.getPeer()), caller: null, verification: null } as CallContext;
    // The one enforcement of the method's access class (gateway/access.ts), as for HTTP routes.
    const admitted =
      access.kind === 'public' && (access.signed !== 'optional' || !carriesGrpcSignature(call.metadata))
        ? Promise.resolve(context)
        : ctx.access.authorise(access, withWhileVerifying(signedGrpcCall(`/${fullName}`, context), access, request), carriesGrpcSignature(call.metadata), carriesStatement(request)).then((a) => {
            context.caller = a.caller;
            context.verification = a.verification;
            return context;
          });
    // A call refused at the door is still an access the exchange records, before the refusal is answered.
    admitted.then(
      (c) => handler(request, c),
      async (error: unknown) => {
        await handler.onUndecodable?.(toZtError(error).code as ErrorCode, Number(process.hrtime.bigint() - started) / 1e6);
        throw error;
      },
    ).then(
      (response) => {
        let encoded: Buffer;
        try {
          encoded = Buffer.from(responseType.encode(responseType.fromObject(response)).finish());
        } catch (error) {
          return fail(error);
        }
        finish(grpc.status.OK);
        const trailer = new grpc.Metadata();
        trailer.set('x-request-id', requestId);
        callback(null, encoded, trailer);
      },
      fail,
    );
  };
}
