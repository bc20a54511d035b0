// The console's data API (/console/api/...): what the pages of supervisors, department stewards and citizens read,
// for the person the gateway resolved from the session (access class `person`, gateway/access.ts). Reads of the
// access log go through the same services as signed reads, which check the department's role in the registry again
// and record the query in audit_queries with the person; every call is recorded in console_actions. Steps that change
// the catalogue or a demand are not taken here: the page signs them with the department's SM2 key, in the browser,
// and /console/api/signed hands the signed call to the real /v1 route, which verifies it exactly as a CLI's.
import { Readable } from 'node:stream';
import * as x509 from '@peculiar/x509';
import type { FastifyPluginAsync, FastifyRequest, InjectOptions } from 'fastify';
import { ZtError } from '../../core/errors/index.js';
import { readUscc } from '../../certs/x509/organisation.js';
import { decodeEnvelopeJson } from '../../certs/envelope/index.js';
import type { AccessLogSearch, AuditCall } from '../../audit/search/index.js';
import type { AuditAnalytics } from '../../audit/analytics/service.js';
import type { AuditLogApi } from '../../audit/log/api.js';
import { EXPORT_CONTENT_TYPES } from '../../audit/search/export-format.js';
import type { RawParameters } from '../../audit/search/query.js';
import type { DemandService } from '../../registry/catalogue/index.js';
import type { CatalogueService } from '../../registry/catalogue/index.js';
import { chinaDate, type WorkingCalendar } from '../../registry/catalogue/working-days.js';
import type { LicenceRegistry, StoredLicence } from '../../licences/index.js';
import { encodeCompactLicence } from '../../licences/offline/compact.js';
import type { PolicyEngine } from '../../policies/index.js';
import { candidateImpact } from '../../policies/http/routes.js';
import { errorResponses, toCatalogueError } from '../../transport/http-errors.js';
import { person } from '../../transport/access.js';
import { requirePerson } from '../../transport/http-signed-body.js';
import type { Person } from '../../transport/person.js';
import type { ConsoleActionLog } from './action-log.js';

export interface ConsoleApiOptions {
  /** The working-day calendar demand deadlines are counted in. */
  calendar: WorkingCalendar;
  /** The negative list in force (gateway/policy.ts's holder). */
  policy: { readonly current: { readonly engine: PolicyEngine } | null };
  search: AccessLogSearch;
  analytics: AuditAnalytics;
  log: AuditLogApi;
  catalogue: CatalogueService;
  demands: DemandService;
  licences: LicenceRegistry;
  actions: ConsoleActionLog;
  /** Hands a call to the gateway's own routes (the root fastify instance's inject). */
  inject: (options: InjectOptions) => Promise<{ statusCode: number; body: string }>;
  /** JSON of a stored licence as the licence API answers it. */
  licenceJson: (l: StoredLicence) => Record<string, unknown>;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The name a console route's calls are recorded under in console_actions. */
    consoleAction?: string;
  }
}

const object = { type: 'object', additionalProperties: true } as const;
const SUPERVISOR = person(['supervisor'], 'a person of a department holding the supervisor role');
const STEWARD = person(['steward'], "a department's staff: its own supply list and demands");
const CITIZEN = person(['citizen'], 'a citizen signed in through a service portal: their own data only');

/** The filters of a console search, as the signed search takes them, for the person's department. */
function asDepartment(request: FastifyRequest, p: Person): RawParameters {
  const raw = { ...((request.query ?? {}) as RawParameters) };
  delete raw.requester;
  return { ...raw, requester: p.department };
}

function call(request: FastifyRequest, p: Person): AuditCall {
  return { call: { person: p, path: request.url }, protocol: 'console' };
}

/** Paths a page may hand signed steps to: the steward's supply list and demand steps. */
const SIGNED_ROUTES: readonly { method: string; path: RegExp; action: string }[] = [
  { method: 'POST', path: /^\/v1\/catalogue\/resources$/, action: 'resource.publish' },
  { method: 'POST', path: /^\/v1\/catalogue\/resources\/import$/, action: 'resource.import' },
  { method: 'PUT', path: /^\/v1\/catalogue\/resources\/[A-Z0-9][A-Z0-9._-]{1,63}$/, action: 'resource.revise' },
  { method: 'POST', path: /^\/v1\/catalogue\/demands$/, action: 'demand.register' },
  { method: 'POST', path: /^\/v1\/catalogue\/demands\/[0-9A-Za-z-]{1,64}\/approve$/, action: 'demand.approve' },
  { method: 'POST', path: /^\/v1\/catalogue\/demands\/[0-9A-Za-z-]{1,64}\/refuse$/, action: 'demand.refuse' },
  { method: 'POST', path: /^\/v1\/catalogue\/demands\/[0-9A-Za-z-]{1,64}\/withdraw$/, action: 'demand.withdraw' },
];
const SIGNED_HEADERS = ['zt-timestamp', 'zt-nonce', 'zt-certificate', 'zt-request-signature', 'content-type'] as const;
const SIGNED_BODY_MAX = 2 * 1024 * 1024;

interface SignedRelay {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

/** The USCC of the department that signed a relayed call: its Zt-Certificate, or the statement's signer. */
function signerOf(relay: SignedRelay): string {
  let der: Buffer | null = null;
  const header = relay.headers?.['zt-certificate'];
  if (header) der = Buffer.from(header, 'base64');
  else if (relay.body) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(relay.body);
    } catch {
      throw new ZtError('ZT_ERR_REQUEST_INVALID', 'the signed body is not JSON');
    }
    const signature = (parsed as { signature?: unknown } | null)?.signature;
    if (signature && typeof signature === 'object') {
      const certificate = decodeEnvelopeJson(signature).signer.certificate;
      if (certificate) der = Buffer.from(certificate);
    }
  }
  if (!der) throw new ZtError('ZT_ERR_REQUEST_UNSIGNED', 'the step carries no signature: sign it with the department key in the page first');
  try {
    const uscc = readUscc(new x509.X509Certificate(der));
    if (uscc) return uscc;
  } catch {
    // Falls through to the refusal below.
  }
  throw new ZtError('ZT_ERR_CERT_USAGE', 'the signing certificate names no department (no USCC in its subject)');
}

export function consoleApiRoutes(o: ConsoleApiOptions): FastifyPluginAsync {
  return async (app) => {
    // A plain HTML form posts urlencoded fields: read them, so that its CSRF token (the `csrf` field) is checked like
    // the header and a form without it is refused as such (ZT_ERR_CSRF_INVALID), not as an unknown media type.
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    });

    // Every answered or refused call of a signed-in person is recorded (a call refused at the door for want of a
    // session names nobody: the session check's own refusal is what the client sees).
    const codes = new WeakMap<FastifyRequest, string>();
    const targets = new WeakMap<FastifyRequest, string>();
    // Calls the signed relay recorded itself, under the step it relayed (a call refused before it is recorded here).
    const stepRecorded = new WeakSet<FastifyRequest>();
    app.addHook('onError', async (request, _reply, error) => {
      // The code the client is answered with: fastify's own errors (validation, media type) mapped as the gateway does.
      codes.set(request, toCatalogueError(error).code);
    });
    // Recorded before the answer leaves, so that what the person saw is on record by the time they see it.
    app.addHook('onSend', async (request, reply, payload) => {
      const action = request.routeOptions.config.consoleAction;
      let p: Person;
      try {
        p = requirePerson(request);
      } catch {
        return payload;
      }
      if (!action || stepRecorded.has(request)) return payload;
      await o.actions
        .record({ person: p, action, target: targets.get(request) ?? null, status: reply.statusCode, errorCode: codes.get(request) ?? null })
        .catch((error: unknown) => request.log.error({ err: error, action }, 'a console action could not be recorded'));
      return payload;
    });

    // --- Supervisors -------------------------------------------------------------------------------------------

    const filters = {
      department: { type: 'string' },
      operator: { type: 'string' },
      subject: { type: 'string' },
      resource: { type: 'string' },
      decision: { type: 'string' },
      rule: { type: 'string' },
      caseNumber: { type: 'string' },
      serviceItem: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
    } as const;

    app.get(
      '/console/api/audit/records',
      {
        config: { access: SUPERVISOR, consoleAction: 'audit.search' },
        attachValidation: true,
        schema: { tags: ['console'], summary: 'The access-log search of GET /v1/audit/access-records, for a signed-in supervisor.', querystring: { type: 'object', properties: { ...filters, limit: { type: 'string' }, cursor: { type: 'string' } } }, response: { 200: object, ...errorResponses } },
      },
      async (request) => {
        const p = requirePerson(request);
        return o.search.search(call(request, p), asDepartment(request, p));
      },
    );

    app.get(
      '/console/api/audit/records/export',
      {
        config: { access: SUPERVISOR, consoleAction: 'audit.export' },
        attachValidation: true,
        schema: { tags: ['console'], summary: 'CSV (or JSON Lines) export of the matching access records, for a signed-in supervisor.', querystring: { type: 'object', properties: { ...filters, format: { type: 'string', enum: ['csv', 'jsonl'] } } }, response: { 200: { type: 'string' }, ...errorResponses } },
      },
      async (request, reply) => {
        const p = requirePerson(request);
        const prepared = await o.search.prepareExport(call(request, p), asDepartment(request, p));
        const stamp = new Date().toISOString().replace(/[:.]/g, '-');
        reply
          .type(EXPORT_CONTENT_TYPES[prepared.format])
          .header('content-disposition', `attachment; filename="access-records-${stamp}.${prepared.format}"`)
          .header('zt-export-rows', String(prepared.rows));
        return reply.send(Readable.from(prepared.chunks(), { objectMode: false }));
      },
    );

    app.get<{ Params: { id: string } }>(
      '/console/api/audit/records/:id',
      {
        config: { access: SUPERVISOR, consoleAction: 'audit.trace' },
        attachValidation: true,
        schema: { tags: ['console'], summary: 'One access record and what explains it (the trace of GET /v1/audit/access-records/{id}).', response: { 200: object, ...errorResponses } },
      },
      async (request) => {
        const p = requirePerson(request);
        targets.set(request, request.params.id.slice(0, 64));
        return o.search.trace(call(request, p), { requester: p.department }, request.params.id);
      },
    );

    app.get<{ Params: { id: string } }>(
      '/console/api/audit/records/:id/proof',
      {
        config: { access: SUPERVISOR, consoleAction: 'audit.proof' },
        attachValidation: true,
        schema: {
          tags: ['console'],
          summary: 'The record\'s inclusion proof in the tamper-evident log with its leaf and the signed checkpoint it is proved against, for the page to check.',
          response: { 200: object, ...errorResponses },
        },
      },
      async (request) => {
        const p = requirePerson(request);
        targets.set(request, request.params.id.slice(0, 64));
        return o.log.inclusion({ person: p, path: request.url }, { requester: p.department }, request.params.id);
      },
    );

    app.get(
      '/console/api/audit/analytics',
      {
        config: { access: SUPERVISOR, consoleAction: 'audit.analytics' },
        attachValidation: true,
        schema: { tags: ['console'], summary: 'The efficiency report of GET /v1/audit/analytics, for a signed-in supervisor.', response: { 200: object, ...errorResponses } },
      },
      async (request) => {
        const p = requirePerson(request);
        return o.analytics.report(asDepartment(request, p), { person: p, path: request.url });
      },
    );

    app.get(
      '/console/api/audit/anomalies',
      {
        config: { access: SUPERVISOR, consoleAction: 'audit.anomalies' },
        attachValidation: true,
        schema: { tags: ['console'], summary: 'The anomaly flags of GET /v1/audit/anomalies, with their explanations.', response: { 200: object, ...errorResponses } },
      },
      async (request) => {
        const p = requirePerson(request);
        return o.analytics.anomalies(asDepartment(request, p), { person: p, path: request.url });
      },
    );

    app.get(
      '/console/api/demands/overdue',
      {
        config: { access: SUPERVISOR, consoleAction: 'demands.overdue' },
        schema: { tags: ['console'], summary: 'Demands whose reply is overdue (past their working-day deadline), for supervision.', response: { 200: object, ...errorResponses } },
      },
      async () => {
        return { demands: await o.demands.exportAll({ overdue: true }) };
      },
    );

    // --- Department stewards -----------------------------------------------------------------------------------

    app.get(
      '/console/api/catalogue/resources',
      {
        config: { access: STEWARD, consoleAction: 'catalogue.list' },
        schema: { tags: ['console'], summary: "The signed-in person's department's supply list.", response: { 200: object, ...errorResponses } },
      },
      async (request) => {
        const p = requirePerson(request);
        return { department: p.department, resources: await o.catalogue.exportAll(p.department) };
      },
    );

    app.get<{ Querystring: { direction?: string } }>(
      '/console/api/demands',
      {
        config: { access: STEWARD, consoleAction: 'demands.list' },
        schema: {
          tags: ['console'],
          summary: "Demands the person's department made (direction=mine) or that are addressed to it as provider (direction=addressed, the default), with their working-day deadlines.",
          querystring: { type: 'object', additionalProperties: false, properties: { direction: { type: 'string', enum: ['mine', 'addressed'] } } },
          response: { 200: object, ...errorResponses },
        },
      },
      async (request) => {
        const p = requirePerson(request);
        const mine = request.query.direction === 'mine';
        const demands = await o.demands.exportAll(mine ? { requester: p.department } : { provider: p.department });
        // The working days left to a pending demand's reply (negative: overdue by that many), as the deadline counts them.
        const today = chinaDate(new Date());
        const withDeadlines = demands.map((d) => {
          if (d.state !== 'pending' || !d.replyDue) return { ...d, workingDaysLeft: null };
          const left = d.replyDue >= today ? o.calendar.workingDaysBetween(today, d.replyDue) : -o.calendar.workingDaysBetween(d.replyDue, today);
          return { ...d, workingDaysLeft: left };
        });
        return { department: p.department, direction: mine ? 'mine' : 'addressed', demands: withDeadlines };
      },
    );

    const engine = (): PolicyEngine => {
      const current = o.policy.current;
      if (!current) throw new ZtError('ZT_ERR_SHUTTING_DOWN', 'the negative list is not loaded yet');
      return current.engine;
    };

    app.get(
      '/console/api/policy/entries',
      {
        config: { access: STEWARD, consoleAction: 'policy.entries' },
        schema: { tags: ['console'], summary: "The negative-list entries in force that reach the person's department's resources, each with the resources it reaches.", response: { 200: object, ...errorResponses } },
      },
      async (request) => {
        const p = requirePerson(request);
        const e = engine();
        const reached = new Map<string, Set<string>>();
        for (const code of e.policy.resourceCodes()) {
          const resource = e.policy.resource(code)!;
          if (resource.provider !== p.department) continue;
          for (const item of resource.items.values()) {
            for (const rule of [item.secret, ...item.denies, ...item.conditionals, ...item.masks]) {
              if (!rule) continue;
              let codes = reached.get(rule.id);
              if (!codes) reached.set(rule.id, (codes = new Set()));
              codes.add(code);
            }
          }
        }
        const entries = e
          .rules()
          .filter((r) => reached.has(r.id))
          .map((r) => ({ ...r, resources: [...reached.get(r.id)!].sort() }));
        return { revision: e.revision, department: p.department, entries };
      },
    );

    app.post<{ Body: { candidate: string; count?: number; seed?: number } }>(
      '/console/api/policy/impact',
      {
        config: { access: STEWARD, consoleAction: 'policy.impact' },
        bodyLimit: 2 * 1024 * 1024,
        schema: {
          tags: ['console'],
          summary: 'The impact preview of a candidate negative list (one YAML file), as POST /v1/policies/impact computes it: nothing is put in force.',
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['candidate'],
            properties: { candidate: { type: 'string', minLength: 1, maxLength: 1024 * 1024 }, count: { type: 'integer', minimum: 1, maximum: 5000 }, seed: { type: 'integer' }, csrf: { type: 'string' } },
          },
          response: { 200: object, ...errorResponses },
        },
      },
      async (request) => {
        const { candidate, count, seed } = request.body;
        return candidateImpact(engine(), { files: [{ name: 'candidate.yaml', text: candidate }], ...(count !== undefined ? { count } : {}), ...(seed !== undefined ? { seed } : {}) });
      },
    );

    app.post<{ Body: SignedRelay }>(
      '/console/api/signed',
      {
        config: { access: STEWARD, consoleAction: 'signed.step' },
        bodyLimit: SIGNED_BODY_MAX + 64 * 1024,
        schema: {
          tags: ['console'],
          summary:
            'Hands a step the page signed with the department\'s SM2 key (Zt-* request signature or a statement in the body) to its /v1 route, which verifies it as it verifies a CLI\'s; the signer must be the person\'s department.',
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['method', 'path'],
            properties: {
              method: { type: 'string', enum: ['POST', 'PUT'] },
              path: { type: 'string', maxLength: 500 },
              headers: { type: 'object', additionalProperties: { type: 'string', maxLength: 8192 } },
              body: { type: 'string', maxLength: SIGNED_BODY_MAX },
              csrf: { type: 'string' },
            },
          },
          response: { 200: object, ...errorResponses },
        },
      },
      async (request) => {
        const p = requirePerson(request);
        const relay = request.body;
        const route = SIGNED_ROUTES.find((r) => r.method === relay.method && r.path.test(relay.path));
        // A path the relay does not take is not kept: it is whatever the caller typed.
        const target = route ? relay.path : null;
        const refused = async (error: ZtError): Promise<never> => {
          stepRecorded.add(request);
          await o.actions.record({ person: p, action: route?.action ?? 'signed.step', target, status: error.httpStatus, errorCode: error.code });
          throw error;
        };
        if (!route) return refused(new ZtError('ZT_ERR_CONSOLE_FORBIDDEN', `the console does not take signed steps for ${relay.method} ${relay.path.slice(0, 200)}`));
        let signer: string;
        try {
          signer = signerOf(relay);
        } catch (error) {
          return refused(error as ZtError);
        }
        if (signer !== p.department) {
          return refused(new ZtError('ZT_ERR_ACTING_FOR_ANOTHER', `the step is signed by ${signer}, but ${p.login} acts for ${p.department}`));
        }
        const headers: Record<string, string> = {};
        for (const name of SIGNED_HEADERS) {
          const value = relay.headers?.[name];
          if (value !== undefined) headers[name] = value;
        }
        headers['content-type'] ??= 'application/json';
        const answer = await o.inject({ method: route.method as 'POST' | 'PUT', url: relay.path, headers, payload: relay.body ?? '' });
        let body: unknown = answer.body;
        try {
          body = JSON.parse(answer.body);
        } catch {
          // Not JSON: handed back as text.
        }
        stepRecorded.add(request);
        await o.actions.record({
          person: p,
          action: route.action,
          target,
          status: answer.statusCode,
          errorCode: answer.statusCode >= 400 ? ((body as { code?: string } | null)?.code ?? null) : null,
        });
        return { status: answer.statusCode, body };
      },
    );

    // --- Citizens ----------------------------------------------------------------------------------------------

    const citizenOf = (request: FastifyRequest): Person & { subject: string } => {
      const p = requirePerson(request);
      if (!p.subject) throw new ZtError('ZT_ERR_CONSOLE_FORBIDDEN', 'this account names no citizen');
      return p as Person & { subject: string };
    };

    app.get<{ Querystring: { cursor?: string; from?: string; to?: string } }>(
      '/console/api/me/accesses',
      {
        config: { access: CITIZEN, consoleAction: 'me.accesses' },
        attachValidation: true,
        schema: { tags: ['console'], summary: 'Who read my data: department, purpose (service item, case), resource, items released, time; covert cases stay hidden until their release date.', response: { 200: object, ...errorResponses } },
      },
      async (request) => {
        const p = citizenOf(request);
        const raw: Record<string, string> = { requester: p.department };
        for (const k of ['cursor', 'from', 'to'] as const) if (request.query[k] !== undefined) raw[k] = request.query[k]!;
        const answer = await o.search.subject(call(request, p), raw, p.subject);
        // The page knows whose view it is; the answer does not repeat the ID number.
        return { accesses: answer.accesses, next: answer.next };
      },
    );

    app.get(
      '/console/api/me/licences',
      {
        config: { access: CITIZEN, consoleAction: 'me.licences' },
        schema: { tags: ['console'], summary: 'My e-licences, each with its compact signed form for the QR code (zhengtong licence verify-offline).', response: { 200: object, ...errorResponses } },
      },
      async (request) => {
        const p = citizenOf(request);
        const held = await o.licences.byHolder(p.subject, '111', null);
        return {
          licences: held.map((l) => ({
            ...o.licenceJson(l),
            compact: encodeCompactLicence({ document: l.document, envelope: decodeEnvelopeJson(JSON.stringify(l.envelope)) }),
          })),
        };
      },
    );
  };
}
