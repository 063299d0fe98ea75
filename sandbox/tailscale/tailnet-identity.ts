import { createHash } from 'node:crypto';

/**
 * Deterministic identities for simulated tailnet devices, derived from their names so the
 * same homelab always prints the same keys, ids and addresses.
 */

function digest(kind: string, name: string): Buffer {
  return createHash('sha256').update(`${kind}/${name}`).digest();
}

/** A number in [0, modulo) derived from `kind/name`. */
export function derivedInt(kind: string, name: string, modulo: number): number {
  return digest(kind, name).readUInt32BE(0) % modulo;
}

/** `nodekey:` + 64 hex digits, the node public key as the CLI prints it. */
export function nodeKey(name: string): string {
  return `nodekey:${digest('nodekey', name).toString('hex')}`;
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** The StableNodeID: `n` + 7 characters + `CNTRL`, like the coordination server issues. */
export function stableNodeId(name: string): string {
  const bytes = digest('stable-id', name);
  let id = 'n';
  for (let i = 0; i < 7; i++) id += ALNUM[bytes[i]! % ALNUM.length];
  return `${id}CNTRL`;
}

/** A 16-digit int64 id that JavaScript numbers still hold exactly (below 2^53). */
export function int64Id(kind: string, name: string): number {
  const bytes = digest(kind, name);
  const value = bytes.readUInt32BE(0) * 0x100000 + (bytes.readUInt32BE(4) >>> 12);
  return 1_000_000_000_000_000 + (value % 8_000_000_000_000_000);
}

/** The device's Tailscale IPv4 (100.64.0.0/10) and IPv6 (fd7a:115c:a1e0::/48) addresses. */
export function tailscaleAddresses(name: string): { v4: string; v6: string } {
  const b = digest('tailscale-ip', name);
  const v4 = `100.${64 + (b[0]! % 64)}.${b[1]}.${1 + (b[2]! % 254)}`;
  // A non-zero high byte keeps both groups non-zero, so the text form stays `a:b:c::x:y`.
  const g1 = ((b[3]! | 1) << 8) | b[4]!;
  const g2 = ((b[5]! | 1) << 8) | b[6]!;
  return { v4, v6: `fd7a:115c:a1e0::${g1.toString(16)}:${g2.toString(16)}` };
}
