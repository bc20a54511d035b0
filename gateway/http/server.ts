import { exchangeRoutes } from '../../exchange/http/routes.js';
import { licenceJson, licenceRoutes } from '../../licences/http/routes.js';
import { intakeRoutes } from '../../intake/http/routes.js';
import { auditSearchRoutes } from '../../audit/search/http/routes.js';
import { auditAnalyticsRoutes } from '../../audit/analytics/http/routes.js';
import { auditLogRoutes } from '../../audit/log/http/routes.js';
import { AuditLogApi } from '../../audit/log/api.js';
import { randomUUID } from 'node:crypto';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { ZtError } from '../../core/errors/index.js';
import { caRoutes } from '../../certs/ca/http/routes.js';
import { policyRoutes } from '../../policies/http/routes.js';
import { catalogueRoutes } from '../../registry/catalogue/http/routes.js';
import { departmentRoutes } from '../../registry/departments/http/routes.js';
import { checkReadiness, type AppContext } from '../context.js';
import { clientErrorResponse, errorBodySchema, errorResponses, toCatalogueError } from '../../transport/http-errors.js';
import { carriesSignature, keepRawBodies, setAuthorised, signedHttpCall } from '../../transport/http-signed-body.js';
import { consoleApiRoutes } from '../../console/index.js';
import { consoleSessionRoutes } from '../../console/accounts/index.js';
import { consoleSecurityHeaders, consoleStatic } from '../../console/static.js';
import { packageRoot } from '../../core/paths.js';
import { join } from 'node:path';
import { carriesStatement, describeAccess, isAccessClass, PUBLIC, withWhileVerifying } from '../../transport/access.js';
import { cookieValue, CSRF_HEADER, SESSION_COOKIE, type PresentedSession } from '../../transport/person.js';
import { HTTP_HEADERS } from '../../transport/request-signature.js';
import { roleRoutes } from '../../registry/roles/index.js';
import { lazyChildLogger } from './lazy-logger.js';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

const readinessCheck = {
  type: 'object',
  required: ['status', 'kind'],
  properties: { status: { type: 'string', enum: ['up', 'down'] }, kind: { type: 'string' }, error: { type: 'string' }, outboxWaiting: { type: 'integer', description: 'Events committed and not yet published, while the event bus is down.' } },
} as const;

/** Builds the fastify server: schemas, error handling, health, metrics, docs, and the feature routes. */
export async function createHttpServer(ctx: AppContext): Promise<FastifyInstance> {
  const { config, metrics } = ctx;
  const app = Fastify({
    // The application's logger (its destination, redaction and identifier scrubbing), one child per request.
    loggerInstance: ctx.logger as FastifyBaseLogger,
    childLoggerFactory: lazyChildLogger,
    bodyLimit: config.bodyLimitBytes,
    // A client that trickles its headers or its body is answered 408 ZT_ERR_REQUEST_TIMEOUT (clientErrorHandler) and
    // cut off, rather than holding a connection for as long as it likes (fastify's own default is no limit). node:http
    // checks the open connections every connectionsCheckingInterval, so that bounds how late the cut comes.
    requestTimeout: config.httpRequestTimeoutMs,
    http: { headersTimeout: config.httpHeadersTimeoutMs, connectionsCheckingInterval: Math.min(1000, Math.ceil(config.httpHeadersTimeoutMs / 4)) },
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    // Readiness and the shutting-down error are ours, so fastify's own 503 is turned off.
    return503OnClosing: false,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
    forceCloseConnections: 'idle',
    // What fastify and node:http refuse before any route runs (a broken percent-escape, a path parameter over the
    // router's limit, unparsable framing) is answered in the one error body too, not in their own shapes.
    frameworkErrors: (error, request, reply) => {
      const zt = toCatalogueError(error);
      void (reply as FastifyReply).code(zt.httpStatus).header('x-request-id', request.id).send(zt.toBody(request.id));
    },
    clientErrorHandler: (error, socket) => {
      if ((error as NodeJS.ErrnoException).code === 'ECONNRESET' || socket.destroyed) return;
      if (socket.writable) socket.write(clientErrorResponse(error as NodeJS.ErrnoException));
      socket.destroy(error);
    },
  });

  app.addSchema(errorBodySchema);

  // Every route declares who may call it (config.access, transport/access.ts) or is not registered at all; the
  // API docs' own pages are public. The class goes into the OpenAPI document (x-zt-access), which a test walks.
  app.addHook('onRoute', (route) => {
    let access = route.config?.access;
    if (access === undefined && (route.url === '/docs' || route.url.startsWith('/docs/'))) access = PUBLIC;
    if (!isAccessClass(access)) throw new Error(`route ${String(route.method)} ${route.url} declares no access class (config.access, transport/access.ts)`);
    route.config = { ...route.config, access };
    if (route.schema && !route.schema.hide) {
      const { access: kind, who } = describeAccess(access);
      route.schema = {
        ...route.schema,
        'x-zt-access': kind,
        'x-zt-who': who,
        ...(access.kind === 'department' || access.kind === 'role' || (access.kind === 'public' && access.signed === 'optional') ? { security: [{ ztRequestSignature: [] }] } : {}),
      } as typeof route.schema;
    }
  });
  // Signed requests are checked over the body's bytes as received, on every route.
  keepRawBodies(app);

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'zhengtong (政通) data-sharing exchange',
        version: ctx.version,
        description: 'HTTP API of zhengtong. Errors share one body (ErrorBody) with a stable code; see docs/errors.md.',
      },
      components: {
        securitySchemes: {
          ztRequestSignature: {
            type: 'apiKey',
            in: 'header',
            name: HTTP_HEADERS.signature,
            description: `SM2 signature of the canonical request by a department's platform-CA certificate, with ${HTTP_HEADERS.timestamp}, ${HTTP_HEADERS.nonce} and ${HTTP_HEADERS.certificate} (docs/exchange-protocol.md).`,
          },
        },
      },
      tags: [
        { name: 'roles', description: 'Roles in the registry (administrator, supervisor, portal): who holds which since when, granted and withdrawn by the administrator with signed requests.' },
        { name: 'service', description: 'Health, readiness, metrics and build information.' },
        { name: 'departments', description: 'Departments (部门) of the city government.' },
        {
          name: 'catalogue',
          description: 'The data catalogue (数据目录): supply lists (供给清单), demand lists (需求清单), the application–reply workflow (申请–答复) and fulfilment reports.',
        },
        { name: 'policies', description: 'The negative list (负面清单) in force, and dry-run decisions.' },
        { name: 'ca', description: 'The platform certificate authority (平台CA): certificates, CRLs, status.' },
        { name: 'licences', description: 'The e-licence registry (电子证照): types, issue, lookup, verification, lifecycle, status lists.' },
        { name: 'intake', description: 'Application intake (受理): service items (事项), preview, prefill from shared data and e-licences, the submission check. Signed requests.' },
        { name: 'exchange', description: 'The real-time exchange (实时共享交换): signed requests in, policy-filtered signed data out, every access recorded.' },
        { name: 'audit', description: 'Supervision of the access log (行权回溯): search, export, trace, a subject\'s view, covert-case flags. Signed requests.' },
      ],
    },
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list' } });

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    if (ctx.lifecycle.closing && request.url !== '/healthz' && request.url !== '/readyz') {
      throw new ZtError('ZT_ERR_SHUTTING_DOWN');
    }
  });

  // The one enforcement of the access classes (gateway/access.ts): after the body is parsed, before it is validated
  // (an anonymous caller learns nothing of a route's schema) and before any handler.
  app.addHook('preValidation', async (request) => {
    const access = request.routeOptions.config.access;
    if (access === undefined || (access.kind === 'public' && access.signed !== 'optional')) return;
    // A statement travels in the body's signature field, or for a whole-file import in the Zt-Signature header.
    const statement = carriesStatement(request.body) || request.headers['zt-signature'] !== undefined;
    const session = access.kind === 'person' ? presentedSession(request) : undefined;
    setAuthorised(request, await ctx.access.authorise(access, withWhileVerifying(signedHttpCall(request), access, request.body), carriesSignature(request), statement, session));
  });

  app.addHook('onResponse', async (request, reply) => {
    metrics.httpDuration.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  app.setErrorHandler((error, request, reply) => {
    const zt = toCatalogueError(error);
    if (zt.httpStatus >= 500) request.log.error({ err: error, code: zt.code }, zt.message);
    else request.log.info({ code: zt.code }, zt.message);
    return reply.code(zt.httpStatus).send(zt.toBody(request.id));
  });

  app.setNotFoundHandler((request, reply) => {
    const zt = new ZtError('ZT_ERR_ROUTE_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`);
    return reply.code(zt.httpStatus).send(zt.toBody(request.id));
  });

  app.get(
    '/healthz',
    {
      config: { access: PUBLIC },
      schema: {
        tags: ['service'],
        summary: 'Liveness: the process is up and serving HTTP.',
        response: { 200: { type: 'object', required: ['status'], properties: { status: { type: 'string', enum: ['ok'] } } } },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  const readinessResponse = {
    type: 'object',
    required: ['status', 'checks'],
    properties: {
      status: { type: 'string', enum: ['ready', 'degraded', 'not-ready'], description: 'degraded: ready, but the event bus is down (events wait in the outbox; other instances hear of changes late).' },
      checks: { type: 'object', required: ['database', 'eventBus'], properties: { database: readinessCheck, eventBus: readinessCheck } },
    },
  } as const;
  app.get(
    '/readyz',
    {
      config: { access: PUBLIC },
      schema: {
        tags: ['service'],
        summary: 'Readiness: 200 when the instance can serve (its database answers, it is not shutting down), "degraded" while the event bus is down; 503 otherwise.',
        response: { 200: readinessResponse, 503: readinessResponse },
      },
    },
    async (_request, reply) => {
      const r = await checkReadiness(ctx);
      return reply.code(r.ready ? 200 : 503).send({ status: r.degraded ? 'degraded' : r.ready ? 'ready' : 'not-ready', checks: r.checks });
    },
  );

  app.get(
    '/metrics',
    { config: { access: PUBLIC }, schema: { tags: ['service'], summary: 'Prometheus metrics (text exposition format).', produces: ['text/plain'], response: { 200: { type: 'string' } } } },
    async (_request, reply) => {
      await checkReadiness(ctx);
      reply.type(metrics.registry.contentType);
      return metrics.registry.metrics();
    },
  );

  app.get(
    '/v1/info',
    {
      config: { access: PUBLIC },
      schema: {
        tags: ['service'],
        summary: 'Build and runtime information of this instance.',
        response: {
          200: {
            type: 'object',
            required: ['name', 'version', 'instance', 'database', 'eventBus', 'startedAt'],
            properties: {
              name: { type: 'string' },
              version: { type: 'string' },
              instance: { type: 'string' },
              database: { type: 'string', enum: ['pglite', 'postgres'] },
              eventBus: { type: 'string', enum: ['memory', 'kafka'] },
              startedAt: { type: 'string', format: 'date-time' },
            },
          },
          ...errorResponses,
        },
      },
    },
    async () => ({
      name: 'zhengtong',
      version: ctx.version,
      instance: config.instanceId!,
      database: ctx.db.kind,
      eventBus: ctx.bus.kind,
      startedAt: ctx.startedAt,
    }),
  );

  await app.register(departmentRoutes(ctx.departments));
  await app.register(roleRoutes(ctx.roles));
  await app.register(catalogueRoutes(ctx.catalogue, ctx.demands));
  await app.register(caRoutes(ctx.ca));
  await app.register(policyRoutes(ctx.policy));
  await app.register(exchangeRoutes(ctx.exchange));
  await app.register(licenceRoutes(ctx.licences, ctx.licenceVerifier, ctx.licenceReads));
  await app.register(intakeRoutes(ctx.intake));
  await app.register(auditSearchRoutes(ctx.auditSearch));
  await app.register(auditAnalyticsRoutes(ctx.auditAnalytics));
  const auditLogApi = new AuditLogApi(ctx.auditLog, ctx.auditGuard);
  await app.register(auditLogRoutes(auditLogApi));
  // The web console's page (built into dist/web by npm run build) and the headers of everything under /console.
  app.addHook('onRequest', consoleSecurityHeaders);
  await app.register(consoleStatic({ dir: join(packageRoot(), 'dist', 'web') }));
  await app.register(
    consoleSessionRoutes({
      sessions: ctx.consoleSessions,
      oidc: ctx.oidc,
      departmentName: (uscc) => ctx.departments.get(uscc).then((d) => d.name, () => null),
      secureCookies: ctx.config.consoleSecureCookies,
    }),
  );
  await app.register(
    consoleApiRoutes({
      calendar: ctx.demands.calendar,
      policy: ctx.policy,
      search: ctx.auditSearch,
      analytics: ctx.auditAnalytics,
      log: auditLogApi,
      catalogue: ctx.catalogue,
      demands: ctx.demands,
      licences: ctx.licences,
      actions: ctx.consoleActions,
      inject: (options) => app.inject(options),
      licenceJson,
    }),
  );
  return app;
}

/** The session a console call presents: its cookie, and its CSRF token (header, or a urlencoded form's `csrf` field). */
function presentedSession(request: FastifyRequest): PresentedSession {
  const header = request.headers[CSRF_HEADER];
  const form = request.body && typeof request.body === 'object' ? (request.body as { csrf?: unknown }).csrf : undefined;
  const csrf = typeof header === 'string' ? header : typeof form === 'string' ? form : undefined;
  const method = request.method.toUpperCase();
  return { cookie: cookieValue(request.headers.cookie, SESSION_COOKIE), csrf, changesState: method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS' };
}
