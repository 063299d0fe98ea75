// Over 300 lines on purpose: the API server's request pipeline (auth, RBAC, faults, watch, exec) read top to bottom in one file.
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { loseAnswer, sleep, type FaultAction, type FaultInjector } from '../faults.js';
import {
  badRequest,
  faultStatus,
  KubeApiError,
  methodNotAllowed,
  notFound,
  pathNotFound,
  unauthorized,
  type KubeStatus,
} from './api-status.js';
import { CrdSchemas } from './crd-schemas.js';
import { SchemaRegistry } from './openapi/schema-registry.js';
import { OpenApiDocuments } from './openapi/openapi-documents.js';
import { canonicalPath, handleApiRequest, type RequestContext } from './api-request.js';
import { Authenticator } from './authentication.js';
import { ensureBootstrapPolicy } from './bootstrap-policy.js';
import { forbiddenFor, RbacAuthorizer } from './rbac-authorizer.js';
import { WorkloadControllers, type ControllerTiming } from './workload-controllers.js';
import { renderKubeconfig } from './kubeconfig.js';
import type { KubeObject, KubernetesState } from './kubernetes-state.js';
import { ObjectStore } from './object-store.js';
import { PodExecEndpoint, pickSubprotocol, rejectUpgrade, type ExecHandler } from './pod-exec.js';
import { findByKind, type ResourceType } from './resource-catalog.js';
import { queryObject, route, verbOf, VERSION_INFO } from './api-routes.js';
import { ResourceOperations, type ListOptions } from './resource-operations.js';
import { generateServingCertificates, type ServingCertificates } from './serving-certificates.js';
import { toTable, wantsTable } from './table-printing.js';

/** One request the sandbox received, for tests that count calls. */
export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: Record<string, string | string[]>;
  /** Kubernetes verb: list, watch, get, create, update, patch, delete, deletecollection, exec, discovery, other. */
  verb: string;
  /** HTTP status answered (101 for an exec upgrade); 0 when the connection was dropped or left hanging. */
  status: number;
  /** Set when an injected fault answered instead of the API. */
  fault?: boolean;
}

export interface KubernetesSandbox {
  /** `https://127.0.0.1:<port>` */
  url: string;
  port: number;
  token: string;
  /** PEM of the CA that signed the server certificate (generated at start unless given). */
  caPem: string;
  /** The serving CA and certificate in use, for a caller that keeps them across restarts. */
  certificates: ServingCertificates;
  /** A kubeconfig YAML for this server (see renderKubeconfig). */
  kubeconfig(namespace?: string): string;
  requests: RecordedRequest[];
  /** Direct access to the objects, bypassing HTTP and validation. */
  objects: ObjectStore;
  /** A token for a ServiceAccount (what the TokenRequest API issues), valid a year unless told otherwise. */
  tokenFor(namespace: string, serviceAccount: string, expirationSeconds?: number): string;
  /** A kubeconfig that authenticates as a ServiceAccount, so RBAC decides what it may do. */
  kubeconfigFor(namespace: string, serviceAccount: string): string;
  /** Rolls a DaemonSet's pods node by node, as `kubectl rollout restart daemonset/<name>` does. */
  rolloutRestart(namespace: string, name: string): void;
  close(): Promise<void>;
}

export interface KubernetesSandboxOptions {
  /** Where the objects live; mutated in place. Missing token/counters are filled in. */
  state: KubernetesState;
  faults?: FaultInjector;
  /** Called after every mutation of `state`. */
  onChange?: () => void;
  execHandler?: ExecHandler;
  /** Port to listen on at 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Serve with these instead of a fresh CA, so clients that trust an earlier run still do. */
  certificates?: ServingCertificates;
  /** How fast simulated pods stop and start (controllers and kubelets). */
  timing?: ControllerTiming;
}

const JSON_HEADERS = { 'Content-Type': 'application/json' };
const MAX_BODY = 3 * 1024 * 1024;

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) reject(new KubeApiError(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, code: number, body: unknown, warnings: string[] = []): void {
  if (res.headersSent || res.destroyed) return;
  const headers: Record<string, string | string[]> = { ...JSON_HEADERS };
  if (warnings.length > 0) headers.Warning = warnings.map((w) => `299 - ${JSON.stringify(w)}`);
  res.writeHead(code, headers);
  res.end(JSON.stringify(body));
}

/**
 * Starts a Kubernetes API server on 127.0.0.1 over HTTPS (a fresh CA each start) that the
 * real `@kubernetes/client-node` talks to as to a cluster: discovery, core/v1 namespaces,
 * services, secrets, configmaps, nodes, pods (with exec over WebSocket), apps/v1
 * daemonsets and the Traefik CRDs, with list/watch/get/create/update/patch/apply/delete.
 */
export async function startKubernetesSandbox(opts: KubernetesSandboxOptions): Promise<KubernetesSandbox> {
  const { state, faults } = opts;
  const onChange = opts.onChange ?? (() => {});
  if (!state.token) {
    state.token = randomBytes(24).toString('base64url');
    onChange();
  }
  const certs = opts.certificates ?? (await generateServingCertificates());
  const store = new ObjectStore(state, onChange);
  const crds = new CrdSchemas();
  const registry = new SchemaRegistry(crds);
  ensureBootstrapPolicy(store);
  const controllers = new WorkloadControllers(store, opts.timing);
  const ops = new ResourceOperations(store, crds, registry, { terminatePod: (pod, grace) => controllers.terminate(pod, grace) });
  const auth = new Authenticator(state, store);
  const authz = new RbacAuthorizer(store);
  const context: RequestContext = { ops, authz, auth, openapi: new OpenApiDocuments(registry, VERSION_INFO.gitVersion), serverAddress: () => serverAddress };
  const exec = new PodExecEndpoint(opts.execHandler);
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const watches = new Set<ServerResponse>();
  let serverAddress = '127.0.0.1:0';

  /** Plays an injected fault; true when it answered (or swallowed) the request. */
  async function playFault(fault: FaultAction, record: RecordedRequest, answer: (body: unknown, code: number, headers: Record<string, string>) => void, destroy: () => void): Promise<boolean> {
    if (fault.delayMs) await sleep(fault.delayMs);
    if (fault.hang) {
      record.fault = true;
      return true;
    }
    if (fault.drop) {
      record.fault = true;
      destroy();
      return true;
    }
    if (fault.status) {
      record.fault = true;
      record.status = fault.status;
      answer(fault.body ?? faultStatus(fault.status), fault.status, fault.headers ?? {});
      return true;
    }
    return false;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://sandbox');
    const method = (req.method ?? 'GET').toUpperCase();
    const q = url.searchParams;
    const r = route(canonicalPath(url.pathname), serverAddress);
    const watch = q.get('watch') === 'true' || q.get('watch') === '1';
    const record: RecordedRequest = { method, path: url.pathname, query: queryObject(q), verb: verbOf(method, r, watch), status: 0 };
    requests.push(record);
    const respond = (code: number, body: unknown, warnings?: string[]) => {
      record.status = code;
      sendJson(res, code, body, warnings);
    };

    const fault = faults?.take(`${method} ${url.pathname}`);
    if (fault) {
      const answered = await playFault(
        fault,
        record,
        (body, code, headers) => {
          if (res.destroyed) return;
          res.writeHead(code, { ...JSON_HEADERS, ...headers });
          res.end(typeof body === 'string' ? body : JSON.stringify(body));
        },
        () => req.socket.destroy(),
      );
      if (answered) return;
    }
    if (faults?.take(`after ${method} ${url.pathname}`)) {
      record.fault = true;
      loseAnswer(res);
    }

    try {
      const user = auth.authenticate(req.headers.authorization);
      if (!user) throw unauthorized();
      const answer = await handleApiRequest(context, req, user, () => readBody(req));
      if (answer.kind === 'watch') return startWatch(req, res, record, answer.resource, answer.namespace, answer.listOpts, q);
      if (answer.kind === 'raw') {
        record.status = answer.code;
        res.writeHead(answer.code, { 'Content-Type': answer.contentType });
        res.end(method === 'HEAD' ? undefined : answer.body);
        return;
      }
      respond(answer.code, answer.body, answer.warnings);
    } catch (e) {
      if (e instanceof KubeApiError) return respond(e.code, e.status);
      respond(500, new KubeApiError(500, 'InternalError', `Internal error occurred: ${(e as Error).message}`).status);
    }
  }

  function startWatch(
    req: IncomingMessage,
    res: ServerResponse,
    record: RecordedRequest,
    resource: ResourceType,
    namespace: string | undefined,
    listOpts: ListOptions,
    q: URLSearchParams,
  ): void {
    const matches = ops.matcher(resource, listOpts);
    record.status = 200;
    res.writeHead(200, { ...JSON_HEADERS, 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    // `kubectl get -w` asks for Tables: each event then carries a one-row Table, as the API server sends it.
    const asTable = wantsTable(req.headers.accept);
    const send = (type: string, object: KubeObject) =>
      res.write(`${JSON.stringify({ type, object: asTable ? toTable(resource, [object], { resourceVersion: object.metadata.resourceVersion }, q.get('includeObject')) : object })}\n`);
    const fromRv = q.get('resourceVersion');
    if (!fromRv || fromRv === '0') for (const o of store.items(resource, namespace).filter(matches)) send('ADDED', o);
    const stop = store.subscribe((type, r, obj) => {
      if (r === resource && (!namespace || obj.metadata.namespace === namespace) && matches(obj)) send(type, obj);
    });
    watches.add(res);
    const timeout = q.has('timeoutSeconds') ? setTimeout(() => res.end(), Number(q.get('timeoutSeconds')) * 1000) : undefined;
    const end = () => {
      stop();
      watches.delete(res);
      if (timeout) clearTimeout(timeout);
    };
    res.on('close', end);
    req.on('close', end);
  }

  async function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://sandbox');
    const method = (req.method ?? 'GET').toUpperCase();
    const r = route(url.pathname, serverAddress);
    const record: RecordedRequest = { method, path: url.pathname, query: queryObject(url.searchParams), verb: verbOf(method, r, false), status: 0 };
    requests.push(record);
    const reject = (status: KubeStatus) => {
      record.status = status.code;
      rejectUpgrade(socket, status.code, status);
    };
    socket.on('error', () => {});

    const fault = faults?.take(`${method} ${url.pathname}`);
    if (fault) {
      const answered = await playFault(
        fault,
        record,
        (body, code, headers) => rejectUpgrade(socket, code, body, headers),
        () => socket.destroy(),
      );
      if (answered) return;
    }
    const user = auth.authenticate(req.headers.authorization);
    if (!user) return reject(unauthorized().status);
    if (!r || r.type !== 'resource' || r.resource.kind !== 'Pod' || r.subresource !== 'exec' || !r.namespace || !r.name) {
      return reject(pathNotFound().status);
    }
    // Since 1.30 a WebSocket exec (a GET) needs the create verb on pods/exec, as SPDY's POST always did.
    const attrs = { verb: 'create', apiGroup: '', resource: 'pods', subresource: 'exec', namespace: r.namespace, name: r.name };
    if (!authz.allows(user, attrs)) return reject(forbiddenFor(user, attrs).status);
    const pods = findByKind('v1', 'Pod')!;
    const pod = store.read(pods, r.namespace, r.name);
    if (!pod) return reject(notFound(pods, r.name).status);
    const containers = ((pod.spec as { containers?: { name: string }[] } | undefined)?.containers ?? []).map((c) => c.name);
    const defaultContainer = pod.metadata.annotations?.['kubectl.kubernetes.io/default-container'] ?? containers[0] ?? '';
    const container = url.searchParams.get('container') || defaultContainer;
    if (!containers.includes(container)) return reject(badRequest(`container ${container} is not valid for pod ${r.name}`).status);
    const command = url.searchParams.getAll('command');
    if (command.length === 0) return reject(badRequest('you must specify at least 1 command').status);
    if (!pickSubprotocol(req.headers['sec-websocket-protocol'])) {
      return reject(badRequest('unable to upgrade connection: none of the offered subprotocols is supported (v5.channel.k8s.io, v4.channel.k8s.io)').status);
    }
    record.status = 101;
    exec.upgrade(req, socket, head, { namespace: r.namespace, pod: r.name, container, command });
  }

  const server: Server = createServer({ key: certs.keyPem, cert: certs.certPem }, (req, res) => void handle(req, res));
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => void handleUpgrade(req, socket, head));
  server.on('tlsClientError', () => {});

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as { port: number }).port;
  serverAddress = `127.0.0.1:${port}`;
  const url = `https://127.0.0.1:${port}`;

  return {
    url,
    port,
    token: state.token,
    caPem: certs.caPem,
    certificates: certs,
    kubeconfig: (namespace?: string) => renderKubeconfig({ server: url, caPem: certs.caPem, token: state.token, namespace }),
    requests,
    objects: store,
    tokenFor: (namespace: string, serviceAccount: string, expirationSeconds = 365 * 86400) => {
      const issued = auth.issueToken(namespace, serviceAccount, expirationSeconds);
      if (!issued) throw new Error(`sandbox kubernetes: no ServiceAccount ${namespace}/${serviceAccount}`);
      return issued.token;
    },
    kubeconfigFor: (namespace: string, serviceAccount: string) => {
      const issued = auth.issueToken(namespace, serviceAccount, 365 * 86400);
      if (!issued) throw new Error(`sandbox kubernetes: no ServiceAccount ${namespace}/${serviceAccount}`);
      return renderKubeconfig({ server: url, caPem: certs.caPem, token: issued.token, namespace, name: `${serviceAccount}@labgate-sandbox` });
    },
    rolloutRestart: (namespace: string, name: string) => {
      if (!controllers.rolloutRestart(namespace, name)) throw new Error(`sandbox kubernetes: no DaemonSet ${namespace}/${name}`);
    },
    close: async () => {
      controllers.close();
      for (const w of watches) w.end();
      exec.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
