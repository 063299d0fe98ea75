import { randomUUID } from 'node:crypto';
import { cloneJson, jsonEqual } from './json-patches.js';
import type { KubeObject, KubernetesState } from './kubernetes-state.js';
import { findByKind, groupVersion, resourceKey, type ResourceType } from './resource-catalog.js';

/** Names one object for the in-process API: `{ apiVersion: 'traefik.io/v1alpha1', kind: 'IngressRoute', namespace, name }`. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';
export type StoreListener = (type: WatchEventType, resource: ResourceType, object: KubeObject) => void;

/** RFC 3339 to the second, as the API serves timestamps. */
export function apiTimestamp(d = new Date()): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function itemKey(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

function resourceOf(apiVersion: string, kind: string): ResourceType {
  const r = findByKind(apiVersion, kind);
  if (!r) throw new Error(`sandbox kubernetes: no resource serves ${apiVersion} ${kind}`);
  return r;
}

/** Whether a write changed anything but metadata and status: what bumps `metadata.generation`. */
function specChanged(a: KubeObject, b: KubeObject): boolean {
  const strip = (o: KubeObject) => {
    const { metadata: _m, status: _s, ...rest } = o;
    return rest;
  };
  return !jsonEqual(strip(a), strip(b));
}

/**
 * The objects of one sandbox, kept in the caller's `KubernetesState`. It owns the
 * server-side metadata (uid, resourceVersion from one global counter, creationTimestamp,
 * generation) and calls `onChange` after every mutation. The public get/list/put/delete
 * bypass HTTP and validation (for tests and seeding); the API server uses the same store.
 */
export class ObjectStore {
  private readonly listeners = new Set<StoreListener>();

  constructor(
    private readonly state: KubernetesState,
    private readonly onChange: () => void = () => {},
  ) {
    state.objects ??= {};
    state.resourceVersion ??= 0;
  }

  /** A copy of the object, or undefined. */
  get(ref: ObjectRef): KubeObject | undefined {
    const r = resourceOf(ref.apiVersion, ref.kind);
    return this.read(r, r.namespaced ? ref.namespace : undefined, ref.name);
  }

  /** Copies of the objects of a kind, in one namespace or all, sorted by namespace then name. */
  list(apiVersion: string, kind: string, namespace?: string): KubeObject[] {
    return this.items(resourceOf(apiVersion, kind), namespace);
  }

  /**
   * Creates or replaces an object as given (no validation, no managedFields bookkeeping);
   * server-owned metadata is filled in. Returns the stored copy.
   */
  put(obj: KubeObject): KubeObject {
    const r = resourceOf(obj.apiVersion, obj.kind);
    const ns = r.namespaced ? obj.metadata.namespace ?? 'default' : undefined;
    const old = this.read(r, ns, obj.metadata.name);
    return this.write(r, cloneJson(obj), old);
  }

  /** Deletes an object; true when it existed. */
  delete(ref: ObjectRef): boolean {
    const r = resourceOf(ref.apiVersion, ref.kind);
    return this.remove(r, r.namespaced ? ref.namespace : undefined, ref.name) !== undefined;
  }

  /** The current value of the global resourceVersion counter. */
  get resourceVersion(): string {
    return String(this.state.resourceVersion);
  }

  /** Hears every mutation (the watch endpoint's feed); returns a function that stops it. */
  subscribe(listener: StoreListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A copy of one object of resource `r`. */
  read(r: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    const o = this.state.objects[resourceKey(r)]?.[itemKey(r.namespaced ? namespace : undefined, name)];
    return o ? cloneJson(o) : undefined;
  }

  /** Copies of the objects of resource `r`, in `namespace` or everywhere, sorted by namespace then name. */
  items(r: ResourceType, namespace?: string): KubeObject[] {
    const bucket = this.state.objects[resourceKey(r)] ?? {};
    return Object.values(bucket)
      .filter((o) => !namespace || !r.namespaced || o.metadata.namespace === namespace)
      .sort((a, b) => itemKey(a.metadata.namespace, a.metadata.name).localeCompare(itemKey(b.metadata.namespace, b.metadata.name)))
      .map((o) => cloneJson(o));
  }

  /** The object with server-owned metadata filled in as a write of it would (nothing stored). */
  stamp(r: ResourceType, obj: KubeObject, old: KubeObject | undefined, resourceVersion: string): KubeObject {
    obj.apiVersion = groupVersion(r);
    obj.kind = r.kind;
    const md = obj.metadata;
    if (r.namespaced) md.namespace ??= 'default';
    else delete md.namespace;
    md.uid = old?.metadata.uid ?? md.uid ?? randomUUID();
    md.creationTimestamp = old?.metadata.creationTimestamp ?? md.creationTimestamp ?? apiTimestamp();
    md.resourceVersion = resourceVersion;
    const oldGeneration = old?.metadata.generation ?? 0;
    md.generation = !old ? md.generation ?? 1 : specChanged(old, obj) ? oldGeneration + 1 : oldGeneration || 1;
    return obj;
  }

  /** Stores `obj` (replacing `old` when given) with a new resourceVersion. Returns a copy. */
  write(r: ResourceType, obj: KubeObject, old: KubeObject | undefined): KubeObject {
    this.state.resourceVersion++;
    const stored = this.stamp(r, obj, old, String(this.state.resourceVersion));
    const bucket = (this.state.objects[resourceKey(r)] ??= {});
    bucket[itemKey(stored.metadata.namespace, stored.metadata.name)] = stored;
    this.onChange();
    this.emit(old ? 'MODIFIED' : 'ADDED', r, stored);
    return cloneJson(stored);
  }

  /** Removes an object; returns what was removed. */
  remove(r: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    const bucket = this.state.objects[resourceKey(r)];
    const k = itemKey(r.namespaced ? namespace : undefined, name);
    const old = bucket?.[k];
    if (!bucket || !old) return undefined;
    delete bucket[k];
    this.state.resourceVersion++;
    old.metadata.resourceVersion = String(this.state.resourceVersion);
    this.onChange();
    this.emit('DELETED', r, old);
    return cloneJson(old);
  }

  private emit(type: WatchEventType, r: ResourceType, obj: KubeObject): void {
    for (const l of this.listeners) l(type, r, cloneJson(obj));
  }
}
