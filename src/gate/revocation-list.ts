import { serialKey } from './client-certificate.js';

/**
 * The revoked serials of the device issuer, in memory: replaced by each CRL the gate reads,
 * added to at once by a push. It knows how old it is, so the gate can fail closed.
 */
export class RevocationList {
  private revoked = new Map<string, number>();
  /** When the last CRL was read (unix ms); undefined until the first. */
  refreshedAt?: number;
  /** The last CRL's nextUpdate (unix ms). */
  nextUpdate?: number;

  constructor(private readonly maxStalenessMs?: number) {}

  /** A CRL's entries replace the list; pushed serials it does not list yet stay (a CRL read before the push lags it). */
  replace(entries: Iterable<[serial: string, revokedAt: number]>, refreshedAt: number, nextUpdate?: number): void {
    const next = new Map<string, number>();
    for (const [serial, at] of entries) next.set(serialKey(serial), at);
    for (const [serial, at] of this.pushed) {
      if (next.has(serial)) this.pushed.delete(serial);
      else next.set(serial, at);
    }
    this.revoked = next;
    this.refreshedAt = refreshedAt;
    this.nextUpdate = nextUpdate;
  }

  private readonly pushed = new Map<string, number>();

  add(serial: string, revokedAt: number): void {
    const key = serialKey(serial);
    if (!this.revoked.has(key)) this.revoked.set(key, revokedAt);
    this.pushed.set(key, revokedAt);
  }

  revokedAt(serial: string): number | undefined {
    return this.revoked.get(serial);
  }

  get size(): number {
    return this.revoked.size;
  }

  /** The moment the list stops counting: refreshedAt + gate.maxStaleness, else the CRL's nextUpdate. */
  staleAfter(): number | undefined {
    if (this.refreshedAt === undefined) return undefined;
    if (this.maxStalenessMs !== undefined) return this.refreshedAt + this.maxStalenessMs;
    return this.nextUpdate ?? this.refreshedAt + 72 * 3600_000;
  }

  isStale(now: number): boolean {
    const until = this.staleAfter();
    return until === undefined || now > until;
  }
}
