/**
 * Server-side apply's field ownership (`metadata.managedFields`), per leaf as the API server
 * keeps it (structured-merge-diff's Updater): each manager owns a set of field paths;
 * associative lists are owned item by item, atomic ones whole, as the schema says.
 * - Update (create, PUT, patch): the writer takes what it added or changed; others lose it.
 * - Apply: the configuration is merged over the live object; fields this applier set before
 *   and omits now are removed unless another manager owns them; a changed field owned by
 *   another manager is a conflict (409) unless `force`, which takes it over.
 * https://kubernetes.io/docs/reference/using-api/server-side-apply/
 */
import { KubeApiError } from './api-status.js';
import { collect, merge, removePaths, setOf, type Member, type SchemaResolver } from './field-walk.js';
import { FieldSet, formatPath, type FieldPath } from './field-set.js';
import { cloneJson, jsonEqual } from './json-patches.js';
import type { KubeObject, ManagedFieldsEntry } from './kubernetes-state.js';
import type { Schema } from './openapi/builtin-definitions.js';
import { defaultSchemaRegistry } from './openapi/default-registry.js';

export { formatPath };

/** Where the schemas come from: the sandbox's registry (tests and seeds use the default one). */
export interface OwnershipSchemas extends SchemaResolver {
  schemaOf(apiVersion: string, kind: string): Schema | undefined;
}

interface Owner {
  entry: ManagedFieldsEntry;
  set: FieldSet;
  before: FieldSet;
}

function load(entries: ManagedFieldsEntry[] | undefined): Owner[] {
  return (entries ?? []).map((e) => {
    const set = FieldSet.fromFieldsV1(e.fieldsV1);
    return { entry: cloneJson(e), set, before: set };
  });
}

/** Entries sorted as the API server sorts them: Apply before Update, then by time, manager, apiVersion. */
function save(owners: Owner[], time: string): ManagedFieldsEntry[] {
  return owners
    .filter((o) => o.set.size > 0)
    .map((o) => ({
      ...o.entry,
      // A manager's time moves only when what it owns changed.
      time: o.set.equals(o.before) && o.entry.time ? o.entry.time : time,
      fieldsType: 'FieldsV1' as const,
      fieldsV1: o.set.toFieldsV1(),
    }))
    .sort((a, b) => (a.operation !== b.operation ? (a.operation < b.operation ? -1 : 1) : a.time !== b.time ? (a.time < b.time ? -1 : 1) : a.manager < b.manager ? -1 : a.manager > b.manager ? 1 : 0));
}

function ownerFor(owners: Owner[], manager: string, operation: 'Apply' | 'Update', apiVersion: string): Owner {
  // Appliers are one manager whatever apiVersion they apply with; updaters are one per apiVersion.
  let o = owners.find((x) => x.entry.manager === manager && x.entry.operation === operation && (operation === 'Apply' || x.entry.apiVersion === apiVersion) && !x.entry.subresource);
  if (!o) {
    o = { entry: { manager, operation, apiVersion, time: '', fieldsType: 'FieldsV1', fieldsV1: {} }, set: new FieldSet(), before: new FieldSet() };
    owners.push(o);
  }
  o.entry.apiVersion = apiVersion;
  return o;
}

/** How the API names a manager in a conflict: Update managers carry the apiVersion and time they wrote with. */
function printManager(e: ManagedFieldsEntry): string {
  let s = JSON.stringify(e.manager);
  if (e.subresource) s += ` with subresource ${JSON.stringify(e.subresource)}`;
  if (e.operation !== 'Update') return s;
  return e.time ? `${s} using ${e.apiVersion} at ${e.time}` : `${s} using ${e.apiVersion}`;
}

function applyConflict(conflicts: { entry: ManagedFieldsEntry; path: FieldPath }[]): KubeApiError {
  const causes = conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with ${printManager(c.entry)}`, field: formatPath(c.path) }));
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

/** What changed between two versions of an object, as structured-merge-diff's Compare says it. */
function compare(before: Map<string, Member>, after: Map<string, Member>): { changed: FieldSet; removed: FieldSet } {
  const changed = new FieldSet();
  const removed = new FieldSet();
  for (const [k, m] of after) {
    const old = before.get(k);
    if (!old || (m.leaf !== undefined && old.leaf !== m.leaf)) changed.add(m.path);
  }
  for (const [k, m] of before) if (!after.has(k)) removed.add(m.path);
  return { changed, removed };
}

/**
 * Ownership after a non-apply write (create, update, patch) by `manager`: it takes the fields it
 * added or changed, other managers lose them, and fields that are gone belong to nobody.
 */
export function recordUpdate(
  before: KubeObject | undefined,
  after: KubeObject,
  manager: string,
  apiVersion: string,
  time: string,
  schemas: OwnershipSchemas = defaultSchemaRegistry(),
): ManagedFieldsEntry[] {
  const schema = schemas.schemaOf(after.apiVersion, after.kind);
  const owners = load(before?.metadata.managedFields);
  const { changed, removed } = compare(before ? collect(schemas, schema, before, 'update') : new Map(), collect(schemas, schema, after, 'update'));
  for (const o of owners) o.set = o.set.difference(changed).difference(removed);
  if (changed.size > 0 || removed.size > 0) {
    const mine = ownerFor(owners, manager, 'Update', apiVersion);
    mine.set = mine.set.union(changed).difference(removed);
  }
  return save(owners, time);
}

/**
 * Server-side apply of `applied` (the caller's whole intent) by `manager` onto `current`.
 * Returns the merged object (metadata.managedFields set) for the caller to validate and store.
 */
export function serverSideApply(
  current: KubeObject | undefined,
  applied: KubeObject,
  manager: string,
  force: boolean,
  time: string,
  schemas: OwnershipSchemas = defaultSchemaRegistry(),
): KubeObject {
  const schema = schemas.schemaOf(applied.apiVersion, applied.kind);
  const configSet = setOf(collect(schemas, schema, applied, 'apply'));
  const owners = load(current?.metadata.managedFields);
  const mine = ownerFor(owners, manager, 'Apply', applied.apiVersion);
  const others = owners.filter((o) => o !== mine);

  const live: KubeObject = current ? cloneJson(current) : { apiVersion: applied.apiVersion, kind: applied.kind, metadata: { name: applied.metadata.name } };
  const { metadata: appliedMeta, ...appliedRest } = applied;
  const { metadata: liveMeta, ...liveRest } = live;
  const merged = merge(schemas, schema, liveRest, appliedRest) as KubeObject;
  const metaSchema = (schemas.resolve(schema)?.properties as Record<string, Schema> | undefined)?.metadata;
  merged.metadata = { ...(merge(schemas, metaSchema, liveMeta, pickOwnedMeta(appliedMeta)) as KubeObject['metadata']) };
  merged.apiVersion = applied.apiVersion;
  merged.kind = applied.kind;

  // Fields this applier set last time and leaves out now go, unless someone else owns them.
  const dropped = mine.set.difference(configSet).values().filter((p) => !others.some((o) => o.set.hasOrBelow(p)));
  removePaths(schemas, schema, merged, dropped);

  const { changed, removed } = compare(collect(schemas, schema, live, 'update'), collect(schemas, schema, merged, 'update'));
  const conflicts = others.flatMap((o) => o.set.intersection(changed).values().map((path) => ({ owner: o, path })));
  if (conflicts.length > 0 && !force) throw applyConflict(conflicts.map((c) => ({ entry: c.owner.entry, path: c.path })));
  for (const o of others) o.set = o.set.difference(changed).difference(removed);
  mine.set = configSet;
  merged.metadata.managedFields = save(owners, time);
  if (jsonEqual(merged.metadata.labels, {})) delete merged.metadata.labels;
  if (jsonEqual(merged.metadata.annotations, {})) delete merged.metadata.annotations;
  return merged;
}

function pickOwnedMeta(md: KubeObject['metadata']): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of ['name', 'namespace', 'generateName', 'labels', 'annotations', 'ownerReferences', 'finalizers']) if (md[k] !== undefined) out[k] = md[k];
  return out;
}
