import type { KubeObject, KubeRef } from './port.js';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'labgate';
export const MANAGED_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`;
/**
 * The plan that last wrote an object: set by the applier on every write, left out of what plans
 * compare and show, read by a resumed apply to recognise its own work.
 */
export const PLAN_ANNOTATION = 'labgate.dev/plan';

export function isManaged(obj: KubeObject | null | undefined): boolean {
  return obj?.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY_VALUE;
}

export function refOf(obj: Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>): KubeRef {
  return { apiVersion: obj.apiVersion, kind: obj.kind, namespace: obj.metadata.namespace, name: obj.metadata.name };
}

/** Plan target and lock name of a Kubernetes object. */
export function kubeTarget(ref: KubeRef): string {
  return `kubernetes:${ref.apiVersion}/${ref.kind}/${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;
}

export function displayName(ref: KubeRef): string {
  return `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;
}

const KEEP_TOP = ['spec', 'data', 'stringData', 'type'];

/**
 * The part of an object that a plan compares and shows: identity, labels, annotations and
 * desired state. Server-owned fields (uid, resourceVersion, managedFields, status…) are dropped
 * so that a re-read compares equal when nothing anyone cares about changed.
 */
export function normalize(obj: KubeObject | null | undefined): KubeObject | null {
  if (!obj) return null;
  const meta: KubeObject['metadata'] = { name: obj.metadata.name };
  if (obj.metadata.namespace) meta.namespace = obj.metadata.namespace;
  if (obj.metadata.labels && Object.keys(obj.metadata.labels).length) meta.labels = { ...obj.metadata.labels };
  const annotations = { ...(obj.metadata.annotations ?? {}) };
  delete annotations['kubectl.kubernetes.io/last-applied-configuration'];
  delete annotations[PLAN_ANNOTATION];
  if (Object.keys(annotations).length) meta.annotations = annotations;
  const out: KubeObject = { apiVersion: obj.apiVersion, kind: obj.kind, metadata: meta };
  for (const k of KEEP_TOP) if (obj[k] !== undefined) out[k] = structuredClone(obj[k]);
  return out;
}
