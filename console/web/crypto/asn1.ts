// A small DER reader (and the one DER writer an SM2 signature needs) for what the page reads itself: PEM blocks,
// an X.509 certificate's SubjectPublicKeyInfo and subject, PKCS#8 / SEC1 SM2 private keys, PBES2 parameters.
import { base64ToBytes, bytesToHex, hexToBytes } from './bytes.js';

export interface Der {
  tag: number;
  /** The whole element (tag, length and value). */
  raw: Uint8Array;
  value: Uint8Array;
}

export function readDer(bytes: Uint8Array, offset = 0): Der {
  const tag = bytes[offset];
  let len = bytes[offset + 1];
  if (tag === undefined || len === undefined) throw new TypeError('DER: truncated');
  let head = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n < 1 || n > 4) throw new TypeError('DER: unsupported length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + bytes[offset + 2 + i]!;
    head += n;
  }
  const end = offset + head + len;
  if (end > bytes.length) throw new TypeError('DER: truncated');
  return { tag, raw: bytes.subarray(offset, end), value: bytes.subarray(offset + head, end) };
}

/** The elements of a constructed value (SEQUENCE, SET, [n]). */
export function children(der: Der): Der[] {
  const out: Der[] = [];
  for (let o = 0; o < der.value.length; ) {
    const c = readDer(der.value, o);
    out.push(c);
    o += c.raw.length;
  }
  return out;
}

export function oid(der: Der): string {
  if (der.tag !== 0x06) throw new TypeError('DER: not an OBJECT IDENTIFIER');
  const v = der.value;
  const parts: number[] = [Math.floor(v[0]! / 40), v[0]! % 40];
  let n = 0;
  for (let i = 1; i < v.length; i++) {
    n = n * 128 + (v[i]! & 0x7f);
    if (!(v[i]! & 0x80)) {
      parts.push(n);
      n = 0;
    }
  }
  return parts.join('.');
}

export function integer(der: Der): number {
  if (der.tag !== 0x02) throw new TypeError('DER: not an INTEGER');
  let n = 0;
  for (const b of der.value) n = n * 256 + b;
  return n;
}

/** The PEM blocks of a text: label and DER, and headers (Proc-Type…) when present. */
export function pemBlocks(text: string): { label: string; der: Uint8Array; headers: string }[] {
  const out: { label: string; der: Uint8Array; headers: string }[] = [];
  const re = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const body = m[2]!;
    const headers = body.includes(':') ? body.slice(0, body.lastIndexOf(':')).trim() : '';
    const b64 = body.split(/\r?\n/).filter((l) => l.trim() !== '' && !l.includes(':')).join('');
    out.push({ label: m[1]!, der: base64ToBytes(b64), headers });
  }
  return out;
}

// DER encoding of SEQUENCE { INTEGER r, INTEGER s } from and to the raw r||s hex sm-crypto uses (the server takes DER).
export function rsToDer(rsHex: string): Uint8Array {
  const int = (hex: string): number[] => {
    let b = Array.from(hexToBytes(hex));
    while (b.length > 1 && b[0] === 0 && !(b[1]! & 0x80)) b = b.slice(1);
    if (b[0]! & 0x80) b = [0, ...b];
    return [0x02, b.length, ...b];
  };
  const body = [...int(rsHex.slice(0, 64)), ...int(rsHex.slice(64, 128))];
  return new Uint8Array([0x30, body.length, ...body]);
}

export function derToRs(der: Uint8Array): string {
  const seq = readDer(der);
  if (seq.tag !== 0x30 || seq.raw.length !== der.length) throw new TypeError('not a DER SM2 signature');
  const [r, s] = children(seq);
  if (!r || !s || r.tag !== 0x02 || s.tag !== 0x02) throw new TypeError('not a DER SM2 signature');
  const pad = (v: Uint8Array): string => {
    const h = bytesToHex(v).replace(/^(00)+/, '');
    if (h.length > 64) throw new TypeError('not a DER SM2 signature');
    return h.padStart(64, '0');
  };
  return pad(r.value) + pad(s.value);
}
