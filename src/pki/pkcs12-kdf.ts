import { createHash, hash as digest } from 'node:crypto';

/** What the derived bytes are for (RFC 7292 B.3): the ID byte that diversifies the KDF. */
export const Pkcs12KeyPurpose = { encryptionKey: 1, iv: 2, macKey: 3 } as const;
export type Pkcs12KeyPurpose = (typeof Pkcs12KeyPurpose)[keyof typeof Pkcs12KeyPurpose];

const HASH_OUTPUT_BYTES = { sha1: 20, sha256: 32 } as const;
// Both SHA-1 and SHA-256 have a 64-byte block (v in RFC 7292).
const BLOCK_BYTES = 64;

/**
 * The PKCS#12 v1 key derivation (RFC 7292 appendix B.2). It keys the MAC of every PFX, and
 * the key and IV of the old pbeWithSHAAnd* ciphers. The password enters as a BMPString
 * (UTF-16BE with a trailing 0x0000), unlike PBKDF2 which takes its bytes.
 */
export function pkcs12Kdf(
  hash: keyof typeof HASH_OUTPUT_BYTES,
  password: string,
  salt: Uint8Array,
  purpose: Pkcs12KeyPurpose,
  iterations: number,
  length: number,
): Buffer {
  const u = HASH_OUTPUT_BYTES[hash];
  const v = BLOCK_BYTES;
  const diversifier = Buffer.alloc(v, purpose);
  const I = Buffer.concat([repeatToBlocks(salt, v), repeatToBlocks(bmpString(password), v)]);
  const out = Buffer.alloc(length);
  for (let offset = 0; offset < length; offset += u) {
    let A = createHash(hash).update(diversifier).update(I).digest();
    // One-shot hashing: about twice as fast as a Hash object per round (2,048 rounds per key).
    for (let r = 1; r < iterations; r++) A = digest(hash, A, 'buffer');
    A.copy(out, offset, 0, Math.min(u, length - offset));
    if (offset + u >= length) break;
    // I_j = (I_j + B + 1) mod 2^(8v) for each v-byte block of I, B being A repeated to v bytes.
    const B = repeatToLength(A, v);
    for (let j = 0; j < I.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = I[j + k] + B[k] + carry;
        I[j + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  return out;
}

function bmpString(password: string): Buffer {
  const out = Buffer.alloc(password.length * 2 + 2);
  for (let i = 0; i < password.length; i++) out.writeUInt16BE(password.charCodeAt(i), i * 2);
  return out;
}

function repeatToBlocks(data: Uint8Array, v: number): Buffer {
  return repeatToLength(data, v * Math.ceil(data.length / v));
}

function repeatToLength(data: Uint8Array, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = data[i % data.length];
  return out;
}
