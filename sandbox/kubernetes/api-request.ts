/**
 * One API request after authentication: authorization (RBAC), the small endpoints (health,
 * version, OpenAPI), discovery, the review and token subresources, and the resource verbs
 * with dry runs and table printing.
 */
import type { IncomingMessage } from 'node:http';
import { badRequest, KubeApiError, methodNotAllowed, notFound, pathNotFound, unsupportedMediaType } from './api-status.js';
import { route, VERSION_INFO, type Route } from './api-routes.js';
import type { Authenticator, UserInfo } from './authentication.js';
import type { OpenApiDocuments } from './openapi/openapi-documents.js';
import { forbiddenFor, type RbacAuthorizer, type RequestAttributes } from './rbac-authorizer.js';
import type { ListOptions, ResourceOperations, WriteOptions } from './resource-operations.js';
import { groupVersion, type ResourceType } from './resource-catalog.js';
import { toTable, wantsTable } from './table-printing.js';
import { isPlainObject } from './json-patches.js';
import { decodeProtobufObject, isProtobuf } from './protobuf-reviews.js';

/** What the handler answers: JSON (status + body + warnings), raw bytes, or a watch to start. */
export type Answer =
  | { kind: 'json'; code: number; body: unknown; warnings?: string[] }
  | { kind: 'raw'; code: number; contentType: string; body: string | Buffer }
  | { kind: 'watch'; resource: ResourceType; namespace?: string; listOpts: ListOptions };

export interface RequestContext {
  ops: ResourceOperations;
  authz: RbacAuthorizer;
  auth: Authenticator;
  openapi: OpenApiDocuments;
  serverAddress: () => string;
}

const HEALTH = new Set(['/healthz', '/livez', '/readyz']);

/** The path without a trailing slash (`/version/`, `/apis/`), as the API server's mux treats them alike. */
export function canonicalPath(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, '') : path;
}

/** The verb RBAC checks for a request (https://kubernetes.io/docs/reference/access-authn-authz/authorization/#determine-the-request-verb). */
export function requestVerb(method: string, r: Extract<Route, { type: 'resource' }>, watch: boolean): string {
  if (r.subresource === 'exec') return 'create';
  switch (method) {
    case 'GET':
    case 'HEAD':
      return r.name === undefined ? (watch ? 'watch' : 'list') : 'get';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return r.name === undefined ? 'deletecollection' : 'delete';
    default:
      return method.toLowerCase();
  }
}

function parseBody(body: string): unknown {
  if (!body) return undefined;
  try {
    return JSON.parse(body);
  } catch (e) {
    throw badRequest(`the object provided is unrecognized: json parse error: ${(e as Error).message}`);
  }
}

/** `dryRun` from the query and, for deletes, from the DeleteOptions body (kubectl --dry-run=server sends it there). */
function dryRunOf(q: URLSearchParams, body: unknown): boolean {
  const values = [...q.getAll('dryRun'), ...(isPlainObject(body) && Array.isArray(body.dryRun) ? (body.dryRun as string[]) : [])];
  for (const v of values) if (v !== 'All') throw new KubeApiError(400, 'BadRequest', `Invalid dryRun value: ${v}. Valid values are: All`);
  return values.includes('All');
}

export async function handleApiRequest(
  ctx: RequestContext,
  req: IncomingMessage,
  user: UserInfo,
  readBody: () => Promise<Buffer>,
): Promise<Answer> {
  const url = new URL(req.url ?? '/', 'https://sandbox');
  const path = canonicalPath(url.pathname);
  const method = (req.method ?? 'GET').toUpperCase();
  const q = url.searchParams;
  const r = route(path, ctx.serverAddress());
  const watch = q.get('watch') === 'true' || q.get('watch') === '1';

  if (!r || r.type === 'document') {
    const attrs: RequestAttributes = { verb: method === 'HEAD' ? 'get' : method.toLowerCase(), path };
    const known = HEALTH.has(path) || path === '/version' || path.startsWith('/openapi/') || r !== undefined;
    if (!ctx.authz.allows(user, attrs)) throw forbiddenFor(user, attrs);
    if (!known) throw pathNotFound();
    if (method !== 'GET' && method !== 'HEAD') throw methodNotAllowed();
    if (HEALTH.has(path)) return { kind: 'raw', code: 200, contentType: 'text/plain; charset=utf-8', body: 'ok' };
    if (path === '/version') return { kind: 'json', code: 200, body: VERSION_INFO };
    if (path === '/openapi/v2') {
      const doc = ctx.openapi.v2(req.headers.accept);
      return { kind: 'raw', code: 200, contentType: doc.contentType, body: doc.body };
    }
    if (path === '/openapi/v3') return { kind: 'json', code: 200, body: ctx.openapi.v3Root() };
    if (path.startsWith('/openapi/v3/')) {
      const doc = ctx.openapi.v3(path.slice('/openapi/v3/'.length));
      if (!doc) throw pathNotFound();
      return { kind: 'raw', code: 200, contentType: 'application/json', body: doc };
    }
    return { kind: 'json', code: 200, body: (r as { body: unknown }).body };
  }

  const { resource, namespace, name, subresource } = r;
  const attrs: RequestAttributes = {
    verb: requestVerb(method, r, watch),
    apiGroup: resource.group,
    resource: resource.plural,
    subresource,
    namespace,
    name,
  };
  if (!ctx.authz.allows(user, attrs)) throw forbiddenFor(user, attrs);
  if (subresource === 'exec' && resource.kind === 'Pod') throw badRequest('Upgrade request required');

  const raw = ['POST', 'PUT', 'PATCH', 'DELETE'].includes(method) ? await readBody() : Buffer.alloc(0);
  const body = raw.toString('utf8');
  // kubectl's typed commands send built-in kinds as protobuf; everything else is JSON.
  const object = (): unknown => {
    if (method === 'PATCH' || !isProtobuf(req.headers['content-type'], raw)) return parseBody(body);
    const decoded = decodeProtobufObject(raw);
    if (!decoded) throw unsupportedMediaType(['application/json', 'application/yaml']);
    return decoded;
  };
  if (resource.review) {
    if (method !== 'POST' || name !== undefined) throw methodNotAllowed();
    return { kind: 'json', code: 201, body: review(ctx, resource, user, object()) };
  }
  if (subresource === 'token' && resource.kind === 'ServiceAccount') {
    if (method !== 'POST') throw methodNotAllowed();
    return { kind: 'json', code: 201, body: tokenRequest(ctx, resource, namespace!, name!, object()) };
  }
  if (subresource !== undefined) throw pathNotFound();

  // DeleteOptions come in the body or, one by one, in the query (client-node's typed APIs send them there).
  const deleteOptions = method === 'DELETE' ? object() : undefined;
  const deleteBody =
    method === 'DELETE'
      ? { ...(isPlainObject(deleteOptions) ? deleteOptions : {}), ...(q.has('gracePeriodSeconds') ? { gracePeriodSeconds: Number(q.get('gracePeriodSeconds')) } : {}) }
      : undefined;
  const writeOpts: WriteOptions = {
    fieldManager: q.get('fieldManager') ?? undefined,
    defaultManager: (req.headers['user-agent'] ?? '').split('/')[0] || 'unknown',
    fieldValidation: q.get('fieldValidation') ?? undefined,
    dryRun: dryRunOf(q, deleteBody),
    force: q.get('force') === 'true',
  };
  const listOpts: ListOptions = {
    labelSelector: q.get('labelSelector') ?? undefined,
    fieldSelector: q.get('fieldSelector') ?? undefined,
    limit: q.has('limit') ? Number(q.get('limit')) : undefined,
    continueToken: q.get('continue') ?? undefined,
  };
  const table = wantsTable(req.headers.accept) && method === 'GET';
  const ok = (code: number, obj: unknown, warnings?: string[]): Answer => ({ kind: 'json', code, body: obj, warnings });

  if (name === undefined) {
    if (method === 'GET' && watch) return { kind: 'watch', resource, namespace, listOpts };
    if (method === 'GET') {
      const list = ctx.ops.list(resource, namespace, listOpts) as { metadata: Record<string, unknown>; items: Record<string, unknown>[] };
      if (!table) return ok(200, list);
      const items = list.items.map((o) => ({ apiVersion: groupVersion(resource), kind: resource.kind, ...o })) as never[];
      return ok(200, toTable(resource, items, list.metadata, q.get('includeObject')));
    }
    if (resource.namespaced && namespace === undefined) throw methodNotAllowed();
    if (method === 'POST') {
      const result = ctx.ops.create(resource, namespace, object(), writeOpts);
      return ok(201, result.object, result.warnings);
    }
    if (method === 'DELETE' && resource.verbs.includes('deletecollection')) return ok(200, ctx.ops.deleteCollection(resource, namespace, listOpts, writeOpts));
    throw methodNotAllowed();
  }
  if (resource.namespaced && namespace === undefined) throw pathNotFound();
  switch (method) {
    case 'GET': {
      const obj = ctx.ops.get(resource, namespace, name);
      return table ? ok(200, toTable(resource, [obj], { resourceVersion: obj.metadata.resourceVersion }, q.get('includeObject'))) : ok(200, obj);
    }
    case 'PUT': {
      const result = ctx.ops.replace(resource, namespace, name, object(), writeOpts);
      return ok(200, result.object, result.warnings);
    }
    case 'PATCH': {
      // A server-side apply that creates the object needs create as well, as kube-apiserver's patch handler checks.
      if ((req.headers['content-type'] ?? '').startsWith('application/apply-patch') && !exists(ctx, resource, namespace, name)) {
        const create = { ...attrs, verb: 'create' };
        if (!ctx.authz.allows(user, create)) throw forbiddenFor(user, create);
      }
      const result = ctx.ops.patch(resource, namespace, name, req.headers['content-type'] ?? '', body, writeOpts);
      return ok(result.created ? 201 : 200, result.object, result.warnings);
    }
    case 'DELETE':
      return ok(200, ctx.ops.delete(resource, namespace, name, deleteBody, { dryRun: writeOpts.dryRun, propagationPolicy: q.get('propagationPolicy') ?? undefined }));
    default:
      throw methodNotAllowed();
  }
}

function exists(ctx: RequestContext, r: ResourceType, namespace: string | undefined, name: string): boolean {
  try {
    ctx.ops.get(r, namespace, name);
    return true;
  } catch {
    return false;
  }
}

/** SelfSubjectReview (`kubectl auth whoami`) and SelfSubjectAccessReview (`kubectl auth can-i`). */
function review(ctx: RequestContext, r: ResourceType, user: UserInfo, body: unknown): unknown {
  const input = isPlainObject(body) ? body : {};
  const metadata = { creationTimestamp: null };
  if (r.kind === 'SelfSubjectReview') {
    return { kind: r.kind, apiVersion: groupVersion(r), metadata, status: { userInfo: { username: user.username, ...(user.uid ? { uid: user.uid } : {}), groups: user.groups, ...(user.extra ? { extra: user.extra } : {}) } } };
  }
  const spec = isPlainObject(input.spec) ? input.spec : {};
  const res = isPlainObject(spec.resourceAttributes) ? spec.resourceAttributes : undefined;
  const nonRes = isPlainObject(spec.nonResourceAttributes) ? spec.nonResourceAttributes : undefined;
  if (!res && !nonRes) {
    throw new KubeApiError(422, 'Invalid', `${r.kind}.authorization.k8s.io "" is invalid: spec.resourceAttributes: Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified`);
  }
  const attrs: RequestAttributes = res
    ? { verb: String(res.verb ?? ''), apiGroup: String(res.group ?? ''), resource: String(res.resource ?? ''), subresource: res.subresource ? String(res.subresource) : undefined, namespace: res.namespace ? String(res.namespace) : undefined, name: res.name ? String(res.name) : undefined }
    : { verb: String(nonRes!.verb ?? ''), path: String(nonRes!.path ?? '') };
  const allowed = ctx.authz.allows(user, attrs);
  return { kind: r.kind, apiVersion: groupVersion(r), metadata, spec, status: allowed ? { allowed: true, reason: 'RBAC: allowed by the sandbox RBAC authorizer' } : { allowed: false } };
}

/** `POST .../serviceaccounts/<name>/token`: a TokenRequest answered with its token. */
function tokenRequest(ctx: RequestContext, r: ResourceType, namespace: string, name: string, body: unknown): unknown {
  const input = isPlainObject(body) ? body : {};
  const spec = isPlainObject(input.spec) ? input.spec : {};
  const seconds = typeof spec.expirationSeconds === 'number' ? spec.expirationSeconds : 3600;
  if (seconds < 600) {
    throw new KubeApiError(422, 'Invalid', `TokenRequest.authentication.k8s.io "${name}" is invalid: spec.expirationSeconds: Invalid value: ${seconds}: may not specify a duration less than 10 minutes`);
  }
  const issued = ctx.auth.issueToken(namespace, name, seconds);
  if (!issued) throw notFound(r, name);
  return {
    kind: 'TokenRequest',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: { name, namespace, creationTimestamp: null },
    spec: { audiences: ['https://kubernetes.default.svc.cluster.local', 'k3s'], expirationSeconds: seconds, boundObjectRef: null },
    status: issued,
  };
}
