/**
 * RBAC as the API server evaluates it (rbac.authorization.k8s.io/v1): the Roles,
 * ClusterRoles, RoleBindings and ClusterRoleBindings stored in the sandbox, so manifests
 * applied with kubectl feed it. `system:masters` is never asked. Rules match on verbs,
 * apiGroups, resources (with `resource/subresource` and `*`), resourceNames and
 * nonResourceURLs (`*` suffix); ClusterRoles with an aggregationRule gather the rules of the
 * ClusterRoles their selectors match.
 * https://kubernetes.io/docs/reference/access-authn-authz/rbac/
 */
import { KubeApiError } from './api-status.js';
import type { UserInfo } from './authentication.js';
import type { KubeObject } from './kubernetes-state.js';
import type { ObjectStore } from './object-store.js';
import { findByKind } from './resource-catalog.js';
import { parseLabelSelector } from './selectors.js';

/** What a request asks to do, as the authorizer sees it. */
export interface RequestAttributes {
  verb: string;
  /** Resource requests name a resource; others name a path (/healthz, /apis). */
  resource?: string;
  apiGroup?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  path?: string;
}

interface PolicyRule {
  verbs?: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

interface Subject {
  kind?: string;
  name?: string;
  namespace?: string;
}

const RBAC = 'rbac.authorization.k8s.io/v1';

const has = (list: string[] | undefined, v: string) => (list ?? []).some((x) => x === '*' || x === v);

function ruleAllows(rule: PolicyRule, a: RequestAttributes): boolean {
  if (!has(rule.verbs, a.verb)) return false;
  if (a.resource === undefined) {
    return (rule.nonResourceURLs ?? []).some((u) => u === '*' || u === a.path || (u.endsWith('*') && (a.path ?? '').startsWith(u.slice(0, -1))));
  }
  if (!has(rule.apiGroups, a.apiGroup ?? '')) return false;
  const combined = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const resourceOk = (rule.resources ?? []).some((r) => r === '*' || r === combined || (a.subresource ? r === `*/${a.subresource}` : false));
  if (!resourceOk) return false;
  return !rule.resourceNames?.length || (a.name !== undefined && rule.resourceNames.includes(a.name));
}

function subjectMatches(s: Subject, user: UserInfo): boolean {
  switch (s.kind) {
    case 'User':
      return s.name === user.username;
    case 'Group':
      return s.name !== undefined && user.groups.includes(s.name);
    case 'ServiceAccount':
      return user.username === `system:serviceaccount:${s.namespace ?? ''}:${s.name ?? ''}`;
    default:
      return false;
  }
}

export class RbacAuthorizer {
  constructor(private readonly store: ObjectStore) {}

  private objects(kind: string, namespace?: string): KubeObject[] {
    return this.store.items(findByKind(RBAC, kind)!, namespace);
  }

  private clusterRoleRules(name: string, seen = new Set<string>()): PolicyRule[] {
    if (seen.has(name)) return [];
    seen.add(name);
    const role = this.store.read(findByKind(RBAC, 'ClusterRole')!, undefined, name);
    if (!role) return [];
    const own = (role.rules as PolicyRule[] | undefined) ?? [];
    const selectors = (role.aggregationRule as { clusterRoleSelectors?: { matchLabels?: Record<string, string> }[] } | undefined)?.clusterRoleSelectors;
    if (!selectors?.length) return own;
    const aggregated = this.objects('ClusterRole').filter((r) =>
      selectors.some((sel) => parseLabelSelector(Object.entries(sel.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(','))(r)),
    );
    return [...own, ...aggregated.flatMap((r) => this.clusterRoleRules(r.metadata.name, seen))];
  }

  private rulesOf(roleRef: { kind?: string; name?: string } | undefined, namespace?: string): PolicyRule[] {
    if (!roleRef?.name) return [];
    if (roleRef.kind === 'ClusterRole') return this.clusterRoleRules(roleRef.name);
    if (roleRef.kind === 'Role' && namespace) {
      const role = this.store.read(findByKind(RBAC, 'Role')!, namespace, roleRef.name);
      return (role?.rules as PolicyRule[] | undefined) ?? [];
    }
    return [];
  }

  /** Whether `user` may do what `a` describes. */
  allows(user: UserInfo, a: RequestAttributes): boolean {
    if (user.groups.includes('system:masters')) return true;
    const bound = (b: KubeObject) => ((b.subjects as Subject[] | undefined) ?? []).some((s) => subjectMatches(s, user));
    for (const b of this.objects('ClusterRoleBinding')) {
      if (bound(b) && this.rulesOf(b.roleRef as Subject).some((r) => ruleAllows(r, a))) return true;
    }
    if (a.resource !== undefined && a.namespace) {
      for (const b of this.objects('RoleBinding', a.namespace)) {
        if (bound(b) && this.rulesOf(b.roleRef as Subject, a.namespace).some((r) => ruleAllows(r, a))) return true;
      }
    }
    return false;
  }
}

/** The 403 a real API server answers, worded as its RBAC authorizer and responsewriter word it. */
export function forbiddenFor(user: UserInfo, a: RequestAttributes): KubeApiError {
  if (a.resource === undefined) {
    return new KubeApiError(403, 'Forbidden', `forbidden: User "${user.username}" cannot ${a.verb} path "${a.path}"`, {});
  }
  const combined = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const scope = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
  const why = `User "${user.username}" cannot ${a.verb} resource "${combined}" in API group "${a.apiGroup ?? ''}" ${scope}`;
  const qualified = a.apiGroup ? `${a.resource}.${a.apiGroup}` : a.resource;
  const message = a.name !== undefined ? `${qualified} "${a.name}" is forbidden: ${why}` : `${qualified} is forbidden: ${why}`;
  return new KubeApiError(403, 'Forbidden', message, { ...(a.name !== undefined ? { name: a.name } : {}), ...(a.apiGroup ? { group: a.apiGroup } : {}), kind: a.resource });
}
