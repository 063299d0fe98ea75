/** The sandbox Kubernetes API server: what the sandbox orchestrator and the tests import. */
export { startKubernetesSandbox, type KubernetesSandbox, type KubernetesSandboxOptions, type RecordedRequest } from './kubernetes-sandbox.js';
export { seedKubernetesState, addHomelabNodes } from './seed-kubernetes-state.js';
export { emptyKubernetesState, type KubernetesState, type KubeObject, type ObjectMeta, type ManagedFieldsEntry } from './kubernetes-state.js';
export { renderKubeconfig, type KubeconfigParams } from './kubeconfig.js';
export type { ObjectStore, ObjectRef } from './object-store.js';
export type { ExecHandler, ExecRequest, ExecResult } from './pod-exec.js';
export { CrdSchemas, type SchemaCheck } from './crd-schemas.js';
