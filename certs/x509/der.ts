// The few DER pieces these modules build or check by hand: lengths, TLVs, INTEGERs and character strings.

export function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function encodeTlv(tag: number, value: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([tag]), encodeLength(value.length), value]);
}

/** DER INTEGER of a non-negative value (a CRL number, a serial number). */
export function encodeUnsignedInteger(value: bigint): Buffer {
  if (value < 0n) throw new RangeError('negative INTEGER');
  let hex = value.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let content = Buffer.from(hex, 'hex');
  if (content[0]! & 0x80) content = Buffer.concat([Buffer.from([0]), content]);
  return encodeTlv(0x02, content);
}

export interface Tlv {
  tag: number;
  /** Offset of the content within the input. */
  start: number;
  /** Offset just past the content. */
  end: number;
}

/** Reads one TLV (low tag numbers, definite lengths, as DER requires) at `offset`; undefined if the bytes are not one. */
export function readTlv(der: Uint8Array, offset = 0): Tlv | undefined {
  if (offset + 2 > der.length) return undefined;
  const tag = der[offset]!;
  if ((tag & 0x1f) === 0x1f) return undefined;
  let length = der[offset + 1]!;
  let start = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4 || start + count > der.length) return undefined;
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + der[start + i]!;
    start += count;
  }
  const end = start + length;
  return end <= der.length ? { tag, start, end } : undefined;
}

/** True when the bytes are exactly one constructed SEQUENCE, with nothing after it. */
export function isSingleSequence(der: Uint8Array): boolean {
  const tlv = readTlv(der);
  return tlv !== undefined && tlv.tag === 0x30 && tlv.end === der.length;
}

const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

export function isPrintableString(text: string): boolean {
  return PRINTABLE.test(text);
}

export function encodePrintableString(text: string): Buffer {
  if (!isPrintableString(text)) throw new RangeError('not a PrintableString');
  return encodeTlv(0x13, Buffer.from(text, 'latin1'));
}

const STRING_TAGS: Record<number, BufferEncoding> = {
  0x0c: 'utf8', // UTF8String
  0x12: 'latin1', // NumericString
  0x13: 'latin1', // PrintableString
  0x16: 'latin1', // IA5String
};

/** Decodes one DER character string (UTF8, Numeric, Printable or IA5); undefined for anything else. */
export function decodeCharacterString(der: Uint8Array): string | undefined {
  const tlv = readTlv(der);
  if (!tlv || tlv.end !== der.length) return undefined;
  const encoding = STRING_TAGS[tlv.tag];
  return encoding ? Buffer.from(der.subarray(tlv.start, tlv.end)).toString(encoding) : undefined;
}
