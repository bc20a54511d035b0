// The tamper-evident log over HTTP (docs/audit-log.md). Checkpoints and consistency proofs are public; an inclusion
// proof is a signed request (the exchange's Zt-* headers over the method and the path with its query string) from a
// service portal or a supervisor. Parameters are read by AuditLogApi, so a bad one gets the log's own code.
import { PUBLIC, role } from '../../../transport/access.js';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { errorResponses } from '../../../transport/http-errors.js';
import type { SignedCall } from '../../../exchange/signed-request.js';
import type { AuditLogApi, RawParameters } from '../api.js';
import { signedHttpCall } from '../../../transport/http-signed-body.js';

const EMPTY = Buffer.alloc(0);


function signed(request: FastifyRequest): SignedCall {
  return { ...signedHttpCall(request), body: EMPTY };
}

/** A repeated parameter is refused as malformed by the API (it reads one string). */
function query(request: FastifyRequest): RawParameters {
  const out: RawParameters = {};
  for (const [k, v] of Object.entries((request.query ?? {}) as Record<string, unknown>)) out[k] = Array.isArray(v) ? v.join(',') + ',' : (v as string);
  return out;
}

const text = (description: string) => ({ type: 'string', description }) as const;
const hex = text('Lower-case hex.');
const checkpoint = {
  type: 'object',
  description: 'A signed tree head: statement zhengtong/audit-checkpoint/v1 {treeSize, rootHash, signedAt, platform} in a signed envelope.',
  properties: {
    treeSize: { type: 'integer' },
    rootHash: hex,
    signedAt: text('RFC 3339, milliseconds.'),
    platform: text('USCC of the platform that signed it.'),
    envelope: { type: 'object', additionalProperties: true },
  },
} as const;

export function auditLogRoutes(api: AuditLogApi): FastifyPluginAsync {
  return async (app) => {
    app.get(
      '/v1/audit/log/checkpoints/latest',
      {
      config: { access: PUBLIC }, attachValidation: true, schema: { tags: ['audit'], summary: 'The latest signed checkpoint (tree head) of the access log. Public.', response: { 200: checkpoint, ...errorResponses } } },
      async (request) => api.latest(query(request)),
    );
    app.get<{ Params: { treeSize: string } }>(
      '/v1/audit/log/checkpoints/:treeSize',
      {
      config: { access: PUBLIC }, attachValidation: true, schema: { tags: ['audit'], summary: 'The checkpoint of one tree size. Public.', response: { 200: checkpoint, ...errorResponses } } },
      async (request) => api.checkpoint({ ...query(request), treeSize: request.params.treeSize }),
    );
    app.get(
      '/v1/audit/log/checkpoints',
      {
        config: { access: PUBLIC },
        attachValidation: true,
        schema: {
          tags: ['audit'],
          summary: 'Checkpoints, newest first. Public.',
          querystring: { type: 'object', properties: { limit: text('1 to 1000, default 100.'), before: text('Only checkpoints of smaller tree sizes: the `next` of the previous page.') } },
          response: { 200: { type: 'object', properties: { checkpoints: { type: 'array', items: checkpoint }, next: text('`before` of the next page.') } }, ...errorResponses },
        },
      },
      async (request) => api.checkpoints(query(request)),
    );
    app.get(
      '/v1/audit/log/consistency',
      {
        config: { access: PUBLIC },
        attachValidation: true,
        schema: {
          tags: ['audit'],
          summary: 'RFC 6962 consistency proof that the tree of `first` leaves is a prefix of the tree of `second` (both at most the latest checkpoint). Public.',
          querystring: { type: 'object', properties: { first: text('Tree size, at least 1.'), second: text('Tree size, at least first.') } },
          response: {
            200: { type: 'object', properties: { first: { type: 'integer' }, second: { type: 'integer' }, firstRoot: hex, secondRoot: hex, proof: { type: 'array', items: hex } } },
            ...errorResponses,
          },
        },
      },
      async (request) => api.consistency(query(request)),
    );
    app.get<{ Params: { id: string } }>(
      '/v1/audit/log/records/:id/proof',
      {
        config: { access: role(['portal', 'supervisor'], { recordsRefusals: true }) },
        attachValidation: true,
        schema: {
          tags: ['audit'],
          summary: 'Inclusion proof of one access record against a checkpoint (the latest by default). Signed by a service portal or a supervisor; the leaf bytes are given to supervisors.',
          querystring: { type: 'object', properties: { requester: text('USCC of the signing portal or supervisor.'), treeSize: text('A checkpoint\'s tree size; default the latest.') } },
          response: {
            200: {
              type: 'object',
              properties: {
                recordId: { type: 'string' },
                seq: { type: 'integer' },
                leafIndex: { type: 'integer' },
                leafHash: hex,
                leaf: text('The leaf bytes (canonical JSON); supervisors only.'),
                treeSize: { type: 'integer' },
                proof: { type: 'array', items: hex },
                checkpoint,
              },
            },
            ...errorResponses,
          },
        },
      },
      async (request) => api.inclusion(signed(request), query(request), request.params.id),
    );
  };
}
