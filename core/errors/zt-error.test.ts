import { describe, expect, it } from 'vitest';
import { toZtError, ZtError } from './index.js';

/** An error as the PostgreSQL driver (and PGlite) throws it: a message and a five-character SQLSTATE. */
const dbError = (code: string, message: string) => Object.assign(new Error(message), { code });

describe('toZtError', () => {
  it('keeps a ZtError as it is', () => {
    const e = new ZtError('ZT_ERR_DEPARTMENT_NOT_FOUND');
    expect(toZtError(e)).toBe(e);
  });

  it('makes a database\'s data exception (SQLSTATE class 22) a 400 that names it, keeping the cause', () => {
    for (const [code, message] of <[string, string][]>[
      ['22021', 'invalid byte sequence for encoding "UTF8": 0x00'],
      ['22003', 'value "112101000010000537" is out of range for type integer'],
      ['22P02', 'invalid input syntax for type uuid: "x"'],
      ['22008', 'date/time field value out of range: "2026-02-30"'],
    ]) {
      const cause = dbError(code, message);
      const zt = toZtError(cause);
      expect(zt.code).toBe('ZT_ERR_REQUEST_INVALID');
      expect(zt.httpStatus).toBe(400);
      expect(zt.message).toContain(message);
      expect(zt.cause).toBe(cause);
    }
  });

  it('leaves every other failure, a database\'s included, ZT_ERR_INTERNAL', () => {
    for (const e of [new Error('boom'), dbError('23505', 'duplicate key'), dbError('42P01', 'relation does not exist'), dbError('ECONNREFUSED', 'refused'), 'a string', null]) {
      expect(toZtError(e).code).toBe('ZT_ERR_INTERNAL');
    }
  });
});
