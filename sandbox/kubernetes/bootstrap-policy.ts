/**
 * The RBAC objects every API server reconciles at start (a subset of kube-apiserver's
 * bootstrap policy, names and rules as there): cluster-admin for system:masters, discovery
 * and health for everyone authenticated, health and version for anonymous requests too,
 * self reviews for every user, and the view/edit/admin roles users bind to.
 * https://kubernetes.io/docs/reference/access-authn-authz/rbac/#default-roles-and-role-bindings
 */
import type { KubeObject } from './kubernetes-state.js';
import { apiTimestamp, type ObjectStore } from './object-store.js';
import { recordUpdate } from './field-ownership.js';
import { findByKind } from './resource-catalog.js';

const RBAC = 'rbac.authorization.k8s.io/v1';
const BOOTSTRAP_LABELS = { 'kubernetes.io/bootstrapping': 'rbac-defaults' };
const AUTOUPDATE = { 'rbac.authorization.kubernetes.io/autoupdate': 'true' };

const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'delete', 'deletecollection', 'patch', 'update'];

function clusterRole(name: string, rules: Record<string, unknown>[], labels: Record<string, string> = {}, aggregateFrom?: string): KubeObject {
  return {
    apiVersion: RBAC,
    kind: 'ClusterRole',
    metadata: { name, labels: { ...BOOTSTRAP_LABELS, ...labels }, annotations: AUTOUPDATE },
    ...(aggregateFrom ? { aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [aggregateFrom]: 'true' } }] } } : {}),
    rules,
  };
}

function binding(name: string, role: string, groups: string[]): KubeObject {
  return {
    apiVersion: RBAC,
    kind: 'ClusterRoleBinding',
    metadata: { name, labels: BOOTSTRAP_LABELS, annotations: AUTOUPDATE },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
    subjects: groups.map((g) => ({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: g })),
  };
}

const CORE_NAMESPACED = ['pods', 'services', 'configmaps', 'serviceaccounts', 'events'];

export function bootstrapPolicy(): KubeObject[] {
  return [
    clusterRole('cluster-admin', [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }, { nonResourceURLs: ['*'], verbs: ['*'] }]),
    clusterRole('system:discovery', [{ nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/'], verbs: ['get'] }]),
    clusterRole('system:public-info-viewer', [{ nonResourceURLs: ['/healthz', '/livez', '/readyz', '/version', '/version/'], verbs: ['get'] }]),
    clusterRole('system:basic-user', [
      { apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'], verbs: ['create'] },
      { apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'], verbs: ['create'] },
    ]),
    clusterRole('view', [], {}, 'rbac.authorization.k8s.io/aggregate-to-view'),
    clusterRole('edit', [], { 'rbac.authorization.k8s.io/aggregate-to-admin': 'true' }, 'rbac.authorization.k8s.io/aggregate-to-edit'),
    clusterRole('admin', [], {}, 'rbac.authorization.k8s.io/aggregate-to-admin'),
    clusterRole('system:aggregate-to-view', [
      { apiGroups: [''], resources: [...CORE_NAMESPACED, 'namespaces'], verbs: READ },
      { apiGroups: ['apps'], resources: ['daemonsets'], verbs: READ },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: READ },
    ], { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' }),
    clusterRole('system:aggregate-to-edit', [
      { apiGroups: [''], resources: [...CORE_NAMESPACED, 'secrets'], verbs: [...READ, ...WRITE] },
      { apiGroups: [''], resources: ['pods/exec'], verbs: ['create', 'get'] },
      { apiGroups: ['apps'], resources: ['daemonsets'], verbs: [...READ, ...WRITE] },
    ], { 'rbac.authorization.k8s.io/aggregate-to-edit': 'true' }),
    clusterRole('system:aggregate-to-admin', [
      { apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles', 'rolebindings'], verbs: [...READ, ...WRITE] },
    ], { 'rbac.authorization.k8s.io/aggregate-to-admin': 'true' }),
    binding('cluster-admin', 'cluster-admin', ['system:masters']),
    binding('system:discovery', 'system:discovery', ['system:authenticated']),
    binding('system:public-info-viewer', 'system:public-info-viewer', ['system:authenticated', 'system:unauthenticated']),
    binding('system:basic-user', 'system:basic-user', ['system:authenticated']),
  ];
}

/** Writes the bootstrap objects that are missing (never overwrites one a user changed), as the API server does at start. */
export function ensureBootstrapPolicy(store: ObjectStore): void {
  for (const obj of bootstrapPolicy()) {
    const r = findByKind(obj.apiVersion, obj.kind)!;
    if (store.read(r, undefined, obj.metadata.name)) continue;
    obj.metadata.managedFields = recordUpdate(undefined, obj, 'kube-apiserver', obj.apiVersion, apiTimestamp());
    store.put(obj);
  }
}
