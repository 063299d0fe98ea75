import { OpenBaoHttpError, permissionDenied, userError, type HandlerResult } from './http-envelope.js';
import type { OpenBaoState, OpenBaoToken } from './openbao-state.js';
import { durationField, stringField, type RequestBody } from './request-fields.js';
import type { TokenStore } from './token-store.js';

/**
 * Auth endpoints labgate uses: AppRole and Kubernetes logins (no token needed), and the
 * token's own lookup/renew/revoke.
 */

const withDefault = (policies: string[]) => [...new Set(['default', ...policies])];

/** `POST /v1/auth/approle/login` {role_id, secret_id}. */
export function approleLogin(state: OpenBaoState, tokens: TokenStore, body: RequestBody): HandlerResult {
  const roleId = stringField(body, 'role_id').trim();
  if (!roleId) throw userError('missing role_id');
  const entry = Object.entries(state.auth.approle).find(([, r]) => r.roleId === roleId);
  if (!entry) throw userError('invalid role or secret ID');
  const [roleName, role] = entry;
  if (role.bindSecretId) {
    const secretId = stringField(body, 'secret_id').trim();
    if (!secretId) throw userError('missing secret_id');
    if (!role.secretIds.includes(secretId)) throw userError('invalid role or secret ID');
  }
  const token = tokens.create({
    policies: withDefault(role.tokenPolicies),
    ttlSeconds: role.tokenTtlSeconds,
    maxTtlSeconds: role.tokenMaxTtlSeconds,
    path: 'auth/approle/login',
    displayName: 'approle',
    meta: { role_name: roleName },
  });
  return { kind: 'json', data: null, auth: tokens.authBlock(token) };
}

interface ServiceAccount {
  name: string;
  namespace: string;
  uid: string;
  secretName: string;
}

/** Service-account identity from a Kubernetes JWT's claims (legacy or projected form). */
function serviceAccountOf(jwt: string): ServiceAccount {
  try {
    const claims = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
    const projected = claims['kubernetes.io'] as { namespace?: string; serviceaccount?: { name?: string; uid?: string } } | undefined;
    const legacy = (k: string) => (typeof claims[`kubernetes.io/serviceaccount/${k}`] === 'string' ? (claims[`kubernetes.io/serviceaccount/${k}`] as string) : '');
    return {
      name: projected?.serviceaccount?.name ?? legacy('service-account.name'),
      namespace: projected?.namespace ?? legacy('namespace'),
      uid: projected?.serviceaccount?.uid ?? legacy('service-account.uid'),
      secretName: legacy('secret.name'),
    };
  } catch {
    return { name: '', namespace: '', uid: '', secretName: '' };
  }
}

const boundBy = (allowed: string[], value: string) =>
  allowed.some((a) => a === '*' || a === value || (a.endsWith('*') && value.startsWith(a.slice(0, -1))));

/**
 * `POST /v1/auth/kubernetes/login` {role, jwt}. The TokenReview is simulated: a JWT is
 * authentic when it is one of `auth.kubernetes.acceptedJwts`; the role's bound service
 * account names and namespaces are then checked against its claims.
 */
export function kubernetesLogin(state: OpenBaoState, tokens: TokenStore, body: RequestBody): HandlerResult {
  const roleName = stringField(body, 'role');
  if (!roleName) throw userError('missing role');
  const jwt = stringField(body, 'jwt');
  if (!jwt) throw userError('missing jwt');
  const role = Object.hasOwn(state.auth.kubernetes.roles, roleName) ? state.auth.kubernetes.roles[roleName] : undefined;
  if (!role) throw userError(`invalid role name "${roleName}"`);
  if (!state.auth.kubernetes.acceptedJwts.includes(jwt)) throw permissionDenied();
  const sa = serviceAccountOf(jwt);
  if (!boundBy(role.boundServiceAccountNames, sa.name)) throw new OpenBaoHttpError(403, ['service account name not authorized']);
  if (!boundBy(role.boundServiceAccountNamespaces, sa.namespace)) throw new OpenBaoHttpError(403, ['namespace not authorized']);
  const token = tokens.create({
    policies: withDefault(role.tokenPolicies),
    ttlSeconds: role.tokenTtlSeconds,
    maxTtlSeconds: role.tokenMaxTtlSeconds,
    path: 'auth/kubernetes/login',
    displayName: `kubernetes-${sa.namespace}-${sa.name}`,
    meta: {
      role: roleName,
      service_account_name: sa.name,
      service_account_namespace: sa.namespace,
      service_account_secret_name: sa.secretName,
      service_account_uid: sa.uid,
    },
  });
  return { kind: 'json', data: null, auth: tokens.authBlock(token) };
}

/** `GET /v1/auth/token/lookup-self`. */
export function lookupSelf(tokens: TokenStore, token: OpenBaoToken): HandlerResult {
  return { kind: 'json', data: tokens.lookupData(token) };
}

/** `POST /v1/auth/token/renew-self` {increment?}. */
export function renewSelf(tokens: TokenStore, token: OpenBaoToken, body: RequestBody): HandlerResult {
  const { auth, warnings } = tokens.renew(token, durationField(body, 'increment'));
  return { kind: 'json', data: null, auth, warnings };
}

/** `POST /v1/auth/token/revoke-self`: 204. */
export function revokeSelf(tokens: TokenStore, token: OpenBaoToken): HandlerResult {
  tokens.revoke(token);
  return { kind: 'empty' };
}
