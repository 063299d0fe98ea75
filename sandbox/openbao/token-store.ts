import { randomBytes, randomUUID } from 'node:crypto';
import { formatGoDuration, rfc3339Nano } from './durations.js';
import { permissionDenied, userError, type AuthBlock } from './http-envelope.js';
import type { OpenBaoState, OpenBaoToken } from './openbao-state.js';

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomBase62(length: number): string {
  return [...randomBytes(length)].map((b) => BASE62[b % 62]).join('');
}

/** A service token id in OpenBao's current shape. */
export const newTokenId = () => `hvs.${randomBase62(24)}`;

export interface NewToken {
  policies: string[];
  ttlSeconds: number;
  maxTtlSeconds: number;
  path: string;
  displayName: string;
  meta?: Record<string, string>;
}

/** Tokens kept in the state; expiry judged by the injected clock. */
export class TokenStore {
  constructor(
    private readonly auth: OpenBaoState['auth'],
    private readonly now: () => number,
    private readonly changed: () => void,
  ) {}

  /** Creates a service token; ttl 0 never expires. Drops tokens that have already expired. */
  create(spec: NewToken): OpenBaoToken {
    const now = this.now();
    for (const [id, t] of Object.entries(this.auth.tokens)) {
      if (t.expiresAt !== null && t.expiresAt <= now) delete this.auth.tokens[id];
    }
    const token: OpenBaoToken = {
      id: newTokenId(),
      accessor: randomBase62(24),
      policies: spec.policies,
      path: spec.path,
      displayName: spec.displayName,
      meta: spec.meta ?? {},
      entityId: randomUUID(),
      issuedAt: now,
      ttlSeconds: spec.ttlSeconds,
      expiresAt: spec.ttlSeconds > 0 ? now + spec.ttlSeconds * 1000 : null,
      maxExpiresAt: spec.maxTtlSeconds > 0 ? now + spec.maxTtlSeconds * 1000 : null,
      renewable: spec.ttlSeconds > 0,
    };
    this.auth.tokens[token.id] = token;
    this.changed();
    return token;
  }

  /** The live token for a request, or 403 "permission denied" (missing, unknown or expired). */
  authenticate(id: string | undefined): OpenBaoToken {
    if (!id) throw permissionDenied();
    const token = Object.hasOwn(this.auth.tokens, id) ? this.auth.tokens[id] : undefined;
    if (!token) throw permissionDenied();
    if (token.expiresAt !== null && token.expiresAt <= this.now()) {
      delete this.auth.tokens[id];
      this.changed();
      throw permissionDenied();
    }
    return token;
  }

  remainingSeconds(token: OpenBaoToken): number {
    return token.expiresAt === null ? 0 : Math.max(0, Math.floor((token.expiresAt - this.now()) / 1000));
  }

  /** The `auth` block of login and renew responses. */
  authBlock(token: OpenBaoToken): AuthBlock {
    return {
      client_token: token.id,
      accessor: token.accessor,
      policies: token.policies,
      token_policies: token.policies,
      metadata: token.meta,
      lease_duration: this.remainingSeconds(token),
      renewable: token.renewable,
      entity_id: token.entityId,
      token_type: 'service',
      orphan: true,
      mfa_requirement: null,
      num_uses: 0,
    };
  }

  /**
   * `POST auth/token/renew-self`: extends by `increment` (default: the token's TTL), capped at
   * its max TTL with OpenBao's warning.
   */
  renew(token: OpenBaoToken, incrementSeconds: number): { auth: AuthBlock; warnings: string[] } {
    if (!token.renewable || token.expiresAt === null) throw userError('lease is not renewable');
    const now = this.now();
    const ttl = incrementSeconds > 0 ? incrementSeconds : token.ttlSeconds;
    let expiresAt = now + ttl * 1000;
    const warnings: string[] = [];
    if (token.maxExpiresAt !== null && expiresAt > token.maxExpiresAt) {
      expiresAt = token.maxExpiresAt;
      const maxTtl = Math.floor((token.maxExpiresAt - token.issuedAt) / 1000);
      warnings.push(`TTL of "${formatGoDuration(ttl)}" exceeded the effective max_ttl of "${formatGoDuration(maxTtl)}"; TTL value is capped accordingly`);
    }
    token.expiresAt = expiresAt;
    token.lastRenewedAt = now;
    this.changed();
    return { auth: this.authBlock(token), warnings };
  }

  /** `GET auth/token/lookup-self` data. */
  lookupData(token: OpenBaoToken) {
    return {
      accessor: token.accessor,
      creation_time: Math.floor(token.issuedAt / 1000),
      creation_ttl: token.ttlSeconds,
      display_name: token.displayName,
      entity_id: token.entityId,
      expire_time: token.expiresAt === null ? null : rfc3339Nano(token.expiresAt),
      explicit_max_ttl: 0,
      id: token.id,
      issue_time: rfc3339Nano(token.issuedAt),
      ...(token.lastRenewedAt ? { last_renewal: rfc3339Nano(token.lastRenewedAt), last_renewal_time: Math.floor(token.lastRenewedAt / 1000) } : {}),
      meta: Object.keys(token.meta).length ? token.meta : null,
      num_uses: 0,
      orphan: true,
      path: token.path,
      policies: token.policies,
      renewable: token.renewable,
      ttl: this.remainingSeconds(token),
      type: 'service',
    };
  }

  revoke(token: OpenBaoToken): void {
    delete this.auth.tokens[token.id];
    this.changed();
  }
}
