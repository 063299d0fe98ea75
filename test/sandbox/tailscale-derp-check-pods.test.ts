import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { ClientNodeKubernetes } from '../../src/kubernetes/client-node-adapter.js';
import { defaultHomelab } from '../../sandbox/homelab.js';
import { seedKubernetesState, startKubernetesSandbox, type KubernetesSandbox } from '../../sandbox/kubernetes/index.js';
import { tailscaleExecHandler } from '../../sandbox/tailscale/tailscale-exec-handler.js';
import { TailscaleSimulator } from '../../sandbox/tailscale/tailscale-simulator.js';
import { seedTailscaleState } from '../../sandbox/tailscale/tailscale-state.js';
import { runDerpCheck } from '../../src/planning/derp-check.js';
import { PodExecTailscale } from '../../src/tailscale/pod-exec-tailscale.js';

// The pod mix of a rollout (https://kubernetes.io/docs/tasks/manage-daemon/update-daemon-set/): a pod
// that is terminating or not ready yet is not asked, and /derp-check says so for its node.

describe('/derp-check against pods that are terminating or not ready', () => {
  let sandbox: KubernetesSandbox;
  let core: CoreV1Api;
  let kube: ClientNodeKubernetes;
  const homelab = defaultHomelab();

  beforeAll(async () => {
    const sim = new TailscaleSimulator({ state: seedTailscaleState(homelab) });
    const state = seedKubernetesState(homelab);
    const podNode = (namespace: string, pod: string) => (sandbox.objects.get({ apiVersion: 'v1', kind: 'Pod', namespace, name: pod })?.spec as { nodeName?: string } | undefined)?.nodeName;
    // Pods take a minute to stop and to start, so each phase of the rollout can be looked at.
    sandbox = await startKubernetesSandbox({ state, execHandler: tailscaleExecHandler(sim, podNode), timing: { terminationMs: 60_000, startMs: 60_000 } });
    const kc = new KubeConfig();
    kc.loadFromString(sandbox.kubeconfig());
    core = kc.makeApiClient(CoreV1Api);
    kube = new ClientNodeKubernetes(kc);
  });

  afterAll(async () => {
    await sandbox?.close();
  });

  const check = () =>
    runDerpCheck({ kube, tailscale: new PodExecTailscale(kube) }, { daemonSet: { namespace: 'traefik', name: 'traefik', container: 'tailscale' }, portBase: 41600, concurrency: 4, where: {} });
  const podOn = (node: string) => sandbox.objects.list('v1', 'Pod', 'traefik').find((p) => (p.spec as { nodeName?: string }).nodeName === node)!;
  const execsTo = (pod: string) => sandbox.requests.filter((r) => r.verb === 'exec' && r.path.includes(`/pods/${pod}/`)).length;

  it('GIVEN node-22 pod is terminating THEN it is not asked, its row says so and is unknown, and the other nodes are asked', async () => {
    const old = podOn('node-22').metadata.name;
    await core.deleteNamespacedPod({ name: old, namespace: 'traefik' });
    const result = await check();
    const n22 = result.nodes.find((c) => c.node.name === 'node-22')!;
    expect(n22.verdict).toBe('unknown');
    expect(n22.reasons).toContain(`pod ${old} is terminating (a rollout or a deletion), so it was not asked`);
    expect(n22.peers).toBeUndefined();
    expect(execsTo(old)).toBe(0);
    expect(result.nodes.find((c) => c.node.name === 'node-21')!.peers?.length).toBeGreaterThan(0);
  });

  it('GIVEN the replacement on node-22 is still starting THEN it is not asked either: "not ready (Pending)"', async () => {
    const old = podOn('node-22').metadata.name;
    await core.deleteNamespacedPod({ name: old, namespace: 'traefik', gracePeriodSeconds: 0 });
    const fresh = await waitFor(() => {
      const p = podOn('node-22');
      return p && p.metadata.name !== old ? p : undefined;
    });
    const n22 = (await check()).nodes.find((c) => c.node.name === 'node-22')!;
    expect(n22.node.pod.name).toBe(fresh.metadata.name);
    expect(n22.reasons).toContain(`pod ${fresh.metadata.name} is not ready (Pending), so it was not asked`);
    expect(execsTo(fresh.metadata.name)).toBe(0);
  });
});

async function waitFor<T>(probe: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
