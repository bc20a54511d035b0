// PEM ⇄ DER for certificates, requests and CRLs. CRLs are written with OpenSSL's label "X509 CRL" (RFC 7468 §5
// also names it); @peculiar/x509 writes "CRL", which OpenSSL does not read. Either label is accepted on input.
import { x509 } from './x509-lib.js';

export const PEM_LABEL = {
  certificate: 'CERTIFICATE',
  certificateRequest: 'CERTIFICATE REQUEST',
  crl: 'X509 CRL',
} as const;

/** Labels accepted when reading, per kind (RFC 7468 plus the legacy ones still met in the field). */
export const PEM_INPUT_LABELS = {
  certificate: ['CERTIFICATE', 'X509 CERTIFICATE'],
  certificateRequest: ['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST'],
  crl: ['X509 CRL', 'CRL'],
} as const;

/** A certificate, request or CRL as given: PEM text, PEM bytes, or DER bytes. */
export type EncodedInput = string | Uint8Array | ArrayBuffer;

export function toPem(der: Uint8Array | ArrayBuffer, label: string): string {
  const base64 = Buffer.from(der instanceof ArrayBuffer ? new Uint8Array(der) : der).toString('base64');
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)\r?\n?-----END \1-----/g;
const BASE64_BODY = /^[A-Za-z0-9+/=\s]*$/;

/** The DER of the first PEM block carrying one of the labels; undefined when there is none or it is not base64. */
export function decodePem(text: string, labels: readonly string[]): Buffer | undefined {
  for (const match of text.matchAll(PEM_BLOCK)) {
    const [, label, body] = match;
    if (!labels.includes(label!)) continue;
    // RFC 1421 headers (Proc-Type, DEK-Info) mean an encrypted or legacy block: not a plain DER object.
    if (!BASE64_BODY.test(body!)) return undefined;
    const der = Buffer.from(body!.replace(/\s+/g, ''), 'base64');
    return der.length > 0 ? der : undefined;
  }
  return undefined;
}

export function looksLikePem(bytes: Uint8Array): boolean {
  // Tolerate leading whitespace or a UTF-8 BOM before "-----BEGIN".
  const head = Buffer.from(bytes.subarray(0, 64)).toString('latin1').replace(/^\uFEFF|^\xEF\xBB\xBF/, '').trimStart();
  return head.startsWith('-----BEGIN ');
}

/** DER bytes from PEM text, PEM bytes or DER bytes; undefined when PEM is given without a block of those labels. */
export function toDer(input: EncodedInput, labels: readonly string[]): Buffer | undefined {
  if (typeof input === 'string') return decodePem(input, labels);
  const bytes = input instanceof ArrayBuffer ? new Uint8Array(input) : input;
  if (looksLikePem(bytes)) return decodePem(Buffer.from(bytes).toString('utf8'), labels);
  return Buffer.from(bytes);
}

export type X509Object = x509.X509Certificate | x509.X509Crl | x509.Pkcs10CertificateRequest;

function labelOf(object: X509Object): string {
  if (object instanceof x509.X509Certificate) return PEM_LABEL.certificate;
  if (object instanceof x509.X509Crl) return PEM_LABEL.crl;
  return PEM_LABEL.certificateRequest;
}

/** PEM with the label OpenSSL expects for the object (CERTIFICATE, CERTIFICATE REQUEST, X509 CRL). */
export function exportPem(object: X509Object): string {
  return toPem(object.rawData, labelOf(object));
}

export function exportDer(object: X509Object): Buffer {
  return Buffer.from(object.rawData);
}
