import { randomBytes } from 'node:crypto';

/** `metadata` of a stored object, as the Kubernetes API serves it. */
export interface ObjectMeta {
  name: string;
  namespace?: string;
  generateName?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: Record<string, unknown>[];
  finalizers?: string[];
  managedFields?: ManagedFieldsEntry[];
  [key: string]: unknown;
}

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  fieldsType: 'FieldsV1';
  fieldsV1: FieldsV1;
  subresource?: string;
}

/** Kubernetes' FieldsV1 set: `{"f:spec": {"f:routes": {}}}`. */
export interface FieldsV1 {
  [key: string]: FieldsV1;
}

/** Any Kubernetes object as stored and served: JSON, nothing else. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

/**
 * Everything the sandbox Kubernetes API remembers. Plain JSON so the sandbox orchestrator
 * can write it to a file and start a new server from it later.
 */
export interface KubernetesState {
  /** Bearer token every request must carry; kept here so it survives restarts. */
  token: string;
  /** Key that signs ServiceAccount tokens (TokenRequest); made on first start when missing. */
  signingKey?: string;
  /** The last resourceVersion handed out (one counter for all objects, as etcd's revision). */
  resourceVersion: number;
  /** Objects by resource (`<group or "core">/<plural>`), then by `<namespace>/<name>` (cluster-scoped: `<name>`). */
  objects: Record<string, Record<string, KubeObject>>;
}

/** A state with a fresh token and no objects. */
export function emptyKubernetesState(): KubernetesState {
  return { token: randomBytes(24).toString('base64url'), resourceVersion: 0, objects: {} };
}
