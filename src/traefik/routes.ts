import type { KubeObject } from '../kubernetes/port.js';

interface RouteSpec {
  entryPoints?: string[];
  routes?: { match?: string; services?: { name?: string; port?: number | string; namespace?: string }[]; middlewares?: { name: string; namespace?: string }[] }[];
  tls?: { options?: { name: string; namespace?: string }; passthrough?: boolean } | boolean;
}

const spec = (r: KubeObject) => (r.spec ?? {}) as RouteSpec;

/** Hosts named by Host(`…`) / HostSNI(`…`) matchers in a route's rules. */
export function hostsOf(route: KubeObject): string[] {
  const out = new Set<string>();
  for (const r of spec(route).routes ?? []) {
    for (const m of (r.match ?? '').matchAll(/\bHost(?:SNI)?\(\s*((?:`[^`]*`\s*,?\s*)+)\)/g))
      for (const h of m[1]!.matchAll(/`([^`]*)`/g)) out.add(h[1]!.toLowerCase());
  }
  return [...out];
}

function regexpsOf(route: KubeObject): RegExp[] {
  const out: RegExp[] = [];
  for (const r of spec(route).routes ?? [])
    for (const m of (r.match ?? '').matchAll(/\bHost(?:SNI)?Regexp\(\s*`([^`]*)`\s*\)/g)) {
      try {
        out.push(new RegExp(m[1]!, 'i'));
      } catch {
        /* a rule Traefik itself would reject */
      }
    }
  return out;
}

/** Whether a route could serve this host: an exact Host/HostSNI, HostSNI(`*`), or a matching HostRegexp. */
export function routeServesHost(route: KubeObject, host: string, opts: { exactOnly?: boolean } = {}): boolean {
  const hosts = hostsOf(route);
  if (hosts.includes(host)) return true;
  if (opts.exactOnly) return false;
  if (route.kind === 'IngressRouteTCP' && hosts.includes('*')) return true;
  return regexpsOf(route).some((re) => re.test(host));
}

/** Entry points a route listens on; undefined means all of them. */
export function entryPointsOf(route: KubeObject): string[] | undefined {
  const eps = spec(route).entryPoints;
  return eps && eps.length ? eps : undefined;
}

export function onEntryPoint(route: KubeObject, entryPoint: string): boolean {
  const eps = entryPointsOf(route);
  return !eps || eps.includes(entryPoint);
}

/** "namespace/name" of the TLSOption a route uses, or "default". */
export function tlsOptionOf(route: KubeObject): string {
  const tls = spec(route).tls;
  if (!tls || typeof tls !== 'object' || !tls.options) return 'default';
  return `${tls.options.namespace ?? route.metadata.namespace}/${tls.options.name}`;
}

export function backendOf(route: KubeObject): { service?: string; port?: number | string } {
  const svc = spec(route).routes?.[0]?.services?.[0];
  return { service: svc?.name, port: svc?.port };
}

export function describeRoute(route: KubeObject): string {
  return `${route.kind} ${route.metadata.namespace}/${route.metadata.name}`;
}
