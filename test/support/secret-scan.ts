import { createPrivateKey } from 'node:crypto';
import { Redis } from 'ioredis';

/** One thing that must not be found, in a form it could be stored in. */
export interface Needle {
  label: string;
  bytes: Buffer;
}

export interface KnownSecrets {
  /** Private keys in any PEM form (they are searched as DER, base64 and PEM lines, PKCS#1/SEC1 and PKCS#8). */
  privateKeysPem?: string[];
  /** PKCS#12 bundles (searched raw, as base64 and as hex). */
  bundles?: Uint8Array[];
  passphrases?: string[];
}

// Long enough to be unique, short enough to survive any line wrapping or alignment.
const CHUNK = 24;

function slices(label: string, data: Buffer): Needle[] {
  const out: Needle[] = [];
  const mid = Math.max(0, Math.floor(data.length / 2) - CHUNK);
  const raw = data.subarray(mid, mid + CHUNK);
  out.push({ label: `${label} (raw bytes)`, bytes: raw });
  out.push({ label: `${label} (hex)`, bytes: Buffer.from(raw.toString('hex')) });
  // A base64 chunk at a 3-byte boundary of the whole encoding appears in any base64 copy of it.
  const b64 = data.toString('base64');
  const at = Math.floor(b64.length / 8) * 4;
  out.push({ label: `${label} (base64)`, bytes: Buffer.from(b64.slice(at, at + CHUNK)) });
  out.push({ label: `${label} (base64url)`, bytes: Buffer.from(data.toString('base64url').slice(at, at + CHUNK)) });
  return out;
}

/** Every form the given secrets could take in a store or a log. */
export function needlesFor(s: KnownSecrets): Needle[] {
  const out: Needle[] = [{ label: 'a PEM private key header', bytes: Buffer.from('PRIVATE KEY-----') }];
  for (const [i, pem] of (s.privateKeysPem ?? []).entries()) {
    const key = createPrivateKey(pem);
    const forms: Buffer[] = [key.export({ type: 'pkcs8', format: 'der' })];
    if (key.asymmetricKeyType === 'rsa') forms.push(key.export({ type: 'pkcs1', format: 'der' }));
    if (key.asymmetricKeyType === 'ec') forms.push(key.export({ type: 'sec1', format: 'der' }));
    for (const der of forms) out.push(...slices(`private key ${i + 1}`, der));
  }
  for (const [i, bundle] of (s.bundles ?? []).entries()) out.push(...slices(`bundle ${i + 1}`, Buffer.from(bundle)));
  for (const [i, p] of (s.passphrases ?? []).entries()) out.push({ label: `passphrase ${i + 1}`, bytes: Buffer.from(p) });
  return out;
}

/** Needles found in `data`, as "<where>: <label>". */
export function findingsIn(where: string, data: Buffer | string, needles: Needle[]): string[] {
  const buf = typeof data === 'string' ? Buffer.from(data) : data;
  return needles.filter((n) => buf.includes(n.bytes)).map((n) => `${where}: ${n.label}`);
}

/**
 * Reads every key under `prefix` (labgate's records and BullMQ's `<prefix>:q:*`: job data,
 * return values, events) with the command its type needs, names included, and reports each
 * needle found.
 */
export async function redisFindings(url: string, prefix: string, needles: Needle[]): Promise<{ keys: number; findings: string[] }> {
  const r = new Redis(url);
  const findings: string[] = [];
  let count = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        count++;
        const values: Buffer[] = [Buffer.from(key)];
        const type = await r.type(key);
        if (type === 'string') values.push((await r.getBuffer(key)) ?? Buffer.alloc(0));
        else if (type === 'hash') for (const [f, v] of Object.entries(await r.hgetallBuffer(key))) values.push(Buffer.from(f), v);
        else if (type === 'list') values.push(...(await r.lrangeBuffer(key, 0, -1)));
        else if (type === 'set') values.push(...(await r.smembersBuffer(key)));
        else if (type === 'zset') values.push(...(await r.zrangeBuffer(key, 0, -1)));
        else if (type === 'stream') for (const [, fields] of await r.xrangeBuffer(key, '-', '+')) values.push(...fields);
        for (const v of values) findings.push(...findingsIn(`${key} (${type})`, v, needles));
      }
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
  return { keys: count, findings };
}
