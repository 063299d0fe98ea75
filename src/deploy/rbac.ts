import { stringify } from 'yaml';
import type { ConfigFile } from '../config/schema.js';
import { ExposurePolicy } from '../policy/exposure-policy.js';

/**
 * The RBAC objects labgate needs, derived from labgate.yaml: what `labgate deploy rbac` prints
 * and deploy/kubernetes/rbac.yaml ships. Each grant is one API call the code makes:
 *  - both: read namespaces, Services, Nodes and Traefik's objects across the cluster (planning,
 *    autocomplete, host conflicts, the Tailscale node list), and the Traefik DaemonSet and its
 *    pods in the Traefik namespace;
 *  - the worker only: write IngressRoutes, Middlewares, TLSOptions and the client-CA Secret, and
 *    list the Secrets it labels, in each namespace exposure.namespaces.allow names (RoleBindings,
 *    so nothing outside them); exec into the Traefik pods (`tailscale status/netcheck`).
 * The bot gets no write, no exec and no Secret.
 */

export const BOT_ACCOUNT = 'labgate-bot';
export const WORKER_ACCOUNT = 'labgate-worker';
const RBAC_API = 'rbac.authorization.k8s.io/v1';
const RBAC_GROUP = 'rbac.authorization.k8s.io';
const LABELS = { 'app.kubernetes.io/name': 'labgate', 'app.kubernetes.io/managed-by': 'labgate-deploy-rbac' };

type RbacConfig = Pick<ConfigFile, 'exposure' | 'domain' | 'tailscale' | 'traefik'>;
interface Rule {
  apiGroups: string[];
  resources: string[];
  resourceNames?: string[];
  verbs: string[];
}
interface Doc {
  comment: string;
  object: Record<string, unknown>;
}

export type RbacResult = { ok: true; yaml: string; writable: string[] } | { ok: false; problem: string };

const account = (name: string, namespace: string) => ({ kind: 'ServiceAccount', name, namespace });
const meta = (name: string, namespace?: string) => ({ name, ...(namespace ? { namespace } : {}), labels: LABELS });
const roleRef = (kind: 'Role' | 'ClusterRole', name: string) => ({ apiGroup: RBAC_GROUP, kind, name });

/** Why labgate.yaml cannot be turned into namespaced grants; undefined when it can. */
export function rbacProblem(config: RbacConfig): string | undefined {
  const allow = config.exposure.namespaces.allow;
  if (allow.includes('*'))
    return 'exposure.namespaces.allow: "*" lets labgate write in every namespace, so its grants would be cluster-wide; list the namespaces it may expose in (for example allow: [media, monitoring]) and run labgate deploy rbac again';
  if (new ExposurePolicy(config).writableNamespaces()!.length === 0)
    return `exposure.namespaces.allow: names no namespace labgate may write in (${allow.join(', ') || 'empty'}; denied, built-in, labgate's and OpenBao's own namespaces are left out); list at least one`;
  return undefined;
}

export function renderRbac(config: RbacConfig): RbacResult {
  const problem = rbacProblem(config);
  if (problem) return { ok: false, problem };
  const writable = new ExposurePolicy(config).writableNamespaces()!;
  const home = config.exposure.labgateNamespace;
  const ds = config.tailscale.daemonSet;
  const bot = account(BOT_ACCOUNT, home);
  const worker = account(WORKER_ACCOUNT, home);

  const readRules: Rule[] = [
    { apiGroups: [''], resources: ['namespaces', 'services'], verbs: ['get', 'list'] },
    { apiGroups: [''], resources: ['nodes'], verbs: ['list'] },
    { apiGroups: ['traefik.io'], resources: ['ingressroutes', 'middlewares', 'tlsoptions'], verbs: ['get', 'list'] },
    // Only to see which hosts a TCP route already claims.
    { apiGroups: ['traefik.io'], resources: ['ingressroutetcps'], verbs: ['list'] },
  ];
  const writeRules: Rule[] = [
    // Server-side apply is a PATCH; one that creates the object also needs create. (Reads: labgate-read.)
    { apiGroups: ['traefik.io'], resources: ['ingressroutes', 'middlewares', 'tlsoptions'], verbs: ['create', 'patch', 'delete'] },
    // The client-CA Secret of mtls-strict routes, by name (never deleted: other routes may use it);
    // list, by label, for the expiry scan and the CA sync. (create cannot be narrowed by name.)
    { apiGroups: [''], resources: ['secrets'], verbs: ['list', 'create'] },
    { apiGroups: [''], resources: ['secrets'], resourceNames: [config.traefik.mtls.clientCaSecret], verbs: ['get', 'patch'] },
  ];
  const traefikRead: Rule[] = [
    { apiGroups: ['apps'], resources: ['daemonsets'], resourceNames: [ds.name], verbs: ['get'] },
    { apiGroups: [''], resources: ['pods'], verbs: ['list'] },
  ];
  // create: WebSocket exec on API servers from 1.35 (and SPDY's POST); get: the WebSocket GET on older ones.
  const traefikExec: Rule[] = [{ apiGroups: [''], resources: ['pods/exec'], verbs: ['create', 'get'] }];

  const docs: Doc[] = [
    { comment: 'The chat side (labgate bot): reads for autocomplete; no writes, no exec, no Secrets.', object: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(BOT_ACCOUNT, home) } },
    { comment: 'The workers (labgate worker): plan, apply, report.', object: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(WORKER_ACCOUNT, home) } },
    { comment: 'Cluster-wide reads of what is not secret: namespaces, Services, Nodes, Traefik objects.', object: { apiVersion: RBAC_API, kind: 'ClusterRole', metadata: meta('labgate-read'), rules: readRules } },
    { comment: '', object: { apiVersion: RBAC_API, kind: 'ClusterRoleBinding', metadata: meta('labgate-read'), roleRef: roleRef('ClusterRole', 'labgate-read'), subjects: [bot, worker] } },
    { comment: 'What an apply writes; granted only in the namespaces below, by RoleBindings.', object: { apiVersion: RBAC_API, kind: 'ClusterRole', metadata: meta('labgate-exposure-writer'), rules: writeRules } },
    ...writable.map((ns) => ({
      comment: `exposure.namespaces.allow: ${ns}`,
      object: { apiVersion: RBAC_API, kind: 'RoleBinding', metadata: meta('labgate-worker', ns), roleRef: roleRef('ClusterRole', 'labgate-exposure-writer'), subjects: [worker] },
    })),
    { comment: `The Traefik DaemonSet and its pods (${ds.namespace}/${ds.name}): the node list.`, object: { apiVersion: RBAC_API, kind: 'Role', metadata: meta('labgate-traefik-read', ds.namespace), rules: traefikRead } },
    { comment: '', object: { apiVersion: RBAC_API, kind: 'RoleBinding', metadata: meta('labgate-traefik-read', ds.namespace), roleRef: roleRef('Role', 'labgate-traefik-read'), subjects: [bot, worker] } },
    { comment: `tailscale status/netcheck in the ${ds.container} containers: the worker only.`, object: { apiVersion: RBAC_API, kind: 'Role', metadata: meta('labgate-traefik-exec', ds.namespace), rules: traefikExec } },
    { comment: '', object: { apiVersion: RBAC_API, kind: 'RoleBinding', metadata: meta('labgate-traefik-exec', ds.namespace), roleRef: roleRef('Role', 'labgate-traefik-exec'), subjects: [worker] } },
  ];
  const header = [
    '# Generated by `labgate deploy rbac` from labgate.yaml: edit labgate.yaml, not this file, and run',
    '# it again (a test checks that deploy/kubernetes/rbac.yaml is the output for the shipped labgate.yaml).',
    `# Writes: ${writable.join(', ')} (exposure.namespaces.allow); exec: ${ds.namespace}.`,
  ].join('\n');
  const body = docs.map((d) => `${d.comment ? `# ${d.comment}\n` : ''}${stringify(d.object, { flowCollectionPadding: false })}`).join('---\n');
  return { ok: true, yaml: `${header}\n${body}`, writable };
}
