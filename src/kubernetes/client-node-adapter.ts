import { Agent as HttpsAgent } from 'node:https';
import { Writable } from 'node:stream';
import { createSecureContext } from 'node:tls';
import { Exec, KubeConfig, KubernetesObjectApi, PatchStrategy, type RequestContext, type V1Status } from '@kubernetes/client-node';
import { AdapterError, KubernetesError } from '../errors.js';
import type { ExecResult, KubeObject, KubeRef, KubernetesPort } from './port.js';
import { displayName } from './objects.js';

export const FIELD_MANAGER = 'labgate';

/**
 * client-node 2.x builds a new undici dispatcher for every request, so every request pays a
 * fresh TLS handshake. This reuses one per cluster/user, with keep-alive, as kubectl does.
 */
class PooledKubeConfig extends KubeConfig {
  private pooled?: { key: string; dispatcher: NonNullable<ReturnType<RequestContext['getDispatcher']>> };
  /** Every API request is aborted after this long (client-node sets no timeout of its own). */
  timeoutMs = 8_000;

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    // Aborted, not abandoned: a hung PATCH cannot land later, after the apply's lock has lapsed.
    if (!context.getSignal()) context.setSignal(AbortSignal.timeout(this.timeoutMs));
    const fresh = context.getDispatcher();
    if (!fresh) return;
    const cluster = this.getCurrentCluster();
    const user = this.getCurrentUser();
    const key = [cluster?.server, cluster?.caData, cluster?.caFile, user?.name, user?.certData, user?.certFile, user?.keyFile].join('|');
    if (this.pooled?.key !== key) this.pooled = { key, dispatcher: fresh };
    else context.setDispatcher(this.pooled.dispatcher);
  }

  /**
   * For pod exec (WebSocket): client-node caches the https.Agent per cluster, but Node builds a
   * new TLS SecureContext (parsing the CA and client key) for every connection it opens. One
   * built once and kept on the agent saves about a tenth of the CPU of a /derp-check over many nodes.
   */
  override async applyToHTTPSOptions(opts: Parameters<KubeConfig['applyToHTTPSOptions']>[0]): Promise<void> {
    await super.applyToHTTPSOptions(opts);
    const agent = (opts as { agent?: unknown }).agent;
    if (!(agent instanceof HttpsAgent) || agent.constructor !== HttpsAgent || agent.options.secureContext) return;
    const { ca, cert, key, pfx, passphrase, ciphers, crl, ecdhCurve, honorCipherOrder, dhparam, secureOptions, secureProtocol, sessionIdContext } = agent.options;
    agent.options.secureContext = createSecureContext({ ca, cert, key, pfx, passphrase, ciphers, crl, ecdhCurve, honorCipherOrder, dhparam, secureOptions, secureProtocol, sessionIdContext });
  }
}

/** Loads a kubeconfig the way kubectl does: the file in KUBECONFIG, else in-cluster or ~/.kube/config. */
export function loadKubeConfig(opts: { kubeconfig?: string; context?: string; timeoutMs?: number }): KubeConfig {
  const kc = new PooledKubeConfig();
  if (opts.timeoutMs) kc.timeoutMs = opts.timeoutMs;
  if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
  else kc.loadFromDefault();
  if (opts.context) kc.setCurrentContext(opts.context);
  return kc;
}

function statusOf(err: unknown): { status?: number; message: string } {
  const e = err as { code?: number | string; body?: unknown; message?: string; name?: string };
  // An aborted request (kubernetes.timeout) is a DOMException whose numeric code is not an HTTP status.
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return { message: 'no answer in time (kubernetes.timeout)' };
  if (typeof e.code === 'number') {
    let body = e.body;
    if (typeof body === 'string') {
      try {
        body = JSON.parse(body);
      } catch {
        /* not JSON */
      }
    }
    const msg = (body as { message?: string } | undefined)?.message;
    return { status: e.code, message: msg ?? `HTTP ${e.code}` };
  }
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if ((cause as { name?: string } | undefined)?.name === 'TimeoutError') return { message: 'no answer in time (kubernetes.timeout)' };
  return { message: cause?.code ?? cause?.message ?? e.message ?? String(err) };
}

function wrap(method: string, target: string, err: unknown): AdapterError {
  const { status, message } = statusOf(err);
  return new KubernetesError(method, target, status, `Kubernetes ${method} ${target}: ${status ? `HTTP ${status}: ` : ''}${message}`, { cause: err });
}

/** Kubernetes over @kubernetes/client-node: generic object API with server-side apply. */
export class ClientNodeKubernetes implements KubernetesPort {
  private readonly objects: KubernetesObjectApi;
  private readonly execApi: Exec;

  constructor(kc: KubeConfig) {
    this.objects = KubernetesObjectApi.makeApiClient(kc);
    this.execApi = new Exec(kc);
  }

  /** GET /apis/<group>/<version>/namespaces/<ns>/<plural>/<name> */
  async get(ref: KubeRef): Promise<KubeObject | null> {
    try {
      return (await this.objects.read({ apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, namespace: ref.namespace } })) as KubeObject;
    } catch (err) {
      if (statusOf(err).status === 404) return null;
      throw wrap('get', displayName(ref), err);
    }
  }

  /** GET /apis/<group>/<version>[/namespaces/<ns>]/<plural>?labelSelector=… */
  async list(apiVersion: string, kind: string, opts: { namespace?: string; labelSelector?: string } = {}): Promise<KubeObject[]> {
    try {
      const res = await this.objects.list(apiVersion, kind, opts.namespace, undefined, undefined, undefined, undefined, opts.labelSelector);
      return ((res.items ?? []) as KubeObject[]).map((o) => ({ ...o, apiVersion: o.apiVersion ?? apiVersion, kind: o.kind ?? kind }));
    } catch (err) {
      throw wrap('list', `${kind}${opts.namespace ? ` in ${opts.namespace}` : ''}`, err);
    }
  }

  /** PATCH …/<name>?fieldManager=labgate&force=true, Content-Type application/apply-patch+yaml */
  async apply(obj: KubeObject): Promise<KubeObject> {
    const { resourceVersion: _rv, ...metadata } = obj.metadata;
    try {
      return (await this.objects.patch({ ...obj, metadata }, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply)) as KubeObject;
    } catch (err) {
      throw wrap('apply', displayName({ ...obj, ...obj.metadata }), err);
    }
  }

  /** DELETE …/<name> */
  async delete(ref: KubeRef): Promise<void> {
    try {
      await this.objects.delete({ apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, namespace: ref.namespace } });
    } catch (err) {
      if (statusOf(err).status === 404) return;
      throw wrap('delete', displayName(ref), err);
    }
  }

  /** GET /api/v1/namespaces/<ns>/pods/<pod>/exec (WebSocket, v5/v4.channel.k8s.io) */
  async exec(req: { namespace: string; pod: string; container: string; command: string[]; timeoutMs?: number }): Promise<ExecResult> {
    const target = `pod ${req.namespace}/${req.pod} container ${req.container}`;
    const out: Buffer[] = [];
    const errOut: Buffer[] = [];
    const sink = (into: Buffer[]) =>
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          into.push(Buffer.from(chunk));
          cb();
        },
      });
    return await new Promise<ExecResult>((resolve, reject) => {
      let settled = false;
      const finish = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        fn();
      };
      const timer = setTimeout(
        () => finish(() => reject(new KubernetesError('exec', target, undefined, `Kubernetes exec ${target}: no answer in ${req.timeoutMs ?? 10_000} ms`))),
        req.timeoutMs ?? 10_000,
      );
      const onStatus = (status: V1Status) => {
        const exit = status.status === 'Success' ? 0 : Number(status.details?.causes?.find((c) => c.reason === 'ExitCode')?.message ?? 1);
        // The status frame can arrive before the last stdout frame has been handled; let the stream drain first.
        setImmediate(() =>
          finish(() => resolve({ stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(errOut).toString('utf8'), exitCode: exit })),
        );
      };
      this.execApi
        .exec(req.namespace, req.pod, req.container, req.command, sink(out), sink(errOut), null, false, onStatus)
        .then((ws) => {
          ws.on('close', () =>
            setImmediate(() =>
              finish(() => reject(new KubernetesError('exec', target, undefined, `Kubernetes exec ${target}: connection closed without an exit status`))),
            ),
          );
        })
        .catch((err) => finish(() => reject(wrap('exec', target, err))));
    });
  }
}
