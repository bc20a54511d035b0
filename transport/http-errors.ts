import { randomUUID } from 'node:crypto';
import type { FastifyError } from 'fastify';
import { toZtError, ZtError } from '../core/errors/index.js';

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
  return toZtError(error);
}

/**
 * The answer to a request node:http could not parse (broken framing, an unknown method, headers over the limit or
 * too slow): written to the socket before the connection is closed, since no route, hook or reply exists for it.
 * The body is the one error body, as for every other refusal; the request id is made here, there being no request.
 */
export function clientErrorResponse(error: { code?: string }): string {
  const zt =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? new ZtError('ZT_ERR_REQUEST_HEADERS_TOO_LARGE')
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? new ZtError('ZT_ERR_REQUEST_TIMEOUT')
        : new ZtError('ZT_ERR_REQUEST_INVALID', `the request is not well-formed HTTP/1.1 (${error.code ?? 'unreadable'})`);
  const requestId = randomUUID();
  const body = JSON.stringify(zt.toBody(requestId));
  return `HTTP/1.1 ${zt.httpStatus} ${STATUS_TEXT[zt.httpStatus] ?? 'Error'}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nx-request-id: ${requestId}\r\nConnection: close\r\n\r\n${body}`;
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' };
