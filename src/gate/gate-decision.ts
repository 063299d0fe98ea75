import type { X509Certificate } from 'node:crypto';
import { checkCertificate, ownerOfIdentity, parseClientCertHeader, type CheckedCertificate } from './client-certificate.js';
import type { RevocationList } from './revocation-list.js';

export type GateVerdict = { status: 200; owner: string; device: string } | { status: 403 | 503; reason: string };

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * Decides one forwardAuth request from what Traefik forwarded. Pure apart from a cache of
 * parsed certificates (by header text): the time, the list and the allow list are checked on
 * every request.
 */
export class GateDecider {
  private readonly cache = new Map<string, CheckedCertificate | null>();

  constructor(
    private readonly issuers: () => readonly X509Certificate[],
    private readonly list: RevocationList,
  ) {}

  /** Forgets parsed certificates (the device issuer changed). */
  reset(): void {
    this.cache.clear();
  }

  private checked(header: string | string[] | undefined): CheckedCertificate | null {
    const key = Array.isArray(header) ? header.join('\n') : header;
    if (key === undefined) return null;
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit;
    const certs = parseClientCertHeader(header);
    const result = certs ? checkCertificate(certs[0]!, this.issuers()) : null;
    if (this.cache.size >= 5000) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, result);
    return result;
  }

  decide(header: string | string[] | undefined, allow: ReadonlySet<string> | undefined, now: number): GateVerdict {
    if (this.list.isStale(now)) return { status: 503, reason: 'revocation list is out of date; refusing every certificate until it is refreshed' };
    if (header === undefined) return { status: 403, reason: 'no client certificate' };
    const c = this.checked(header);
    if (!c) return { status: 403, reason: 'client certificate unreadable' };
    if (c.refusal || !c.identity) return { status: 403, reason: c.refusal ?? 'not a device certificate' };
    if (now < c.notBefore) return { status: 403, reason: `certificate not valid before ${day(c.notBefore)}` };
    if (now > c.notAfter) return { status: 403, reason: `certificate expired on ${day(c.notAfter)}` };
    const revoked = this.list.revokedAt(c.serial);
    if (revoked !== undefined) return { status: 403, reason: `certificate revoked on ${day(revoked)}` };
    const owner = ownerOfIdentity(c.identity);
    if (allow && !allow.has(owner)) return { status: 403, reason: 'this device is not allowed on this host' };
    return { status: 200, owner, device: c.identity.device };
  }
}

/** `?allow=shell:alice,discord:123` of the forwardAuth address: set by labgate's plan, not by the client. */
export function allowOf(url: string | undefined): ReadonlySet<string> | undefined {
  const q = url?.indexOf('?') ?? -1;
  if (!url || q < 0) return undefined;
  const value = new URLSearchParams(url.slice(q + 1)).get('allow');
  return value ? new Set(value.split(',').filter(Boolean)) : undefined;
}
