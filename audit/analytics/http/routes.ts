// The analytics over HTTP: GET /v1/audit/analytics and GET /v1/audit/anomalies, each a signed request (Zt-* headers
// over GET, the path with its query string exactly as sent, and an empty body) from a supervisor named in
// `requester`. docs/audit-analytics.md describes the answers.
import { role } from '../../../transport/access.js';
import type {} from '@fastify/swagger';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { errorResponses } from '../../../transport/http-errors.js';
import type { SignedCall } from '../../../exchange/signed-request.js';
import type { RawParameters } from '../../search/query.js';
import type { AuditAnalytics } from '../service.js';
import { signedHttpCall } from '../../../transport/http-signed-body.js';

const EMPTY = Buffer.alloc(0);


function signedCall(request: FastifyRequest): SignedCall {
  return { ...signedHttpCall(request), body: EMPTY };
}

const range = {
  requester: { type: 'string', description: 'USCC of the signing department (a supervisor).' },
  from: { type: 'string', description: 'Start, inclusive: ISO 8601 with offset, or a date (China time).' },
  to: { type: 'string', description: 'End, exclusive; default now. At most ZT_AUDIT_MAX_RANGE_DAYS after from.' },
} as const;

export function auditAnalyticsRoutes(analytics: AuditAnalytics): FastifyPluginAsync {
  return async (app) => {
    app.get(
      '/v1/audit/analytics',
      {
        config: { access: role('supervisor', { recordsRefusals: true }) },
        schema: {
          tags: ['audit'],
          summary:
            'Efficiency analysis (效能分析): per department or resource, volumes, refusal rate, latency p50/p95/p99, fulfilment; demand reply times and overdue replies per supplier. Signed by a supervisor.',
          querystring: { type: 'object', properties: { ...range, by: { type: 'string', enum: ['department', 'resource'] } } },
          response: { 200: { type: 'object', additionalProperties: true }, ...errorResponses },
        },
        // Parameters are checked by the service, so a bad one gets ZT_ERR_AUDIT_QUERY_INVALID naming it.
        attachValidation: true,
      },
      async (request) => analytics.report(request.query as RawParameters, signedCall(request)),
    );
    app.get(
      '/v1/audit/anomalies',
      {
        config: { access: role('supervisor', { recordsRefusals: true }) },
        schema: {
          tags: ['audit'],
          summary: 'Anomaly flags with reasons: volume spikes, access outside working hours, missing or mismatched case numbers, operators reading many subjects. Signed by a supervisor.',
          querystring: { type: 'object', properties: range },
          response: { 200: { type: 'object', additionalProperties: true }, ...errorResponses },
        },
        attachValidation: true,
      },
      async (request) => analytics.anomalies(request.query as RawParameters, signedCall(request)),
    );
  };
}
