import type { Capability, OpenBaoPolicy } from './openbao-state.js';

/**
 * OpenBao ACL evaluation, reduced to paths and capabilities: a pattern is an exact path,
 * a prefix ending in `*`, or has `+` for exactly one segment. Rules of the token's policies
 * are merged per pattern; the most specific matching pattern decides (OpenBao's priority
 * rules); `deny` wins inside it. `root` allows everything.
 */

function matches(pattern: string, path: string): boolean {
  const prefix = pattern.endsWith('*');
  const body = prefix ? pattern.slice(0, -1) : pattern;
  if (!body.includes('+')) return prefix ? path.startsWith(body) : path === body;
  const patternSegments = body.split('/');
  const pathSegments = path.split('/');
  if (!prefix && patternSegments.length !== pathSegments.length) return false;
  if (patternSegments.length > pathSegments.length) return false;
  return patternSegments.every((seg, i) => {
    const actual = pathSegments[i]!;
    if (seg === '+') return true;
    const last = i === patternSegments.length - 1;
    return prefix && last ? actual.startsWith(seg) : actual === seg;
  });
}

const firstWildcard = (p: string) => {
  const positions = [p.indexOf('+'), p.indexOf('*')].filter((i) => i >= 0);
  return positions.length ? Math.min(...positions) : p.length;
};

/** Positive when `a` outranks `b` (OpenBao's glob priority order). */
function priority(a: string, b: string): number {
  if (firstWildcard(a) !== firstWildcard(b)) return firstWildcard(a) - firstWildcard(b);
  if (a.endsWith('*') !== b.endsWith('*')) return a.endsWith('*') ? -1 : 1;
  const plus = (p: string) => p.split('+').length - 1;
  if (plus(a) !== plus(b)) return plus(b) - plus(a);
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Whether the named policies grant `capability` on `path` (no leading slash, no /v1/). */
export function aclAllows(
  policies: Record<string, OpenBaoPolicy>,
  tokenPolicies: string[],
  path: string,
  capability: Capability,
  isList: boolean,
): boolean {
  if (tokenPolicies.includes('root')) return true;
  const rules = new Map<string, Set<Capability>>();
  for (const name of tokenPolicies) {
    const policy = Object.hasOwn(policies, name) ? policies[name] : undefined;
    for (const [pattern, caps] of Object.entries(policy?.paths ?? {})) {
      const set = rules.get(pattern) ?? new Set<Capability>();
      caps.forEach((c) => set.add(c));
      rules.set(pattern, set);
    }
  }
  // Inside OpenBao a list request's path ends in "/"; an exact rule without it also counts.
  const full = isList && !path.endsWith('/') ? `${path}/` : path;
  const exact = rules.get(full) ?? (isList ? rules.get(full.replace(/\/$/, '')) : undefined);
  const best = [...rules.keys()].filter((p) => /[*+]/.test(p) && matches(p, full)).sort(priority).at(-1);
  const caps = exact ?? (best ? rules.get(best) : undefined);
  return caps !== undefined && !caps.has('deny') && caps.has(capability);
}
