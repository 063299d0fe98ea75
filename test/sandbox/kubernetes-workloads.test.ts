import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppsV1Api, CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { defaultHomelab } from '../../sandbox/homelab.js';
import { seedKubernetesState, startKubernetesSandbox, type KubernetesSandbox } from '../../sandbox/kubernetes/index.js';

// Pod termination (https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#pod-termination)
// and DaemonSet rolling updates (https://kubernetes.io/docs/tasks/manage-daemon/update-daemon-set/).

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const ready = (p: V1Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

describe('sandbox Kubernetes workloads: graceful deletion and the DaemonSet controller', () => {
  let sandbox: KubernetesSandbox;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  const pods = async () => (await core.listNamespacedPod({ namespace: 'traefik' })).items;

  beforeAll(async () => {
    sandbox = await startKubernetesSandbox({ state: seedKubernetesState(defaultHomelab()), timing: { terminationMs: 1000, startMs: 300 } });
    const kc = new KubeConfig();
    kc.loadFromString(sandbox.kubeconfig());
    core = kc.makeApiClient(CoreV1Api);
    apps = kc.makeApiClient(AppsV1Api);
  });

  afterAll(async () => {
    await sandbox?.close();
  });

  it('GIVEN a Traefik pod is deleted THEN it stays Terminating with deletionTimestamp and its grace period, not ready, and the DaemonSet says so; THEN a replacement on the same node turns ready', async () => {
    const victim = (await pods()).find((p) => p.spec?.nodeName === 'node-22')!;
    const answered = await core.deleteNamespacedPod({ name: victim.metadata!.name!, namespace: 'traefik' });
    expect(answered.metadata?.deletionTimestamp).toBeDefined();
    expect(answered.metadata?.deletionGracePeriodSeconds).toBe(60);
    // Until its kubelet has stopped it, the pod is still there, Terminating and no longer ready.
    const terminating = await core.readNamespacedPod({ name: victim.metadata!.name!, namespace: 'traefik' });
    expect(terminating.metadata?.deletionTimestamp).toBeDefined();
    expect(ready(terminating)).toBe(false);
    const replacement = await until('a ready replacement on node-22', async () => {
      const p = (await pods()).find((x) => x.spec?.nodeName === 'node-22' && x.metadata?.name !== victim.metadata?.name);
      return p && ready(p) ? p : undefined;
    });
    expect(replacement.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'DaemonSet', name: 'traefik', controller: true });
    expect(replacement.metadata?.labels?.['controller-revision-hash']).toBe(victim.metadata?.labels?.['controller-revision-hash']);
    await until('the old pod to be gone', async () => ((await pods()).some((p) => p.metadata?.name === victim.metadata?.name) ? undefined : true));
    const ds = await until('DaemonSet status back to 3 ready', async () => {
      const d = await apps.readNamespacedDaemonSet({ name: 'traefik', namespace: 'traefik' });
      return d.status?.numberReady === 3 ? d : undefined;
    });
    expect(ds.status).toMatchObject({ desiredNumberScheduled: 3, currentNumberScheduled: 3, numberAvailable: 3, updatedNumberScheduled: 3 });
    // What kubectl get events shows for it: the kubelet stopping the old pod, the controller creating the new one.
    const events = (await core.listNamespacedEvent({ namespace: 'traefik' })).items.map((e) => `${e.reason} ${e.involvedObject.kind}/${e.involvedObject.name}: ${e.message}`);
    expect(events).toEqual(expect.arrayContaining([
      `Killing Pod/${victim.metadata!.name}: Stopping container traefik`,
      `SuccessfulCreate DaemonSet/traefik: Created pod: ${replacement.metadata!.name}`,
    ]));
  });

  it('GIVEN a rollout restart THEN pods are replaced node by node, never more than one unavailable, until all run the new template', async () => {
    const before = new Map((await pods()).map((p) => [p.spec!.nodeName!, p.metadata!.name!]));
    let worst = 0;
    const watchUnavailable = async () => {
      const ds = await apps.readNamespacedDaemonSet({ name: 'traefik', namespace: 'traefik' });
      worst = Math.max(worst, ds.status?.numberUnavailable ?? 0);
      return ds;
    };
    sandbox.rolloutRestart('traefik', 'traefik');
    const done = await until('all pods replaced and ready', async () => {
      await watchUnavailable();
      const now = await pods();
      const fresh = now.filter((p) => !p.metadata?.deletionTimestamp && ready(p) && before.get(p.spec!.nodeName!) !== p.metadata!.name);
      return fresh.length === 3 && now.length === 3 ? now : undefined;
    }, 30_000);
    expect(worst).toBeLessThanOrEqual(1);
    expect(new Set(done.map((p) => p.metadata?.labels?.['controller-revision-hash'])).size).toBe(1);
    const ds = await watchUnavailable();
    expect(ds.status).toMatchObject({ numberReady: 3, updatedNumberScheduled: 3, observedGeneration: ds.metadata?.generation });
  });

  it('GIVEN gracePeriodSeconds=0 WHEN deleting THEN the pod is gone at once', async () => {
    const victim = (await pods()).find((p) => p.spec?.nodeName === 'node-21')!;
    await core.deleteNamespacedPod({ name: victim.metadata!.name!, namespace: 'traefik', gracePeriodSeconds: 0 });
    expect((await pods()).some((p) => p.metadata?.name === victim.metadata?.name)).toBe(false);
  });
});
