import { describe, expect, it } from 'vitest';
import { errorCatalogue } from '../core/errors/index.js';
import { clientErrorResponse, toCatalogueError } from './http-errors.js';

/** The status and the JSON body of a raw HTTP/1.1 answer. */
function parse(raw: string): { status: number; headers: string; body: Record<string, unknown> } {
  const end = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, end);
  const body = raw.slice(end + 4);
  expect(head).toMatch(new RegExp(`Content-Length: ${Buffer.byteLength(body)}\r\n`));
  return { status: Number(/^HTTP\/1\.1 (\d{3}) /.exec(head)![1]), headers: head, body: JSON.parse(body) as Record<string, unknown> };
}

describe('answers to what node:http cannot parse', () => {
  it('are the one error body with a catalogued code, its status, and a request id also in the header', () => {
    for (const [code, expected] of [
      ['HPE_INVALID_METHOD', 'ZT_ERR_REQUEST_INVALID'],
      ['HPE_UNEXPECTED_CONTENT_LENGTH', 'ZT_ERR_REQUEST_INVALID'],
      [undefined, 'ZT_ERR_REQUEST_INVALID'],
      ['HPE_HEADER_OVERFLOW', 'ZT_ERR_REQUEST_HEADERS_TOO_LARGE'],
      ['ERR_HTTP_REQUEST_TIMEOUT', 'ZT_ERR_REQUEST_TIMEOUT'],
    ] as const) {
      const answer = parse(clientErrorResponse(code === undefined ? {} : { code }));
      expect(answer.body.code).toBe(expected);
      expect(answer.status).toBe(errorCatalogue[expected].http);
      expect(typeof answer.body.message).toBe('string');
      expect(answer.headers).toContain(`x-request-id: ${String(answer.body.requestId)}\r\n`);
      expect(answer.headers).toContain('Connection: close');
    }
  });

  it('name the parser\'s reason, for the person reading the message', () => {
    expect(parse(clientErrorResponse({ code: 'HPE_INVALID_METHOD' })).body.message).toContain('HPE_INVALID_METHOD');
  });
});

describe('fastify\'s own refusals before routing', () => {
  it('a bad URL and a path parameter over the router\'s limit are ZT_ERR_REQUEST_INVALID (400)', () => {
    for (const [code, statusCode] of [
      ['FST_ERR_BAD_URL', 400],
      ['FST_ERR_MAX_PARAM_LENGTH', 414],
    ] as const) {
      const zt = toCatalogueError(Object.assign(new Error(`'/x' fails: ${code}`), { code, statusCode }));
      expect(zt.code).toBe('ZT_ERR_REQUEST_INVALID');
      expect(zt.httpStatus).toBe(400);
    }
  });
});
