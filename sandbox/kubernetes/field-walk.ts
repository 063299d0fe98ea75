/**
 * Walks an object together with its OpenAPI schema the way structured-merge-diff does:
 * structs (declared properties) are descended, granular maps (additionalProperties) are
 * owned key by key, lists are atomic unless `x-kubernetes-list-type` says `map` (items by
 * their key fields) or `set` (items by value), and schema-less parts are deduced from the
 * value (maps granular, lists atomic). Builds field sets, merges an applied configuration
 * into a live object, and removes fields.
 */
import { cloneJson, isPlainObject } from './json-patches.js';
import { FieldSet, pathKey, type FieldPath, type PathElement } from './field-set.js';
import type { Schema } from './openapi/builtin-definitions.js';

export interface SchemaResolver {
  resolve(s: Schema | undefined): Schema | undefined;
}

type Shape =
  | { k: 'scalar' }
  | { k: 'atomic' }
  | { k: 'struct'; fields: Record<string, Schema>; rest?: Schema }
  | { k: 'map'; values?: Schema }
  | { k: 'list'; items?: Schema; type: 'set' | 'map'; keys: string[]; defaults?: Record<string, unknown> };

/** Metadata fields the API server leaves out of managedFields (and apiVersion, kind, status). */
const OWNED_METADATA = new Set(['labels', 'annotations', 'ownerReferences', 'finalizers']);

function shapeOf(r: SchemaResolver, schema: Schema | undefined, value: unknown): Shape {
  const s = r.resolve(schema);
  const deduced = (): Shape => (isPlainObject(value) ? { k: 'map' } : Array.isArray(value) ? { k: 'atomic' } : { k: 'scalar' });
  if (!s) return deduced();
  if (s['x-kubernetes-int-or-string'] === true) return { k: 'scalar' };
  if (s['x-kubernetes-map-type'] === 'atomic' || s['x-kubernetes-list-type'] === 'atomic') return { k: 'atomic' };
  const props = isPlainObject(s.properties) ? (s.properties as Record<string, Schema>) : undefined;
  const rest = isPlainObject(s.additionalProperties) ? (s.additionalProperties as Schema) : undefined;
  if (s.type === 'array') {
    const type = s['x-kubernetes-list-type'];
    if (type === 'map') {
      const keys = (s['x-kubernetes-list-map-keys'] as string[] | undefined) ?? [];
      // A key field left out takes its schema default (a port's protocol is TCP), as structured-merge-diff does.
      const itemProps = (r.resolve(s.items as Schema)?.properties ?? {}) as Record<string, Schema>;
      const defaults = Object.fromEntries(keys.filter((k) => itemProps[k]?.default !== undefined).map((k) => [k, itemProps[k]!.default]));
      return { k: 'list', items: s.items as Schema, type: 'map', keys, defaults };
    }
    if (type === 'set') return { k: 'list', items: s.items as Schema, type: 'set', keys: [] };
    return { k: 'atomic' };
  }
  if (props && Object.keys(props).length > 0) return { k: 'struct', fields: props, rest };
  if (rest) return { k: 'map', values: rest };
  if (s.type === 'object' || s['x-kubernetes-preserve-unknown-fields'] === true) return isPlainObject(value) || value === undefined ? { k: 'map' } : deduced();
  return s.type ? { k: 'scalar' } : deduced();
}

/** The `k:` element naming an item of an associative list (key fields sorted, as JSON). */
export function itemElement(item: unknown, keys: string[], defaults: Record<string, unknown> = {}): PathElement {
  const o = isPlainObject(item) ? item : {};
  const fields: Record<string, unknown> = {};
  for (const k of [...keys].sort()) if ((o[k] ?? defaults[k]) !== undefined) fields[k] = o[k] ?? defaults[k];
  return `k:${JSON.stringify(fields)}`;
}

const valueElement = (v: unknown): PathElement => `v:${JSON.stringify(v)}`;

/** One member of a field set with, for leaves, the JSON of its value (to tell "modified" from "same"). */
export interface Member {
  path: FieldPath;
  leaf?: string;
}

/**
 * The fields an object sets. `apply` is ToFieldSet (what an applier owns); `update` also
 * counts granular maps themselves, which is how an Update manager's entry gets `f:labels: {.: {}}`.
 */
export function collect(r: SchemaResolver, root: Schema | undefined, obj: Record<string, unknown>, mode: 'apply' | 'update'): Map<string, Member> {
  const out = new Map<string, Member>();
  const add = (path: FieldPath, leaf?: unknown): void => {
    out.set(pathKey(path), { path, ...(leaf !== undefined ? { leaf: JSON.stringify(leaf) } : {}) });
  };

  const visit = (value: unknown, schema: Schema | undefined, path: FieldPath, declared: boolean): void => {
    const shape = shapeOf(r, schema, value);
    switch (shape.k) {
      case 'scalar':
      case 'atomic':
        add(path, value ?? null);
        return;
      case 'list':
        if (!Array.isArray(value)) return add(path, value ?? null);
        for (const item of value) {
          if (shape.type === 'set') add([...path, valueElement(item)], item);
          else {
            const p = [...path, itemElement(item, shape.keys, shape.defaults)];
            const itemShape = shapeOf(r, shape.items, item);
            if (itemShape.k === 'atomic' || itemShape.k === 'scalar') add(p, item);
            else {
              visitEntries(item, shape.items, p);
              add(p);
            }
          }
        }
        return;
      default:
        if (!isPlainObject(value) || Object.keys(value).length === 0) return add(path, value ?? null);
        if (shape.k === 'map' && (mode === 'update' || !declared)) add(path);
        visitEntries(value, schema, path);
    }
  };
  const visitEntries = (value: unknown, schema: Schema | undefined, path: FieldPath): void => {
    if (!isPlainObject(value)) return;
    const shape = shapeOf(r, schema, value);
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined) continue;
      const field = shape.k === 'struct' ? shape.fields[k] : undefined;
      const sub = field ?? (shape.k === 'struct' ? shape.rest : shape.k === 'map' ? shape.values : undefined);
      const p = [...path, `f:${k}`];
      visit(v, sub, p, field !== undefined);
    }
  };

  const props = isPlainObject(r.resolve(root)?.properties) ? (r.resolve(root)!.properties as Record<string, Schema>) : {};
  for (const [k, v] of Object.entries(obj)) {
    if (v === undefined || k === 'apiVersion' || k === 'kind' || k === 'status') continue;
    if (k === 'metadata') {
      const metaSchema = r.resolve(props.metadata);
      const metaProps = (metaSchema?.properties ?? {}) as Record<string, Schema>;
      for (const [mk, mv] of Object.entries(isPlainObject(v) ? v : {})) {
        if (OWNED_METADATA.has(mk) && mv !== undefined) visit(mv, metaProps[mk], ['f:metadata', `f:${mk}`], true);
      }
      continue;
    }
    visit(v, props[k], [`f:${k}`], props[k] !== undefined);
  }
  return out;
}

export const setOf = (members: Map<string, Member>): FieldSet => new FieldSet([...members.values()].map((m) => m.path));

/** structured-merge-diff's Merge: the applied configuration laid over the live object. */
export function merge(r: SchemaResolver, schema: Schema | undefined, live: unknown, config: unknown): unknown {
  if (config === undefined) return cloneJson(live);
  const shape = shapeOf(r, schema, config);
  if (shape.k === 'list' && Array.isArray(config)) {
    const out: unknown[] = Array.isArray(live) ? cloneJson(live) : [];
    for (const item of config) {
      const id = shape.type === 'set' ? valueElement(item) : itemElement(item, shape.keys, shape.defaults);
      const at = out.findIndex((x) => (shape.type === 'set' ? valueElement(x) : itemElement(x, shape.keys, shape.defaults)) === id);
      if (at < 0) out.push(cloneJson(item));
      else if (shape.type === 'map') out[at] = merge(r, shape.items, out[at], item);
    }
    return out;
  }
  if ((shape.k === 'struct' || shape.k === 'map') && isPlainObject(config)) {
    const out: Record<string, unknown> = isPlainObject(live) ? cloneJson(live) : {};
    for (const [k, v] of Object.entries(config)) {
      const sub = shape.k === 'struct' ? shape.fields[k] ?? shape.rest : shape.values;
      out[k] = merge(r, sub, out[k], v);
    }
    return out;
  }
  return cloneJson(config);
}

/**
 * Removes the fields at `paths` from `obj` (in place). A map or list that the removal empties
 * goes too, as structured-merge-diff leaves no empty container behind.
 */
export function removePaths(r: SchemaResolver, root: Schema | undefined, obj: Record<string, unknown>, paths: FieldPath[]): void {
  const props = (r.resolve(root)?.properties ?? {}) as Record<string, Schema>;
  for (const p of paths) {
    const [head, ...rest] = p;
    const field = head!.slice(2);
    if (head === 'f:metadata') {
      const metaProps = (r.resolve(props.metadata)?.properties ?? {}) as Record<string, Schema>;
      const md = obj.metadata as Record<string, unknown>;
      const [sub, ...below] = rest;
      if (!sub) continue;
      removeIn(r, metaProps[sub.slice(2)], md, sub.slice(2), below);
    } else removeIn(r, props[field], obj, field, rest);
  }
}

function removeIn(r: SchemaResolver, schema: Schema | undefined, parent: Record<string, unknown>, key: string, rest: FieldPath): void {
  const value = parent[key];
  if (value === undefined) return;
  if (rest.length === 0) {
    delete parent[key];
    return;
  }
  const [el, ...below] = rest as [PathElement, ...FieldPath];
  const shape = shapeOf(r, schema, value);
  if (Array.isArray(value) && shape.k === 'list') {
    const at = value.findIndex((x) => (shape.type === 'set' ? valueElement(x) : itemElement(x, shape.keys, shape.defaults)) === el);
    if (at < 0) return;
    if (below.length === 0) value.splice(at, 1);
    else {
      const holder = { item: value[at] };
      removeIn(r, shape.items, holder as Record<string, unknown>, 'item', below);
      if (holder.item === undefined) value.splice(at, 1);
      else value[at] = holder.item;
    }
    if (value.length === 0) delete parent[key];
    return;
  }
  if (isPlainObject(value) && el.startsWith('f:')) {
    const k = el.slice(2);
    const sub = shape.k === 'struct' ? shape.fields[k] ?? shape.rest : shape.k === 'map' ? shape.values : undefined;
    removeIn(r, sub, value, k, below);
    if (Object.keys(value).length === 0) delete parent[key];
  }
}
