/**
 * `/openapi/v2` and `/openapi/v3` as the API server publishes them: v2 one swagger document
 * (JSON, or protobuf for kubectl's client-side validation), v3 a root listing one document
 * per group-version, each with its paths (the PATCH operations declare `fieldValidation`,
 * which is how kubectl learns it may leave validation to the server) and its schemas.
 * https://kubernetes.io/docs/concepts/overview/kubernetes-api/#openapi-interface-definition
 */
import { createHash } from 'node:crypto';
import { isPlainObject } from '../json-patches.js';
import { groupVersion, RESOURCE_TYPES, type ResourceType } from '../resource-catalog.js';
import type { Schema } from './builtin-definitions.js';
import { encodeOpenApiV2 } from './protobuf-v2.js';
import type { SchemaRegistry } from './schema-registry.js';

const V3_ONLY = new Set(['nullable', 'anyOf', 'oneOf', 'not', 'x-kubernetes-validations']);

/** A schema as v2 carries it: the v3-only keywords dropped, as the API server's conversion drops them. */
function toV2(s: unknown): unknown {
  if (Array.isArray(s)) return s.map(toV2);
  if (!isPlainObject(s)) return s;
  const out: Schema = {};
  for (const [k, v] of Object.entries(s)) {
    if (V3_ONLY.has(k)) continue;
    out[k] = k === 'properties' && isPlainObject(v) ? Object.fromEntries(Object.entries(v).map(([p, ps]) => [p, toV2(ps)])) : toV2(v);
  }
  return out;
}

/** A schema as v3 carries it: refs under components, and a ref with siblings wrapped in allOf. */
function toV3(s: unknown): unknown {
  if (Array.isArray(s)) return s.map(toV3);
  if (!isPlainObject(s)) return s;
  const out: Schema = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === '$ref' && typeof v === 'string') continue;
    out[k] = k === 'properties' && isPlainObject(v) ? Object.fromEntries(Object.entries(v).map(([p, ps]) => [p, toV3(ps)])) : toV3(v);
  }
  if (typeof s.$ref === 'string') {
    const target = { $ref: s.$ref.replace('#/definitions/', '#/components/schemas/') };
    if (Object.keys(out).length === 0) return target;
    out.allOf = [target];
  }
  return out;
}

function resourcePaths(r: ResourceType): { collection: string; item: string } {
  const base = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  const prefix = r.namespaced ? `${base}/namespaces/{namespace}/${r.plural}` : `${base}/${r.plural}`;
  return { collection: prefix, item: `${prefix}/{name}` };
}

const queryParam = (name: string, description: string) => ({ name, in: 'query', description, schema: { type: 'string', uniqueItems: true } });
const WRITE_PARAMS = [
  queryParam('dryRun', 'When present, indicates that modifications should not be persisted.'),
  queryParam('fieldManager', 'fieldManager is a name associated with the actor or entity that is making these changes.'),
  queryParam('fieldValidation', 'fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: Ignore, Warn (default), Strict.'),
];

function operations(r: ResourceType, definition: string | undefined): Record<string, unknown> {
  const gvk = { group: r.group, kind: r.kind, version: r.version };
  const body = definition ? { content: { '*/*': { schema: { $ref: `#/components/schemas/${definition}` } } } } : undefined;
  const op = (action: string, verb: string, extra: Record<string, unknown> = {}) => ({
    description: `${verb} the specified ${r.kind}`,
    operationId: `${verb}${r.kind}`,
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': gvk,
    ...extra,
  });
  const { collection, item } = resourcePaths(r);
  const paths: Record<string, unknown> = {};
  if (r.review) {
    paths[collection] = { post: op('post', 'create', { parameters: WRITE_PARAMS, requestBody: body }) };
    return paths;
  }
  paths[collection] = { get: op('list', 'list'), post: op('post', 'create', { parameters: WRITE_PARAMS, requestBody: body }) };
  paths[item] = {
    get: op('get', 'read'),
    put: op('put', 'replace', { parameters: WRITE_PARAMS, requestBody: body }),
    patch: op('patch', 'patch', { parameters: [...WRITE_PARAMS, queryParam('force', 'Force is going to "force" Apply requests.')] }),
    delete: op('delete', 'delete', { parameters: [WRITE_PARAMS[0]] }),
  };
  return paths;
}

export const OPENAPI_V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';

/** The documents, built once per server (the schemas do not change while it runs). */
export class OpenApiDocuments {
  private readonly v3ByPath = new Map<string, { body: string; hash: string }>();
  private readonly v2Json: string;
  private readonly v2Proto: Buffer;

  constructor(registry: SchemaRegistry, private readonly version: string) {
    const info = { title: 'Kubernetes', version };
    const v2Definitions = toV2(registry.definitions) as Record<string, Schema>;
    this.v2Json = JSON.stringify({ swagger: '2.0', info, paths: {}, definitions: v2Definitions });
    this.v2Proto = encodeOpenApiV2({ swagger: '2.0', info, definitions: v2Definitions });
    const schemas = toV3(registry.definitions);
    const groupVersions = new Map<string, ResourceType[]>();
    for (const r of RESOURCE_TYPES) {
      const key = r.group ? `apis/${r.group}/${r.version}` : `api/${r.version}`;
      groupVersions.set(key, [...(groupVersions.get(key) ?? []), r]);
    }
    for (const [path, types] of groupVersions) {
      const paths = Object.assign({}, ...types.map((r) => operations(r, registry.nameOf(groupVersion(r), r.kind))));
      const body = JSON.stringify({ openapi: '3.0.0', info, paths, components: { schemas } });
      this.v3ByPath.set(path, { body, hash: createHash('sha512').update(body).digest('hex').toUpperCase() });
    }
  }

  /** `GET /openapi/v2`: protobuf when the client asks for it, JSON otherwise. */
  v2(accept: string | undefined): { contentType: string; body: Buffer | string } {
    if ((accept ?? '').split(',').some((a) => a.trim().startsWith(OPENAPI_V2_PROTOBUF) || a.trim().startsWith('application/com.github.proto-openapi.spec.v2.v1.0+protobuf'))) {
      return { contentType: OPENAPI_V2_PROTOBUF, body: this.v2Proto };
    }
    return { contentType: 'application/json', body: this.v2Json };
  }

  /** `GET /openapi/v3`: where each group-version's document is, with its hash. */
  v3Root(): unknown {
    return { paths: Object.fromEntries([...this.v3ByPath].map(([p, d]) => [p, { serverRelativeURL: `/openapi/v3/${p}?hash=${d.hash}` }])) };
  }

  /** `GET /openapi/v3/<api/v1|apis/g/v>`, or undefined when no such group-version is served. */
  v3(path: string): string | undefined {
    return this.v3ByPath.get(path)?.body;
  }
}
