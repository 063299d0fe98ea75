/**
 * What the controllers and kubelets of a real cluster do to the objects, so pods live and die
 * as they do there:
 * - a terminating pod (deletionTimestamp set) turns not-ready at once and is removed when its
 *   containers have exited (`terminationMs`, within the grace period);
 * - the DaemonSet controller creates a pod on every node that has none (Pending, then Running
 *   and Ready after `startMs`), rolls pods whose template hash is old one node at a time
 *   (maxUnavailable 1: the next only once the replacement is ready), and keeps `status` true;
 * - every namespace gets its `default` ServiceAccount.
 * https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#pod-termination
 * https://kubernetes.io/docs/tasks/manage-daemon/update-daemon-set/
 */
import { createHash, randomBytes } from 'node:crypto';
import { cloneJson, jsonEqual } from './json-patches.js';
import type { KubeObject } from './kubernetes-state.js';
import { apiTimestamp, type ObjectStore } from './object-store.js';
import { findByKind } from './resource-catalog.js';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface ControllerTiming {
  /** How long a deleted pod's containers take to exit (default 1000 ms). */
  terminationMs?: number;
  /** How long a new pod takes from Pending to Ready (default 1000 ms). */
  startMs?: number;
}

const PODS = findByKind('v1', 'Pod')!;
const NODES = findByKind('v1', 'Node')!;
const DAEMONSETS = findByKind('apps/v1', 'DaemonSet')!;
const NAMESPACES = findByKind('v1', 'Namespace')!;
const SERVICE_ACCOUNTS = findByKind('v1', 'ServiceAccount')!;
const EVENTS = findByKind('v1', 'Event')!;

/** The controller-revision-hash of a pod template (ten lowercase alphanumerics, as the controller labels pods). */
export function templateHash(template: unknown): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  return [...createHash('sha256').update(JSON.stringify(template ?? {})).digest().subarray(0, 10)].map((b) => alphabet[b % alphabet.length]).join('');
}

const now = () => apiTimestamp();
const isTerminating = (p: KubeObject) => Boolean(p.metadata.deletionTimestamp);
const isReady = (p: Any) => (p.status?.conditions ?? []).some((c: Any) => c.type === 'Ready' && c.status === 'True');
const nodeOf = (p: Any): string | undefined => p.spec?.nodeName;

function podFor(ds: KubeObject, node: KubeObject, hash: string): KubeObject {
  const template = cloneJson((ds.spec as Any).template ?? {}) as Any;
  const ip = ((node.status as Any)?.addresses ?? []).find((a: Any) => a.type === 'InternalIP')?.address;
  const spec = template.spec ?? {};
  spec.nodeName = node.metadata.name;
  spec.affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [node.metadata.name] }] }] } } };
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `${ds.metadata.name}-${[...randomBytes(5)].map((b) => alphabet[b % alphabet.length]).join('')}`,
      generateName: `${ds.metadata.name}-`,
      namespace: ds.metadata.namespace,
      labels: { ...(template.metadata?.labels ?? {}), 'controller-revision-hash': hash, 'pod-template-generation': String(ds.metadata.generation ?? 1) },
      ...(template.metadata?.annotations ? { annotations: template.metadata.annotations } : {}),
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: ds.metadata.name, uid: ds.metadata.uid, controller: true, blockOwnerDeletion: true }],
    },
    spec,
    status: {
      phase: 'Pending',
      hostIP: ip,
      ...(spec.hostNetwork && ip ? { podIP: ip, podIPs: [{ ip }] } : {}),
      conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: now() }],
      containerStatuses: (spec.containers ?? []).map((c: Any) => ({ name: c.name, image: c.image, imageID: '', ready: false, started: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } })),
    },
  };
}

function running(p: KubeObject): KubeObject {
  const t = now();
  const status = (p.status ?? {}) as Any;
  status.phase = 'Running';
  status.startTime ??= t;
  status.conditions = ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({ type, status: 'True', lastTransitionTime: t }));
  status.containerStatuses = ((p.spec as Any)?.containers ?? []).map((c: Any) => ({
    name: c.name,
    image: c.image,
    imageID: `${c.image}@sha256:${createHash('sha256').update(c.image ?? '').digest('hex')}`,
    containerID: `containerd://${randomBytes(32).toString('hex')}`,
    ready: true,
    started: true,
    restartCount: 0,
    state: { running: { startedAt: t } },
  }));
  p.status = status;
  return p;
}

/** The pod as its kubelet reports it once told to stop: not ready, containers still running until they exit. */
export function notReady(p: KubeObject): KubeObject {
  const status = (p.status ?? {}) as Any;
  const t = now();
  status.conditions = (status.conditions ?? []).map((c: Any) => (c.type === 'Ready' || c.type === 'ContainersReady' ? { ...c, status: 'False', reason: 'ContainersNotReady', lastTransitionTime: t } : c));
  status.containerStatuses = (status.containerStatuses ?? []).map((c: Any) => ({ ...c, ready: false }));
  p.status = status;
  return p;
}

export class WorkloadControllers {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly pending = new Set<string>();
  private stopped = false;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly store: ObjectStore,
    private readonly timing: ControllerTiming = {},
  ) {
    this.unsubscribe = store.subscribe((type, r, obj) => {
      if (r === NAMESPACES && type === 'ADDED') this.later(0, () => this.ensureServiceAccount(obj.metadata.name));
      if (r === DAEMONSETS && type !== 'DELETED') this.reconcileSoon(obj.metadata.namespace!, obj.metadata.name);
      if (r === PODS) for (const ref of obj.metadata.ownerReferences ?? []) if (ref.kind === 'DaemonSet') this.reconcileSoon(obj.metadata.namespace!, String(ref.name));
      if (r === NODES) for (const ds of store.items(DAEMONSETS)) this.reconcileSoon(ds.metadata.namespace!, ds.metadata.name);
    });
    for (const ns of store.items(NAMESPACES)) this.ensureServiceAccount(ns.metadata.name);
    for (const ds of store.items(DAEMONSETS)) this.reconcileSoon(ds.metadata.namespace!, ds.metadata.name);
    for (const p of store.items(PODS)) if (isTerminating(p)) this.finishTermination(p);
  }

  private later(ms: number, fn: () => void): void {
    if (this.stopped) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.stopped) fn();
    }, ms);
    this.timers.add(t);
  }

  /** A pod was marked for deletion: its kubelet stops it, and it goes once its containers exited. */
  finishTermination(pod: KubeObject): void {
    this.later(this.timing.terminationMs ?? 1000, () => {
      const live = this.store.read(PODS, pod.metadata.namespace, pod.metadata.name);
      if (live && live.metadata.uid === pod.metadata.uid && isTerminating(live)) this.store.remove(PODS, live.metadata.namespace, live.metadata.name);
    });
  }

  private ensureServiceAccount(namespace: string): void {
    if (!this.store.read(NAMESPACES, undefined, namespace) || this.store.read(SERVICE_ACCOUNTS, namespace, 'default')) return;
    this.store.put({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace } });
  }

  private reconcileSoon(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    if (this.pending.has(key)) return;
    this.pending.add(key);
    this.later(0, () => {
      this.pending.delete(key);
      this.reconcile(namespace, name);
    });
  }

  /** Starts a rollout as `kubectl rollout restart` does: a new template annotation. */
  rolloutRestart(namespace: string, name: string): boolean {
    const ds = this.store.read(DAEMONSETS, namespace, name);
    if (!ds) return false;
    const template = ((ds.spec as Any).template ??= {});
    template.metadata = { ...(template.metadata ?? {}), annotations: { ...(template.metadata?.annotations ?? {}), 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } };
    this.store.write(DAEMONSETS, ds, this.store.read(DAEMONSETS, namespace, name));
    return true;
  }

  private reconcile(namespace: string, name: string): void {
    const ds = this.store.read(DAEMONSETS, namespace, name);
    if (!ds) return;
    const hash = templateHash((ds.spec as Any).template);
    const nodes = this.store.items(NODES);
    const owned = this.store.items(PODS, namespace).filter((p) => (p.metadata.ownerReferences ?? []).some((o) => o.uid === ds.metadata.uid));
    for (const node of nodes) {
      if (!owned.some((p) => nodeOf(p) === node.metadata.name)) {
        const pod = this.store.write(PODS, podFor(ds, node, hash), undefined);
        owned.push(pod);
        this.event(ds, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`, 'daemonset-controller');
        this.later(this.timing.startMs ?? 1000, () => {
          const live = this.store.read(PODS, namespace, pod.metadata.name);
          if (live && !isTerminating(live)) this.store.write(PODS, running(live), this.store.read(PODS, namespace, pod.metadata.name));
        });
      }
    }
    // One node at a time: replace an old pod only when every pod is up and ready.
    const unavailable = owned.filter((p) => isTerminating(p) || !isReady(p));
    const old = owned.filter((p) => !isTerminating(p) && p.metadata.labels?.['controller-revision-hash'] !== hash).sort((a, b) => String(nodeOf(a)).localeCompare(String(nodeOf(b))));
    if (unavailable.length === 0 && old[0]) this.terminate(old[0], Number((old[0].spec as Any)?.terminationGracePeriodSeconds ?? 30));
    this.updateStatus(ds, hash, nodes.length);
  }

  /** Graceful deletion by a controller (or the API): deletionTimestamp = now + grace, not ready at once. */
  terminate(pod: KubeObject, graceSeconds: number): KubeObject {
    const live = this.store.read(PODS, pod.metadata.namespace, pod.metadata.name);
    if (!live) return pod;
    live.metadata.deletionTimestamp = apiTimestamp(new Date(Date.now() + graceSeconds * 1000));
    live.metadata.deletionGracePeriodSeconds = graceSeconds;
    const stored = this.store.write(PODS, notReady(live), this.store.read(PODS, pod.metadata.namespace, pod.metadata.name));
    for (const c of ((stored.spec as Any)?.containers ?? []) as Any[]) this.event(stored, 'Normal', 'Killing', `Stopping container ${c.name}`, 'kubelet', `spec.containers{${c.name}}`);
    this.finishTermination(stored);
    return stored;
  }

  /** A core/v1 Event about `obj`, as the controller or kubelet records it (`kubectl get events`, `kubectl describe`). */
  private event(obj: KubeObject, type: string, reason: string, message: string, component: string, fieldPath?: string): void {
    const t = now();
    const alphabet = '0123456789abcdef';
    this.store.put({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${obj.metadata.name}.${[...randomBytes(8)].map((b) => alphabet[b % 16]).join('')}`, namespace: obj.metadata.namespace },
      involvedObject: { apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata.name, namespace: obj.metadata.namespace, uid: obj.metadata.uid, resourceVersion: obj.metadata.resourceVersion, ...(fieldPath ? { fieldPath } : {}) },
      reason,
      message,
      type,
      source: { component },
      firstTimestamp: t,
      lastTimestamp: t,
      count: 1,
      reportingComponent: component,
      reportingInstance: '',
    });
    // Events live an hour (the API server's --event-ttl default), so a long-running sandbox does not pile them up.
    for (const e of this.store.items(EVENTS, obj.metadata.namespace)) {
      if (Date.parse(String(e.lastTimestamp ?? e.metadata.creationTimestamp)) < Date.now() - 3_600_000) this.store.remove(EVENTS, e.metadata.namespace, e.metadata.name);
    }
  }

  private updateStatus(ds: KubeObject, hash: string, desired: number): void {
    const owned = this.store.items(PODS, ds.metadata.namespace).filter((p) => (p.metadata.ownerReferences ?? []).some((o) => o.uid === ds.metadata.uid));
    const scheduled = new Set(owned.filter((p) => !isTerminating(p)).map(nodeOf));
    const ready = owned.filter((p) => !isTerminating(p) && isReady(p)).length;
    const status = {
      currentNumberScheduled: scheduled.size,
      desiredNumberScheduled: desired,
      numberAvailable: ready,
      numberMisscheduled: 0,
      numberReady: ready,
      observedGeneration: ds.metadata.generation ?? 1,
      updatedNumberScheduled: owned.filter((p) => !isTerminating(p) && p.metadata.labels?.['controller-revision-hash'] === hash).length,
      ...(desired - ready > 0 ? { numberUnavailable: desired - ready } : {}),
    };
    if (jsonEqual(ds.status, status)) return;
    const live = this.store.read(DAEMONSETS, ds.metadata.namespace, ds.metadata.name)!;
    live.status = status;
    this.store.write(DAEMONSETS, live, this.store.read(DAEMONSETS, ds.metadata.namespace, ds.metadata.name));
  }

  close(): void {
    this.stopped = true;
    this.unsubscribe();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
