/**
 * Server-side printing (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`): the columns
 * `kubectl get` shows per kind, with the wide ones at priority 1, as the API server's
 * printers (pkg/printers/internalversion/printers.go) fill them. Custom resources without
 * additionalPrinterColumns get Name and Age.
 * https://kubernetes.io/docs/reference/using-api/api-concepts/#receiving-resources-as-tables
 */
import type { KubeObject } from './kubernetes-state.js';
import type { ResourceType } from './resource-catalog.js';

interface Column {
  name: string;
  type: string;
  format?: string;
  description: string;
  priority?: number;
  cell: (o: KubeObject, now: number) => unknown;
}

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const NAME_DESCRIPTION = 'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names';
const AGE_DESCRIPTION = 'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.';

/** apimachinery's duration.HumanDuration. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const days = Math.floor(hours / 24) % 365;
    return days === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${days}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

const since = (t: string | undefined, now: number) => (t ? humanDuration(now - Date.parse(t)) : '<unknown>');
const name: Column = { name: 'Name', type: 'string', format: 'name', description: NAME_DESCRIPTION, cell: (o) => o.metadata.name };
const age: Column = { name: 'Age', type: 'string', description: AGE_DESCRIPTION, cell: (o, now) => since(o.metadata.creationTimestamp, now) };
const col = (n: string, cell: Column['cell'], description: string, priority = 0, type = 'string'): Column => ({ name: n, type, description, priority, cell });
const noneIfEmpty = (s: string) => s || '<none>';
const selectorText = (m: Record<string, string> | undefined) => noneIfEmpty(Object.entries(m ?? {}).map(([k, v]) => `${k}=${v}`).join(','));

function podStatus(p: Any): string {
  if (p.metadata?.deletionTimestamp) return p.status?.reason === 'NodeLost' ? 'Unknown' : 'Terminating';
  let reason = p.status?.reason || p.status?.phase || 'Unknown';
  for (const c of p.status?.containerStatuses ?? []) {
    if (c.state?.waiting?.reason) reason = c.state.waiting.reason;
    else if (c.state?.terminated?.reason) reason = c.state.terminated.reason;
  }
  return reason;
}

function podRestarts(p: Any): string {
  return String((p.status?.containerStatuses ?? []).reduce((n: number, c: Any) => n + (c.restartCount ?? 0), 0));
}

function nodeStatus(n: Any): string {
  const ready = (n.status?.conditions ?? []).find((c: Any) => c.type === 'Ready');
  const parts = [ready?.status === 'True' ? 'Ready' : ready ? 'NotReady' : 'Unknown'];
  if (n.spec?.unschedulable) parts.push('SchedulingDisabled');
  return parts.join(',');
}

function nodeRoles(n: KubeObject): string {
  const roles = Object.keys(n.metadata.labels ?? {}).filter((k) => k.startsWith('node-role.kubernetes.io/')).map((k) => k.slice('node-role.kubernetes.io/'.length));
  return noneIfEmpty(roles.sort().join(','));
}

const address = (n: Any, type: string) => (n.status?.addresses ?? []).find((a: Any) => a.type === type)?.address ?? '<none>';

function servicePorts(s: Any): string {
  const ports = (s.spec?.ports ?? []) as Any[];
  return noneIfEmpty(ports.map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(','));
}

function subjectsOf(b: Any, kind: string): string {
  return (b.subjects ?? []).filter((s: Any) => s.kind === kind).map((s: Any) => (kind === 'ServiceAccount' ? `${s.namespace ?? ''}/${s.name}` : s.name)).join(', ');
}

const COLUMNS: Record<string, Column[]> = {
  Pod: [
    name,
    col('Ready', (p: Any) => `${(p.status?.containerStatuses ?? []).filter((c: Any) => c.ready).length}/${(p.spec?.containers ?? []).length}`, 'The aggregate readiness state of this pod for accepting traffic.'),
    col('Status', (p) => podStatus(p), 'The aggregate status of the containers in this pod.'),
    col('Restarts', (p) => podRestarts(p), 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
    age,
    col('IP', (p: Any) => p.status?.podIP || '<none>', 'IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.', 1),
    col('Node', (p: Any) => p.spec?.nodeName || '<none>', 'NodeName is a request to schedule this pod onto a specific node.', 1),
    col('Nominated Node', (p: Any) => p.status?.nominatedNodeName || '<none>', 'nominatedNodeName is set when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods.', 1),
    col('Readiness Gates', (p: Any) => (p.spec?.readinessGates?.length ? String(p.spec.readinessGates.length) : '<none>'), 'If specified, all readiness gates will be evaluated for pod readiness.', 1),
  ],
  Node: [
    name,
    col('Status', (n) => nodeStatus(n), 'The status of the node'),
    col('Roles', (n) => nodeRoles(n), 'The roles of the node'),
    age,
    col('Version', (n: Any) => n.status?.nodeInfo?.kubeletVersion ?? '', 'Kubelet Version reported by the node.'),
    col('Internal-IP', (n) => address(n, 'InternalIP'), 'List of addresses reachable to the node. Queried from cloud provider, if available.', 1),
    col('External-IP', (n) => address(n, 'ExternalIP'), 'List of addresses reachable to the node. Queried from cloud provider, if available.', 1),
    col('OS-Image', (n: Any) => n.status?.nodeInfo?.osImage || '<unknown>', 'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).', 1),
    col('Kernel-Version', (n: Any) => n.status?.nodeInfo?.kernelVersion || '<unknown>', "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", 1),
    col('Container-Runtime', (n: Any) => n.status?.nodeInfo?.containerRuntimeVersion || '<unknown>', 'Container runtime version reported by the node through runtime remote API (e.g. containerd://1.4.2).', 1),
  ],
  Namespace: [name, col('Status', (n: Any) => n.status?.phase ?? '', 'The status of the namespace'), age],
  Service: [
    name,
    col('Type', (s: Any) => s.spec?.type ?? 'ClusterIP', 'The type of the service'),
    col('Cluster-IP', (s: Any) => s.spec?.clusterIP || '<none>', 'The IP address of the service'),
    col('External-IP', (s: Any) => (s.spec?.externalIPs ?? []).join(',') || (s.spec?.type === 'ExternalName' ? s.spec.externalName : '<none>'), 'The external IP address of the service'),
    col('Port(s)', (s) => servicePorts(s), 'The ports of the service'),
    age,
    col('Selector', (s: Any) => selectorText(s.spec?.selector), 'The selectors of the service', 1),
  ],
  Secret: [name, col('Type', (s: Any) => s.type ?? 'Opaque', 'The type of the secret'), col('Data', (s: Any) => Object.keys(s.data ?? {}).length, 'The number of data items in the secret', 0, 'string'), age],
  ConfigMap: [name, col('Data', (c: Any) => Object.keys(c.data ?? {}).length + Object.keys(c.binaryData ?? {}).length, 'Number of data items in the ConfigMap', 0, 'string'), age],
  ServiceAccount: [name, col('Secrets', (s: Any) => (s.secrets ?? []).length, 'The number of secrets of this service account', 0, 'string'), age],
  DaemonSet: [
    name,
    col('Desired', (d: Any) => d.status?.desiredNumberScheduled ?? 0, 'The desired number of pods', 0, 'integer'),
    col('Current', (d: Any) => d.status?.currentNumberScheduled ?? 0, 'The current number of pods', 0, 'integer'),
    col('Ready', (d: Any) => d.status?.numberReady ?? 0, 'The number of ready pods', 0, 'integer'),
    col('Up-to-date', (d: Any) => d.status?.updatedNumberScheduled ?? 0, 'The number of pods that are up to date', 0, 'integer'),
    col('Available', (d: Any) => d.status?.numberAvailable ?? 0, 'The number of pods that are available', 0, 'integer'),
    col('Node Selector', (d: Any) => selectorText(d.spec?.template?.spec?.nodeSelector), 'The node selector of the DaemonSet'),
    age,
    col('Containers', (d: Any) => (d.spec?.template?.spec?.containers ?? []).map((c: Any) => c.name).join(','), 'Names of each container in the template.', 1),
    col('Images', (d: Any) => (d.spec?.template?.spec?.containers ?? []).map((c: Any) => c.image).join(','), 'Images referenced by each container in the template.', 1),
    col('Selector', (d: Any) => selectorText(d.spec?.selector?.matchLabels), 'Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.', 1),
  ],
  Event: [
    col('Last Seen', (e: Any, now) => since(e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp, now), 'Time when last event occurred'),
    col('Type', (e: Any) => e.type ?? '', 'Type of this event (Normal, Warning), new types could be added in the future.'),
    col('Reason', (e: Any) => e.reason ?? '', 'This should be a short, machine understandable string that gives the reason for this event being generated.'),
    col('Object', (e: Any) => `${String(e.involvedObject?.kind ?? '').toLowerCase()}/${e.involvedObject?.name ?? ''}`, 'The object that this event is about.'),
    col('Subobject', (e: Any) => e.involvedObject?.fieldPath ?? '', 'The subobject of the object this event is about.', 1),
    col('Source', (e: Any) => [e.source?.component ?? e.reportingComponent ?? '', e.source?.host].filter(Boolean).join(', '), 'The component reporting this event. Should be a short machine understandable string.', 1),
    col('Message', (e: Any) => e.message ?? '', 'A human-readable description of the status of this operation.'),
    col('First Seen', (e: Any, now) => since(e.firstTimestamp ?? e.eventTime, now), 'The first time at which the event was recorded.', 1),
    col('Count', (e: Any) => e.count ?? 1, 'The number of times this event has occurred.', 1, 'integer'),
    { ...name, priority: 1 },
  ],
  Lease: [name, col('Holder', (l: Any) => l.spec?.holderIdentity ?? '', 'Holder is the identity of the lease holder'), age],
  Role: [name, col('Created At', (r) => r.metadata.creationTimestamp ?? '', 'Time at which the role was created')],
  ClusterRole: [name, col('Created At', (r) => r.metadata.creationTimestamp ?? '', 'Time at which the role was created')],
};
const BINDING: Column[] = [
  name,
  col('Role', (b: Any) => `${b.roleRef?.kind ?? ''}/${b.roleRef?.name ?? ''}`, 'Role to which the binding refers'),
  age,
  col('Users', (b) => subjectsOf(b, 'User'), 'Users in the binding', 1),
  col('Groups', (b) => subjectsOf(b, 'Group'), 'Groups in the binding', 1),
  col('ServiceAccounts', (b) => subjectsOf(b, 'ServiceAccount'), 'ServiceAccounts in the binding', 1),
];
COLUMNS.RoleBinding = BINDING;
COLUMNS.ClusterRoleBinding = BINDING;

/** Whether the Accept header asks for a Table (and the server may answer one). */
export function wantsTable(accept: string | undefined): boolean {
  return (accept ?? '').split(',').some((part) => {
    const params = part.split(';').map((p) => p.trim());
    return params.includes('as=Table') && params.includes('g=meta.k8s.io') && (params.includes('v=v1') || params.includes('v=v1beta1'));
  });
}

/** The Table for `objects`; `includeObject` as the query says (None, Object, default PartialObjectMetadata). */
export function toTable(r: ResourceType, objects: KubeObject[], listMeta: Record<string, unknown>, includeObject: string | null, now = Date.now()): Record<string, unknown> {
  // Custom resources without printer columns: Name and an Age of type date, humanized by the server.
  const columns = COLUMNS[r.kind] ?? [name, { ...age, type: 'date' }];
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: listMeta,
    columnDefinitions: columns.map((c) => ({ name: c.name, type: c.type, format: c.format ?? '', description: c.description, priority: c.priority ?? 0 })),
    rows: objects.map((o) => ({
      cells: columns.map((c) => c.cell(o, now)),
      ...(includeObject === 'None'
        ? {}
        : { object: includeObject === 'Object' ? o : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata } }),
    })),
  };
}
