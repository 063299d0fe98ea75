/** The slice of the Kubernetes API labgate uses. The real adapter is the only importer of the client library. */
export interface KubeMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  resourceVersion?: string;
  [k: string]: unknown;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: KubeMeta;
  [k: string]: unknown;
}

export interface KubeRef {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface KubernetesPort {
  /** The object, or null when it does not exist. */
  get(ref: KubeRef): Promise<KubeObject | null>;
  /** Objects of a kind, in one namespace or (namespace undefined) all. */
  list(apiVersion: string, kind: string, opts?: { namespace?: string; labelSelector?: string }): Promise<KubeObject[]>;
  /** Server-side apply with field manager "labgate"; returns the live object. */
  apply(obj: KubeObject): Promise<KubeObject>;
  /** Deletes; a missing object is not an error. */
  delete(ref: KubeRef): Promise<void>;
  /** Runs a command in a pod's container (no stdin). */
  exec(req: { namespace: string; pod: string; container: string; command: string[]; timeoutMs?: number }): Promise<ExecResult>;
}
