import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { defaultHomelab, homelabNodes, type Homelab } from '../../sandbox/homelab.js';
import { addHomelabNodes, seedKubernetesState, startKubernetesSandbox, type KubernetesSandbox } from '../../sandbox/kubernetes/index.js';

function envOf(container: { env?: { name: string; value?: string }[] } | undefined): Record<string, string | undefined> {
  return Object.fromEntries((container?.env ?? []).map((e) => [e.name, e.value]));
}

describe('sandbox Kubernetes seed', () => {
  const homelab: Homelab = defaultHomelab();
  let sandbox: KubernetesSandbox;
  let core: CoreV1Api;
  let kc: KubeConfig;

  beforeAll(async () => {
    sandbox = await startKubernetesSandbox({ state: seedKubernetesState(homelab) });
    kc = new KubeConfig();
    kc.loadFromString(sandbox.kubeconfig());
    core = kc.makeApiClient(CoreV1Api);
  });

  afterAll(async () => {
    await sandbox.close();
  });

  it('creates the namespaces the homelab uses', async () => {
    const names = (await core.listNamespace()).items.map((n) => n.metadata?.name).sort();
    expect(names).toEqual(['argocd', 'auth', 'default', 'kube-node-lease', 'kube-public', 'kube-system', 'media', 'monitoring', 'traefik']);
  });

  it('creates one Node per homelab node with its InternalIP and Hostname', async () => {
    const nodes = (await core.listNode()).items;
    expect(nodes.map((n) => [n.metadata?.name, n.status?.addresses])).toEqual(
      homelab.nodes.map((n) => [n.name, [{ type: 'InternalIP', address: n.ip }, { type: 'Hostname', address: n.name }]]),
    );
    expect(nodes.every((n) => n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True')).toBe(true);
  });

  it("creates the homelab's Services as ClusterIP with named ports and a selector", async () => {
    const svc = await core.readNamespacedService({ name: 'argocd-server', namespace: 'argocd' });
    expect(svc.spec?.type).toBe('ClusterIP');
    expect(svc.spec?.ports).toEqual([
      { name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' },
      { name: 'https', port: 443, targetPort: 8080, protocol: 'TCP' },
    ]);
    expect(svc.spec?.selector).toEqual({ 'app.kubernetes.io/name': 'argocd-server' });
    const ips = (await core.listServiceForAllNamespaces()).items.map((s) => s.spec?.clusterIP);
    expect(new Set(ips).size).toBe(ips.length);
  });

  it('creates the Traefik DaemonSet with hostNetwork and a tailscale container', async () => {
    const ds = await kc.makeApiClient(AppsV1Api).readNamespacedDaemonSet({ name: 'traefik', namespace: 'traefik' });
    expect(ds.spec?.template.spec?.hostNetwork).toBe(true);
    expect(ds.spec?.template.spec?.containers.map((c) => c.name)).toEqual(['traefik', 'tailscale']);
    expect(ds.status).toMatchObject({ desiredNumberScheduled: 3, numberReady: 3 });
  });

  it('runs one Traefik pod per node, owned by the DaemonSet, showing its Tailscale port', async () => {
    const ds = await kc.makeApiClient(AppsV1Api).readNamespacedDaemonSet({ name: 'traefik', namespace: 'traefik' });
    const pods = (await core.listNamespacedPod({ namespace: 'traefik', labelSelector: 'app.kubernetes.io/name=traefik' })).items;
    expect(pods).toHaveLength(3);
    for (const node of homelab.nodes) {
      const pod = pods.find((p) => p.spec?.nodeName === node.name)!;
      expect(pod.metadata?.name).toMatch(/^traefik-[a-z]{5}$/);
      expect(pod.status).toMatchObject({ phase: 'Running', hostIP: node.ip, podIP: node.ip });
      expect(pod.metadata?.ownerReferences).toEqual([
        { apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'traefik', uid: ds.metadata?.uid, controller: true, blockOwnerDeletion: true },
      ]);
      const tailscale = pod.spec?.containers.find((c) => c.name === 'tailscale');
      expect(envOf(tailscale).TS_TAILSCALED_EXTRA_ARGS).toBe(`--port=${node.tailscalePort}`);
    }
  });

  it('gives seeded pods the same names every time', () => {
    const names = (s: ReturnType<typeof seedKubernetesState>) => Object.keys(s.objects['core/pods'] ?? {}).sort();
    expect(names(seedKubernetesState(defaultHomelab()))).toEqual(names(seedKubernetesState(defaultHomelab())));
  });

  it('creates the forward-auth Middleware traefik/oidc-auth', async () => {
    const mw = (await kc.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({
      group: 'traefik.io',
      version: 'v1alpha1',
      namespace: 'traefik',
      plural: 'middlewares',
      name: 'oidc-auth',
    })) as { spec: unknown };
    expect(mw.spec).toEqual({
      forwardAuth: {
        address: 'http://oauth2-proxy.auth.svc.cluster.local:4180/oauth2/auth',
        authResponseHeaders: ['X-Auth-Request-User', 'X-Auth-Request-Email'],
        trustForwardHeader: true,
      },
    });
  });

  it('creates the hand-made argocd IngressRoute that labgate does not own', async () => {
    const route = (await kc.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({
      group: 'traefik.io',
      version: 'v1alpha1',
      namespace: 'argocd',
      plural: 'ingressroutes',
      name: 'argocd-server',
    })) as { metadata: { labels?: Record<string, string>; managedFields?: { manager: string }[] }; spec: unknown };
    expect(route.metadata.labels?.['app.kubernetes.io/managed-by']).toBeUndefined();
    expect(route.metadata.managedFields?.map((m) => m.manager)).toEqual(['kubectl']);
    expect(route.spec).toEqual({
      entryPoints: ['websecure'],
      routes: [{ match: 'Host(`argocd.home.example.com`)', kind: 'Rule', services: [{ name: 'argocd-server', port: 80 }] }],
      tls: { certResolver: 'letsencrypt' },
    });
  });

  it('seeds from the homelab it is given (namespace, domain, nodes)', () => {
    const custom: Homelab = { ...defaultHomelab(), domain: 'lab.test', traefikNamespace: 'ingress', nodes: homelabNodes(2, '10.0.0', 5) };
    const state = seedKubernetesState(custom);
    expect(Object.keys(state.objects['core/namespaces'] ?? {})).toContain('ingress');
    expect(Object.keys(state.objects['traefik.io/middlewares'] ?? {})).toEqual(['ingress/oidc-auth']);
    const route = state.objects['traefik.io/ingressroutes']?.['argocd/argocd-server'];
    expect(JSON.stringify(route?.spec)).toContain('argocd.lab.test');
    expect(Object.values(state.objects['core/pods'] ?? {}).map((p) => (p.status as { hostIP: string }).hostIP).sort()).toEqual(['10.0.0.5', '10.0.0.6']);
  });

  it('adds extra nodes with their pods for the benchmark (50 nodes)', async () => {
    const state = seedKubernetesState(defaultHomelab());
    const added = addHomelabNodes(state, defaultHomelab(), 47);
    expect(added).toHaveLength(47);
    expect(added[0]).toEqual({ name: 'node-24', ip: '192.168.10.24', tailscalePort: 41624 });
    expect(added.at(-1)).toEqual({ name: 'node-70', ip: '192.168.10.70', tailscalePort: 41670 });
    const big = await startKubernetesSandbox({ state });
    try {
      const bigKc = new KubeConfig();
      bigKc.loadFromString(big.kubeconfig());
      const bigCore = bigKc.makeApiClient(CoreV1Api);
      expect((await bigCore.listNode()).items).toHaveLength(50);
      const pods = (await bigCore.listNamespacedPod({ namespace: 'traefik' })).items;
      expect(pods).toHaveLength(50);
      expect(new Set(pods.map((p) => p.metadata?.name)).size).toBe(50);
      const ds = await bigKc.makeApiClient(AppsV1Api).readNamespacedDaemonSet({ name: 'traefik', namespace: 'traefik' });
      expect(ds.status?.numberReady).toBe(50);
    } finally {
      await big.close();
    }
  });

  it('continues into the next subnet after .254, where last octets (and Tailscale ports) collide', () => {
    const lab: Homelab = { ...defaultHomelab(), nodes: homelabNodes(1, '192.168.10', 253) };
    const state = seedKubernetesState(lab);
    const added = addHomelabNodes(state, lab, 3);
    expect(added.map((n) => n.ip)).toEqual(['192.168.10.254', '192.168.11.1', '192.168.11.2']);
    expect(added.map((n) => n.tailscalePort)).toEqual([41854, 41601, 41602]);
  });
});
