import type { CrdSchemas } from '../crd-schemas.js';
import { isPlainObject } from '../json-patches.js';
import { builtinDefinitionName, builtinDefinitions, ref, type Schema } from './builtin-definitions.js';

const OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';

/** `traefik.io/v1alpha1/IngressRoute` → `io.traefik.v1alpha1.IngressRoute`, as the apiserver names CRD definitions. */
export function crdDefinitionName(group: string, version: string, kind: string): string {
  return `${group.split('.').reverse().join('.')}.${version}.${kind}`;
}

/** A CRD's openAPIV3Schema as the apiserver publishes it: metadata is ObjectMeta, and the GVK is named. */
function publishedCrdSchema(raw: Schema, group: string, version: string, kind: string): Schema {
  const s = structuredClone(raw);
  const props = (isPlainObject(s.properties) ? s.properties : {}) as Record<string, Schema>;
  props.metadata = { ...ref(OBJECT_META), description: "Standard object's metadata." };
  s.properties = props;
  s['x-kubernetes-group-version-kind'] = [{ group, kind, version }];
  return s;
}

/**
 * Every schema the sandbox knows, built-in and custom, in one set of definitions: what the
 * OpenAPI endpoints publish and what server-side apply reads list and map types from.
 */
export class SchemaRegistry {
  readonly definitions: Record<string, Schema>;
  private readonly byGvk = new Map<string, string>();

  constructor(crds: CrdSchemas) {
    this.definitions = builtinDefinitions();
    for (const [name, s] of Object.entries(this.definitions)) {
      for (const g of (s['x-kubernetes-group-version-kind'] as { group: string; version: string; kind: string }[] | undefined) ?? []) {
        this.byGvk.set(`${g.group}/${g.version}/${g.kind}`, name);
      }
    }
    for (const [id, raw] of crds.entries()) {
      const [group, version, kind] = splitId(id);
      const name = crdDefinitionName(group, version, kind);
      this.definitions[name] = publishedCrdSchema(raw, group, version, kind);
      this.byGvk.set(id, name);
    }
  }

  /** The definition name of a kind (`apiVersion` as objects carry it). */
  nameOf(apiVersion: string, kind: string): string | undefined {
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
    return this.byGvk.get(`${group}/${version}/${kind}`) ?? builtinDefinitionName(group!, version!, kind);
  }

  /** The top-level schema of a kind, refs unresolved; undefined when the sandbox has none. */
  schemaOf(apiVersion: string, kind: string): Schema | undefined {
    const name = this.nameOf(apiVersion, kind);
    return name ? this.definitions[name] : undefined;
  }

  /** Follows `$ref` (and the `allOf: [{$ref}]` form v3 uses) to the schema it names. */
  resolve(s: Schema | undefined): Schema | undefined {
    let cur = s;
    for (let i = 0; cur && i < 8; i++) {
      const target = typeof cur.$ref === 'string' ? cur.$ref : Array.isArray(cur.allOf) && cur.allOf.length === 1 ? (cur.allOf[0] as Schema).$ref : undefined;
      if (typeof target !== 'string') return cur;
      const name = target.split('/').pop()!;
      const next = this.definitions[name];
      if (!next) return undefined;
      // Extensions beside the ref (x-kubernetes-list-type on a field) win over the target's.
      const { $ref: _r, allOf: _a, ...beside } = cur;
      cur = { ...next, ...beside };
    }
    return cur;
  }
}

function splitId(id: string): [string, string, string] {
  const parts = id.split('/');
  const kind = parts.pop()!;
  const version = parts.pop()!;
  return [parts.join('/'), version, kind];
}
