// POST /v1/exchange/query: the exchange over HTTP (docs/exchange-protocol.md). The body is kept as received, since
// the signature covers its bytes; the service checks its shape itself so that every refusal, even of a malformed
// or oversized body, is recorded as an access.
import { department } from '../../transport/access.js';
import type {} from '@fastify/swagger';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { envelopeToJson } from '../../certs/envelope/index.js';
import { ZtError } from '../../core/errors/index.js';
import { errorResponses, toCatalogueError } from '../../transport/http-errors.js';
import type { ExchangeService } from '../exchange-service.js';
import { HTTP_HEADERS } from '../../transport/request-signature.js';
import { rawBody, signedHttpCall } from '../../transport/http-signed-body.js';

export const EXCHANGE_QUERY_PATH = '/v1/exchange/query';

const queryBody = {
  type: 'object',
  required: ['requester', 'resource', 'items', 'subject', 'purpose'],
  properties: {
    requester: { type: 'string', description: 'USCC of the requesting department (the signing certificate\'s).' },
    resource: { type: 'string', description: 'Catalogue code of the data resource.' },
    items: { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 100 },
    subject: {
      type: 'object',
      required: ['kind', 'code'],
      properties: { kind: { type: 'string', enum: ['person', 'organisation'] }, code: { type: 'string', description: 'Resident ID number or USCC.' } },
    },
    purpose: {
      type: 'object',
      required: ['serviceItem', 'caseNumber'],
      properties: { serviceItem: { type: 'string', description: '事项编码' }, caseNumber: { type: 'string', description: '办件编号' } },
    },
    operator: { type: 'string', description: 'Who acts, in the department\'s own system (optional).' },
  },
} as const;

const RESULT_OPEN = Buffer.from('{"result":');
const SIGNATURE_OPEN = Buffer.from(',"signature":');
const ANSWER_CLOSE = Buffer.from('}');

/** Requests the service has seen (and recorded); an error on any other is recorded by the hook below. */
const seen = new WeakSet<FastifyRequest>();


export function exchangeRoutes(exchange: ExchangeService): FastifyPluginAsync {
  return async (app) => {
    // Refused before the handler (malformed JSON, too large, wrong media type): still an access to record.
    app.addHook('onError', async (request, _reply, error) => {
      if (seen.has(request)) return;
      const zt = toCatalogueError(error);
      await exchange.recordUnreadable('http', zt.code, (performance.now() - (request as unknown as { ztStarted?: number }).ztStarted!) || 0);
    });
    app.addHook('onRequest', async (request) => {
      (request as unknown as { ztStarted: number }).ztStarted = performance.now();
    });

    app.post(
      EXCHANGE_QUERY_PATH,
      {
        config: { access: department('a department with a grant for the resource, items and service item', { recordsRefusals: true, whileVerifying: exchange.whileVerifying }) },
        // Documented here; checked by the service, which records what it refuses.
        attachValidation: true,
        schema: {
          tags: ['exchange'],
          summary: 'One subject\'s data items for one case, as the grant and the negative list allow, signed by the platform (docs/exchange-protocol.md).',
          headers: {
            type: 'object',
            properties: {
              [HTTP_HEADERS.timestamp]: { type: 'string', description: 'RFC 3339 UTC with milliseconds.' },
              [HTTP_HEADERS.nonce]: { type: 'string', description: '16 to 64 characters, fresh for every request.' },
              [HTTP_HEADERS.certificate]: { type: 'string', description: 'The signing certificate, base64 DER.' },
              [HTTP_HEADERS.signature]: { type: 'string', description: 'SM2 signature over the canonical request, base64 DER.' },
            },
          },
          body: queryBody,
          response: {
            200: {
              type: 'object',
              required: ['result', 'signature'],
              properties: {
                result: { type: 'object', additionalProperties: true, description: 'The result; the signature covers its canonical JSON.' },
                signature: { type: 'object', additionalProperties: true, description: 'The platform\'s signed envelope (docs/envelope.md).' },
              },
            },
            ...errorResponses,
          },
        },
      },
      async (request, reply) => {
        seen.add(request);
        const body = rawBody(request);
        if (!body) throw new ZtError('ZT_ERR_REQUEST_UNSUPPORTED_MEDIA_TYPE', 'an exchange query is sent as application/json');
        const answer = await exchange.query({ ...signedHttpCall(request), protocol: 'http', body, request: request.body });
        // The result goes out as the canonical JSON the signature covers, written once by the service, rather than
        // serialised again from its object: the same JSON value, and the bytes a client hashes to check it.
        reply.type('application/json; charset=utf-8');
        return Buffer.concat([RESULT_OPEN, answer.canonical, SIGNATURE_OPEN, Buffer.from(JSON.stringify(envelopeToJson(answer.signature)), 'utf8'), ANSWER_CLOSE]);
      },
    );
  };
}
