import { badRequest } from './api-status.js';
import type { KubeObject } from './kubernetes-state.js';

type LabelRequirement =
  | { op: 'exists' | 'notexists'; key: string }
  | { op: 'eq' | 'neq'; key: string; value: string }
  | { op: 'in' | 'notin'; key: string; values: string[] };

export type ObjectPredicate = (obj: KubeObject) => boolean;

/** Splits on commas that are not inside `(...)`, as the apiserver's selector lexer does. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

const KEY = String.raw`[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?`;
const VALUE = String.raw`([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?`;

function parseRequirement(text: string): LabelRequirement {
  let m = new RegExp(`^(!?)\\s*(${KEY})$`).exec(text);
  if (m) return { op: m[1] ? 'notexists' : 'exists', key: m[2]! };
  m = new RegExp(`^(${KEY})\\s*(==|!=|=)\\s*(${VALUE})$`).exec(text);
  if (m) return { op: m[3] === '!=' ? 'neq' : 'eq', key: m[1]!, value: m[4]! };
  m = new RegExp(`^(${KEY})\\s+(in|notin)\\s*\\(([^)]*)\\)$`).exec(text);
  if (m) {
    const values = m[4]!.split(',').map((v) => v.trim());
    if (values.every((v) => new RegExp(`^${VALUE}$`).test(v))) return { op: m[3] as 'in' | 'notin', key: m[1]!, values };
  }
  throw badRequest(`unable to parse requirement: found '${text}', expected: identifier, '=', '==', '!=', 'in', 'notin'`);
}

/** Parses a `labelSelector` query value (`k=v`, `k==v`, `k!=v`, `k`, `!k`, `k in (a,b)`, `k notin (a)`, comma-AND). */
export function parseLabelSelector(selector: string | undefined): ObjectPredicate {
  if (!selector || !selector.trim()) return () => true;
  const reqs = splitTopLevel(selector).map(parseRequirement);
  return (obj) => {
    const labels = obj.metadata.labels ?? {};
    return reqs.every((r) => {
      const has = Object.prototype.hasOwnProperty.call(labels, r.key);
      const v = labels[r.key];
      switch (r.op) {
        case 'exists':
          return has;
        case 'notexists':
          return !has;
        case 'eq':
          return has && v === r.value;
        case 'neq':
          return !has || v !== r.value;
        case 'in':
          return has && r.values.includes(v!);
        case 'notin':
          return !has || !r.values.includes(v!);
      }
    });
  };
}

/** Fields each kind can be selected by, beyond metadata.name and metadata.namespace (as the real apiserver allows). */
const EXTRA_FIELDS: Record<string, string[]> = {
  Pod: ['spec.nodeName', 'spec.hostNetwork', 'status.phase', 'status.podIP', 'spec.serviceAccountName'],
  Secret: ['type'],
  Node: ['spec.unschedulable'],
  Namespace: ['status.phase'],
};

function fieldValue(obj: KubeObject, path: string): string {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[part] : undefined;
  }
  return cur === undefined || cur === null ? '' : String(cur);
}

/** Parses a `fieldSelector` query value (`f=v`, `f==v`, `f!=v`, comma-AND) for objects of `kind`. */
export function parseFieldSelector(selector: string | undefined, kind: string): ObjectPredicate {
  if (!selector || !selector.trim()) return () => true;
  const allowed = ['metadata.name', 'metadata.namespace', ...(EXTRA_FIELDS[kind] ?? [])];
  const reqs = splitTopLevel(selector).map((text) => {
    const m = /^([A-Za-z0-9_.]+)\s*(==|!=|=)\s*(.*)$/.exec(text);
    if (!m) throw badRequest(`invalid selector: '${selector}'; can't understand '${text}'`);
    const field = m[1]!;
    if (!allowed.includes(field)) throw badRequest(`field label not supported: ${field}`);
    return { field, negate: m[2] === '!=', value: m[3]!.trim() };
  });
  return (obj) => reqs.every((r) => (fieldValue(obj, r.field) === r.value) !== r.negate);
}
