import { stringify } from 'yaml';

export interface KubeconfigParams {
  /** `https://127.0.0.1:<port>` */
  server: string;
  caPem: string;
  token: string;
  /** Name of the cluster, user and context (default `labgate-sandbox`). */
  name?: string;
  /** Namespace of the context, when not `default`. */
  namespace?: string;
}

/**
 * A kubeconfig YAML for the sandbox: the cluster with its CA inline
 * (`certificate-authority-data`), a token user, one context, and `current-context`.
 * Loadable with `KubeConfig.loadFromString()` or through `KUBECONFIG`.
 */
export function renderKubeconfig(p: KubeconfigParams): string {
  const name = p.name ?? 'labgate-sandbox';
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    preferences: {},
    clusters: [
      { name, cluster: { server: p.server, 'certificate-authority-data': Buffer.from(p.caPem, 'utf8').toString('base64') } },
    ],
    users: [{ name, user: { token: p.token } }],
    contexts: [{ name, context: { cluster: name, user: name, ...(p.namespace ? { namespace: p.namespace } : {}) } }],
    'current-context': name,
  });
}
