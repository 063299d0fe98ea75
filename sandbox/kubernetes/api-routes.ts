import {
  apiGroupDocument,
  apiGroupListDocument,
  apiResourceListDocument,
  apiVersionsDocument,
  findByPlural,
  type ResourceType,
} from './resource-catalog.js';

export const VERSION_INFO = {
  major: '1',
  minor: '33',
  gitVersion: 'v1.33.0+labgate-sandbox',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2025-01-01T00:00:00Z',
  goVersion: 'go1.24.0',
  compiler: 'gc',
  platform: 'linux/amd64',
};

/** What a request path addresses. */
export type Route =
  | { type: 'document'; body: unknown }
  | { type: 'resource'; resource: ResourceType; namespace?: string; name?: string; subresource?: string };

/** Query parameters as a plain object; repeated keys become arrays. */
export function queryObject(params: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const k of new Set(params.keys())) {
    const all = params.getAll(k);
    out[k] = all.length === 1 ? all[0]! : all;
  }
  return out;
}

/** Maps a path to a discovery document or a resource address; undefined when nothing is served there. */
export function route(path: string, serverAddress: string): Route | undefined {
  if (path === '/api') return { type: 'document', body: apiVersionsDocument(serverAddress) };
  if (path === '/apis') return { type: 'document', body: apiGroupListDocument() };
  if (path === '/version') return { type: 'document', body: VERSION_INFO };
  const segs = path.split('/').filter(Boolean).map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (segs[0] === 'api' && segs[1] === 'v1') {
    [group, version, rest] = ['', 'v1', segs.slice(2)];
  } else if (segs[0] === 'apis' && segs.length >= 2) {
    if (segs.length === 2) {
      const doc = apiGroupDocument(segs[1]!);
      return doc ? { type: 'document', body: doc } : undefined;
    }
    [group, version, rest] = [segs[1]!, segs[2]!, segs.slice(3)];
  } else return undefined;
  if (rest.length === 0) {
    const doc = apiResourceListDocument(group, version);
    return doc ? { type: 'document', body: doc } : undefined;
  }
  const namespacedType = rest[0] === 'namespaces' && rest.length >= 3 ? findByPlural(group, version, rest[2]!) : undefined;
  if (namespacedType?.namespaced) {
    if (rest.length > 5) return undefined;
    return { type: 'resource', resource: namespacedType, namespace: rest[1], name: rest[3], subresource: rest[4] };
  }
  const r = findByPlural(group, version, rest[0]!);
  if (!r || rest.length > 3) return undefined;
  return { type: 'resource', resource: r, name: rest[1], subresource: rest[2] };
}

/** The Kubernetes verb of a request, for the request log. */
export function verbOf(method: string, r: Route | undefined, watch: boolean): string {
  if (!r) return 'other';
  if (r.type === 'document') return 'discovery';
  if (r.subresource === 'exec') return 'exec';
  const item = r.name !== undefined;
  switch (method) {
    case 'GET':
      return item ? 'get' : watch ? 'watch' : 'list';
    case 'POST':
      return item ? 'other' : 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return item ? 'delete' : 'deletecollection';
    default:
      return 'other';
  }
}
