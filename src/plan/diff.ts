import { createTwoFilesPatch } from 'diff';
import { stringify } from 'yaml';
import type { Change } from './model.js';

const TOP_ORDER = ['apiVersion', 'kind', 'metadata', 'type', 'spec', 'data', 'stringData'];
const META_ORDER = ['name', 'namespace', 'labels', 'annotations'];

function orderKeys(v: unknown, depth = 0, parent = ''): unknown {
  if (Array.isArray(v)) return v.map((x) => orderKeys(x, depth + 1, parent));
  if (!v || typeof v !== 'object') return v;
  const keys = Object.keys(v);
  const preferred = depth === 0 ? TOP_ORDER : parent === 'metadata' ? META_ORDER : [];
  keys.sort((a, b) => {
    const ia = preferred.indexOf(a);
    const ib = preferred.indexOf(b);
    if (ia !== -1 || ib !== -1) return (ia === -1 ? 99 : ia) - (ib === -1 ? 99 : ib);
    return a < b ? -1 : a > b ? 1 : 0;
  });
  return Object.fromEntries(keys.map((k) => [k, orderKeys((v as Record<string, unknown>)[k], depth + 1, k)]));
}

/** YAML with a stable key order, so a diff shows only real differences. */
export function toDiffYaml(state: unknown): string {
  if (state === null || state === undefined) return '';
  return stringify(orderKeys(state), { lineWidth: 0, sortMapEntries: false });
}

/** "kubernetes:traefik.io/v1alpha1/IngressRoute/media/photos-ts" → "IngressRoute/media/photos-ts". */
export function displayTarget(target: string): string {
  const [, rest = target] = target.split(/:(.*)/s);
  const parts = rest.split('/');
  // Drop the API group/version ("traefik.io/v1alpha1", "v1") from Kubernetes targets.
  if (target.startsWith('kubernetes:')) return parts.slice(parts[0]!.includes('.') ? 2 : 1).join('/');
  return rest;
}

/** The unified diff of one change: before → after as YAML. */
export function changeDiff(change: Change): string {
  const name = displayTarget(change.target);
  const patch = createTwoFilesPatch(
    change.before == null ? '/dev/null' : `a/${name}`,
    change.after == null ? '/dev/null' : `b/${name}`,
    toDiffYaml(change.before),
    toDiffYaml(change.after),
    undefined,
    undefined,
    { context: 3 },
  );
  // Drop the "Index:"/"====" preamble the library writes; keep ---/+++ and hunks.
  return patch
    .split('\n')
    .filter((l) => !l.startsWith('===') && !l.startsWith('Index:'))
    .join('\n')
    .trimEnd();
}

/** The whole plan's diff, one file section per change, in apply order. */
export function planDiff(changes: Change[]): string {
  return changes.map(changeDiff).join('\n');
}

const ANSI = { red: '\x1b[31m', green: '\x1b[32m', cyan: '\x1b[36m', bold: '\x1b[1m', reset: '\x1b[0m' };

/** Colours a unified diff for a terminal. */
export function colourDiff(diff: string): string {
  return diff
    .split('\n')
    .map((l) => {
      if (l.startsWith('+++') || l.startsWith('---')) return ANSI.bold + l + ANSI.reset;
      if (l.startsWith('+')) return ANSI.green + l + ANSI.reset;
      if (l.startsWith('-')) return ANSI.red + l + ANSI.reset;
      if (l.startsWith('@@')) return ANSI.cyan + l + ANSI.reset;
      return l;
    })
    .join('\n');
}
