import type { KubeObject } from '../../src/kubernetes/port.js';
import { hostsOf, onEntryPoint } from '../../src/traefik/routes.js';
import type { ObjectStore } from '../kubernetes/object-store.js';

const TRAEFIK = 'traefik.io/v1alpha1';

export type ClientAuthType = 'NoClientCert' | 'RequestClientCert' | 'RequireAnyClientCert' | 'VerifyClientCertIfGiven' | 'RequireAndVerifyClientCert';

export interface TlsPolicy {
  /** "namespace/name" of the TLSOption, or "default". */
  key: string;
  clientAuthType: ClientAuthType;
  /** PEM of the client CAs (tls.ca, else ca.crt, else a Secret's only key), as Traefik reads them. */
  clientCas: string[];
  /** Why the TLSOption cannot be used (Traefik logs it and drops the router). */
  problem?: string;
}

export interface EdgeRoute {
  route: KubeObject;
  middlewares: { name: string; namespace: string; object?: KubeObject }[];
  service: { name: string; namespace: string; port?: number | string };
}

/** What the edge reads from the sandbox's Kubernetes state, as Traefik's CRD provider would. */
export class EdgeRouting {
  constructor(private readonly store: ObjectStore) {}

  /** The IngressRoute on this entry point whose Host(…) names the host exactly (the edge knows no wildcards). */
  find(entryPoint: string, host: string): KubeObject | undefined {
    return this.store
      .list(TRAEFIK, 'IngressRoute')
      .filter((r) => onEntryPoint(r, entryPoint) && hostsOf(r).includes(host.toLowerCase()))
      .sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`))[0];
  }

  tlsPolicy(route: KubeObject | undefined): TlsPolicy {
    const opts = (route?.spec as { tls?: { options?: { name: string; namespace?: string } } } | undefined)?.tls?.options;
    if (!route || !opts) return { key: 'default', clientAuthType: 'NoClientCert', clientCas: [] };
    const namespace = opts.namespace ?? route.metadata.namespace!;
    const key = `${namespace}/${opts.name}`;
    const option = this.store.get({ apiVersion: TRAEFIK, kind: 'TLSOption', namespace, name: opts.name });
    if (!option) return { key, clientAuthType: 'NoClientCert', clientCas: [], problem: `Invalid reference to TLSOption ${key}` };
    const auth = (option.spec as { clientAuth?: { secretNames?: string[]; clientAuthType?: ClientAuthType } } | undefined)?.clientAuth;
    const clientCas: string[] = [];
    for (const secretName of auth?.secretNames ?? []) {
      const data = (this.store.get({ apiVersion: 'v1', kind: 'Secret', namespace, name: secretName }) as { data?: Record<string, string> } | undefined)?.data;
      const b64 = data?.['tls.ca'] ?? data?.['ca.crt'] ?? (data && Object.keys(data).length === 1 ? Object.values(data)[0] : undefined);
      if (!b64) return { key, clientAuthType: auth?.clientAuthType ?? 'NoClientCert', clientCas: [], problem: `secret '${namespace}/${secretName}' has no CA block` };
      clientCas.push(Buffer.from(b64, 'base64').toString('utf8'));
    }
    return { key, clientAuthType: auth?.clientAuthType ?? 'NoClientCert', clientCas };
  }

  resolve(route: KubeObject): EdgeRoute | { problem: string } {
    const r = (route.spec as { routes: { middlewares?: { name: string; namespace?: string }[]; services?: { name: string; namespace?: string; port?: number | string }[] }[] }).routes[0]!;
    const ns = route.metadata.namespace!;
    const middlewares = (r.middlewares ?? []).map((m) => {
      const namespace = m.namespace ?? ns;
      return { name: m.name, namespace, object: this.store.get({ apiVersion: TRAEFIK, kind: 'Middleware', namespace, name: m.name }) };
    });
    const missing = middlewares.find((m) => !m.object);
    if (missing) return { problem: `middleware "${missing.namespace}-${missing.name}@kubernetescrd" does not exist` };
    const svc = r.services?.[0];
    if (!svc) return { problem: 'the route has no service' };
    return { route, middlewares, service: { name: svc.name, namespace: svc.namespace ?? ns, port: svc.port } };
  }
}
