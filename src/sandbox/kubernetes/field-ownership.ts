/**
 * Server-side apply's field ownership (`metadata.managedFields`), simplified on purpose:
 * a manager owns whole fields at a coarse grain — each label, each annotation, each key
 * directly under `spec` (and under other top-level maps such as a Secret's `data`), and
 * other top-level fields whole. Lists and nested objects are owned whole, never merged
 * element by element. That is enough for labgate, which owns whole objects: re-applying
 * without a field removes it, and another manager's differing value conflicts.
 */
import { KubeApiError } from './api-status.js';
import { cloneJson, jsonEqual, isPlainObject } from './json-patches.js';
import type { FieldsV1, KubeObject, ManagedFieldsEntry } from './kubernetes-state.js';

type FieldPath = string[];

const UNOWNED_TOP_LEVEL = new Set(['apiVersion', 'kind', 'metadata', 'status']);

/** The fields an object sets, at the grain ownership is tracked. */
export function fieldPaths(obj: Record<string, unknown>): FieldPath[] {
  const out: FieldPath[] = [];
  const md = isPlainObject(obj.metadata) ? obj.metadata : {};
  for (const map of ['labels', 'annotations']) {
    const m = md[map];
    if (isPlainObject(m)) for (const k of Object.keys(m)) out.push(['metadata', map, k]);
  }
  for (const whole of ['ownerReferences', 'finalizers']) if (md[whole] !== undefined) out.push(['metadata', whole]);
  for (const [k, v] of Object.entries(obj)) {
    if (UNOWNED_TOP_LEVEL.has(k) || v === undefined) continue;
    if (isPlainObject(v) && Object.keys(v).length > 0) for (const sub of Object.keys(v)) out.push([k, sub]);
    else out.push([k]);
  }
  return out;
}

const key = (p: FieldPath) => JSON.stringify(p);

export function getPath(obj: unknown, p: FieldPath): unknown {
  let cur = obj;
  for (const part of p) cur = isPlainObject(cur) ? cur[part] : undefined;
  return cur;
}

function setPath(obj: Record<string, unknown>, p: FieldPath, value: unknown): void {
  let cur = obj;
  for (const part of p.slice(0, -1)) {
    if (!isPlainObject(cur[part])) cur[part] = {};
    cur = cur[part] as Record<string, unknown>;
  }
  cur[p[p.length - 1]!] = cloneJson(value);
}

function deletePath(obj: Record<string, unknown>, p: FieldPath): void {
  const parent = getPath(obj, p.slice(0, -1));
  if (isPlainObject(parent)) delete parent[p[p.length - 1]!];
  // An emptied label or annotation map disappears, as it does on a real server.
  if (p[0] === 'metadata' && p.length === 3 && isPlainObject(parent) && Object.keys(parent).length === 0) {
    delete (obj.metadata as Record<string, unknown>)[p[1]!];
  }
}

/** `.spec.routes`, `.metadata.labels.app.kubernetes.io/name`: how the API prints a field path. */
export function formatPath(p: FieldPath): string {
  return p.map((x) => `.${x}`).join('');
}

function toFieldsV1(paths: FieldPath[]): FieldsV1 {
  const root: FieldsV1 = {};
  for (const p of paths) {
    let cur = root;
    for (const part of p) cur = cur[`f:${part}`] ??= {};
  }
  return root;
}

function fromFieldsV1(f: FieldsV1 | undefined, prefix: FieldPath = []): FieldPath[] {
  const out: FieldPath[] = [];
  for (const [k, child] of Object.entries(f ?? {})) {
    if (!k.startsWith('f:')) continue;
    const p = [...prefix, k.slice(2)];
    if (Object.keys(child).some((c) => c.startsWith('f:'))) out.push(...fromFieldsV1(child, p));
    else out.push(p);
  }
  return out;
}

interface Ownership {
  entry: ManagedFieldsEntry;
  fields: Map<string, FieldPath>;
}

function load(entries: ManagedFieldsEntry[] | undefined): Ownership[] {
  return (entries ?? []).map((entry) => ({
    entry: cloneJson(entry),
    fields: new Map(fromFieldsV1(entry.fieldsV1).map((p) => [key(p), p])),
  }));
}

function save(owners: Ownership[]): ManagedFieldsEntry[] {
  return owners
    .filter((o) => o.fields.size > 0)
    .map((o) => ({ ...o.entry, fieldsType: 'FieldsV1' as const, fieldsV1: toFieldsV1([...o.fields.values()]) }));
}

function ownerFor(
  owners: Ownership[],
  manager: string,
  operation: 'Apply' | 'Update',
  apiVersion: string,
  time: string,
): Ownership {
  let o = owners.find((x) => x.entry.manager === manager && x.entry.operation === operation);
  if (!o) {
    o = { entry: { manager, operation, apiVersion, time, fieldsType: 'FieldsV1', fieldsV1: {} }, fields: new Map() };
    owners.push(o);
  }
  o.entry.apiVersion = apiVersion;
  o.entry.time = time;
  return o;
}

/** How the API names a manager in a conflict: Update managers carry the apiVersion they wrote with. */
function printManager(e: ManagedFieldsEntry): string {
  return e.operation === 'Update' ? `"${e.manager}" using ${e.apiVersion}` : `"${e.manager}"`;
}

function applyConflict(conflicts: { entry: ManagedFieldsEntry; path: FieldPath }[]): KubeApiError {
  const causes = conflicts.map((c) => ({
    reason: 'FieldManagerConflict',
    message: `conflict with ${printManager(c.entry)}`,
    field: formatPath(c.path),
  }));
  let message: string;
  if (conflicts.length === 1) {
    message = `Apply failed with 1 conflict: conflict with ${printManager(conflicts[0]!.entry)}: ${formatPath(conflicts[0]!.path)}`;
  } else {
    const byManager = new Map<string, string[]>();
    for (const c of conflicts) {
      const m = printManager(c.entry);
      byManager.set(m, [...(byManager.get(m) ?? []), formatPath(c.path)]);
    }
    const lines = [...byManager.keys()].sort().flatMap((m) => [`conflicts with ${m}:`, ...byManager.get(m)!.map((p) => `- ${p}`)]);
    message = `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
  }
  return new KubeApiError(409, 'Conflict', message, { causes });
}

/**
 * Ownership after a non-apply write (create, update, patch) by `manager`: it takes the
 * fields whose value it changed; fields it removed belong to nobody any more.
 */
export function recordUpdate(
  before: KubeObject | undefined,
  after: KubeObject,
  manager: string,
  apiVersion: string,
  time: string,
): ManagedFieldsEntry[] {
  const owners = load(before?.metadata.managedFields);
  const afterFields = fieldPaths(after);
  const changed = afterFields.filter((f) => !before || !jsonEqual(getPath(before, f), getPath(after, f)));
  const removed = before ? fieldPaths(before).filter((f) => getPath(after, f) === undefined) : [];
  for (const o of owners) for (const f of [...changed, ...removed]) o.fields.delete(key(f));
  if (changed.length > 0) {
    const mine = ownerFor(owners, manager, 'Update', apiVersion, time);
    for (const f of changed) mine.fields.set(key(f), f);
  }
  return save(owners);
}

/**
 * Server-side apply of `applied` (the caller's whole intent) by `manager` onto `current`.
 * Fields the manager applied before and omits now are removed unless another manager
 * still owns them; a differing value owned by another manager is a 409 unless `force`.
 * Returns the merged object (metadata.managedFields set) for the caller to validate and store.
 */
export function serverSideApply(
  current: KubeObject | undefined,
  applied: KubeObject,
  manager: string,
  force: boolean,
  time: string,
): KubeObject {
  const apiVersion = applied.apiVersion;
  const appliedFields = fieldPaths(applied);
  if (!current) {
    const result = cloneJson(applied);
    const owners: Ownership[] = [];
    const mine = ownerFor(owners, manager, 'Apply', apiVersion, time);
    for (const f of appliedFields) mine.fields.set(key(f), f);
    result.metadata.managedFields = save(owners);
    return result;
  }
  const owners = load(current.metadata.managedFields);
  const isMine = (o: Ownership) => o.entry.manager === manager && o.entry.operation === 'Apply';
  const conflicts: { owner: Ownership; path: FieldPath }[] = [];
  for (const o of owners) {
    if (isMine(o)) continue;
    for (const f of appliedFields) {
      if (o.fields.has(key(f)) && !jsonEqual(getPath(current, f), getPath(applied, f))) conflicts.push({ owner: o, path: f });
    }
  }
  if (conflicts.length > 0 && !force) throw applyConflict(conflicts.map((c) => ({ entry: c.owner.entry, path: c.path })));
  for (const c of conflicts) c.owner.fields.delete(key(c.path));

  const result = cloneJson(current);
  result.apiVersion = apiVersion;
  const mine = ownerFor(owners, manager, 'Apply', apiVersion, time);
  const appliedKeys = new Set(appliedFields.map(key));
  for (const [k, f] of mine.fields) {
    if (appliedKeys.has(k)) continue;
    const ownedElsewhere = owners.some((o) => o !== mine && o.fields.has(k));
    if (!ownedElsewhere) deletePath(result, f);
  }
  for (const f of appliedFields) setPath(result, f, getPath(applied, f));
  mine.fields = new Map(appliedFields.map((f) => [key(f), f]));
  result.metadata.managedFields = save(owners);
  return result;
}
