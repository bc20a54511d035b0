// Signed exchange requests (docs/exchange-protocol.md). A department's system signs each request with its SM2 key
// (GM/T 0009 default user ID) over a canonical form that binds the method, the path, the body, the time and a
// nonce to its certificate; the gateway verifies it before anything else is done.
//
//   ZT-SM2-SM3-REQUEST-V1 \n METHOD \n PATH \n TIMESTAMP \n NONCE \n hex SM3(body) \n hex SM3(certificate DER)
//
// Over HTTP the parts travel as headers (Zt-Timestamp, Zt-Nonce, Zt-Certificate, Zt-Request-Signature), over gRPC as
// metadata (zt-timestamp, zt-nonce, zt-certificate-bin, zt-request-signature-bin), where METHOD is POST, PATH the
// full method name (/zhengtong.v1.ExchangeService/Query) and the body the serialised request message.
import { ZtError } from '../core/errors/index.js';
import { sm3 } from '../certs/sm2/sm2.js';

export const REQUEST_SIGNATURE_SCHEME = 'ZT-SM2-SM3-REQUEST-V1';

export const HTTP_HEADERS = {
  timestamp: 'zt-timestamp',
  nonce: 'zt-nonce',
  certificate: 'zt-certificate',
  signature: 'zt-request-signature',
} as const;

export const GRPC_METADATA = {
  timestamp: 'zt-timestamp',
  nonce: 'zt-nonce',
  certificate: 'zt-certificate-bin',
  signature: 'zt-request-signature-bin',
} as const;

/** 16 to 64 characters of base64url: enough entropy to be unique, short enough to index. */
export const NONCE = /^[A-Za-z0-9_-]{16,64}$/;
/** RFC 3339 in UTC with milliseconds, as Date.toISOString() writes it: one form per instant. */
export const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export interface RequestSignatureParts {
  method: string;
  /** The path and query exactly as sent (HTTP), or the gRPC full method name. */
  path: string;
  timestamp: string;
  nonce: string;
  /** SM3 of the body bytes as sent. */
  bodySm3: Buffer;
  /** SM3 of the signer's certificate DER. */
  certificateSm3: Buffer;
}

/** The bytes that are signed. */
export function canonicalRequest(parts: RequestSignatureParts): Buffer {
  return Buffer.from(
    [REQUEST_SIGNATURE_SCHEME, parts.method.toUpperCase(), parts.path, parts.timestamp, parts.nonce, parts.bodySm3.toString('hex'), parts.certificateSm3.toString('hex')].join('\n'),
    'utf8',
  );
}

/** SM3 of the canonical request: what a signed response binds (the request digest). */
export function requestDigest(parts: RequestSignatureParts): Buffer {
  return sm3(canonicalRequest(parts));
}

export interface PresentedSignature {
  timestamp: string;
  nonce: string;
  certificate: Buffer;
  signature: Buffer;
}

/**
 * Checks the presence and form of the signature parts a request carried; ZT_ERR_REQUEST_UNSIGNED names what is
 * missing, ZT_ERR_REQUEST_INVALID what is malformed.
 */
export function presentedSignature(read: (name: keyof typeof HTTP_HEADERS) => string | Buffer | undefined): PresentedSignature {
  const missing = (Object.keys(HTTP_HEADERS) as (keyof typeof HTTP_HEADERS)[]).filter((k) => {
    const v = read(k);
    return v === undefined || v.length === 0;
  });
  if (missing.length > 0) {
    throw new ZtError('ZT_ERR_REQUEST_UNSIGNED', `the request is not signed: ${missing.map((k) => HTTP_HEADERS[k]).join(', ')} missing (docs/exchange-protocol.md)`);
  }
  const text = (k: keyof typeof HTTP_HEADERS): string => {
    const v = read(k)!;
    return typeof v === 'string' ? v : v.toString('utf8');
  };
  const bytes = (k: 'certificate' | 'signature'): Buffer => {
    const v = read(k)!;
    if (Buffer.isBuffer(v)) return v;
    const decoded = Buffer.from(v, 'base64');
    if (decoded.length === 0 || decoded.toString('base64').replace(/=+$/, '') !== v.replace(/=+$/, '')) {
      throw new ZtError('ZT_ERR_REQUEST_INVALID', `${HTTP_HEADERS[k]} is not base64`);
    }
    return decoded;
  };
  const timestamp = text('timestamp');
  // The pattern, and a real instant written back the same way (2026-02-30 would roll over to 2 March).
  if (!TIMESTAMP.test(timestamp) || !Number.isFinite(Date.parse(timestamp)) || new Date(timestamp).toISOString() !== timestamp) {
    throw new ZtError('ZT_ERR_REQUEST_INVALID', `${HTTP_HEADERS.timestamp} must be RFC 3339 UTC with milliseconds, e.g. 2026-11-27T01:02:03.456Z`);
  }
  const nonce = text('nonce');
  if (!NONCE.test(nonce)) throw new ZtError('ZT_ERR_REQUEST_INVALID', `${HTTP_HEADERS.nonce} must be 16 to 64 characters of A-Z a-z 0-9 _ -`);
  return { timestamp, nonce, certificate: bytes('certificate'), signature: bytes('signature') };
}

/** The signature parts a gRPC call carried in its metadata (the first value of each key), checked as presentedSignature checks them. */
export function presentedGrpcSignature(metadata: { get(key: string): (string | Buffer)[] }): PresentedSignature {
  return presentedSignature((name) => metadata.get(GRPC_METADATA[name])[0]);
}
