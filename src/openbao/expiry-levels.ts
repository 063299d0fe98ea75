import type { DeviceCertificate } from './device-inventory.js';
import { ownerKey } from './device-identity.js';
import type { CertificateSummary } from './port.js';

/** How far away an expiry is, and which certificates an expiry scan must look at (jobs/expiry-scan.ts). */
const DAY = 86_400_000;

/** Groups in order of first appearance (Node 20 has no Map.groupBy). */
export function byOwner<T extends { c: DeviceCertificate }>(due: T[]): T[][] {
  const groups = new Map<string, T[]>();
  for (const d of due) {
    const k = ownerKey(d.c.owner);
    const g = groups.get(k);
    if (g) g.push(d);
    else groups.set(k, [d]);
  }
  return [...groups.values()];
}

/**
 * `due` plus every live certificate of the same name (the device) issued after one of them:
 * those may be its replacement, which only their owner URN can tell.
 */
export function withNewerOfSameName(due: CertificateSummary[], live: CertificateSummary[]): CertificateSummary[] {
  const names = new Map<string, CertificateSummary[]>();
  for (const c of due) {
    const list = names.get(c.commonName);
    if (list) list.push(c);
    else names.set(c.commonName, [c]);
  }
  const out = new Set(due);
  for (const c of live) {
    const same = names.get(c.commonName);
    if (same?.some((d) => c.notBefore > d.notBefore || (c.notBefore === d.notBefore && c.notAfter > d.notAfter))) out.add(c);
  }
  return [...out];
}

/** The smallest threshold the remaining time is within, or undefined when beyond all of them. */
export function thresholdFor(remainingMs: number, thresholds: readonly number[]): number | undefined {
  return [...thresholds].sort((a, b) => a - b).find((t) => remainingMs <= t);
}

export function inDays(ms: number): string {
  const days = Math.floor(ms / DAY);
  return days === 0 ? 'within a day' : `in ${days} day${days === 1 ? '' : 's'}`;
}
