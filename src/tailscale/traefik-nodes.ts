import { UserError, UserErrorCode } from '../errors.js';
import type { KubeObject, KubernetesPort } from '../kubernetes/port.js';

/** A node that runs the Traefik DaemonSet, with the pod whose tailscale container serves it. */
export interface TraefikNode {
  name: string;
  /** The node's InternalIP (the pods use the host network), or undefined when none is known. */
  ip?: string;
  pod: {
    namespace: string;
    name: string;
    container: string;
    phase?: string;
    /** The pod's Ready condition is True (undefined: not known, taken as ready). */
    ready?: boolean;
    /** The pod has a deletionTimestamp: it is shutting down (a rollout, an eviction, a delete). */
    terminating?: boolean;
  };
}

export interface DaemonSetRef {
  namespace: string;
  name: string;
  container: string;
}

type PodLike = KubeObject & {
  spec?: { nodeName?: string };
  status?: { phase?: string; hostIP?: string; conditions?: { type: string; status: string }[] };
  metadata: KubeObject['metadata'] & { ownerReferences?: { kind: string; name: string }[]; deletionTimestamp?: string };
};

/** Which of a node's pods to ask: a ready one that is not shutting down beats any other. */
const rank = (n: TraefikNode) => (n.pod.terminating ? 0 : 2) + (n.pod.ready !== false ? 1 : 0);

/**
 * The nodes the DaemonSet runs on, by name, read from its pods (GET daemonsets, pods with its
 * selector, nodes for their InternalIP). Refuses when the DaemonSet does not exist.
 */
export async function readTraefikNodes(kube: KubernetesPort, ds: DaemonSetRef): Promise<TraefikNode[]> {
  const daemonSet = await kube.get({ apiVersion: 'apps/v1', kind: 'DaemonSet', namespace: ds.namespace, name: ds.name });
  if (!daemonSet)
    throw new UserError(UserErrorCode.NotFound, `DaemonSet ${ds.namespace}/${ds.name} does not exist; set tailscale.daemonSet in labgate.yaml to the one running Traefik with its Tailscale container`);
  const match = ((daemonSet.spec as { selector?: { matchLabels?: Record<string, string> } } | undefined)?.selector?.matchLabels ?? {}) as Record<string, string>;
  const labelSelector = Object.entries(match)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const [pods, nodes] = await Promise.all([
    kube.list('v1', 'Pod', { namespace: ds.namespace, labelSelector: labelSelector || undefined }) as Promise<PodLike[]>,
    kube.list('v1', 'Node'),
  ]);
  const nodeIps = new Map(
    nodes.map((n) => [n.metadata.name, ((n.status as { addresses?: { type: string; address: string }[] } | undefined)?.addresses ?? []).find((a) => a.type === 'InternalIP')?.address]),
  );
  const byNode = new Map<string, TraefikNode>();
  for (const pod of pods) {
    const owned = (pod.metadata.ownerReferences ?? []).some((o) => o.kind === 'DaemonSet' && o.name === ds.name);
    const nodeName = pod.spec?.nodeName;
    if (!owned || !nodeName) continue;
    const candidate: TraefikNode = {
      name: nodeName,
      ip: nodeIps.get(nodeName) ?? pod.status?.hostIP,
      pod: {
        namespace: ds.namespace,
        name: pod.metadata.name,
        container: ds.container,
        phase: pod.status?.phase,
        ready: (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
        terminating: Boolean(pod.metadata.deletionTimestamp),
      },
    };
    // During a rollout a node has two pods, the old one terminating and the new one starting.
    const seen = byNode.get(nodeName);
    if (!seen || rank(candidate) > rank(seen)) byNode.set(nodeName, candidate);
  }
  return [...byNode.values()].sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
}
