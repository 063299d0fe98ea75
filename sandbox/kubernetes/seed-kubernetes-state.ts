// Over 300 lines on purpose: the seeded homelab is data; splitting it would scatter one picture of the cluster.
import { createHash } from 'node:crypto';
import { DERP_PORT_BASE, type Homelab, type HomelabNode } from '../homelab.js';
import { recordUpdate } from './field-ownership.js';
import { emptyKubernetesState, type KubeObject, type KubernetesState } from './kubernetes-state.js';
import { apiTimestamp, ObjectStore } from './object-store.js';
import { applyServerDefaults } from './server-defaults.js';
import { templateHash } from './workload-controllers.js';
import { TAILSCALE_RELEASE } from '../tailscale/tailscale-state.js';

const BASE_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease', 'traefik', 'auth', 'media', 'argocd', 'monitoring'];
const TRAEFIK_LABELS = { 'app.kubernetes.io/name': 'traefik', 'app.kubernetes.io/instance': 'traefik-traefik' };
const TRAEFIK_IMAGE = 'docker.io/traefik:v3.7.11';
const TAILSCALE_IMAGE = TAILSCALE_RELEASE.image;

/** Stores a seed object with the managedFields a write by `manager` would have left. */
function seed(store: ObjectStore, obj: KubeObject, manager: string): KubeObject {
  obj.metadata.managedFields = recordUpdate(undefined, obj, manager, obj.apiVersion, apiTimestamp());
  return store.put(obj);
}

/** A UUID-shaped identifier derived from `seed`, stable across runs. */
function uuidOf(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Five lowercase letters derived from the node name, so seeded pod names are stable across runs. */
function podSuffix(nodeName: string): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz';
  return [...createHash('sha256').update(nodeName).digest().subarray(0, 5)].map((b) => alphabet[b % alphabet.length]).join('');
}

function tailscaleContainer(node?: HomelabNode): Record<string, unknown> {
  const env: Record<string, unknown>[] = [
    { name: 'TS_AUTHKEY', valueFrom: { secretKeyRef: { name: 'tailscale-auth', key: 'authkey', optional: true } } },
    { name: 'TS_STATE_DIR', value: '/var/lib/tailscale' },
    { name: 'TS_USERSPACE', value: 'false' },
    { name: 'TS_PORT_BASE', value: String(DERP_PORT_BASE) },
    { name: 'HOST_IP', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'status.hostIP' } } },
  ];
  // The template derives the port from the node IP at start; each pod shows the port it got.
  if (node) env.push({ name: 'TS_TAILSCALED_EXTRA_ARGS', value: `--port=${node.tailscalePort}` });
  return {
    name: 'tailscale',
    image: TAILSCALE_IMAGE,
    command: ['/bin/sh', '-c'],
    args: ['export TS_TAILSCALED_EXTRA_ARGS="${TS_TAILSCALED_EXTRA_ARGS:---port=$((TS_PORT_BASE + ${HOST_IP##*.}))}"; exec /usr/local/bin/containerboot'],
    env,
    securityContext: { capabilities: { add: ['NET_ADMIN', 'NET_RAW'] } },
    volumeMounts: [
      { name: 'tailscale-state', mountPath: '/var/lib/tailscale' },
      { name: 'dev-net-tun', mountPath: '/dev/net/tun' },
    ],
  };
}

function traefikPodSpec(node?: HomelabNode): Record<string, unknown> {
  return {
    hostNetwork: true,
    dnsPolicy: 'ClusterFirstWithHostNet',
    serviceAccountName: 'traefik',
    restartPolicy: 'Always',
    terminationGracePeriodSeconds: 60,
    containers: [
      {
        name: 'traefik',
        image: TRAEFIK_IMAGE,
        args: [
          '--entryPoints.web.address=:80/tcp',
          '--entryPoints.websecure.address=:443/tcp',
          '--entryPoints.ts-secure.address=:3443/tcp',
          '--providers.kubernetescrd',
          '--providers.kubernetescrd.allowCrossNamespace=true',
          '--certificatesresolvers.letsencrypt.acme.tlschallenge=true',
        ],
        ports: [
          { name: 'web', containerPort: 80, hostPort: 80, protocol: 'TCP' },
          { name: 'websecure', containerPort: 443, hostPort: 443, protocol: 'TCP' },
          { name: 'ts-secure', containerPort: 3443, hostPort: 3443, protocol: 'TCP' },
        ],
      },
      tailscaleContainer(node),
    ],
    volumes: [
      { name: 'tailscale-state', hostPath: { path: '/var/lib/tailscale-traefik', type: 'DirectoryOrCreate' } },
      { name: 'dev-net-tun', hostPath: { path: '/dev/net/tun', type: 'CharDevice' } },
    ],
  };
}

function nodeObject(node: HomelabNode, index: number): KubeObject {
  const now = apiTimestamp();
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: node.name,
      labels: {
        'kubernetes.io/hostname': node.name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        ...(index === 0 ? { 'node-role.kubernetes.io/control-plane': 'true' } : {}),
      },
    },
    spec: { podCIDR: `10.42.${index}.0/24`, podCIDRs: [`10.42.${index}.0/24`], providerID: `k3s://${node.name}` },
    status: {
      addresses: [
        { type: 'InternalIP', address: node.ip },
        { type: 'Hostname', address: node.name },
      ],
      conditions: [
        { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now },
      ],
      capacity: { cpu: '4', memory: '16318480Ki', pods: '110' },
      allocatable: { cpu: '4', memory: '16318480Ki', pods: '110' },
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        // Identities every kubelet reports; python3-kubernetes' V1NodeSystemInfo requires them.
        machineID: createHash('sha256').update(`machine-id/${node.name}`).digest('hex').slice(0, 32),
        systemUUID: uuidOf(`system-uuid/${node.name}`),
        bootID: uuidOf(`boot-id/${node.name}`),
        architecture: 'amd64',
        operatingSystem: 'linux',
        osImage: 'Debian GNU/Linux 12 (bookworm)',
        kernelVersion: '6.1.0-31-amd64',
        kubeletVersion: 'v1.33.0+k3s1',
        kubeProxyVersion: 'v1.33.0+k3s1',
        containerRuntimeVersion: 'containerd://2.0.4-k3s2',
      },
    },
  };
}

function traefikPod(node: HomelabNode, namespace: string, daemonSetUid: string): KubeObject {
  const now = apiTimestamp();
  const spec = traefikPodSpec(node);
  spec.nodeName = node.name;
  spec.affinity = {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [node.name] }] }],
      },
    },
  };
  const containers = spec.containers as { name: string; image: string }[];
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `traefik-${podSuffix(node.name)}`,
      generateName: 'traefik-',
      namespace,
      // The hash the DaemonSet controller computes for the seeded template, so it sees these pods as current.
      labels: { ...TRAEFIK_LABELS, 'controller-revision-hash': templateHash((daemonSet(namespace).spec as { template: unknown }).template), 'pod-template-generation': '1' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'traefik', uid: daemonSetUid, controller: true, blockOwnerDeletion: true }],
    },
    spec,
    status: {
      phase: 'Running',
      hostIP: node.ip,
      hostIPs: [{ ip: node.ip }],
      podIP: node.ip,
      podIPs: [{ ip: node.ip }],
      startTime: now,
      qosClass: 'BestEffort',
      conditions: ['Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({ type, status: 'True', lastTransitionTime: now })),
      containerStatuses: containers.map((c) => ({
        name: c.name,
        image: c.image,
        imageID: `${c.image}@sha256:${createHash('sha256').update(c.image).digest('hex')}`,
        containerID: `containerd://${createHash('sha256').update(`${node.name}/${c.name}`).digest('hex')}`,
        ready: true,
        started: true,
        restartCount: 0,
        state: { running: { startedAt: now } },
      })),
    },
  };
}

function daemonSet(namespace: string): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: {
      name: 'traefik',
      namespace,
      labels: { ...TRAEFIK_LABELS, 'app.kubernetes.io/managed-by': 'Helm', 'helm.sh/chart': 'traefik-41.3.0' },
      annotations: { 'deprecated.daemonset.template.generation': '1', 'meta.helm.sh/release-name': 'traefik', 'meta.helm.sh/release-namespace': namespace },
    },
    spec: {
      selector: { matchLabels: TRAEFIK_LABELS },
      revisionHistoryLimit: 10,
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
      template: { metadata: { labels: TRAEFIK_LABELS }, spec: traefikPodSpec() },
    },
    status: {},
  };
}

/** Recounts the Traefik DaemonSet's status from the nodes, as the controller would once every pod is ready. */
function syncDaemonSetStatus(store: ObjectStore, namespace: string): void {
  const ds = store.get({ apiVersion: 'apps/v1', kind: 'DaemonSet', namespace, name: 'traefik' });
  if (!ds) return;
  const n = store.list('v1', 'Node').length;
  ds.status = {
    currentNumberScheduled: n,
    desiredNumberScheduled: n,
    numberAvailable: n,
    numberMisscheduled: 0,
    numberReady: n,
    observedGeneration: ds.metadata.generation ?? 1,
    updatedNumberScheduled: n,
  };
  store.put(ds);
}

function addNodeAndPod(store: ObjectStore, node: HomelabNode, traefikNamespace: string): void {
  const index = store.list('v1', 'Node').length;
  const n = seed(store, nodeObject(node, index), 'kubelet');
  // Each kubelet's heartbeat Lease, as in kube-node-lease on a real cluster.
  seed(
    store,
    {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: node.name, namespace: 'kube-node-lease', ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: node.name, uid: n.metadata.uid }] },
      spec: { holderIdentity: node.name, leaseDurationSeconds: 40, renewTime: new Date().toISOString().replace('Z', '000Z') },
    },
    'kubelet',
  );
  const ds = store.get({ apiVersion: 'apps/v1', kind: 'DaemonSet', namespace: traefikNamespace, name: 'traefik' });
  if (ds?.metadata.uid) seed(store, traefikPod(node, traefikNamespace, ds.metadata.uid), 'kube-controller-manager');
}

/**
 * The sandbox cluster for a homelab: namespaces, the Nodes, the homelab's Services, the
 * Traefik DaemonSet (hostNetwork, with a Tailscale sidecar) and one running pod per node,
 * the forward-auth Middleware `<traefikNamespace>/oidc-auth`, and a hand-made IngressRoute
 * `argocd/argocd-server` that labgate does not own.
 */
export function seedKubernetesState(homelab: Homelab): KubernetesState {
  const state = emptyKubernetesState();
  const store = new ObjectStore(state);
  const namespaces = new Set([...BASE_NAMESPACES, homelab.traefikNamespace, ...homelab.services.map((s) => s.namespace)]);
  for (const name of namespaces) {
    const ns: KubeObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name } };
    applyServerDefaults(ns, undefined, () => new Set());
    seed(store, ns, 'kubectl-create');
  }

  const clusterIps = new Set<string>();
  const services = [
    { namespace: 'default', name: 'kubernetes', ports: [{ name: 'https', port: 443, targetPort: 6443, protocol: 'TCP' }], clusterIP: '10.43.0.1' },
    ...homelab.services.map((s) => ({ ...s, clusterIP: undefined as string | undefined })),
  ];
  for (const s of services) {
    const selector = s.name === 'kubernetes' ? undefined : { 'app.kubernetes.io/name': s.name };
    const svc: KubeObject = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: s.name, namespace: s.namespace, labels: s.name === 'kubernetes' ? { component: 'apiserver', provider: 'kubernetes' } : { 'app.kubernetes.io/name': s.name } },
      spec: { type: 'ClusterIP', ...(s.clusterIP ? { clusterIP: s.clusterIP } : {}), ports: s.ports.map((p) => ({ ...p })), ...(selector ? { selector } : {}) },
    };
    applyServerDefaults(svc, undefined, () => clusterIps);
    clusterIps.add((svc.spec as { clusterIP: string }).clusterIP);
    seed(store, svc, s.name === 'kubernetes' ? 'kube-apiserver' : 'helm');
  }

  seed(store, daemonSet(homelab.traefikNamespace), 'helm');
  for (const node of homelab.nodes) addNodeAndPod(store, node, homelab.traefikNamespace);
  syncDaemonSetStatus(store, homelab.traefikNamespace);

  seed(
    store,
    {
      apiVersion: 'traefik.io/v1alpha1',
      kind: 'Middleware',
      metadata: { name: 'oidc-auth', namespace: homelab.traefikNamespace, labels: { 'app.kubernetes.io/name': 'oauth2-proxy' } },
      spec: {
        forwardAuth: {
          address: 'http://oauth2-proxy.auth.svc.cluster.local:4180/oauth2/auth',
          authResponseHeaders: ['X-Auth-Request-User', 'X-Auth-Request-Email'],
          trustForwardHeader: true,
        },
      },
    },
    'helm',
  );
  seed(
    store,
    {
      apiVersion: 'traefik.io/v1alpha1',
      kind: 'IngressRoute',
      metadata: { name: 'argocd-server', namespace: 'argocd', labels: { 'app.kubernetes.io/name': 'argocd-server' } },
      spec: {
        entryPoints: ['websecure'],
        routes: [{ match: `Host(\`argocd.${homelab.domain}\`)`, kind: 'Rule', services: [{ name: 'argocd-server', port: 80 }] }],
        tls: { certResolver: 'letsencrypt' },
      },
    },
    'kubectl',
  );
  return state;
}

function ipNumber(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

function ipString(n: number): string {
  return [24, 16, 8, 0].map((shift) => (n >>> shift) & 255).join('.');
}

/**
 * Adds `count` nodes after the highest node IP already in `state` (skipping .0 and .255),
 * each with its Traefik pod, and updates the DaemonSet's counts. Returns the new nodes
 * (tailscalePort = 41600 + last octet, so two nodes with the same last octet in different
 * subnets collide, as they would for real) so other sandboxes can be told about them.
 * `homelab` is read, not changed.
 */
export function addHomelabNodes(state: KubernetesState, homelab: Homelab, count: number): HomelabNode[] {
  const store = new ObjectStore(state);
  const nodes = store.list('v1', 'Node');
  const ips = nodes.flatMap((n) => ((n.status as { addresses?: { type: string; address: string }[] })?.addresses ?? []).filter((a) => a.type === 'InternalIP').map((a) => a.address));
  const names = new Set(nodes.map((n) => n.metadata.name));
  let next = Math.max(...ips.map(ipNumber), ...homelab.nodes.map((n) => ipNumber(n.ip)), ipNumber('192.168.10.20')) + 1;
  const added: HomelabNode[] = [];
  while (added.length < count) {
    const octet = next & 255;
    if (octet === 0 || octet === 255) {
      next++;
      continue;
    }
    const ip = ipString(next);
    const third = (next >>> 8) & 255;
    const name = names.has(`node-${octet}`) ? `node-${third}-${octet}` : `node-${octet}`;
    names.add(name);
    const node: HomelabNode = { name, ip, tailscalePort: DERP_PORT_BASE + octet };
    addNodeAndPod(store, node, homelab.traefikNamespace);
    added.push(node);
    next++;
  }
  syncDaemonSetStatus(store, homelab.traefikNamespace);
  return added;
}
