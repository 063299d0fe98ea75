import type { ExposurePolicy } from '../policy/exposure-policy.js';
import type { KubeObject, KubernetesPort } from './port.js';

/**
 * Lists a kind in each namespace labgate may write in, one request per namespace, or across the
 * cluster when `exposure.namespaces.allow` is "*". With named namespaces the worker's Secrets
 * grants are RoleBindings there (`labgate deploy rbac`), so a cluster-wide list would be refused,
 * and must be: it would read every Secret in the cluster.
 */
export async function listWhereWritable(
  kube: KubernetesPort,
  policy: Pick<ExposurePolicy, 'writableNamespaces'>,
  apiVersion: string,
  kind: string,
  opts: { labelSelector?: string } = {},
): Promise<KubeObject[]> {
  const namespaces = policy.writableNamespaces();
  if (!namespaces) return kube.list(apiVersion, kind, opts);
  const lists = await Promise.all(namespaces.map((namespace) => kube.list(apiVersion, kind, { ...opts, namespace })));
  return lists.flat();
}
