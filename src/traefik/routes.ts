import type { KubeObject } from '../kubernetes/port.js';
import { ALLOW_ANNOTATION } from './render.js';

interface RouteSpec {
  entryPoints?: string[];
  routes?: { match?: string; services?: { name?: string; port?: number | string; namespace?: string }[]; middlewares?: { name: string; namespace?: string }[] }[];
  tls?: { options?: { name: string; namespace?: string }; passthrough?: boolean } | boolean;
}

const spec = (r: KubeObject) => (r.spec ?? {}) as RouteSpec;

type HostMatcher = 'Host' | 'HostSNI' | 'HostRegexp' | 'HostSNIRegexp';

const MATCHER_RE = /\b(HostSNIRegexp|HostRegexp|HostSNI|Host)\s*\(/g;
const GO_ESCAPES: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"', "'": "'" };

/** A Go interpreted string literal's body ("…" in a rule), or undefined when it is not one. */
function goString(body: string): string | undefined {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch !== '\\') {
      out += ch;
      continue;
    }
    const e = body[++i];
    if (e === undefined) return undefined;
    if (e in GO_ESCAPES) out += GO_ESCAPES[e];
    else if (e === 'x' || e === 'u' || e === 'U') {
      const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const hex = body.slice(i + 1, i + 1 + n);
      if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(hex)) return undefined;
      out += String.fromCodePoint(parseInt(hex, 16));
      i += n;
    } else if (/[0-7]/.test(e)) {
      const oct = body.slice(i, i + 3);
      if (!/^[0-7]{3}$/.test(oct)) return undefined;
      out += String.fromCharCode(parseInt(oct, 8));
      i += 2;
    } else return undefined;
  }
  return out;
}

/**
 * The arguments of the matcher whose "(" ends at `from`: backtick or double-quoted strings, as
 * Traefik's rule parser takes them (Go string literals). Undefined when they are not that.
 */
function matcherArgs(rule: string, from: number): string[] | undefined {
  const args: string[] = [];
  let i = from;
  const skip = () => {
    while (i < rule.length && /\s/.test(rule[i]!)) i++;
  };
  for (;;) {
    skip();
    const q = rule[i];
    if (q === '`') {
      const close = rule.indexOf('`', i + 1);
      if (close < 0) return undefined;
      args.push(rule.slice(i + 1, close));
      i = close + 1;
    } else if (q === '"') {
      let close = i + 1;
      while (close < rule.length && rule[close] !== '"') close += rule[close] === '\\' ? 2 : 1;
      if (close >= rule.length) return undefined;
      const value = goString(rule.slice(i + 1, close));
      if (value === undefined) return undefined;
      args.push(value);
      i = close + 1;
    } else return undefined;
    skip();
    if (rule[i] === ')') return args;
    if (rule[i] !== ',') return undefined;
    i++;
  }
}

interface RouteHosts {
  /** Host/HostSNI values, lowercased; may hold wildcards (*.example.com, **.example.com, *). */
  hosts: string[];
  regexps: RegExp[];
  /** A host matcher labgate could not read: it may serve any host. */
  opaque: boolean;
}

function routeHosts(route: KubeObject): RouteHosts {
  const out: RouteHosts = { hosts: [], regexps: [], opaque: false };
  for (const r of spec(route).routes ?? []) {
    const rule = r.match ?? '';
    for (const m of rule.matchAll(MATCHER_RE)) {
      const kind = m[1] as HostMatcher;
      const args = matcherArgs(rule, m.index! + m[0].length);
      if (!args) {
        out.opaque = true;
        continue;
      }
      if (kind === 'Host' || kind === 'HostSNI') out.hosts.push(...args.map((a) => a.toLowerCase()));
      else
        for (const a of args) {
          try {
            out.regexps.push(new RegExp(a, 'i'));
          } catch {
            // Go syntax JavaScript cannot read: it may match anything.
            out.opaque = true;
          }
        }
    }
  }
  return out;
}

/** Hosts named by Host(…) / HostSNI(…) matchers in a route's rules (backtick or double-quoted). */
export function hostsOf(route: KubeObject): string[] {
  return [...new Set(routeHosts(route).hosts)];
}

/** Whether a wildcard Host value covers the host: *.d is one label under d, **.d any depth. */
function wildcardCovers(pattern: string, host: string): boolean {
  if (pattern.startsWith('**.')) return host.endsWith(pattern.slice(2)) && host.length > pattern.length - 2;
  if (pattern.startsWith('*.')) {
    const rest = pattern.slice(1);
    return host.endsWith(rest) && host.length > rest.length && !host.slice(0, -rest.length).includes('.');
  }
  return false;
}

/**
 * Whether a route could serve this host: an exact Host/HostSNI, or (unless exactOnly) a
 * wildcard Host, HostSNI(`*`), a matching HostRegexp, or a host matcher labgate cannot read
 * (fail closed: counted as serving every host; with exactOnly, when its rule names the host).
 */
export function routeServesHost(route: KubeObject, host: string, opts: { exactOnly?: boolean } = {}): boolean {
  const found = routeHosts(route);
  if (found.hosts.includes(host)) return true;
  if (found.opaque && (spec(route).routes ?? []).some((r) => (r.match ?? '').toLowerCase().includes(host))) return true;
  if (opts.exactOnly) return false;
  if (found.opaque) return true;
  if (route.kind === 'IngressRouteTCP' && found.hosts.includes('*')) return true;
  if (found.hosts.some((h) => wildcardCovers(h, host))) return true;
  return found.regexps.some((re) => re.test(host));
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

/** The allow list an mtls-strict exposure has now: the text from the annotation, the owners from its gate Middleware's address. */
export function liveAllow(objects: KubeObject[]): { text: string; owners: string[] } | undefined {
  const gate = objects.find((o) => o.kind === 'Middleware' && (o.spec as { forwardAuth?: unknown } | undefined)?.forwardAuth && o.metadata.name.endsWith('-gate'));
  const address = (gate?.spec as { forwardAuth?: { address?: string } } | undefined)?.forwardAuth?.address;
  const owners = address ? new URL(address).searchParams.get('allow') : null;
  if (!owners) return undefined;
  return { text: gate!.metadata.annotations?.[ALLOW_ANNOTATION] ?? owners, owners: owners.split(',') };
}

/** Whether an mtls-strict exposure's route goes through labgate's gate. */
export function hasGate(objects: KubeObject[]): boolean {
  return objects.some((o) => o.kind === 'IngressRoute' && ((o.spec as { routes?: { middlewares?: { name: string }[] }[] }).routes ?? []).some((r) => (r.middlewares ?? []).some((m) => m.name.endsWith('-gate'))));
}
