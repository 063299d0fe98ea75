import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { projectRoot } from '../../src/paths.js';
import type { KubeObject } from './kubernetes-state.js';
import type { ObjectStore } from './object-store.js';

const KINDS = new Set(['ServiceAccount', 'Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding']);

/** The RBAC file users apply (deploy/kubernetes/rbac.yaml, the output of `labgate deploy rbac`). */
export function shippedRbacFile(): string {
  return join(projectRoot(), 'deploy', 'kubernetes', 'rbac.yaml');
}

/**
 * Stores the ServiceAccounts, Roles, ClusterRoles and bindings of an RBAC manifest, as
 * `kubectl apply -f` would (their namespaces created when missing), so the sandbox's authorizer
 * decides with exactly the grants a cluster would get. Returns the ServiceAccounts.
 */
export function loadRbacManifest(store: ObjectStore, file = shippedRbacFile()): { namespace: string; name: string }[] {
  const objects = parseAllDocuments(readFileSync(file, 'utf8')).map((d) => {
    if (d.errors.length) throw new Error(`${file}: ${d.errors[0]!.message}`);
    return d.toJS() as KubeObject | null;
  });
  const accounts: { namespace: string; name: string }[] = [];
  for (const obj of objects) {
    if (!obj) continue;
    if (!KINDS.has(obj.kind)) throw new Error(`${file}: ${obj.kind} ${obj.metadata?.name}: only RBAC objects and ServiceAccounts belong in it`);
    const ns = obj.metadata.namespace;
    if (ns && !store.get({ apiVersion: 'v1', kind: 'Namespace', name: ns })) store.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    const live = store.get({ apiVersion: obj.apiVersion, kind: obj.kind, namespace: ns, name: obj.metadata.name });
    // A ServiceAccount keeps its uid (tokens already issued stay valid); the rest is replaced.
    store.put(live && obj.kind === 'ServiceAccount' ? { ...obj, metadata: { ...obj.metadata, uid: live.metadata.uid } } : obj);
    if (obj.kind === 'ServiceAccount') accounts.push({ namespace: ns ?? 'default', name: obj.metadata.name });
  }
  return accounts;
}
