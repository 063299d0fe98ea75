import { readFile } from 'node:fs/promises';
import type NodeVault from 'node-vault';

/** How labgate logs in: a given token, AppRole, or the pod's Kubernetes service account. */
export type BaoLogin =
  | { method: 'token'; token: string }
  | { method: 'approle'; roleId: string; secretId: string; mount: string }
  | { method: 'kubernetes'; role: string; mount: string; jwtPath: string };

interface Lease {
  /** Unix ms; null = never expires (root or a token without TTL). */
  expiresAt: number | null;
  ttlMs: number;
  renewable: boolean;
}

/** Renew once less than this share of the token's TTL is left. */
const RENEW_WHEN_LEFT = 1 / 3;

/**
 * Keeps node-vault's client logged in: logs in (AppRole, Kubernetes) or looks the given token
 * up on first use, renews the token before it expires (`POST /v1/auth/token/renew-self`), and
 * logs in again when renewal is not possible. Checked before every call; an unref'd timer
 * also renews an idle process's token so a given BAO_TOKEN does not lapse unseen.
 */
export class BaoSession {
  private lease?: Lease;
  private pending?: Promise<void>;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly client: NodeVault.client,
    private readonly login: BaoLogin,
    private readonly now: () => number,
  ) {
    client.token = login.method === 'token' ? login.token : '';
  }

  /** Resolves once the client holds a token that is not about to expire. */
  ensure(): Promise<void> {
    if (this.lease && !this.due(this.lease)) return Promise.resolve();
    this.pending ??= this.refresh().finally(() => (this.pending = undefined));
    return this.pending;
  }

  /** Forgets the token's lease, e.g. after a 403: the next call logs in again or looks it up. */
  invalidate(): void {
    this.lease = undefined;
  }

  get canLogIn(): boolean {
    return this.login.method !== 'token';
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private due(lease: Lease): boolean {
    if (lease.expiresAt === null) return false;
    return lease.expiresAt - this.now() <= lease.ttlMs * RENEW_WHEN_LEFT;
  }

  private async refresh(): Promise<void> {
    const lease = this.lease;
    if (!lease) {
      this.lease = await this.start();
    } else if (lease.renewable && (lease.expiresAt ?? Infinity) > this.now()) {
      try {
        this.lease = this.leaseOf((await this.client.tokenRenewSelf()).auth);
      } catch (err) {
        if (!this.canLogIn) throw err;
        this.lease = await this.start();
      }
    } else {
      if (!this.canLogIn) throw new Error('the OpenBao token (BAO_TOKEN) has expired and cannot be renewed; give labgate a new one');
      this.lease = await this.start();
    }
    this.schedule();
  }

  private async start(): Promise<Lease> {
    switch (this.login.method) {
      case 'token': {
        const { data } = await this.client.tokenLookupSelf();
        const ttl = Number(data?.ttl ?? 0);
        return { expiresAt: ttl > 0 ? this.now() + ttl * 1000 : null, ttlMs: Number(data?.creation_ttl ?? ttl) * 1000 || ttl * 1000, renewable: Boolean(data?.renewable) };
      }
      case 'approle': {
        const res = await this.client.approleLogin({ role_id: this.login.roleId, secret_id: this.login.secretId, mount_point: this.login.mount });
        return this.leaseOf(res.auth);
      }
      case 'kubernetes': {
        const jwt = (await readFile(this.login.jwtPath, 'utf8')).trim();
        // node-vault 0.12 builds /auth//login without mount_point.
        const res = await this.client.kubernetesLogin({ role: this.login.role, jwt, mount_point: this.login.mount });
        return this.leaseOf(res.auth);
      }
    }
  }

  private leaseOf(auth: { lease_duration?: number; renewable?: boolean } | undefined): Lease {
    const ttl = Number(auth?.lease_duration ?? 0);
    return { expiresAt: ttl > 0 ? this.now() + ttl * 1000 : null, ttlMs: ttl * 1000, renewable: Boolean(auth?.renewable) };
  }

  private schedule(): void {
    this.close();
    const lease = this.lease;
    if (!lease || lease.expiresAt === null) return;
    const wait = Math.max(1000, lease.expiresAt - lease.ttlMs * RENEW_WHEN_LEFT - this.now());
    // Past ~24.8 days setTimeout fires at once; the per-call check covers longer leases.
    if (wait > 2 ** 31 - 1) return;
    this.timer = setTimeout(() => void this.ensure().catch(() => {}), wait);
    this.timer.unref();
  }
}
