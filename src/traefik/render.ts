import { createHash, X509Certificate } from 'node:crypto';
import type { Config } from '../config/load.js';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../kubernetes/objects.js';
import type { KubeObject } from '../kubernetes/port.js';
import type { AccessMode } from './access-modes.js';

export const TRAEFIK_API = 'traefik.io/v1alpha1';
export const HOST_ANNOTATION = 'labgate.dev/host';
export const MODE_ANNOTATION = 'labgate.dev/access-mode';
export const EXPOSURE_LABEL = 'labgate.dev/exposure';
/** Marks the client-CA Secret of mtls-strict: one per namespace, shared by its exposures. */
export const CLIENT_CA_LABEL = 'labgate.dev/client-ca';

export interface Exposure {
  host: string;
  namespace: string;
  service: string;
  port: number;
  mode: AccessMode;
}

export type TraefikConfig = Config['traefik'];

/**
 * Base name of an exposure's objects: the host without the configured domain ("photos"), or the
 * whole host with dots as dashes. Kept short enough for a label value and the suffixes.
 */
export function exposureBaseName(host: string, domain: string): string {
  const base = (host.endsWith(`.${domain}`) ? host.slice(0, -domain.length - 1) : host).replace(/\./g, '-');
  if (base.length <= 48) return base;
  const digest = createHash('sha256').update(host).digest('hex').slice(0, 8);
  return `${base.slice(0, 39).replace(/-+$/, '')}-${digest}`;
}

export function objectNames(base: string) {
  return { tailnetRoute: `${base}-ts`, internetRoute: `${base}-public`, tlsOption: `${base}-mtls`, clientCertMiddleware: `${base}-client-cert` };
}

function metadata(e: Exposure, base: string, name: string) {
  return {
    name,
    namespace: e.namespace,
    labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [EXPOSURE_LABEL]: base },
    annotations: { [HOST_ANNOTATION]: e.host, [MODE_ANNOTATION]: e.mode },
  };
}

function routeTls(cfg: TraefikConfig, options?: { name: string; namespace: string }): Record<string, unknown> {
  const tls: Record<string, unknown> = {};
  if (cfg.tls.secretName) tls.secretName = cfg.tls.secretName;
  else if (cfg.tls.certResolver) tls.certResolver = cfg.tls.certResolver;
  if (options) tls.options = options;
  return tls;
}

function ref(name: string, namespace: string, from: string): { name: string; namespace?: string } {
  return namespace === from ? { name } : { name, namespace };
}

/**
 * The Traefik objects that serve one exposure, in apply order (what a route references first).
 * Pure: the same exposure and config always render the same objects.
 */
export function renderExposure(e: Exposure, cfg: TraefikConfig, domain: string): KubeObject[] {
  const base = exposureBaseName(e.host, domain);
  const names = objectNames(base);
  const match = `Host(\`${e.host}\`)`;
  const service = { kind: 'Service', name: e.service, port: e.port };
  const route = (name: string, entryPoint: string, middlewares: { name: string; namespace?: string }[], tls: Record<string, unknown>): KubeObject => ({
    apiVersion: TRAEFIK_API,
    kind: 'IngressRoute',
    metadata: metadata(e, base, name),
    spec: {
      entryPoints: [entryPoint],
      routes: [{ kind: 'Rule', match, ...(middlewares.length ? { middlewares } : {}), services: [service] }],
      tls,
    },
  });

  switch (e.mode) {
    case 'tailscale-only':
      return [route(names.tailnetRoute, cfg.entryPoints.tailscale, [], routeTls(cfg))];
    case 'tailscale-bypass': {
      if (!cfg.forwardAuth) throw new Error('tailscale-bypass needs traefik.forwardAuth');
      return [
        route(names.tailnetRoute, cfg.entryPoints.tailscale, [], routeTls(cfg)),
        route(names.internetRoute, cfg.entryPoints.internet, [ref(cfg.forwardAuth.name, cfg.forwardAuth.namespace, e.namespace)], routeTls(cfg)),
      ];
    }
    case 'mtls-strict': {
      const objects: KubeObject[] = [
        {
          apiVersion: TRAEFIK_API,
          kind: 'TLSOption',
          metadata: metadata(e, base, names.tlsOption),
          spec: {
            minVersion: cfg.mtls.minVersion,
            clientAuth: { secretNames: [cfg.mtls.clientCaSecret], clientAuthType: 'RequireAndVerifyClientCert' },
          },
        },
      ];
      const middlewares: { name: string }[] = [];
      if (cfg.mtls.passClientCert) {
        // Forward who and which device (subject CN and O, SANs, serial) so backends can audit.
        objects.push({
          apiVersion: TRAEFIK_API,
          kind: 'Middleware',
          metadata: metadata(e, base, names.clientCertMiddleware),
          spec: {
            passTLSClientCert: {
              pem: false,
              info: { notAfter: true, sans: true, serialNumber: true, subject: { commonName: true, organization: true, organizationalUnit: true } },
            },
          },
        });
        middlewares.push({ name: names.clientCertMiddleware });
      }
      objects.push(route(names.internetRoute, cfg.entryPoints.internet, middlewares, routeTls(cfg, { name: names.tlsOption, namespace: e.namespace })));
      return objects;
    }
  }
}

/**
 * The Secret a mtls-strict TLSOption reads its client CA from (`ca.crt`, as Traefik expects),
 * filled from OpenBao's device CA. Annotations name each CA so a rotation reads as a diff.
 */
export function renderClientCaSecret(namespace: string, name: string, chainPems: string[]): KubeObject {
  const certs = chainPems.map((pem) => new X509Certificate(pem));
  const pem = certs.map((c) => c.toString().trim()).join('\n') + '\n';
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name,
      namespace,
      labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [CLIENT_CA_LABEL]: 'true' },
      annotations: {
        'labgate.dev/ca-subject': certs.map((c) => c.subject.replace(/\n/g, ', ')).join('; '),
        'labgate.dev/ca-sha256': certs.map((c) => c.fingerprint256).join('; '),
        'labgate.dev/ca-expires': certs.map((c) => new Date(c.validTo).toISOString().replace(/\.\d{3}Z$/, 'Z')).join('; '),
      },
    },
    type: 'Opaque',
    data: { 'ca.crt': Buffer.from(pem).toString('base64') },
  };
}
