import { describe, expect, it } from 'vitest';
import { ZtError } from '../core/errors/index.js';
import { GRPC_ERROR_MESSAGE_MAX, grpcErrorParts } from './grpc.js';

describe('grpcErrorParts', () => {
  it('carries a short message and the body as they are', () => {
    const zt = new ZtError('ZT_ERR_DEPARTMENT_NOT_FOUND', 'no department 1', { details: { uscc: '1' } });
    const { details, body } = grpcErrorParts(zt, 'req-1');
    expect(details).toBe('no department 1');
    expect(JSON.parse(body.toString('utf8'))).toEqual({ code: 'ZT_ERR_DEPARTMENT_NOT_FOUND', message: 'no department 1', requestId: 'req-1', details: { uscc: '1' } });
  });

  it('bounds a message that quotes a huge input, in grpc-message and in zt-error-bin alike', () => {
    const zt = new ZtError('ZT_ERR_SERVICE_ITEM_UNKNOWN', `no service item has code "${'a'.repeat(100_000)}"`);
    const { details, body } = grpcErrorParts(zt, 'req-2');
    expect(details.length).toBeLessThan(GRPC_ERROR_MESSAGE_MAX + 40);
    expect(details).toMatch(new RegExp(`^no service item has code "a+… \\(${zt.message.length} characters\\)$`));
    const parsed = JSON.parse(body.toString('utf8')) as { code: string; message: string; requestId: string };
    expect(parsed).toEqual({ code: 'ZT_ERR_SERVICE_ITEM_UNKNOWN', message: details, requestId: 'req-2' });
  });

  it('never cuts a surrogate pair in half (grpc-js percent-encodes the message, and a lone half throws)', () => {
    const zt = new ZtError('ZT_ERR_REQUEST_INVALID', `${'a'.repeat(GRPC_ERROR_MESSAGE_MAX - 1)}${'😀'.repeat(10)}`);
    const { details } = grpcErrorParts(zt, 'req-3');
    expect(() => encodeURI(details)).not.toThrow();
  });

  it('leaves out details too large to carry, keeping the code and the message', () => {
    const zt = new ZtError('ZT_ERR_IMPORT_INVALID', 'rows are invalid', { details: Array.from({ length: 2000 }, (_, i) => ({ row: i, message: 'bad' })) });
    const parsed = JSON.parse(grpcErrorParts(zt, 'req-4').body.toString('utf8')) as Record<string, unknown>;
    expect(parsed).toEqual({ code: 'ZT_ERR_IMPORT_INVALID', message: 'rows are invalid', requestId: 'req-4' });
  });
});
