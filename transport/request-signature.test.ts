import { describe, expect, it } from 'vitest';
import { isZtError } from '../core/errors/index.js';
import { sm3 } from '../certs/sm2/sm2.js';
import {
  canonicalRequest,
  GRPC_METADATA,
  HTTP_HEADERS,
  NONCE,
  presentedSignature,
  REQUEST_SIGNATURE_SCHEME,
  requestDigest,
  TIMESTAMP,
  type PresentedSignature,
  type RequestSignatureParts,
} from './request-signature.js';

// The GB/T 32905 SM3 test vectors: SM3("abc") and SM3("abcd" × 16).
const SM3_ABC = '66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0';
const SM3_ABCD16 = 'debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732';

const parts: RequestSignatureParts = {
  method: 'post',
  path: '/v1/exchange/query',
  timestamp: '2026-11-27T01:02:03.456Z',
  nonce: 'q7hF0mZ2xY8sV1bN4cT9dW',
  bodySm3: Buffer.from(SM3_ABC, 'hex'),
  certificateSm3: Buffer.from(SM3_ABCD16, 'hex'),
};

describe('canonicalRequest', () => {
  it('is the seven lines of docs/exchange-protocol.md, joined by \\n, method upper-cased, no trailing newline', () => {
    const expected =
      'ZT-SM2-SM3-REQUEST-V1\n' +
      'POST\n' +
      '/v1/exchange/query\n' +
      '2026-11-27T01:02:03.456Z\n' +
      'q7hF0mZ2xY8sV1bN4cT9dW\n' +
      '66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0\n' +
      'debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732';
    expect(sm3(Buffer.from('abc')).toString('hex')).toBe(SM3_ABC);
    expect(sm3(Buffer.from('abcd'.repeat(16))).toString('hex')).toBe(SM3_ABCD16);
    expect(canonicalRequest(parts).toString('utf8')).toBe(expected);
    expect(canonicalRequest(parts).equals(Buffer.from(expected, 'utf8'))).toBe(true);
  });

  it('keeps the gRPC full method name and an HTTP query string exactly as given', () => {
    expect(canonicalRequest({ ...parts, path: '/zhengtong.v1.ExchangeService/Query' }).toString().split('\n')[2]).toBe('/zhengtong.v1.ExchangeService/Query');
    expect(canonicalRequest({ ...parts, path: '/v1/exchange/query?b=2&a=1' }).toString().split('\n')[2]).toBe('/v1/exchange/query?b=2&a=1');
  });

  it('changes with every part', () => {
    const base = canonicalRequest(parts).toString();
    const variants: Partial<RequestSignatureParts>[] = [
      { method: 'PUT' },
      { path: '/v1/exchange/query2' },
      { timestamp: '2026-11-27T01:02:03.457Z' },
      { nonce: 'q7hF0mZ2xY8sV1bN4cT9dX' },
      { bodySm3: Buffer.from(SM3_ABCD16, 'hex') },
      { certificateSm3: Buffer.from(SM3_ABC, 'hex') },
    ];
    for (const v of variants) expect(canonicalRequest({ ...parts, ...v }).toString()).not.toBe(base);
  });

  it('the request digest is SM3 of the canonical request (value from sm-crypto, an independent SM3)', () => {
    expect(requestDigest(parts).toString('hex')).toBe('a38bd97d70c11f99b38ed38b6219815c59ee722621f380ad53288e720b670e68');
    expect(requestDigest(parts).equals(sm3(canonicalRequest(parts)))).toBe(true);
  });

  it('names the scheme and the transport fields as the docs do', () => {
    expect(REQUEST_SIGNATURE_SCHEME).toBe('ZT-SM2-SM3-REQUEST-V1');
    expect(HTTP_HEADERS).toEqual({ timestamp: 'zt-timestamp', nonce: 'zt-nonce', certificate: 'zt-certificate', signature: 'zt-request-signature' });
    expect(GRPC_METADATA).toEqual({ timestamp: 'zt-timestamp', nonce: 'zt-nonce', certificate: 'zt-certificate-bin', signature: 'zt-request-signature-bin' });
  });
});

describe('NONCE and TIMESTAMP', () => {
  it('accept 16 to 64 characters of A-Z a-z 0-9 _ - and nothing else', () => {
    expect(NONCE.test('a'.repeat(16))).toBe(true);
    expect(NONCE.test('Az09_-'.repeat(10) + 'abcd')).toBe(true); // 64
    expect(NONCE.test('a'.repeat(15))).toBe(false);
    expect(NONCE.test('a'.repeat(65))).toBe(false);
    for (const c of ['+', '/', '=', '.', ' ', 'é']) expect(NONCE.test(`${'a'.repeat(16)}${c}`)).toBe(false);
  });

  it('accept what Date.toISOString writes, and only that', () => {
    expect(TIMESTAMP.test(new Date(1_800_000_000_123).toISOString())).toBe(true);
    for (const t of ['2026-11-27T01:02:03Z', '2026-11-27T01:02:03.4567Z', '2026-11-27T09:02:03.456+08:00', '2026-11-27 01:02:03.456Z', '2026-11-27T01:02:03.456z']) {
      expect(TIMESTAMP.test(t)).toBe(false);
    }
  });
});

describe('presentedSignature', () => {
  const certificate = Buffer.from('3082010a0282010100', 'hex');
  const signature = Buffer.from('3044022001', 'hex');
  const good: Record<keyof typeof HTTP_HEADERS, string | Buffer | undefined> = {
    timestamp: '2026-11-27T01:02:03.456Z',
    nonce: 'q7hF0mZ2xY8sV1bN4cT9dW',
    certificate: certificate.toString('base64'),
    signature: signature.toString('base64'),
  };
  const read = (values: Partial<typeof good>) => (k: keyof typeof HTTP_HEADERS) => values[k];

  function failure(values: Partial<typeof good>): { code: string; message: string } {
    try {
      presentedSignature(read(values));
    } catch (error) {
      if (!isZtError(error)) throw error;
      return { code: error.code, message: error.message };
    }
    throw new Error('presentedSignature accepted the parts');
  }

  it('returns the parts, base64 decoded (HTTP) or as given (gRPC -bin metadata)', () => {
    expect(presentedSignature(read(good))).toEqual<PresentedSignature>({ timestamp: good.timestamp as string, nonce: good.nonce as string, certificate, signature });
    expect(presentedSignature(read({ ...good, certificate, signature }))).toEqual({ timestamp: good.timestamp, nonce: good.nonce, certificate, signature });
  });

  it.each(Object.keys(HTTP_HEADERS) as (keyof typeof HTTP_HEADERS)[])('a missing or empty %s is ZT_ERR_REQUEST_UNSIGNED naming its header', (part) => {
    for (const absent of [undefined, '', Buffer.alloc(0)]) {
      const f = failure({ ...good, [part]: absent });
      expect(f.code).toBe('ZT_ERR_REQUEST_UNSIGNED');
      // Only that part is named.
      expect(f.message).toContain(`: ${HTTP_HEADERS[part]} missing`);
    }
  });

  it('every missing part is named at once', () => {
    const f = failure({});
    expect(f.code).toBe('ZT_ERR_REQUEST_UNSIGNED');
    expect(f.message).toContain('zt-timestamp, zt-nonce, zt-certificate, zt-request-signature missing');
  });

  it.each([
    ['without milliseconds', '2026-11-27T01:02:03Z'],
    ['with an offset', '2026-11-27T09:02:03.456+08:00'],
    ['with microseconds', '2026-11-27T01:02:03.456789Z'],
    ['not a date', '2026-13-45T01:02:03.456Z'],
    ['on a day the month does not have', '2026-02-30T01:02:03.456Z'],
    ['as milliseconds since 1970', '1795741323456'],
  ])('a timestamp %s is ZT_ERR_REQUEST_INVALID', (_, timestamp) => {
    const f = failure({ ...good, timestamp });
    expect(f).toEqual({ code: 'ZT_ERR_REQUEST_INVALID', message: expect.stringContaining('zt-timestamp') });
  });

  it.each([
    ['too short', 'a'.repeat(15)],
    ['too long', 'a'.repeat(65)],
    ['with base64 + and /', 'q7hF0mZ2xY8sV1bN4cT9+/'],
    ['with padding', 'q7hF0mZ2xY8sV1bN4cT9dW=='],
    ['with a space', 'q7hF0mZ2xY8s V1bN4cT9dW'],
  ])('a nonce %s is ZT_ERR_REQUEST_INVALID', (_, nonce) => {
    const f = failure({ ...good, nonce });
    expect(f).toEqual({ code: 'ZT_ERR_REQUEST_INVALID', message: expect.stringContaining('zt-nonce') });
  });

  it.each(['certificate', 'signature'] as const)('a %s that is not canonical base64 is ZT_ERR_REQUEST_INVALID', (part) => {
    for (const bad of ['***', '====', 'QR==', certificate.toString('base64url') + '-_', 'MII BCgKCAQE']) {
      const f = failure({ ...good, [part]: bad });
      expect(f).toEqual({ code: 'ZT_ERR_REQUEST_INVALID', message: `${HTTP_HEADERS[part]} is not base64` });
    }
  });

  it('base64 without its padding is read', () => {
    const unpadded = Buffer.from('0a0b', 'hex').toString('base64').replace(/=+$/, '');
    expect(presentedSignature(read({ ...good, signature: unpadded })).signature).toEqual(Buffer.from('0a0b', 'hex'));
  });
});
