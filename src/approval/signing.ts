import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { canonicalJson } from '../plan/canonical.js';

/** A MAC and the id of the key that made it. */
export interface Seal {
  kid: string;
  mac: string;
}

/** What a seal covers, by kind: the kind is part of the MAC, so a seal of one kind never passes for another. */
export type SealKind = 'plan' | 'decision' | 'journal' | 'result';

const MIN_KEY_BYTES = 32;

/** How to make a key, for messages that ask for one. */
export const SIGNING_KEY_HOWTO = 'make one with `openssl rand -base64 32` and keep it in a Kubernetes Secret (or the environment), never in Redis';

/** Decodes a key given as base64, base64url or hex; undefined when it is not one of at least 32 bytes. */
export function decodeSigningKey(text: string): Buffer | undefined {
  const t = text.trim();
  const bytes = /^[0-9a-f]+$/i.test(t) && t.length % 2 === 0 ? Buffer.from(t, 'hex') : /^[A-Za-z0-9+/_-]+={0,2}$/.test(t) ? Buffer.from(t, 'base64') : undefined;
  return bytes && bytes.length >= MIN_KEY_BYTES ? bytes : undefined;
}

export function newSigningKey(): string {
  return randomBytes(MIN_KEY_BYTES).toString('base64');
}

const keyId = (key: Buffer) => createHash('sha256').update(key).digest('hex').slice(0, 12);

/**
 * HMAC-SHA256 seals with a key that lives outside Redis (LABGATE_SIGNING_KEY). Seals are made
 * with the current key and accepted from it or from the previous keys still listed
 * (LABGATE_SIGNING_KEY_PREVIOUS), so a key can be rotated without refusing plans in flight.
 */
export class Signer {
  private readonly current: { kid: string; key: Buffer };
  private readonly byKid: Map<string, Buffer>;

  constructor(current: Buffer, previous: Buffer[] = []) {
    this.current = { kid: keyId(current), key: current };
    this.byKid = new Map([current, ...previous].map((k) => [keyId(k), k]));
  }

  static fromText(current: string, previous: string[] = []): Signer {
    const decode = (t: string) => {
      const k = decodeSigningKey(t);
      if (!k) throw new Error(`a signing key must be at least ${MIN_KEY_BYTES} random bytes in base64 or hex; ${SIGNING_KEY_HOWTO}`);
      return k;
    };
    return new Signer(decode(current), previous.map(decode));
  }

  get kid(): string {
    return this.current.kid;
  }

  private mac(key: Buffer, kind: SealKind, payload: unknown): string {
    return createHmac('sha256', key).update(`labgate:${kind}:v1\n`).update(canonicalJson(payload)).digest('base64url');
  }

  seal(kind: SealKind, payload: unknown): Seal {
    return { kid: this.current.kid, mac: this.mac(this.current.key, kind, payload) };
  }

  /** True only for a seal of this kind over exactly this payload, by a key this process holds. */
  verify(kind: SealKind, payload: unknown, seal: Seal | undefined): boolean {
    if (!seal || typeof seal.kid !== 'string' || typeof seal.mac !== 'string') return false;
    const key = this.byKid.get(seal.kid);
    if (!key) return false;
    const want = Buffer.from(this.mac(key, kind, payload));
    const got = Buffer.from(seal.mac);
    return want.length === got.length && timingSafeEqual(want, got);
  }
}
