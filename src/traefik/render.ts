import { createHash, X509Certificate } from 'node:crypto';
import type { Config } from '../config/load.js';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../kubernetes/objects.js';
import type { KubeObject } from '../kubernetes/port.js';
import type { AccessMode } from './access-modes.js';
import { iso } from '../duration.js';

export const TRAEFIK_API = 'traefik.io/v1alpha1';
export const HOST_ANNOTATION = 'labgate.dev/host';
export const MODE_ANNOTATION = 'labgate.dev/access-mode';
export const EXPOSURE_LABEL = 'labgate.dev/exposure';
/** Who may use an mtls-strict host, as the person wrote it (`@alice, family`); absent: every valid device certificate. */
export const ALLOW_ANNOTATION = 'labgate.dev/allow';
/** The gate's default address (config gate.address). */
export const DEFAULT_GATE_ADDRESS = 'http://labgate-gate.labgate.svc.cluster.local:8080/verify';
/** Response headers of the gate that Traefik copies into the request to the backend. */
export const GATE_RESPONSE_HEADERS = ['X-Labgate-Owner', 'X-Labgate-Device'];
/** Marks the client-CA Secret of mtls-strict: one per namespace, shared by its exposures. */
export const CLIENT_CA_LABEL = 'labgate.dev/client-ca';

export interface Exposure {
  host: string;
  namespace: string;
  service: string;
  port: number;
  mode: AccessMode;
  /** mtls-strict only: device owners allowed (`shell:alice`, `discord:<id>`), and the text they came from. */
  allow?: { text: string; owners: string[] };
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
  return { tailnetRoute: `${base}-ts`, internetRoute: `${base}-public`, tlsOption: `${base}-mtls`, clientCertMiddleware: `${base}-client-cert`, gateMiddleware: `${base}-gate` };
}

function metadata(e: Exposure, base: string, name: string) {
  return {
    name,
    namespace: e.namespace,
    labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [EXPOSURE_LABEL]: base },
    annotations: { [HOST_ANNOTATION]: e.host, [MODE_ANNOTATION]: e.mode, ...(e.allow ? { [ALLOW_ANNOTATION]: e.allow.text } : {}) },
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
/**
 * The gate's address for one host: `?allow=` carries the owners it admits. Traefik calls the
 * address as configured, so a client cannot change it (and the NetworkPolicy keeps clients
 * from calling the gate themselves).
 */
export function gateAddress(address: string, allow?: { owners: string[] }): string {
  if (!allow) return address;
  const url = new URL(address);
  url.searchParams.set('allow', [...allow.owners].sort().join(','));
  return url.toString();
}

export function renderExposure(e: Exposure, cfg: TraefikConfig, domain: string, gate: { address: string } = { address: DEFAULT_GATE_ADDRESS }): KubeObject[] {
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
      // passTLSClientCert first: it puts the verified certificate into the request, which
      // forwardAuth then copies to the gate (and it replaces any such header the client sent).
      objects.push({
        apiVersion: TRAEFIK_API,
        kind: 'Middleware',
        metadata: metadata(e, base, names.clientCertMiddleware),
        spec: {
          passTLSClientCert: {
            pem: true,
            // Who and which device (subject CN and O, SANs, serial), so backends can audit.
            ...(cfg.mtls.passClientCert ? { info: { notAfter: true, sans: true, serialNumber: true, subject: { commonName: true, organization: true, organizationalUnit: true } } } : {}),
          },
        },
      });
      objects.push({
        apiVersion: TRAEFIK_API,
        kind: 'Middleware',
        metadata: metadata(e, base, names.gateMiddleware),
        spec: {
          forwardAuth: {
            address: gateAddress(gate.address, e.allow),
            authRequestHeaders: ['X-Forwarded-Tls-Client-Cert', 'X-Forwarded-Tls-Client-Cert-Info'],
            authResponseHeaders: GATE_RESPONSE_HEADERS,
          },
        },
      });
      const middlewares = [{ name: names.clientCertMiddleware }, { name: names.gateMiddleware }];
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
        'labgate.dev/ca-expires': certs.map((c) => iso(c.validTo)).join('; '),
      },
    },
    type: 'Opaque',
    data: { 'ca.crt': Buffer.from(pem).toString('base64') },
  };
}
