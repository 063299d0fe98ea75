// Over 300 lines on purpose: the OpenBao HTTP server's routing, auth and fault points in one place; the engines are apart.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { FaultInjector, loseAnswer, sleep, type FaultAction } from '../faults.js';
import { aclAllows } from './acl.js';
import { approleLogin, kubernetesLogin, lookupSelf, renewSelf, revokeSelf } from './auth-routes.js';
import { addBulkCertificates, type BulkCertificateSpec } from './bulk-certificates.js';
import { envelope, noHandler, OpenBaoHttpError, permissionDenied, unsupportedOperation, type HandlerResult } from './http-envelope.js';
import { LIST_MARKER_HEADER, ListVerbSocket } from './list-verb-rewriter.js';
import type { Capability, OpenBaoState } from './openbao-state.js';
import { PkiEngine } from './pki-engine.js';
import { upgradePkiState } from './issuer-store.js';
import { IssuerKeyring } from './pki-issuer.js';
import { handlePkiRequest, isUnauthenticatedPkiPath, type Operation } from './pki-routes.js';
import { checkNamespace, decodePath, jsonData, queryData, readBody, tokenFrom, writeData } from './http-request.js';
import { parseGoBool, type RequestBody } from './request-fields.js';
import { authMounts, health, healthBody, leader, mounts, onlyGet, sealStatus } from './sys-routes.js';
import { TokenStore } from './token-store.js';

export interface OpenBaoSandboxOptions {
  /** Mutated in place; persist it in `onChange`. */
  state: OpenBaoState;
  faults?: FaultInjector;
  /** Called after every mutation of `state`. */
  onChange?: () => void;
  /** Clock in unix milliseconds (token expiry, certificate validity, revocation, CRL). */
  now?: () => number;
  /** Default 0: a free port. */
  port?: number;
}

export interface RecordedRequest {
  /** LIST for list operations, whichever way they were sent. */
  method: string;
  path: string;
  /** 0 when no response was sent (dropped or hung). */
  status: number;
}

export interface OpenBaoSandbox {
  /** http://127.0.0.1:PORT */
  url: string;
  port: number;
  state: OpenBaoState;
  mount: string;
  rootToken: string;
  /** labgate's AppRole credentials. */
  approle: { roleId: string; secretId: string };
  /** labgate's Kubernetes auth role and a JWT it accepts. */
  kubernetes: { role: string; jwt: string };
  faults: FaultInjector;
  /** Every request answered (or dropped), oldest first. */
  requests: RecordedRequest[];
  /** A token with the given policies ("default" added), e.g. to test ACL denials. */
  createToken(opts: { policies: string[]; ttlSeconds?: number; maxTtlSeconds?: number }): string;
  /** New root CA as default issuer: ca/pem and ca_chain change; earlier certificates stay listed. */
  rotateCa(opts?: { keyType?: 'ec' | 'rsa'; commonName?: string; ttlSeconds?: number }): Promise<{ issuerId: string; certificatePem: string }>;
  /** Fast seeding of many certificates (see bulk-certificates.ts); returns colon-form serials. */
  addCertificates(specs: BulkCertificateSpec[], opts?: { roleName?: string }): Promise<string[]>;
  close(): Promise<void>;
}

const CAPABILITY: Record<Operation, Capability> = { read: 'read', list: 'list', update: 'update', delete: 'delete', patch: 'patch' };

const DEFAULT_FAULT_BODIES: Record<number, unknown> = {
  403: { errors: ['permission denied'] },
  429: { errors: ['rate limit quota exceeded'] },
  500: { errors: ['internal error'] },
  503: { errors: ['Vault is sealed'] },
};

/**
 * A loopback OpenBao 2.x speaking the HTTP API labgate and other clients (hvac, curl) use:
 * token, AppRole and Kubernetes auth, the PKI engine on one mount with its issuers, sys/health,
 * seal-status, leader, mounts and auth. Both `LIST /v1/...` and `GET /v1/...?list=true` work;
 * paths are percent-decoded. Faults match "METHOD /v1/path" (LIST for list operations).
 */
export async function startOpenBaoSandbox(opts: OpenBaoSandboxOptions): Promise<OpenBaoSandbox> {
  const { state } = opts;
  const now = opts.now ?? Date.now;
  const faults = opts.faults ?? new FaultInjector();
  // Bumped on every mutation, so the engine may keep derived views (the sorted serials).
  let version = 0;
  const changed = () => {
    version++;
    opts.onChange?.();
  };
  upgradePkiState(state.pki);
  const keyring = new IssuerKeyring();
  const tokens = new TokenStore(state.auth, now, changed);
  const engine = new PkiEngine({ pki: state.pki, keyring, now, changed, version: () => version });
  const listNonce = randomBytes(16).toString('hex');
  const requests: RecordedRequest[] = [];
  const sockets = new Set<net.Socket>();

  const server = http.createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) writeError(res, new OpenBaoHttpError(500, [String((err as Error)?.message ?? err)]));
    });
  });
  server.keepAliveTimeout = 5_000;

  async function handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    let op: Operation | undefined;
    let label = req.method ?? 'GET';
    let badListParam = false;
    switch (req.method) {
      case 'GET': {
        op = 'read';
        const list = url.searchParams.get('list');
        if (req.headers[LIST_MARKER_HEADER] === listNonce) op = 'list';
        else if (list !== null && list !== '') {
          const parsed = parseGoBool(list);
          if (parsed === undefined) badListParam = true;
          else if (parsed) op = 'list';
        }
        if (op === 'list') label = 'LIST';
        break;
      }
      case 'POST':
      case 'PUT':
        op = 'update';
        break;
      case 'DELETE':
        op = 'delete';
        break;
      case 'PATCH':
        op = 'patch';
        break;
    }

    let path = url.pathname;
    let pathError: OpenBaoHttpError | undefined;
    try {
      path = decodePath(url.pathname);
    } catch (err) {
      pathError = err as OpenBaoHttpError;
    }
    const recorded: RecordedRequest = { method: label, path, status: 0 };
    requests.push(recorded);
    res.on('finish', () => (recorded.status = res.statusCode));

    const fault = faults.take(`${label} ${path}`);
    if (fault && (await applyFault(fault, req, res, path))) return;
    if (faults.take(`after ${label} ${path}`)) loseAnswer(res);

    const raw = await readBody(req);
    const namespace = String(req.headers['x-vault-namespace'] ?? '');
    // OpenBao echoes the namespace it was given.
    if (namespace) res.setHeader('X-Vault-Namespace', namespace);
    let result: HandlerResult;
    try {
      if (pathError) throw pathError;
      if (!path.startsWith('/v1/')) throw new OpenBaoHttpError(404, []);
      const logical = path.slice(4).replace(/\/+$/, '');
      checkNamespace(namespace, logical);
      const direct = sysDirect(req.method ?? 'GET', logical, url.searchParams);
      if (direct) return writeDirect(res, req.method ?? 'GET', direct);
      if (badListParam) throw new OpenBaoHttpError(400, []);
      if (!op) throw unsupportedOperation();
      let data: RequestBody;
      if (op === 'update') data = writeData(raw, String(req.headers['content-type'] ?? ''));
      else if (op === 'patch') {
        if (String(req.headers['content-type'] ?? '').split(';')[0]!.trim() !== 'application/merge-patch+json') throw new OpenBaoHttpError(415, []);
        data = jsonData(raw.toString('utf8'));
      } else data = queryData(url.searchParams, op === 'list' ? ['list'] : []);
      result = await dispatch(op, logical, data, tokenFrom(req));
    } catch (err) {
      if (err instanceof OpenBaoHttpError) return writeError(res, err);
      throw err;
    }
    writeResult(res, result);
  }

  /** The sys handlers outside the logical router: no token, their own methods and bodies. */
  function sysDirect(method: string, path: string, query: URLSearchParams): { status: number; body?: unknown } | undefined {
    switch (path) {
      case 'sys/health':
        onlyGet(method, true);
        return health(state, now(), query);
      case 'sys/seal-status':
        onlyGet(method);
        return { status: 200, body: sealStatus(state) };
      case 'sys/leader':
        onlyGet(method);
        return { status: 200, body: leader() };
    }
    return undefined;
  }

  async function dispatch(op: Operation, path: string, body: RequestBody, tokenId: string | undefined): Promise<HandlerResult> {
    const mountPrefix = `${state.pki.mount}/`;
    const subpath = path.startsWith(mountPrefix) ? path.slice(mountPrefix.length) : undefined;

    // Paths that need no token.
    if (path === 'auth/approle/login') {
      if (op !== 'update') throw unsupportedOperation();
      return approleLogin(state, tokens, body);
    }
    if (path === 'auth/kubernetes/login') {
      if (op !== 'update') throw unsupportedOperation();
      return kubernetesLogin(state, tokens, body);
    }
    if (subpath !== undefined && isUnauthenticatedPkiPath(subpath)) {
      return handlePkiRequest(engine, { op, subpath, fullPath: path, body });
    }

    const token = tokens.authenticate(tokenId);
    if (!aclAllows(state.auth.policies, token.policies, path, CAPABILITY[op], op === 'list')) throw permissionDenied();

    switch (path) {
      case 'auth/token/lookup-self':
        if (op !== 'read') throw unsupportedOperation();
        return lookupSelf(tokens, token);
      case 'auth/token/renew-self':
        if (op !== 'update') throw unsupportedOperation();
        return renewSelf(tokens, token, body);
      case 'auth/token/revoke-self':
        if (op !== 'update') throw unsupportedOperation();
        return revokeSelf(tokens, token);
      case 'sys/mounts':
        if (op !== 'read') throw unsupportedOperation();
        return mounts(state);
      case 'sys/auth':
        if (op !== 'read') throw unsupportedOperation();
        return authMounts(state);
    }
    if (subpath !== undefined) return handlePkiRequest(engine, { op, subpath, fullPath: path, body });
    throw noHandler(path);
  }

  /** True when the fault answered (or swallowed) the request. */
  async function applyFault(fault: FaultAction, req: http.IncomingMessage, res: http.ServerResponse, rawPath: string): Promise<boolean> {
    if (fault.delayMs) await sleep(fault.delayMs);
    if (fault.hang) {
      req.resume();
      return true;
    }
    if (fault.drop) {
      req.socket.destroy();
      return true;
    }
    if (fault.status === undefined) return false;
    req.resume();
    const fallback = rawPath === '/v1/sys/health' && fault.status === 503 ? healthBody(state, now(), true) : (DEFAULT_FAULT_BODIES[fault.status] ?? { errors: [] });
    const body = fault.body ?? fallback;
    const text = typeof body === 'string' ? body : `${JSON.stringify(body)}\n`;
    res.writeHead(fault.status, { 'Content-Type': 'application/json', ...fault.headers });
    res.end(text);
    return true;
  }

  const front = net.createServer((socket) => {
    // http.Server would do this for connections it accepts itself; without it Nagle delays every answer.
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    server.emit('connection', new ListVerbSocket(socket, listNonce));
  });
  await new Promise<void>((resolve, reject) => {
    front.once('error', reject);
    front.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (front.address() as net.AddressInfo).port;

  const approleEntry = state.auth.approle.labgate ?? Object.values(state.auth.approle)[0];
  const k8sRole = Object.keys(state.auth.kubernetes.roles)[0] ?? '';

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    state,
    mount: state.pki.mount,
    rootToken: state.auth.rootToken,
    approle: { roleId: approleEntry?.roleId ?? '', secretId: approleEntry?.secretIds[0] ?? '' },
    kubernetes: { role: k8sRole, jwt: state.auth.kubernetes.acceptedJwts[0] ?? '' },
    faults,
    requests,
    createToken: ({ policies, ttlSeconds = 3600, maxTtlSeconds = 86400 }) =>
      tokens.create({
        policies: [...new Set(['default', ...policies])],
        ttlSeconds,
        maxTtlSeconds,
        path: 'auth/token/create',
        displayName: 'token',
      }).id,
    rotateCa: async (rotation) => {
      const issuer = await engine.rotateCa(rotation);
      return { issuerId: issuer.id, certificatePem: issuer.certificatePem };
    },
    addCertificates: async (specs, bulk) => {
      const serials = await addBulkCertificates(state.pki, keyring, specs, { now: now(), roleName: bulk?.roleName });
      changed();
      return serials;
    },
    close: async () => {
      await new Promise<void>((resolve) => {
        front.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      server.close();
    },
  };
}

/** A non-logical sys answer: JSON when there is a body, none for HEAD. */
function writeDirect(res: http.ServerResponse, method: string, answer: { status: number; body?: unknown }) {
  if (answer.body === undefined) return writeError(res, new OpenBaoHttpError(answer.status, []));
  res.writeHead(answer.status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  res.end(method === 'HEAD' ? undefined : `${JSON.stringify(answer.body)}\n`);
}

function writeError(res: http.ServerResponse, err: OpenBaoHttpError) {
  res.writeHead(err.status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  res.end(`${JSON.stringify({ errors: err.errors })}\n`);
}

function writeResult(res: http.ServerResponse, result: HandlerResult) {
  switch (result.kind) {
    case 'empty':
      res.writeHead(204, { 'Cache-Control': 'no-store' });
      res.end();
      return;
    case 'raw': {
      const body = typeof result.body === 'string' ? Buffer.from(result.body) : result.body;
      res.writeHead(body.length ? 200 : 204, { 'Content-Type': result.contentType });
      res.end(body);
      return;
    }
    case 'document':
      res.writeHead(result.status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      res.end(`${JSON.stringify(result.body)}\n`);
      return;
    case 'json':
      res.writeHead(result.status ?? 200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      res.end(`${JSON.stringify(envelope(result))}\n`);
  }
}
