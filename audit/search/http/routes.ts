// The access-log search over HTTP (docs/audit-search.md). Every route is a signed request (the exchange's Zt-*
// headers over the method, the path with its query string, and the body), so the filters are covered by the
// signature. Parameters are checked by the service (ZT_ERR_AUDIT_QUERY_INVALID naming the parameter); the schemas
// here document them and are not enforced by fastify, so that a bad value gets the audit code, not a generic one.
import { department, role } from '../../../transport/access.js';
import { Readable } from 'node:stream';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { ZtError } from '../../../core/errors/index.js';
import { errorResponses } from '../../../transport/http-errors.js';
import type { SignedCall } from '../../../exchange/signed-request.js';
import { covertCaseJson } from '../covert-cases.js';
import { EXPORT_CONTENT_TYPES } from '../export-format.js';
import type { RawParameters } from '../query.js';
import type { AccessLogSearch, AuditCall } from '../search-service.js';
import { rawBody, presentedHttpSignature, signedHttpCall } from '../../../transport/http-signed-body.js';

const EMPTY = Buffer.alloc(0);


function signed(request: FastifyRequest): AuditCall {
  const call: SignedCall = {
    method: request.method,
    path: request.url,
    body: rawBody(request) ?? EMPTY,
    signature: () => presentedHttpSignature(request),
    verification: signedHttpCall(request).verification ?? null,
  };
  return { call, protocol: 'http' };
}

function query(request: FastifyRequest): RawParameters {
  return (request.query ?? {}) as RawParameters;
}

function body(request: FastifyRequest): RawParameters {
  const b = request.body;
  if (b === undefined || b === null) return {};
  if (typeof b !== 'object' || Array.isArray(b)) throw new ZtError('ZT_ERR_AUDIT_QUERY_INVALID', 'the body must be a JSON object', { details: { parameter: 'body' } });
  return b as RawParameters;
}

const text = (description: string) => ({ type: 'string', description }) as const;
const filterParameters = {
  requester: text('USCC of the signing department (a supervisor, ZT_AUDIT_SUPERVISORS).'),
  department: text('USCC of the requesting department.'),
  operator: text('The operator (经办人) exactly as recorded.'),
  subject: text('Resident ID number or USCC of the subject (check character verified).'),
  resource: text('Catalogue code of the data resource, or e-licence:<type code>.'),
  decision: { type: 'string', enum: ['permit', 'deny', 'error'] },
  caseNumber: text('办件编号, exactly.'),
  serviceItem: text('事项编码, exactly.'),
  record: text('One record by id (UUID).'),
  from: text('Start of the range, inclusive: ISO 8601 with offset, or a date (China time).'),
  to: text('End of the range, exclusive. A range is required unless subject, caseNumber or record is given; at most ZT_AUDIT_MAX_RANGE_DAYS.'),
} as const;
const object = { type: 'object', additionalProperties: true } as const;

export function auditSearchRoutes(search: AccessLogSearch): FastifyPluginAsync {
  return async (app) => {
    app.get(
      '/v1/audit/access-records',
      {
        config: { access: role('supervisor', { recordsRefusals: true }) },
        attachValidation: true,
        schema: {
          tags: ['audit'],
          summary: 'Search the access log (行权回溯), newest first, with keyset paging (cursor). Signed by a supervisor.',
          querystring: { type: 'object', properties: { ...filterParameters, limit: text('1 to 500, default 50.'), cursor: text('The `next` of the previous page.') } },
          response: { 200: object, ...errorResponses },
        },
      },
      async (request) => search.search(signed(request), query(request)),
    );

    app.get(
      '/v1/audit/access-records/export',
      {
        config: { access: role('supervisor', { recordsRefusals: true }) },
        attachValidation: true,
        schema: {
          tags: ['audit'],
          summary: 'Export every matching record as CSV (header row, formula-guarded) or JSON Lines, streamed; refused up front over ZT_AUDIT_EXPORT_MAX_ROWS. Signed by a supervisor.',
          querystring: { type: 'object', properties: { ...filterParameters, format: { type: 'string', enum: ['csv', 'jsonl'] } } },
          response: { 200: { type: 'string' }, ...errorResponses },
        },
      },
      async (request, reply) => {
        const prepared = await search.prepareExport(signed(request), query(request));
        const stamp = new Date().toISOString().replace(/[:.]/g, '-');
        reply
          .type(EXPORT_CONTENT_TYPES[prepared.format])
          .header('content-disposition', `attachment; filename="access-records-${stamp}.${prepared.format}"`)
          .header('zt-export-rows', String(prepared.rows));
        return reply.send(Readable.from(prepared.chunks(), { objectMode: false }));
      },
    );

    app.get<{ Params: { id: string } }>(
      '/v1/audit/access-records/:id',
      {
        config: { access: role('supervisor', { recordsRefusals: true }) },
        attachValidation: true,
        schema: {
          tags: ['audit'],
          summary: 'One record and what explains it: department, resource, the policy revision and its rules with their legal basis, the grant (demand) that allowed it, a covert flag. Signed by a supervisor.',
          querystring: { type: 'object', properties: { requester: filterParameters.requester } },
          response: { 200: object, ...errorResponses },
        },
      },
      async (request) => search.trace(signed(request), query(request), request.params.id),
    );

    app.get<{ Params: { code: string } }>(
      '/v1/audit/subjects/:code/accesses',
      {
        config: { access: role(['portal', 'supervisor'], { recordsRefusals: true, scope: 'a service portal that authenticated the subject, or a supervisor' }) },
        attachValidation: true,
        schema: {
          tags: ['audit'],
          summary: 'Who read this person\'s or enterprise\'s data, and why: department, purpose, resource, items released, time. Signed by a service portal (ZT_AUDIT_PORTALS) or a supervisor; covert cases stay hidden from portals until their release date.',
          querystring: {
            type: 'object',
            properties: { requester: text('USCC of the signing portal or supervisor.'), from: filterParameters.from, to: text('End, exclusive.'), limit: text('1 to 500, default 50.'), cursor: text('The `next` of the previous page.') },
          },
          response: { 200: object, ...errorResponses },
        },
      },
      async (request) => search.subject(signed(request), query(request), request.params.code),
    );

    app.post(
      '/v1/audit/covert-cases',
      {
        config: { access: department('the department whose case it is, or a supervisor', { recordsRefusals: true }) },
        attachValidation: true,
        schema: {
          tags: ['audit'],
          summary: 'Flag a case covert (秘密办件) until a release date: by the requesting department for its own case, or by a supervisor. Signed.',
          body: {
            type: 'object',
            properties: {
              requester: text('USCC of the signing department.'),
              department: text('The case\'s department; default the requester.'),
              caseNumber: text('办件编号.'),
              releaseOn: text('YYYY-MM-DD, China time: the subject sees the accesses from this date.'),
              reason: text('Why, at most 500 characters.'),
            },
          },
          response: { 201: object, ...errorResponses },
        },
      },
      async (request, reply) => reply.code(201).send(covertCaseJson(await search.flagCovert(signed(request), body(request)))),
    );

    app.get(
      '/v1/audit/covert-cases',
      {
        config: { access: department('the department whose cases they are, or a supervisor', { recordsRefusals: true }) },
        attachValidation: true,
        schema: {
          tags: ['audit'],
          summary: 'The covert-case flags in force (all=true: lifted ones too). Signed by a supervisor.',
          querystring: { type: 'object', properties: { requester: filterParameters.requester, department: filterParameters.department, all: text('true or false'), limit: text('1 to 500') } },
          response: { 200: object, ...errorResponses },
        },
      },
      async (request) => ({ cases: (await search.listCovert(signed(request), query(request))).map(covertCaseJson) }),
    );

    app.post<{ Params: { id: string } }>(
      '/v1/audit/covert-cases/:id/lift',
      {
        config: { access: department('the department whose case it is, or a supervisor', { recordsRefusals: true }) },
        attachValidation: true,
        schema: {
          tags: ['audit'],
          summary: 'Lift a covert-case flag: the accesses become visible to the subject. Signed by a supervisor.',
          body: { type: 'object', properties: { requester: filterParameters.requester, reason: text('Why, at most 500 characters.') } },
          response: { 200: object, ...errorResponses },
        },
      },
      async (request) => covertCaseJson(await search.liftCovert(signed(request), body(request), request.params.id)),
    );
  };
}
