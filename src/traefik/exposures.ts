import { isManaged, MANAGED_SELECTOR, normalize } from '../kubernetes/objects.js';
import type { KubeObject, KubernetesPort } from '../kubernetes/port.js';
import { ACCESS_MODES, type AccessMode } from './access-modes.js';
import { HOST_ANNOTATION, MODE_ANNOTATION, TRAEFIK_API } from './render.js';
import { backendOf } from './routes.js';

/** Kinds an exposure is made of, in the order they are applied. */
export const EXPOSURE_KINDS = ['Middleware', 'TLSOption', 'IngressRoute'] as const;

export interface LiveExposure {
  host: string;
  namespace: string;
  mode: AccessMode | 'unknown';
  service?: string;
  port?: number;
  /** Normalised labgate-owned objects of this exposure. */
  objects: KubeObject[];
}

/** Every labgate-owned Traefik object in the cluster (by the managed-by label); IngressRoutes may be given, already listed. */
export async function readManagedTraefikObjects(kube: KubernetesPort, ingressRoutes?: KubeObject[]): Promise<KubeObject[]> {
  const kinds = EXPOSURE_KINDS.filter((k) => !(ingressRoutes && k === 'IngressRoute'));
  const lists = await Promise.all(kinds.map((kind) => kube.list(TRAEFIK_API, kind, { labelSelector: MANAGED_SELECTOR })));
  return [...lists.flat(), ...(ingressRoutes ?? [])].filter(isManaged);
}

/** An exposure has its IngressRoute, hence a Service and port to name; without one it is a leftover of an apply that stopped half-way. */
export function isComplete(e: LiveExposure): e is LiveExposure & { service: string; port: number } {
  return e.service !== undefined && e.port !== undefined;
}

/** "mtls-strict, media/immich:2283", or what exists of an incomplete one: never a "?" or "undefined". */
export function describeExposure(e: LiveExposure): string {
  if (isComplete(e)) return `${e.mode}, ${e.namespace}/${e.service}:${e.port}`;
  const objects = e.objects.map((o) => `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`).join(', ');
  return `incomplete: ${objects || 'no objects'}, and no IngressRoute`;
}

/** Groups labgate's objects by the host annotation into exposures. */
export function groupExposures(objects: KubeObject[]): Map<string, LiveExposure> {
  const byHost = new Map<string, LiveExposure>();
  for (const obj of objects) {
    const host = obj.metadata.annotations?.[HOST_ANNOTATION];
    if (!host) continue;
    const modeText = obj.metadata.annotations?.[MODE_ANNOTATION];
    const mode = (ACCESS_MODES as readonly string[]).includes(modeText ?? '') ? (modeText as AccessMode) : 'unknown';
    let e = byHost.get(host);
    if (!e) {
      e = { host, namespace: obj.metadata.namespace ?? 'default', mode, objects: [] };
      byHost.set(host, e);
    }
    e.objects.push(normalize(obj)!);
    if (obj.kind === 'IngressRoute') {
      const b = backendOf(obj);
      if (b.service) e.service = b.service;
      if (typeof b.port === 'number') e.port = b.port;
      e.mode = mode;
    }
  }
  for (const e of byHost.values())
    e.objects.sort((a, b) => EXPOSURE_KINDS.indexOf(a.kind as never) - EXPOSURE_KINDS.indexOf(b.kind as never) || a.metadata.name.localeCompare(b.metadata.name));
  return byHost;
}
