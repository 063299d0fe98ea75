/** One REST resource the sandbox serves, described as the discovery documents describe it. */
export interface ResourceType {
  /** API group; '' for the core group. */
  group: string;
  version: string;
  kind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
  /** Served from a CRD in crds/ and validated against its schema. */
  crd?: boolean;
  /** Create-only review resources (SelfSubjectReview…): answered, never stored. */
  review?: boolean;
  /** Subresources served besides the resource itself, as discovery lists them. */
  subresources?: { name: string; kind: string; verbs: string[]; group?: string; version?: string }[];
}

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function traefik(kind: string, plural: string): ResourceType {
  return {
    group: 'traefik.io',
    version: 'v1alpha1',
    kind,
    plural,
    singular: kind.toLowerCase(),
    namespaced: true,
    verbs: ['delete', 'deletecollection', 'get', 'list', 'patch', 'create', 'update', 'watch'],
    crd: true,
  };
}

/** Every resource the sandbox serves. */
export const RESOURCE_TYPES: readonly ResourceType[] = [
  { group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', singular: 'namespace', namespaced: false, verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], shortNames: ['ns'] },
  { group: '', version: 'v1', kind: 'Node', plural: 'nodes', singular: 'node', namespaced: false, verbs: ALL_VERBS, shortNames: ['no'] },
  { group: '', version: 'v1', kind: 'Service', plural: 'services', singular: 'service', namespaced: true, verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'], shortNames: ['svc'], categories: ['all'] },
  { group: '', version: 'v1', kind: 'Secret', plural: 'secrets', singular: 'secret', namespaced: true, verbs: ALL_VERBS },
  { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', singular: 'configmap', namespaced: true, verbs: ALL_VERBS, shortNames: ['cm'] },
  {
    group: '', version: 'v1', kind: 'Pod', plural: 'pods', singular: 'pod', namespaced: true, verbs: ALL_VERBS, shortNames: ['po'], categories: ['all'],
    subresources: [{ name: 'exec', kind: 'PodExecOptions', verbs: ['create', 'get'] }, { name: 'status', kind: 'Pod', verbs: ['get', 'patch', 'update'] }],
  },
  {
    group: '', version: 'v1', kind: 'ServiceAccount', plural: 'serviceaccounts', singular: 'serviceaccount', namespaced: true, verbs: ALL_VERBS, shortNames: ['sa'],
    subresources: [{ name: 'token', kind: 'TokenRequest', group: 'authentication.k8s.io', version: 'v1', verbs: ['create'] }],
  },
  { group: '', version: 'v1', kind: 'Event', plural: 'events', singular: 'event', namespaced: true, verbs: ALL_VERBS, shortNames: ['ev'] },
  { group: 'apps', version: 'v1', kind: 'DaemonSet', plural: 'daemonsets', singular: 'daemonset', namespaced: true, verbs: ALL_VERBS, shortNames: ['ds'], categories: ['all'], subresources: [{ name: 'status', kind: 'DaemonSet', verbs: ['get', 'patch', 'update'] }] },
  { group: 'coordination.k8s.io', version: 'v1', kind: 'Lease', plural: 'leases', singular: 'lease', namespaced: true, verbs: ALL_VERBS },
  { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'ClusterRole', plural: 'clusterroles', singular: 'clusterrole', namespaced: false, verbs: ALL_VERBS },
  { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'ClusterRoleBinding', plural: 'clusterrolebindings', singular: 'clusterrolebinding', namespaced: false, verbs: ALL_VERBS },
  { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'Role', plural: 'roles', singular: 'role', namespaced: true, verbs: ALL_VERBS },
  { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'RoleBinding', plural: 'rolebindings', singular: 'rolebinding', namespaced: true, verbs: ALL_VERBS },
  { group: 'authentication.k8s.io', version: 'v1', kind: 'SelfSubjectReview', plural: 'selfsubjectreviews', singular: 'selfsubjectreview', namespaced: false, verbs: ['create'], review: true },
  { group: 'authorization.k8s.io', version: 'v1', kind: 'SelfSubjectAccessReview', plural: 'selfsubjectaccessreviews', singular: 'selfsubjectaccessreview', namespaced: false, verbs: ['create'], review: true },
  traefik('IngressRoute', 'ingressroutes'),
  traefik('IngressRouteTCP', 'ingressroutetcps'),
  traefik('Middleware', 'middlewares'),
  traefik('TLSOption', 'tlsoptions'),
  traefik('TLSStore', 'tlsstores'),
  traefik('ServersTransport', 'serverstransports'),
];

/** `group/version`, or just `version` for the core group (the form `apiVersion` takes). */
export function groupVersion(r: { group: string; version: string }): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

/** Key of a resource in `KubernetesState.objects`. */
export function resourceKey(r: ResourceType): string {
  return `${r.group || 'core'}/${r.plural}`;
}

/** How the API names a resource in messages: `pods`, `ingressroutes.traefik.io`. */
export function qualifiedResource(r: ResourceType): string {
  return r.group ? `${r.plural}.${r.group}` : r.plural;
}

/** How the API names a kind in validation messages: `Secret`, `IngressRoute.traefik.io`. */
export function qualifiedKind(r: ResourceType): string {
  return r.group ? `${r.kind}.${r.group}` : r.kind;
}

export function findByPlural(group: string, version: string, plural: string): ResourceType | undefined {
  return RESOURCE_TYPES.find((r) => r.group === group && r.version === version && r.plural === plural);
}

export function findByKind(apiVersion: string, kind: string): ResourceType | undefined {
  return RESOURCE_TYPES.find((r) => groupVersion(r) === apiVersion && r.kind === kind);
}

/** The group/versions served, core group excluded. */
function apiGroups(): { name: string; version: string }[] {
  const seen = new Map<string, string>();
  for (const r of RESOURCE_TYPES) if (r.group && !seen.has(r.group)) seen.set(r.group, r.version);
  return [...seen].map(([name, version]) => ({ name, version }));
}

/** `GET /api` */
export function apiVersionsDocument(serverAddress: string): unknown {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function groupDocument(g: { name: string; version: string }): Record<string, unknown> {
  const v = { groupVersion: `${g.name}/${g.version}`, version: g.version };
  return { name: g.name, versions: [v], preferredVersion: v };
}

/** `GET /apis` */
export function apiGroupListDocument(): unknown {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: apiGroups().map(groupDocument) };
}

/** `GET /apis/<group>`, or undefined when the group is not served. */
export function apiGroupDocument(group: string): unknown {
  const g = apiGroups().find((x) => x.name === group);
  return g ? { kind: 'APIGroup', apiVersion: 'v1', ...groupDocument(g) } : undefined;
}

/** `GET /api/v1` or `GET /apis/<group>/<version>`, or undefined when not served. */
export function apiResourceListDocument(group: string, version: string): unknown {
  const types = RESOURCE_TYPES.filter((r) => r.group === group && r.version === version);
  if (types.length === 0) return undefined;
  const resources: Record<string, unknown>[] = [];
  for (const r of types) {
    resources.push({
      name: r.plural,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: r.verbs,
      ...(r.shortNames ? { shortNames: r.shortNames } : {}),
      ...(r.categories ? { categories: r.categories } : {}),
    });
    for (const sub of r.subresources ?? []) {
      resources.push({
        name: `${r.plural}/${sub.name}`,
        singularName: '',
        namespaced: r.namespaced,
        ...(sub.group !== undefined ? { group: sub.group, version: sub.version } : {}),
        kind: sub.kind,
        verbs: sub.verbs,
      });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: groupVersion({ group, version }), resources };
}
