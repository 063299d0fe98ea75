// Over 300 lines on purpose: one verb per function (get, list, create, update, patch, apply, delete), sharing their checks.
import { randomBytes } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import {
  alreadyExists,
  badRequest,
  deletedStatus,
  forbidden,
  invalid,
  KubeApiError,
  notFound,
  staleConflict,
  unsupportedMediaType,
  type StatusCause,
} from './api-status.js';
import { validateCoreObject, validateMetadata } from './core-validation.js';
import type { CrdSchemas } from './crd-schemas.js';
import { recordUpdate, serverSideApply } from './field-ownership.js';
import { applyJsonPatch, applyMergePatch, cloneJson, jsonEqual, JsonPatchError, isPlainObject } from './json-patches.js';
import type { KubeObject, ObjectMeta } from './kubernetes-state.js';
import { apiTimestamp, type ObjectStore } from './object-store.js';
import { findByKind, groupVersion, RESOURCE_TYPES, type ResourceType } from './resource-catalog.js';
import { parseFieldSelector, parseLabelSelector, type ObjectPredicate } from './selectors.js';
import { applyServerDefaults, STATUS_SUBRESOURCE_KINDS } from './server-defaults.js';
import { defaultSchemaRegistry } from './openapi/default-registry.js';
import type { SchemaRegistry } from './openapi/schema-registry.js';

/** Query parameters of a write, already read from the request. */
export interface WriteOptions {
  /** `?fieldManager=`; for non-apply writes it defaults to `defaultManager`. */
  fieldManager?: string;
  /** What the apiserver derives from the User-Agent when no fieldManager is given. */
  defaultManager: string;
  /** `?fieldValidation=` Strict | Warn (default) | Ignore. */
  fieldValidation?: string;
  /** `?dryRun=All`: do everything but store. */
  dryRun?: boolean;
  /** `?force=true` on apply. */
  force?: boolean;
  /** The request's namespace, for messages that name the object. */
  namespace?: string;
}

export interface WriteResult {
  object: KubeObject;
  /** Texts for `Warning: 299 - "<text>"` headers. */
  warnings: string[];
  created: boolean;
}

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continueToken?: string;
}

const OBJECT_META_KEYS = new Set([
  'name', 'generateName', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp',
  'deletionTimestamp', 'deletionGracePeriodSeconds', 'labels', 'annotations', 'ownerReferences', 'finalizers', 'managedFields',
]);
const SERVER_OWNED_META = ['uid', 'creationTimestamp', 'generation', 'managedFields', 'deletionTimestamp', 'deletionGracePeriodSeconds'];
const UNDELETABLE_NAMESPACES = new Set(['default', 'kube-system', 'kube-public', 'kube-node-lease']);
const APPLY = 'application/apply-patch+yaml';
const JSON_PATCH = 'application/json-patch+json';
const MERGE_PATCH = 'application/merge-patch+json';
const STRATEGIC = 'application/strategic-merge-patch+json';

function randomSuffix(): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  return [...randomBytes(5)].map((b) => alphabet[b % alphabet.length]).join('');
}

/**
 * What each verb does to the objects of the store, with the apiserver's semantics:
 * defaults, CRD schema and core validation, optimistic concurrency, field ownership,
 * server-side apply, dry runs. Failures throw `KubeApiError`.
 */
export class ResourceOperations {
  constructor(
    private readonly store: ObjectStore,
    private readonly schemas: CrdSchemas,
    private readonly registry: SchemaRegistry = defaultSchemaRegistry(),
    private readonly hooks: { terminatePod?: (pod: KubeObject, graceSeconds: number) => KubeObject } = {},
  ) {}

  /** A `<Kind>List` of the objects matching the selectors, paged by `limit`/`continue`. */
  list(r: ResourceType, namespace: string | undefined, opts: ListOptions): Record<string, unknown> {
    const matches = this.matcher(r, opts);
    let items = this.store.items(r, namespace).filter(matches);
    let start = 0;
    if (opts.continueToken) {
      try {
        start = (JSON.parse(Buffer.from(opts.continueToken, 'base64url').toString('utf8')) as { start: number }).start;
      } catch {
        throw new KubeApiError(400, 'BadRequest', 'continue key is not valid: invalid continue token');
      }
    }
    const metadata: Record<string, unknown> = { resourceVersion: this.store.resourceVersion };
    items = items.slice(start);
    if (opts.limit && opts.limit > 0 && items.length > opts.limit) {
      metadata.continue = Buffer.from(JSON.stringify({ start: start + opts.limit })).toString('base64url');
      metadata.remainingItemCount = items.length - opts.limit;
      items = items.slice(0, opts.limit);
    }
    // Built-in lists leave kind and apiVersion off their items; custom resource lists keep them.
    const served = r.crd ? items : items.map(({ apiVersion: _a, kind: _k, ...rest }) => rest);
    return { kind: `${r.kind}List`, apiVersion: groupVersion(r), metadata, items: served };
  }

  /** The predicate `labelSelector` and `fieldSelector` describe (400 when malformed). */
  matcher(r: ResourceType, opts: Pick<ListOptions, 'labelSelector' | 'fieldSelector'>): ObjectPredicate {
    const byLabel = parseLabelSelector(opts.labelSelector);
    const byField = parseFieldSelector(opts.fieldSelector, r.kind);
    return (o) => byLabel(o) && byField(o);
  }

  get(r: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const obj = this.store.read(r, namespace, name);
    if (!obj) throw notFound(r, name);
    return obj;
  }

  /** POST: 201 with the stored object. */
  create(r: ResourceType, namespace: string | undefined, body: unknown, opts: WriteOptions): WriteResult {
    this.requireNamespace(r, namespace);
    const obj = this.incoming(r, namespace, body);
    if (!obj.metadata.name && obj.metadata.generateName) obj.metadata.name = `${obj.metadata.generateName}${randomSuffix()}`;
    delete obj.metadata.resourceVersion;
    const warnings: string[] = [];
    this.prepare(r, obj, undefined, opts, warnings, true);
    if (this.store.read(r, namespace, obj.metadata.name)) throw alreadyExists(r, obj.metadata.name);
    return { object: this.commit(r, obj, undefined, opts), warnings, created: true };
  }

  /** PUT: the whole object replaced; a stale `metadata.resourceVersion` is a 409. */
  replace(r: ResourceType, namespace: string | undefined, name: string, body: unknown, opts: WriteOptions): WriteResult {
    const obj = this.incoming(r, namespace, body, name);
    const old = this.get(r, namespace, name);
    this.checkResourceVersion(r, obj, old);
    const warnings: string[] = [];
    this.prepare(r, obj, old, opts, warnings, true);
    return { object: this.commit(r, obj, old, opts), warnings, created: false };
  }

  /** PATCH in one of the four patch formats (strategic merge only for built-in kinds, treated as a merge patch). */
  patch(
    r: ResourceType,
    namespace: string | undefined,
    name: string,
    contentType: string,
    rawBody: string,
    opts: WriteOptions,
  ): WriteResult {
    const type = contentType.split(';')[0]!.trim().toLowerCase();
    const accepted = r.crd ? [JSON_PATCH, MERGE_PATCH, APPLY] : [JSON_PATCH, MERGE_PATCH, STRATEGIC, APPLY];
    if (!accepted.includes(type)) throw unsupportedMediaType(accepted);
    if (type === APPLY) return this.apply(r, namespace, name, rawBody, opts);
    const old = this.get(r, namespace, name);
    const patchBody = parseJson(rawBody);
    let patched: unknown;
    if (type === JSON_PATCH) {
      try {
        patched = applyJsonPatch(old, patchBody);
      } catch (e) {
        if (!(e instanceof JsonPatchError)) throw e;
        throw e.malformed ? badRequest(e.message) : new KubeApiError(422, 'Invalid', e.message);
      }
    } else {
      if (!isPlainObject(patchBody)) throw badRequest('json: cannot unmarshal into Go value of type map[string]interface {}');
      patched = applyMergePatch(old, patchBody);
    }
    const obj = this.incoming(r, namespace, patched, name);
    this.checkResourceVersion(r, obj, old);
    const warnings: string[] = [];
    this.prepare(r, obj, old, opts, warnings, true);
    return { object: this.commit(r, obj, old, opts), warnings, created: false };
  }

  /** Server-side apply: creates when missing, otherwise merges by field ownership (see field-ownership.ts). */
  private apply(r: ResourceType, namespace: string | undefined, name: string, rawBody: string, opts: WriteOptions): WriteResult {
    if (!opts.fieldManager) throw badRequest('PATCH requests with apply content type must include fieldManager');
    let parsed: unknown;
    try {
      parsed = parseYaml(rawBody);
    } catch (e) {
      throw badRequest(`error decoding YAML: ${(e as Error).message}`);
    }
    if (!isPlainObject(parsed)) throw badRequest('error decoding YAML: the apply configuration is not an object');
    if (!parsed.kind) throw badRequest(`Object 'Kind' is missing in '${JSON.stringify(parsed)}'`);
    if (!parsed.apiVersion) throw badRequest(`Object 'apiVersion' is missing in '${JSON.stringify(parsed)}'`);
    const applied = this.incoming(r, namespace, parsed, name);
    const precondition = applied.metadata.resourceVersion;
    delete applied.metadata.resourceVersion;
    const warnings: string[] = [];
    if (r.crd) this.handleUnknownFields(r, name, this.schemas.check(applied).unknownFields, { ...opts, namespace }, warnings, true);
    const old = this.store.read(r, namespace, name);
    if (old && precondition && precondition !== old.metadata.resourceVersion) throw staleConflict(r, name);
    if (!old) this.requireNamespace(r, namespace);
    const merged = serverSideApply(old, applied, opts.fieldManager, opts.force === true, apiTimestamp(), this.registry);
    this.prepare(r, merged, old, opts, warnings, false);
    return { object: this.commit(r, merged, old, opts), warnings, created: !old };
  }

  /**
   * DELETE: the object goes at once, and so do objects it owns (unless
   * `propagationPolicy: Orphan`) and, for a Namespace, everything in it. Answers the
   * object for Pods and Namespaces, a Success `Status` otherwise, as a real apiserver.
   */
  delete(r: ResourceType, namespace: string | undefined, name: string, body: unknown, opts: { dryRun?: boolean; propagationPolicy?: string }): unknown {
    const old = this.get(r, namespace, name);
    const options = isPlainObject(body) ? body : {};
    const pre = isPlainObject(options.preconditions) ? options.preconditions : {};
    if (pre.uid && pre.uid !== old.metadata.uid) {
      throw new KubeApiError(409, 'Conflict', `Precondition failed: UID in precondition: ${String(pre.uid)}, UID in object meta: ${old.metadata.uid}`, { name, kind: r.plural });
    }
    if (pre.resourceVersion && pre.resourceVersion !== old.metadata.resourceVersion) {
      throw new KubeApiError(409, 'Conflict', `Precondition failed: ResourceVersion in precondition: ${String(pre.resourceVersion)}, ResourceVersion in object meta: ${old.metadata.resourceVersion}`, { name, kind: r.plural });
    }
    if (r.kind === 'Namespace' && UNDELETABLE_NAMESPACES.has(name)) throw forbidden(r, name, 'this namespace may not be deleted');
    const policy = opts.propagationPolicy ?? (options.propagationPolicy as string | undefined);
    if (r.kind === 'Pod') {
      // Graceful deletion: the pod stays, Terminating, until its kubelet has stopped it.
      const requested = typeof options.gracePeriodSeconds === 'number' ? options.gracePeriodSeconds : undefined;
      const grace: number = requested ?? (old.metadata.deletionGracePeriodSeconds as number | undefined) ?? Number((old.spec as { terminationGracePeriodSeconds?: number } | undefined)?.terminationGracePeriodSeconds ?? 30);
      const shortens = old.metadata.deletionGracePeriodSeconds === undefined || grace < Number(old.metadata.deletionGracePeriodSeconds);
      if (grace > 0 && this.hooks.terminatePod) {
        if (opts.dryRun || !shortens) {
          old.metadata.deletionTimestamp ??= apiTimestamp(new Date(Date.now() + grace * 1000));
          old.metadata.deletionGracePeriodSeconds ??= grace;
          return old;
        }
        return this.hooks.terminatePod(old, grace);
      }
    }
    if (!opts.dryRun) {
      this.store.remove(r, namespace, name);
      if (r.kind === 'Namespace') this.removeNamespaceContents(name);
      if (policy !== 'Orphan' && old.metadata.uid) this.removeDependents(old.metadata.uid);
    }
    if (r.kind === 'Pod' || r.kind === 'Namespace') {
      old.metadata.deletionTimestamp = apiTimestamp();
      if (r.kind === 'Namespace') old.status = { phase: 'Terminating' };
      return old;
    }
    return deletedStatus(r, name, old.metadata.uid);
  }

  /** DELETE on a collection: removes what the selectors match and answers the list of it. */
  deleteCollection(r: ResourceType, namespace: string | undefined, listOpts: ListOptions, opts: { dryRun?: boolean }): Record<string, unknown> {
    const list = this.list(r, namespace, { labelSelector: listOpts.labelSelector, fieldSelector: listOpts.fieldSelector });
    const matches = this.matcher(r, listOpts);
    const gone = this.store.items(r, namespace).filter(matches);
    if (!opts.dryRun) for (const o of gone) this.delete(r, o.metadata.namespace, o.metadata.name, undefined, {});
    return list;
  }

  private requireNamespace(r: ResourceType, namespace: string | undefined): void {
    if (!r.namespaced || !namespace) return;
    const nsType = findByKind('v1', 'Namespace')!;
    if (!this.store.read(nsType, undefined, namespace)) throw notFound(nsType, namespace);
  }

  private checkResourceVersion(r: ResourceType, obj: KubeObject, old: KubeObject): void {
    const rv = obj.metadata.resourceVersion;
    if (rv !== undefined && rv !== '' && rv !== old.metadata.resourceVersion) throw staleConflict(r, old.metadata.name);
  }

  /** The request body as an object of resource `r`: kind, apiVersion, namespace and name checked; server-owned metadata dropped. */
  private incoming(r: ResourceType, namespace: string | undefined, body: unknown, urlName?: string): KubeObject {
    if (!isPlainObject(body)) throw badRequest(`the object provided is unrecognized (must be of type ${r.kind})`);
    const obj = cloneJson(body) as KubeObject;
    const gv = groupVersion(r);
    if (obj.apiVersion !== undefined && obj.apiVersion !== gv) {
      throw badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${gv})`);
    }
    if (obj.kind !== undefined && obj.kind !== r.kind) {
      throw badRequest(`the kind in the data (${String(obj.kind)}) does not match the expected kind (${r.kind})`);
    }
    obj.apiVersion = gv;
    obj.kind = r.kind;
    const md: ObjectMeta = isPlainObject(obj.metadata) ? (obj.metadata as ObjectMeta) : ({} as ObjectMeta);
    for (const k of Object.keys(md)) if (!OBJECT_META_KEYS.has(k)) delete md[k];
    for (const k of SERVER_OWNED_META) delete md[k];
    if (r.namespaced) {
      if (md.namespace && md.namespace !== namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      if (namespace) md.namespace = namespace;
    } else delete md.namespace;
    if (urlName !== undefined) {
      if (md.name && md.name !== urlName) throw badRequest(`the name of the object (${md.name}) does not match the name on the URL (${urlName})`);
      md.name = urlName;
    }
    obj.metadata = md;
    return obj;
  }

  /**
   * Unknown fields under `fieldValidation`: Strict refuses with the API server's 400 (a strict
   * decoding error for create/update, the typed-patch error for apply), Warn warns, Ignore drops.
   * https://kubernetes.io/docs/reference/using-api/api-concepts/#field-validation
   */
  private handleUnknownFields(r: ResourceType, name: string, unknown: string[], opts: WriteOptions, warnings: string[], apply = false): void {
    if (unknown.length === 0) return;
    const mode = (opts.fieldValidation ?? 'Warn').toLowerCase();
    if (mode === 'strict') {
      if (apply) {
        const where = r.namespaced ? `${opts.namespace ?? ''}/${name}` : name;
        throw badRequest(`failed to create typed patch object (${where}; ${groupVersion(r)}, Kind=${r.kind}): ${unknown.map((f) => `.${f}: field not declared in schema`).join(', ')}`);
      }
      throw badRequest(`${r.kind} in version "${r.version}" cannot be handled as a ${r.kind}: strict decoding error: ${unknown.map((f) => `unknown field "${f}"`).join(', ')}`);
    }
    if (mode !== 'ignore') for (const f of unknown) warnings.push(`unknown field "${f}"`);
  }

  /** Defaults, schema and core validation, and (for non-apply writes) field ownership; throws 422 when invalid. */
  private prepare(r: ResourceType, obj: KubeObject, old: KubeObject | undefined, opts: WriteOptions, warnings: string[], recordOwnership: boolean): void {
    if (STATUS_SUBRESOURCE_KINDS.has(r.kind)) {
      if (old?.status !== undefined) obj.status = cloneJson(old.status);
      else delete obj.status;
    }
    applyServerDefaults(obj, old, () => this.clusterIpsInUse());
    const causes: StatusCause[] = [];
    if (r.crd) {
      const check = this.schemas.check(obj);
      this.handleUnknownFields(r, obj.metadata.name, check.unknownFields, opts, warnings);
      causes.push(...check.causes);
    }
    causes.push(...validateMetadata(obj), ...validateCoreObject(obj, old));
    if (causes.length > 0) throw invalid(r, obj.metadata.name ?? '', causes);
    if (recordOwnership) {
      obj.metadata.managedFields = recordUpdate(old, obj, opts.fieldManager || opts.defaultManager, groupVersion(r), apiTimestamp(), this.registry);
      if (obj.metadata.managedFields.length === 0) delete obj.metadata.managedFields;
    }
  }

  private commit(r: ResourceType, obj: KubeObject, old: KubeObject | undefined, opts: WriteOptions): KubeObject {
    const unchanged = old ? this.store.stamp(r, cloneJson(obj), old, old.metadata.resourceVersion ?? '') : undefined;
    // A write that changes nothing is not stored: resourceVersion stays, as on a real apiserver.
    if (old && unchanged && jsonEqual(withoutManagerTimes(unchanged), withoutManagerTimes(old))) return old;
    if (opts.dryRun) return unchanged ?? this.store.stamp(r, obj, old, '');
    return this.store.write(r, obj, old);
  }

  private clusterIpsInUse(): Set<string> {
    const services = this.store.items(findByKind('v1', 'Service')!);
    return new Set(services.map((s) => (s.spec as { clusterIP?: string } | undefined)?.clusterIP ?? '').filter(Boolean));
  }

  private removeNamespaceContents(namespace: string): void {
    for (const t of RESOURCE_TYPES.filter((x) => x.namespaced)) for (const o of this.store.items(t, namespace)) this.store.remove(t, namespace, o.metadata.name);
  }

  private removeDependents(ownerUid: string): void {
    for (const t of RESOURCE_TYPES) {
      for (const o of this.store.items(t)) {
        const owned = (o.metadata.ownerReferences ?? []).some((ref) => ref.uid === ownerUid);
        if (owned && this.store.remove(t, o.metadata.namespace, o.metadata.name) && o.metadata.uid) this.removeDependents(o.metadata.uid);
      }
    }
  }
}

function withoutManagerTimes(obj: KubeObject): KubeObject {
  const copy = cloneJson(obj);
  for (const e of copy.metadata.managedFields ?? []) e.time = '';
  return copy;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw badRequest(`error decoding patch: ${(e as Error).message}`);
  }
}
