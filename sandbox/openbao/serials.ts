import { randomBytes } from 'node:crypto';

/**
 * Serial numbers as OpenBao shows them: lowercase hex bytes joined by ":" (colon form,
 * what the API returns) or "-" (hyphen form, the storage key). Both are accepted as input.
 */

/** 159 random bits like OpenBao's certutil.GenerateSerialNumber, as big-endian bytes without leading zeros. */
export function randomSerialBytes(): Buffer {
  const bytes = randomBytes(20);
  bytes[0]! &= 0x7f;
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  return bytes.subarray(start);
}

/** Colon form of big-endian serial bytes: "1e:4f:…". */
export const colonSerial = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(':');

/** Storage key for a serial given in either form (case-insensitive). */
export const hyphenSerial = (serial: string) => serial.toLowerCase().replace(/:/g, '-');

/** Colon form of a storage key. */
export const hyphenToColon = (serial: string) => serial.replace(/-/g, ':');

/** The hex string @peculiar/x509 wants for a serial in colon/hyphen form. */
export const serialHex = (serial: string) => serial.replace(/[:-]/g, '').toLowerCase();

/** Colon form from a certificate's hex serial (drops the DER sign byte and leading zeros). */
export function colonSerialFromHex(hex: string): string {
  const trimmed = hex.toLowerCase().replace(/^(00)+(?=..)/, '');
  return colonSerial(Buffer.from(trimmed.length % 2 ? `0${trimmed}` : trimmed, 'hex'));
}
