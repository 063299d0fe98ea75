import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { KubernetesState } from './kubernetes-state.js';
import { findByKind } from './resource-catalog.js';
import type { ObjectStore } from './object-store.js';

/** Who a request comes from, as a SelfSubjectReview reports it. */
export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

/** The kubeconfig's admin: k3s's `system:admin`, in `system:masters` (RBAC is never asked for it). */
export const ADMIN: UserInfo = { username: 'system:admin', groups: ['system:masters', 'system:authenticated'] };
export const ANONYMOUS: UserInfo = { username: 'system:anonymous', groups: ['system:unauthenticated'] };

const ISSUER = 'https://kubernetes.default.svc.cluster.local';
const AUDIENCES = [ISSUER, 'k3s'];

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/**
 * Bearer tokens: the admin token of the kubeconfig, and ServiceAccount tokens as the
 * TokenRequest API issues them (JWTs whose claims name the ServiceAccount and its uid; a
 * token stops working when it expires or its ServiceAccount is deleted or re-created).
 * Signed with a key kept in the state, so tokens survive a restart of the sandbox.
 */
export class Authenticator {
  constructor(
    private readonly state: KubernetesState,
    private readonly store: ObjectStore,
    private readonly now: () => number = Date.now,
  ) {
    state.signingKey ??= randomBytes(32).toString('base64url');
  }

  private sign(data: string): string {
    return createHmac('sha256', Buffer.from(this.state.signingKey!, 'base64url')).update(data).digest('base64url');
  }

  /** The user behind an `Authorization` header: undefined when a token was sent but is not valid (401). */
  authenticate(header: string | undefined): UserInfo | undefined {
    if (!header || !/^Bearer\s+/i.test(header)) return ANONYMOUS;
    const token = header.replace(/^Bearer\s+/i, '').trim();
    if (token === this.state.token) return ADMIN;
    return this.serviceAccountUser(token);
  }

  private serviceAccountUser(token: string): UserInfo | undefined {
    const [h, p, sig] = token.split('.');
    if (!h || !p || !sig) return undefined;
    const expected = Buffer.from(this.sign(`${h}.${p}`));
    if (expected.length !== Buffer.from(sig).length || !timingSafeEqual(expected, Buffer.from(sig))) return undefined;
    let claims: { exp?: number; 'kubernetes.io'?: { namespace?: string; serviceaccount?: { name?: string; uid?: string } } };
    try {
      claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
    } catch {
      return undefined;
    }
    if (!claims.exp || claims.exp * 1000 <= this.now()) return undefined;
    const ns = claims['kubernetes.io']?.namespace;
    const sa = claims['kubernetes.io']?.serviceaccount;
    if (!ns || !sa?.name) return undefined;
    const live = this.store.read(findByKind('v1', 'ServiceAccount')!, ns, sa.name);
    if (!live || live.metadata.uid !== sa.uid) return undefined;
    return {
      username: `system:serviceaccount:${ns}:${sa.name}`,
      uid: sa.uid,
      groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'],
    };
  }

  /**
   * `POST /api/v1/namespaces/<ns>/serviceaccounts/<name>/token`: a token for the ServiceAccount,
   * valid for `expirationSeconds` (the API's default is an hour). Undefined when it does not exist.
   */
  issueToken(namespace: string, name: string, expirationSeconds = 3600): { token: string; expirationTimestamp: string } | undefined {
    const sa = this.store.read(findByKind('v1', 'ServiceAccount')!, namespace, name);
    if (!sa) return undefined;
    const iat = Math.floor(this.now() / 1000);
    const exp = iat + expirationSeconds;
    const header = b64({ alg: 'HS256', kid: 'labgate-sandbox' });
    const payload = b64({
      aud: AUDIENCES,
      exp,
      iat,
      iss: ISSUER,
      jti: randomBytes(16).toString('hex'),
      'kubernetes.io': { namespace, serviceaccount: { name, uid: sa.metadata.uid } },
      nbf: iat,
      sub: `system:serviceaccount:${namespace}:${name}`,
    });
    return { token: `${header}.${payload}.${this.sign(`${header}.${payload}`)}`, expirationTimestamp: new Date(exp * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') };
  }
}
