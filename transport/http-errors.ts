import type { FastifyError } from 'fastify';
import { ZtError } from '../core/errors/index.js';

/** JSON schema of the one error body, referenced by every route's 4xx and 5xx responses. */
export const errorBodySchema = {
  $id: 'ErrorBody',
  type: 'object',
  description: 'The error body of every failed request. `code` is stable; `message` is for people.',
  required: ['code', 'message', 'requestId'],
  properties: {
    code: { type: 'string', description: 'Stable error code from the catalogue (docs/errors.md).', examples: ['ZT_ERR_REQUEST_INVALID'] },
    message: { type: 'string' },
    requestId: { type: 'string', description: 'Identifies the request in the logs; also sent as the x-request-id header.' },
    details: {},
  },
} as const;

export const errorResponses = {
  '4xx': { $ref: 'ErrorBody#' },
  '5xx': { $ref: 'ErrorBody#' },
} as const;

const FASTIFY_CODES: Record<string, (e: FastifyError) => ZtError> = {
  FST_ERR_CTP_INVALID_JSON_BODY: (e) => new ZtError('ZT_ERR_REQUEST_MALFORMED_JSON', `the request body is not valid JSON: ${e.message}`, { cause: e }),
  FST_ERR_CTP_EMPTY_JSON_BODY: (e) => new ZtError('ZT_ERR_REQUEST_MALFORMED_JSON', 'the request body is empty but its content type is JSON', { cause: e }),
  FST_ERR_CTP_BODY_TOO_LARGE: (e) => new ZtError('ZT_ERR_REQUEST_TOO_LARGE', undefined, { cause: e }),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: (e) => new ZtError('ZT_ERR_REQUEST_UNSUPPORTED_MEDIA_TYPE', `${e.message}; send application/json`, { cause: e }),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: (e) => new ZtError('ZT_ERR_REQUEST_INVALID', 'the Content-Length header does not match the body', { cause: e }),
};

/** Maps whatever a route or fastify threw to a catalogue error. */
export function toCatalogueError(error: unknown): ZtError {
  if (error instanceof ZtError) return error;
  const e = error as FastifyError;
  if (e && Array.isArray(e.validation)) {
    return new ZtError('ZT_ERR_REQUEST_INVALID', `${e.validationContext ?? 'request'}${e.message.replace(/^[a-z]+/, '')}`, {
      cause: e,
      details: e.validation.map((v) => ({ path: v.instancePath, message: v.message, keyword: v.keyword })),
    });
  }
  const byCode = e?.code ? FASTIFY_CODES[e.code] : undefined;
  if (byCode) return byCode(e);
  if (e instanceof SyntaxError && e.statusCode === 400) return FASTIFY_CODES.FST_ERR_CTP_INVALID_JSON_BODY!(e);
  if (e?.statusCode !== undefined && e.statusCode >= 400 && e.statusCode < 500) {
    return new ZtError('ZT_ERR_REQUEST_INVALID', e.message, { cause: e });
  }
  return new ZtError('ZT_ERR_INTERNAL', undefined, { cause: error });
}
