/**
 * Just enough DER to assemble certificates by hand for bulk seeding and to read the
 * top-level elements of a template certificate. Not a general ASN.1 library.
 */

export interface DerElement {
  tag: number;
  /** Whole element: header and content. */
  raw: Buffer;
  /** Content bytes only. */
  content: Buffer;
}

function lengthBytes(length: number): number[] {
  if (length < 0x80) return [length];
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return [0x80 | bytes.length, ...bytes];
}

/** One tag-length-value element. */
export function tlv(tag: number, ...content: Uint8Array[]): Buffer {
  let length = 0;
  for (const part of content) length += part.length;
  const header = [tag, ...lengthBytes(length)];
  const out = Buffer.allocUnsafe(header.length + length);
  out.set(header, 0);
  let offset = header.length;
  for (const part of content) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** SEQUENCE of the given encoded elements. */
export const sequence = (...content: Uint8Array[]) => tlv(0x30, ...content);

/** INTEGER from big-endian unsigned bytes (adds the sign byte DER requires). */
export function unsignedInteger(bytes: Uint8Array): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const trimmed = Buffer.from(bytes.subarray(start));
  return tlv(0x02, trimmed[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

/** UTF8String. */
export const utf8String = (value: string) => tlv(0x0c, Buffer.from(value, 'utf8'));
/** OCTET STRING. */
export const octetString = (value: Uint8Array) => tlv(0x04, value);
/** BIT STRING with no unused bits. */
export const bitString = (value: Uint8Array) => tlv(0x03, Buffer.from([0]), value);

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
export function x509Time(date: Date): Buffer {
  const iso = date.toISOString(); // 2024-01-02T03:04:05.678Z
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '') + 'Z'; // 20240102030405Z
  return date.getUTCFullYear() < 2050
    ? tlv(0x17, Buffer.from(digits.slice(2), 'ascii'))
    : tlv(0x18, Buffer.from(digits, 'ascii'));
}

/** Reads one element at `offset`. */
export function readElement(buf: Buffer, offset = 0): DerElement {
  const tag = buf[offset]!;
  let length = buf[offset + 1]!;
  let header = 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + buf[offset + 2 + i]!;
    header += count;
  }
  return {
    tag,
    raw: buf.subarray(offset, offset + header + length),
    content: buf.subarray(offset + header, offset + header + length),
  };
}

/** The elements inside a constructed element's content. */
export function readChildren(content: Buffer): DerElement[] {
  const out: DerElement[] = [];
  for (let offset = 0; offset < content.length; ) {
    const el = readElement(content, offset);
    out.push(el);
    offset += el.raw.length;
  }
  return out;
}

/** PEM with 64-character lines and no trailing newline (OpenBao trims it). */
export function pemEncode(der: Uint8Array, label: string): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----`;
}

/** DER of the first PEM block. */
export function pemDecode(pem: string): Buffer {
  const block = /-----BEGIN ([^-\r\n]+)-----([\s\S]*?)-----END \1-----/.exec(pem);
  if (!block) throw new Error('no PEM block');
  return Buffer.from(block[2]!.replace(/\s+/g, ''), 'base64');
}
