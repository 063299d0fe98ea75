import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ApiException,
  ApisApi,
  AppsV1Api,
  CoreApi,
  CoreV1Api,
  createConfiguration,
  CustomObjectsApi,
  HttpMethod,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  RequestContext,
  setHeaderOptions,
  VersionApi,
  Watch,
  type KubernetesObject,
  type V1ConfigMap,
} from '@kubernetes/client-node';
import { FaultInjector } from '../../sandbox/faults.js';
import { defaultHomelab } from '../../sandbox/homelab.js';
import { seedKubernetesState, startKubernetesSandbox, type KubernetesSandbox, type KubernetesState } from '../../sandbox/kubernetes/index.js';

function clientConfig(sandbox: KubernetesSandbox): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(sandbox.kubeconfig());
  return kc;
}

async function apiError(p: Promise<unknown>): Promise<ApiException<{ kind: string; reason: string; message: string; code: number; details?: { name?: string; kind?: string; group?: string; causes?: { reason: string; field?: string; message: string }[] } }>> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiException) return e as never;
    throw e;
  }
  throw new Error('expected the request to fail');
}

/** A request the typed APIs cannot make, sent through client-node's own HTTP stack and kubeconfig auth. */
async function rawRequest(kc: KubeConfig, method: HttpMethod, url: string, init: { contentType?: string; body?: string; signal?: AbortSignal } = {}) {
  const ctx = new RequestContext(url, method);
  await kc.applySecurityAuthentication(ctx);
  if (init.contentType) ctx.setHeaderParam('Content-Type', init.contentType);
  if (init.body !== undefined) ctx.setBody(init.body);
  if (init.signal) ctx.setSignal(init.signal);
  const res = await createConfiguration().httpApi.send(ctx).toPromise();
  return { status: res.httpStatusCode, body: JSON.parse(await res.body.text()) as Record<string, unknown> };
}

/** ApiException bodies arrive as parsed JSON or as a string depending on the API class. */
function statusBody(e: ApiException<unknown>): Record<string, unknown> {
  return (typeof e.body === 'string' ? JSON.parse(e.body) : e.body) as Record<string, unknown>;
}

describe('sandbox Kubernetes API server', () => {
  let state: KubernetesState;
  let sandbox: KubernetesSandbox;
  let faults: FaultInjector;
  let changes = 0;
  let kc: KubeConfig;
  let core: CoreV1Api;

  beforeAll(async () => {
    state = seedKubernetesState(defaultHomelab());
    faults = new FaultInjector();
    sandbox = await startKubernetesSandbox({ state, faults, onChange: () => changes++ });
    kc = clientConfig(sandbox);
    core = kc.makeApiClient(CoreV1Api);
  });

  afterAll(async () => {
    await sandbox.close();
  });

  describe('transport and authentication', () => {
    it('serves HTTPS on 127.0.0.1 with a certificate the kubeconfig CA verifies', async () => {
      expect(sandbox.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const list = await core.listNamespace();
      expect(list.items.map((n) => n.metadata?.name)).toContain('kube-system');
    });

    it('GIVEN a kubeconfig without the CA WHEN a client connects THEN TLS verification fails', async () => {
      const noCa = new KubeConfig();
      noCa.loadFromOptions({
        clusters: [{ name: 'c', server: sandbox.url, skipTLSVerify: false }],
        users: [{ name: 'u', token: sandbox.token }],
        contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
        currentContext: 'x',
      });
      await expect(noCa.makeApiClient(CoreV1Api).listNamespace()).rejects.toThrow();
    });

    it('GIVEN no bearer token WHEN listing THEN answers 403 for system:anonymous, as an apiserver with anonymous auth on (the default) does', async () => {
      const anon = new KubeConfig();
      anon.loadFromOptions({
        clusters: [{ name: 'c', server: sandbox.url, caData: Buffer.from(sandbox.caPem).toString('base64') }],
        users: [{ name: 'u' }],
        contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
        currentContext: 'x',
      });
      // Anonymous requests are authenticated as system:anonymous and refused by RBAC, not with 401
      // (https://kubernetes.io/docs/reference/access-authn-authz/authentication/#anonymous-requests).
      const res = await rawRequest(anon, HttpMethod.GET, `${sandbox.url}/api/v1/namespaces`);
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({
        kind: 'Status',
        status: 'Failure',
        reason: 'Forbidden',
        message: 'namespaces is forbidden: User "system:anonymous" cannot list resource "namespaces" in API group "" at the cluster scope',
        details: { kind: 'namespaces' },
        code: 403,
      });
      // Discovery is for authenticated users only (system:discovery).
      const discovery = await apiError(KubernetesObjectApi.makeApiClient(anon).list('v1', 'Namespace'));
      expect(statusBody(discovery).message).toBe('forbidden: User "system:anonymous" cannot get path "/api/v1"');
      // Health and version are public, as system:public-info-viewer grants them to everyone.
      expect((await anon.makeApiClient(VersionApi).getCode()).major).toBe('1');
    });

    it('GIVEN a wrong bearer token WHEN reading discovery THEN answers 401', async () => {
      const wrong = new KubeConfig();
      wrong.loadFromString(sandbox.kubeconfig().replace(sandbox.token, 'not-the-token'));
      const err = await apiError(wrong.makeApiClient(CoreApi).getAPIVersions());
      expect(err.code).toBe(401);
    });
  });

  describe('discovery', () => {
    it('answers /api, /apis and the resource lists with kinds, verbs and scope', async () => {
      const versions = await kc.makeApiClient(CoreApi).getAPIVersions();
      expect(versions.versions).toEqual(['v1']);
      const groups = await kc.makeApiClient(ApisApi).getAPIVersions();
      expect(groups.groups.map((g) => g.name).sort()).toEqual(['apps', 'authentication.k8s.io', 'authorization.k8s.io', 'coordination.k8s.io', 'rbac.authorization.k8s.io', 'traefik.io']);
      const coreResources = await core.getAPIResources();
      const secrets = coreResources.resources.find((r) => r.name === 'secrets');
      expect(secrets).toMatchObject({ kind: 'Secret', namespaced: true });
      expect(secrets?.verbs).toEqual(expect.arrayContaining(['create', 'get', 'list', 'patch', 'update', 'delete']));
      expect(coreResources.resources.find((r) => r.name === 'nodes')?.namespaced).toBe(false);
      const traefik = await kc.makeApiClient(CustomObjectsApi).getAPIResources({ group: 'traefik.io', version: 'v1alpha1' });
      expect(traefik.resources.map((r) => r.kind).sort()).toEqual(
        ['IngressRoute', 'IngressRouteTCP', 'Middleware', 'ServersTransport', 'TLSOption', 'TLSStore'].sort(),
      );
    });

    it('lets KubernetesObjectApi find custom resources through GET /apis/<group>/<version>', async () => {
      const objects = KubernetesObjectApi.makeApiClient(kc);
      const route = await objects.read({ apiVersion: 'traefik.io/v1alpha1', kind: 'IngressRoute', metadata: { name: 'argocd-server', namespace: 'argocd' } });
      expect((route as KubernetesObject & { spec: { entryPoints: string[] } }).spec.entryPoints).toEqual(['websecure']);
      expect(sandbox.requests.some((r) => r.method === 'GET' && r.path === '/apis/traefik.io/v1alpha1' && r.verb === 'discovery')).toBe(true);
    });

    it('answers an unknown path with 404 NotFound and a Status', async () => {
      const objects = KubernetesObjectApi.makeApiClient(kc);
      await expect(objects.read({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'x', namespace: 'default' } })).rejects.toThrow(
        /Failed to fetch resource metadata for example\.com\/v1\/Widget/,
      );
    });
  });

  describe('core resources', () => {
    it('lists services, nodes and pods through CoreV1Api', async () => {
      const services = await core.listServiceForAllNamespaces();
      const immich = services.items.find((s) => s.metadata?.name === 'immich');
      expect(immich?.spec?.ports?.[0]).toMatchObject({ name: 'http', port: 2283, targetPort: 2283, protocol: 'TCP' });
      expect(immich?.spec?.clusterIP).toMatch(/^10\.43\./);
      const nodes = await core.listNode();
      expect(nodes.items.map((n) => n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address)).toEqual([
        '192.168.10.21',
        '192.168.10.22',
        '192.168.10.23',
      ]);
      const pods = await core.listNamespacedPod({ namespace: 'traefik', labelSelector: 'app.kubernetes.io/name=traefik' });
      expect(pods.items).toHaveLength(3);
      expect(pods.items.every((p) => p.status?.phase === 'Running' && p.spec?.hostNetwork === true)).toBe(true);
      expect(pods.kind).toBe('PodList');
      expect(Number(pods.metadata?.resourceVersion)).toBeGreaterThan(0);
    });

    it('lists a namespaced custom resource across all namespaces', async () => {
      const all = (await kc.makeApiClient(CustomObjectsApi).listClusterCustomObject({ group: 'traefik.io', version: 'v1alpha1', plural: 'middlewares' })) as {
        kind: string;
        items: KubernetesObject[];
      };
      expect(all.kind).toBe('MiddlewareList');
      expect(all.items.map((m) => `${m.metadata?.namespace}/${m.metadata?.name}`)).toContain('traefik/oidc-auth');
      expect(all.items[0]?.apiVersion).toBe('traefik.io/v1alpha1');
    });

    it('GIVEN an existing ConfigMap WHEN created again THEN answers 409 AlreadyExists', async () => {
      const cm: V1ConfigMap = { metadata: { name: 'twice', namespace: 'media' }, data: { a: '1' } };
      const created = await core.createNamespacedConfigMap({ namespace: 'media', body: cm });
      expect(created.metadata?.uid).toBeTruthy();
      expect(created.metadata?.creationTimestamp).toBeInstanceOf(Date);
      const err = await apiError(core.createNamespacedConfigMap({ namespace: 'media', body: cm }));
      expect(err.code).toBe(409);
      expect(statusBody(err)).toMatchObject({ reason: 'AlreadyExists', message: 'configmaps "twice" already exists', details: { name: 'twice', kind: 'configmaps' } });
    });

    it('GIVEN a missing object WHEN read or deleted THEN answers 404 with a NotFound Status', async () => {
      const read = await apiError(core.readNamespacedSecret({ name: 'nope', namespace: 'media' }));
      expect(read.code).toBe(404);
      expect(statusBody(read)).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'NotFound', message: 'secrets "nope" not found', code: 404 });
      const del = await apiError(
        KubernetesObjectApi.makeApiClient(kc).delete({ apiVersion: 'traefik.io/v1alpha1', kind: 'Middleware', metadata: { name: 'nope', namespace: 'media' } }),
      );
      expect(del.code).toBe(404);
      expect(statusBody(del)).toMatchObject({ reason: 'NotFound', message: 'middlewares.traefik.io "nope" not found', details: { group: 'traefik.io', kind: 'middlewares' } });
    });

    it('GIVEN a namespace that does not exist WHEN creating in it THEN answers 404 namespaces "x" not found', async () => {
      const err = await apiError(core.createNamespacedConfigMap({ namespace: 'ghost', body: { metadata: { name: 'a' } } }));
      expect(err.code).toBe(404);
      expect(statusBody(err).message).toBe('namespaces "ghost" not found');
    });

    it('GIVEN a stale resourceVersion WHEN replacing THEN answers 409 Conflict, and a fresh one succeeds', async () => {
      const cm = await core.createNamespacedConfigMap({ namespace: 'media', body: { metadata: { name: 'versioned' }, data: { v: '1' } } });
      const updated = await core.replaceNamespacedConfigMap({ name: 'versioned', namespace: 'media', body: { ...cm, data: { v: '2' } } });
      expect(Number(updated.metadata?.resourceVersion)).toBeGreaterThan(Number(cm.metadata?.resourceVersion));
      const err = await apiError(core.replaceNamespacedConfigMap({ name: 'versioned', namespace: 'media', body: { ...cm, data: { v: '3' } } }));
      expect(err.code).toBe(409);
      expect(statusBody(err)).toMatchObject({ reason: 'Conflict' });
      expect(String(statusBody(err).message)).toContain('the object has been modified');
      expect((await core.readNamespacedConfigMap({ name: 'versioned', namespace: 'media' })).data).toEqual({ v: '2' });
    });

    it('bumps metadata.generation only when the content changes', async () => {
      const objects = KubernetesObjectApi.makeApiClient(kc);
      const mw: KubernetesObject & { spec: unknown } = { apiVersion: 'traefik.io/v1alpha1', kind: 'Middleware', metadata: { name: 'gen', namespace: 'media' }, spec: { stripPrefix: { prefixes: ['/a'] } } };
      const created = await objects.create(mw);
      expect(created.metadata?.generation).toBe(1);
      const relabelled = await objects.patch(
        { ...mw, metadata: { ...mw.metadata, labels: { x: 'y' } } },
        undefined, undefined, undefined, undefined, PatchStrategy.MergePatch,
      );
      expect(relabelled.metadata?.generation).toBe(1);
      const changed = await objects.patch({ ...mw, spec: { stripPrefix: { prefixes: ['/b'] } } }, undefined, undefined, undefined, undefined, PatchStrategy.MergePatch);
      expect(changed.metadata?.generation).toBe(2);
    });

    it('applies a JSON patch (client-node typed APIs default to it) and a merge patch to a Secret', async () => {
      await core.createNamespacedSecret({ namespace: 'auth', body: { metadata: { name: 'ca' }, stringData: { 'ca.crt': 'one' } } });
      const afterJson = await core.patchNamespacedSecret({
        name: 'ca',
        namespace: 'auth',
        body: [{ op: 'replace', path: '/data/ca.crt', value: Buffer.from('two').toString('base64') }],
      });
      expect(Buffer.from(afterJson.data?.['ca.crt'] ?? '', 'base64').toString()).toBe('two');
      const afterMerge = await core.patchNamespacedSecret(
        { name: 'ca', namespace: 'auth', body: { data: { 'tls.ca': Buffer.from('three').toString('base64') } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      expect(Object.keys(afterMerge.data ?? {}).sort()).toEqual(['ca.crt', 'tls.ca']);
      expect(afterMerge.type).toBe('Opaque');
    });

    it('GIVEN a failing JSON patch test op THEN answers 422 and changes nothing', async () => {
      const before = await core.readNamespacedService({ name: 'grafana', namespace: 'monitoring' });
      const err = await apiError(
        core.patchNamespacedService({
          name: 'grafana',
          namespace: 'monitoring',
          body: [
            { op: 'test', path: '/spec/type', value: 'NodePort' },
            { op: 'replace', path: '/spec/type', value: 'LoadBalancer' },
          ],
        }),
      );
      expect(err.code).toBe(422);
      const after = await core.readNamespacedService({ name: 'grafana', namespace: 'monitoring' });
      expect(after.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
    });

    it('GIVEN a strategic merge patch on a custom resource THEN answers 415 as a real apiserver', async () => {
      const objects = KubernetesObjectApi.makeApiClient(kc);
      const err = await apiError(
        objects.patch({ apiVersion: 'traefik.io/v1alpha1', kind: 'Middleware', metadata: { name: 'oidc-auth', namespace: 'traefik' }, spec: {} }),
      );
      expect(err.code).toBe(415);
      expect(statusBody(err)).toMatchObject({ reason: 'UnsupportedMediaType' });
    });

    it('GIVEN Secret data that is not base64 or a bad name THEN answers 422 Invalid with causes', async () => {
      const err = await apiError(core.createNamespacedSecret({ namespace: 'auth', body: { metadata: { name: 'Bad_Name' }, data: { key: 'not base64!' } } }));
      expect(err.code).toBe(422);
      const body = statusBody(err) as { reason: string; details: { kind: string; causes: { reason: string; field: string; message: string }[] } };
      expect(body.reason).toBe('Invalid');
      expect(body.details.kind).toBe('Secret');
      expect(body.details.causes).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ reason: 'FieldValueInvalid', field: 'metadata.name' }),
          expect.objectContaining({ reason: 'FieldValueInvalid', field: 'data[key]' }),
        ]),
      );
      expect(JSON.stringify(body)).not.toContain('not base64!');
    });

    it('serves Secrets with stringData folded into base64 data', async () => {
      const s = await core.createNamespacedSecret({ namespace: 'auth', body: { metadata: { name: 'folded' }, stringData: { user: 'alice' } } });
      expect(s.data).toEqual({ user: Buffer.from('alice').toString('base64') });
      expect(s.stringData).toBeUndefined();
    });

    it('GIVEN a namespace is deleted THEN the objects in it go too, and default cannot be deleted', async () => {
      await core.createNamespace({ body: { metadata: { name: 'scratch' } } });
      await core.createNamespacedConfigMap({ namespace: 'scratch', body: { metadata: { name: 'inside' } } });
      await core.deleteNamespace({ name: 'scratch' });
      expect((await apiError(core.readNamespace({ name: 'scratch' }))).code).toBe(404);
      expect((await apiError(core.readNamespacedConfigMap({ name: 'inside', namespace: 'scratch' }))).code).toBe(404);
      const err = await apiError(core.deleteNamespace({ name: 'default' }));
      expect(err.code).toBe(403);
    });

    it('answers a delete with a Success Status for a custom resource', async () => {
      const objects = KubernetesObjectApi.makeApiClient(kc);
      await objects.create({ apiVersion: 'traefik.io/v1alpha1', kind: 'TLSOption', metadata: { name: 'doomed', namespace: 'media' }, spec: { minVersion: 'VersionTLS12' } });
      const status = await objects.delete({ apiVersion: 'traefik.io/v1alpha1', kind: 'TLSOption', metadata: { name: 'doomed', namespace: 'media' } });
      expect(status).toMatchObject({ kind: 'Status', status: 'Success', details: { name: 'doomed', group: 'traefik.io', kind: 'tlsoptions' } });
    });

    it('GIVEN a DaemonSet is deleted THEN the pods it owns are deleted too', async () => {
      const apps = kc.makeApiClient(AppsV1Api);
      const local = seedKubernetesState(defaultHomelab());
      const other = await startKubernetesSandbox({ state: local });
      try {
        const otherKc = clientConfig(other);
        await otherKc.makeApiClient(AppsV1Api).deleteNamespacedDaemonSet({ name: 'traefik', namespace: 'traefik' });
        expect((await otherKc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: 'traefik' })).items).toHaveLength(0);
      } finally {
        await other.close();
      }
      expect((await apps.readNamespacedDaemonSet({ name: 'traefik', namespace: 'traefik' })).spec?.template.spec?.hostNetwork).toBe(true);
    });
  });

  describe('selectors', () => {
    beforeAll(async () => {
      const make = (name: string, labels: Record<string, string>) =>
        core.createNamespacedConfigMap({ namespace: 'monitoring', body: { metadata: { name, labels } } });
      await make('sel-a', { tier: 'web', env: 'prod' });
      await make('sel-b', { tier: 'web', env: 'dev' });
      await make('sel-c', { tier: 'db' });
    });

    const names = async (labelSelector?: string, fieldSelector?: string) =>
      (await core.listNamespacedConfigMap({ namespace: 'monitoring', labelSelector, fieldSelector })).items
        .map((c) => c.metadata?.name)
        .filter((n) => n?.startsWith('sel-'));

    it.each([
      ['tier=web', ['sel-a', 'sel-b']],
      ['tier==web', ['sel-a', 'sel-b']],
      ['tier!=web', ['sel-c']],
      ['env', ['sel-a', 'sel-b']],
      ['!env', ['sel-c']],
      ['tier=web,env=prod', ['sel-a']],
      ['tier=web,env!=prod', ['sel-b']],
      ['env in (dev,qa)', ['sel-b']],
      ['tier notin (web)', ['sel-c']],
    ])('labelSelector %s selects %j', async (selector, expected) => {
      expect(await names(selector)).toEqual(expected);
    });

    it('selects by metadata.name and metadata.namespace field selectors', async () => {
      expect(await names(undefined, 'metadata.name=sel-b')).toEqual(['sel-b']);
      expect(await names(undefined, 'metadata.name!=sel-b')).toEqual(['sel-a', 'sel-c']);
      const everywhere = await core.listConfigMapForAllNamespaces({ fieldSelector: 'metadata.namespace=monitoring', labelSelector: 'tier' });
      expect(everywhere.items.map((c) => c.metadata?.name)).toEqual(['sel-a', 'sel-b', 'sel-c']);
    });

    it('selects pods by spec.nodeName', async () => {
      const pods = await core.listPodForAllNamespaces({ fieldSelector: 'spec.nodeName=node-22' });
      expect(pods.items.map((p) => p.status?.hostIP)).toEqual(['192.168.10.22']);
    });

    it('GIVEN a malformed selector or an unsupported field THEN answers 400', async () => {
      expect((await apiError(names('tier=(web'))).code).toBe(400);
      expect((await apiError(names(undefined, 'data.x=1'))).code).toBe(400);
    });

    it('pages a list with limit and continue', async () => {
      const first = await core.listNamespacedConfigMap({ namespace: 'monitoring', labelSelector: 'tier', limit: 2 });
      expect(first.items.map((c) => c.metadata?.name)).toEqual(['sel-a', 'sel-b']);
      expect(first.metadata?._continue).toBeTruthy();
      const rest = await core.listNamespacedConfigMap({ namespace: 'monitoring', labelSelector: 'tier', limit: 2, _continue: first.metadata?._continue });
      expect(rest.items.map((c) => c.metadata?.name)).toEqual(['sel-c']);
      expect(rest.metadata?._continue).toBeFalsy();
    });
  });

  describe('watch', () => {
    it('streams ADDED, MODIFIED and DELETED events through client-node Watch', async () => {
      const events: string[] = [];
      const watch = new Watch(kc);
      const rv = (await core.listNamespacedConfigMap({ namespace: 'argocd' })).metadata?.resourceVersion;
      const controller = await watch.watch(
        '/api/v1/namespaces/argocd/configmaps',
        { resourceVersion: rv },
        (phase, obj: KubernetesObject) => events.push(`${phase} ${obj.metadata?.name}`),
        () => {},
      );
      await core.createNamespacedConfigMap({ namespace: 'argocd', body: { metadata: { name: 'watched' }, data: { a: '1' } } });
      await core.replaceNamespacedConfigMap({ name: 'watched', namespace: 'argocd', body: { metadata: { name: 'watched' }, data: { a: '2' } } });
      await core.deleteNamespacedConfigMap({ name: 'watched', namespace: 'argocd' });
      await expect.poll(() => events).toEqual(['ADDED watched', 'MODIFIED watched', 'DELETED watched']);
      controller.abort();
    });
  });

  describe('protocol edges', () => {
    it('answers /version like a real apiserver', async () => {
      const v = await kc.makeApiClient(VersionApi).getCode();
      expect(v.major).toBe('1');
      expect(v.gitVersion).toMatch(/^v1\./);
    });

    it('GIVEN a method a resource does not allow THEN 405 MethodNotAllowed', async () => {
      const res = await rawRequest(kc, HttpMethod.POST, `${sandbox.url}/api/v1/namespaces/media/services/immich`, { contentType: 'application/json', body: '{}' });
      expect(res).toEqual({ status: 405, body: expect.objectContaining({ kind: 'Status', reason: 'MethodNotAllowed', code: 405 }) });
    });

    it('GIVEN a patch content type the server does not know THEN 415', async () => {
      const res = await rawRequest(kc, HttpMethod.PATCH, `${sandbox.url}/api/v1/namespaces/media/services/immich`, { contentType: 'text/plain', body: 'x' });
      expect(res.status).toBe(415);
      expect(res.body.message).toMatch(/application\/strategic-merge-patch\+json/);
    });

    it('GIVEN a body whose namespace differs from the URL THEN 400 BadRequest', async () => {
      const err = await apiError(core.createNamespacedConfigMap({ namespace: 'media', body: { metadata: { name: 'x', namespace: 'auth' } } }));
      expect(err.code).toBe(400);
      expect(statusBody(err).message).toBe('the namespace of the provided object does not match the namespace sent on the request');
    });

    it('GIVEN a hang fault THEN no answer comes until the client gives up', async () => {
      faults.add({ match: 'GET /api/v1/namespaces/media/configmaps', hang: true });
      await expect(
        rawRequest(kc, HttpMethod.GET, `${sandbox.url}/api/v1/namespaces/media/configmaps`, { signal: AbortSignal.timeout(300) }),
      ).rejects.toThrow();
      expect(sandbox.requests.filter((r) => r.path === '/api/v1/namespaces/media/configmaps').at(-1)).toMatchObject({ status: 0, fault: true });
    });
  });

  describe('fault injection', () => {
    it('answers an injected 409 with a Conflict Status, once', async () => {
      faults.add({ match: 'GET /api/v1/namespaces/media/services/immich', status: 409 });
      const err = await apiError(core.readNamespacedService({ name: 'immich', namespace: 'media' }));
      expect(err.code).toBe(409);
      expect(statusBody(err)).toMatchObject({ kind: 'Status', reason: 'Conflict', code: 409 });
      expect((await core.readNamespacedService({ name: 'immich', namespace: 'media' })).metadata?.name).toBe('immich');
    });

    it('answers an injected 500 with an InternalError Status and records the fault', async () => {
      faults.add({ match: /^GET \/api\/v1\/nodes$/, status: 500 });
      const err = await apiError(core.listNode());
      expect(err.code).toBe(500);
      expect(statusBody(err)).toMatchObject({ reason: 'InternalError' });
      const last = sandbox.requests.filter((r) => r.path === '/api/v1/nodes').at(-1);
      expect(last).toMatchObject({ method: 'GET', verb: 'list', status: 500, fault: true });
    });

    it('drops the connection for a drop fault', async () => {
      faults.add({ match: 'GET /api/v1/namespaces', drop: true });
      await expect(core.listNamespace()).rejects.toThrow();
      expect((await core.listNamespace()).items.length).toBeGreaterThan(0);
    });

    it('delays an answer for a delay fault without changing it', async () => {
      faults.add({ match: 'GET /api/v1/namespaces/auth', delayMs: 150 });
      const started = Date.now();
      expect((await core.readNamespace({ name: 'auth' })).metadata?.name).toBe('auth');
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    });
  });

  describe('request log', () => {
    it('records method, path, query, verb and status of each request', async () => {
      const before = sandbox.requests.length;
      await core.listNamespacedPod({ namespace: 'traefik', labelSelector: 'app.kubernetes.io/name=traefik' });
      expect(sandbox.requests.slice(before)).toEqual([
        {
          method: 'GET',
          path: '/api/v1/namespaces/traefik/pods',
          query: { labelSelector: 'app.kubernetes.io/name=traefik' },
          verb: 'list',
          status: 200,
        },
      ]);
    });
  });

  describe('state', () => {
    it('calls onChange on every mutation and not on reads', async () => {
      const before = changes;
      await core.listNamespace();
      expect(changes).toBe(before);
      await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'counted' } } });
      expect(changes).toBe(before + 1);
    });

    it('GIVEN the state went through JSON WHEN a new server starts from it THEN objects, versions and the token survive', async () => {
      const mine: KubernetesState = seedKubernetesState(defaultHomelab());
      const first = await startKubernetesSandbox({ state: mine });
      const firstKc = clientConfig(first);
      const created = await firstKc.makeApiClient(CoreV1Api).createNamespacedConfigMap({ namespace: 'media', body: { metadata: { name: 'persisted' }, data: { k: 'v' } } });
      await first.close();

      const restored = JSON.parse(JSON.stringify(mine)) as KubernetesState;
      const second = await startKubernetesSandbox({ state: restored });
      try {
        expect(second.token).toBe(first.token);
        const read = await clientConfig(second).makeApiClient(CoreV1Api).readNamespacedConfigMap({ name: 'persisted', namespace: 'media' });
        expect(read.data).toEqual({ k: 'v' });
        expect(read.metadata?.uid).toBe(created.metadata?.uid);
        expect(read.metadata?.resourceVersion).toBe(created.metadata?.resourceVersion);
        const next = await clientConfig(second).makeApiClient(CoreV1Api).createNamespacedConfigMap({ namespace: 'media', body: { metadata: { name: 'later' } } });
        expect(Number(next.metadata?.resourceVersion)).toBeGreaterThan(Number(created.metadata?.resourceVersion));
      } finally {
        await second.close();
      }
    });

    it('reads, writes and deletes objects in-process, bypassing HTTP', async () => {
      const before = sandbox.requests.length;
      sandbox.objects.put({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'direct', namespace: 'default' }, data: { x: '1' } });
      expect(sandbox.objects.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'direct' })?.data).toEqual({ x: '1' });
      expect((await core.readNamespacedConfigMap({ name: 'direct', namespace: 'default' })).data).toEqual({ x: '1' });
      expect(sandbox.objects.delete({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'direct' })).toBe(true);
      expect(sandbox.objects.list('v1', 'ConfigMap', 'default').map((c) => c.metadata.name)).not.toContain('direct');
      expect(sandbox.requests.length - before).toBe(1);
    });
  });
});
