import type { KubeObject } from './port.js';

/** One `metadata.managedFields` entry as the API serves it. */
interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  /** RFC 3339 text as served; client-node hands it over as a Date. */
  time?: string | Date;
  fieldsV1?: Record<string, unknown>;
}

/** Another writer of an object, and the fields it owns (`.spec.routes`, `.spec.tls.certResolver`). */
export interface ForeignManager {
  manager: string;
  operation: string;
  time?: string;
  fields: string[];
}

/** `f:spec` → `.spec`, `k:{"name":"x"}` → `[name="x"]`, `v:"x"` → `[="x"]`: how the API prints a field path. */
function element(key: string): string {
  if (key.startsWith('f:')) return `.${key.slice(2)}`;
  if (key.startsWith('v:')) return `[=${key.slice(2)}]`;
  if (key.startsWith('k:')) {
    try {
      return `[${Object.entries(JSON.parse(key.slice(2)) as Record<string, unknown>).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}]`;
    } catch {
      return `[${key.slice(2)}]`;
    }
  }
  return key;
}

/** The leaf paths of a FieldsV1 trie (a member with nothing below it, or marked "."). */
function leaves(node: Record<string, unknown>, prefix = ''): string[] {
  const out: string[] = [];
  for (const [k, child] of Object.entries(node)) {
    if (k === '.') continue;
    const path = prefix + element(k);
    const below = child && typeof child === 'object' ? (child as Record<string, unknown>) : {};
    const keys = Object.keys(below);
    if (keys.length === 0) out.push(path);
    else out.push(...leaves(below, path));
  }
  return out;
}

function rfc3339(t: string | Date): string {
  const d = t instanceof Date ? t : new Date(t);
  return Number.isNaN(d.getTime()) ? String(t) : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Who else writes an object: the managedFields entries of managers other than `self` (labgate's
 * field manager), with the fields each owns. A route someone edited by hand shows here as
 * `kubectl-edit` (Update) or `kubectl` (Apply) owning the fields they changed.
 */
export function foreignManagers(obj: KubeObject | null | undefined, self: string): ForeignManager[] {
  const entries = (obj?.metadata.managedFields ?? []) as ManagedFieldsEntry[];
  return entries
    .filter((e) => e.manager && e.manager !== self)
    .map((e) => ({ manager: e.manager!, operation: e.operation ?? 'Update', ...(e.time ? { time: rfc3339(e.time) } : {}), fields: leaves(e.fieldsV1 ?? {}) }))
    .filter((m) => m.fields.length > 0);
}

/** One line for people: `"kubectl-edit" (Update at 2026-…) owns .spec.entryPoints`; undefined when nobody else writes it. */
export function describeForeignManagers(obj: KubeObject | null | undefined, self: string, maxFields = 4): string | undefined {
  const others = foreignManagers(obj, self);
  if (!others.length) return undefined;
  return others
    .map((m) => {
      const shown = m.fields.slice(0, maxFields).join(', ') + (m.fields.length > maxFields ? `, and ${m.fields.length - maxFields} more` : '');
      return `"${m.manager}" (${m.operation}${m.time ? ` at ${m.time}` : ''}) owns ${shown}`;
    })
    .join('; ');
}
