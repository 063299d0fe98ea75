import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiException, CoreV1Api, KubeConfig, KubernetesObjectApi, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { defaultHomelab } from '../../sandbox/homelab.js';
import { seedKubernetesState, startKubernetesSandbox, type KubernetesSandbox } from '../../sandbox/kubernetes/index.js';

type Route = KubernetesObject & { spec: { entryPoints?: string[]; routes: { match: string; kind?: string; middlewares?: { name: string; namespace?: string }[]; services?: { name: string; port?: number | string }[] }[]; tls?: Record<string, unknown> } };

interface StatusBody {
  reason: string;
  message: string;
  code: number;
  details?: { causes?: { reason: string; message: string; field?: string }[] };
}

/** The failure of `p`, with its Status body parsed (KubernetesObjectApi hands the body over as the raw JSON text). */
async function apiError(p: Promise<unknown>): Promise<{ code: number; body: StatusBody }> {
  try {
    await p;
  } catch (e) {
    if (!(e instanceof ApiException)) throw e;
    const body = (typeof e.body === 'string' ? JSON.parse(e.body) : e.body) as StatusBody;
    return { code: e.code, body };
  }
  throw new Error('expected the request to fail');
}

function route(name: string, middlewares?: { name: string; namespace?: string }[], extra: Partial<Route['spec']> = {}): Route {
  return {
    apiVersion: 'traefik.io/v1alpha1',
    kind: 'IngressRoute',
    metadata: { name, namespace: 'media', labels: { 'app.kubernetes.io/managed-by': 'labgate' } },
    spec: {
      entryPoints: ['websecure'],
      routes: [{ match: 'Host(`photos.home.example.com`)', kind: 'Rule', ...(middlewares ? { middlewares } : {}), services: [{ name: 'immich', port: 2283 }] }],
      ...extra,
    },
  };
}

describe('sandbox Kubernetes API: server-side apply', () => {
  let sandbox: KubernetesSandbox;
  let objects: KubernetesObjectApi;
  const apply = (obj: KubernetesObject, manager = 'labgate', force = true) =>
    objects.patch(obj, undefined, undefined, manager, force, PatchStrategy.ServerSideApply) as Promise<Route>;

  beforeAll(async () => {
    sandbox = await startKubernetesSandbox({ state: seedKubernetesState(defaultHomelab()) });
    const kc = new KubeConfig();
    kc.loadFromString(sandbox.kubeconfig());
    objects = KubernetesObjectApi.makeApiClient(kc);
  });

  afterAll(async () => {
    await sandbox.close();
  });

  it('sends what client-node sends for ServerSideApply: PATCH, application/apply-patch+yaml, fieldManager and force', async () => {
    const before = sandbox.requests.length;
    await apply(route('wire-check'));
    const patch = sandbox.requests.slice(before).find((r) => r.method === 'PATCH');
    expect(patch).toMatchObject({ path: '/apis/traefik.io/v1alpha1/namespaces/media/ingressroutes/wire-check', query: { fieldManager: 'labgate', force: 'true' }, status: 201 });
  });

  it('GIVEN no object WHEN applied THEN creates it, owned by the manager', async () => {
    const created = await apply(route('photos', [{ name: 'oidc-auth', namespace: 'traefik' }]));
    expect(created.metadata?.uid).toBeTruthy();
    expect(created.spec.routes[0]?.middlewares).toEqual([{ name: 'oidc-auth', namespace: 'traefik' }]);
    expect(created.metadata?.managedFields).toEqual([
      expect.objectContaining({
        manager: 'labgate',
        operation: 'Apply',
        apiVersion: 'traefik.io/v1alpha1',
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': { 'f:labels': { 'f:app.kubernetes.io/managed-by': {} } },
          'f:spec': { 'f:entryPoints': {}, 'f:routes': {} },
        },
      }),
    ]);
  });

  it('GIVEN an applied object WHEN re-applied without the middleware THEN the middleware is gone', async () => {
    const before = await apply(route('photos-again', [{ name: 'oidc-auth', namespace: 'traefik' }]));
    expect(before.spec.routes[0]?.middlewares).toHaveLength(1);
    const updated = await apply(route('photos-again'));
    expect(updated.spec.routes[0]?.middlewares).toBeUndefined();
    expect(updated.metadata?.uid).toBe(before.metadata?.uid);
    expect(updated.metadata?.generation).toBe(2);
    expect(Number(updated.metadata?.resourceVersion)).toBeGreaterThan(Number(before.metadata?.resourceVersion));
  });

  it('GIVEN a field the manager applied before WHEN omitted from the next apply THEN it is removed (spec keys and labels)', async () => {
    await apply({ ...route('tls-then-not', undefined, { tls: { certResolver: 'letsencrypt' } }), metadata: { name: 'tls-then-not', namespace: 'media', labels: { a: '1', b: '2' } } });
    const after = await apply({ ...route('tls-then-not'), metadata: { name: 'tls-then-not', namespace: 'media', labels: { a: '1' } } });
    expect(after.spec.tls).toBeUndefined();
    expect(after.metadata?.labels).toEqual({ a: '1' });
  });

  it('GIVEN the same configuration applied twice THEN the second apply changes nothing (same resourceVersion)', async () => {
    const first = await apply(route('idempotent'));
    const second = await apply(route('idempotent'));
    expect(second.metadata?.resourceVersion).toBe(first.metadata?.resourceVersion);
    expect(second.metadata?.generation).toBe(1);
  });

  it('GIVEN fields owned by another manager WHEN applied with different values without force THEN 409 Conflict naming manager and field', async () => {
    await apply(route('contested'), 'kubectl');
    const err = await apiError(apply(route('contested', [{ name: 'oidc-auth', namespace: 'traefik' }]), 'labgate', false));
    expect(err.code).toBe(409);
    expect(err.body.reason).toBe('Conflict');
    expect(err.body.message).toBe('Apply failed with 1 conflict: conflict with "kubectl": .spec.routes');
    expect(err.body.details?.causes).toEqual([{ reason: 'FieldManagerConflict', message: 'conflict with "kubectl"', field: '.spec.routes' }]);
  });

  it('GIVEN the hand-made argocd route (written by kubectl with an update) WHEN labgate applies over it without force THEN the conflict says "using" its apiVersion "at" its time', async () => {
    const mine: Route = {
      apiVersion: 'traefik.io/v1alpha1',
      kind: 'IngressRoute',
      metadata: { name: 'argocd-server', namespace: 'argocd' },
      spec: {
        entryPoints: ['websecure'],
        routes: [{ match: 'Host(`argocd.home.example.com`)', kind: 'Rule', services: [{ name: 'argocd-server', port: 443 }] }],
        tls: { certResolver: 'letsencrypt' },
      },
    };
    const live = sandbox.objects.get({ apiVersion: 'traefik.io/v1alpha1', kind: 'IngressRoute', namespace: 'argocd', name: 'argocd-server' });
    const at = live?.metadata.managedFields?.find((m) => m.manager === 'kubectl')?.time;
    const err = await apiError(apply(mine, 'labgate', false));
    expect(err.code).toBe(409);
    // The apiserver's printManager names an Update manager with its apiVersion and the time of its write.
    expect(err.body.message).toBe(`Apply failed with 1 conflict: conflict with "kubectl" using traefik.io/v1alpha1 at ${at}: .spec.routes`);
  });

  it('lists every conflict when there are several', async () => {
    await apply(route('multi', undefined, { tls: { certResolver: 'a' } }), 'helm');
    const err = await apiError(apply(route('multi', [{ name: 'x' }], { entryPoints: ['ts-secure'], tls: { certResolver: 'b' } } as never), 'labgate', false));
    // Ownership is per leaf: the conflict names .spec.tls.certResolver, not the whole .spec.tls.
    expect(err.body.message).toBe('Apply failed with 3 conflicts: conflicts with "helm":\n- .spec.entryPoints\n- .spec.routes\n- .spec.tls.certResolver');
  });

  it('GIVEN a conflict WHEN applied with force THEN takes the fields over from the other manager', async () => {
    await apply(route('forced'), 'kubectl');
    const taken = await apply(route('forced', [{ name: 'oidc-auth', namespace: 'traefik' }]), 'labgate', true);
    expect(taken.spec.routes[0]?.middlewares).toHaveLength(1);
    const managers = Object.fromEntries((taken.metadata?.managedFields ?? []).map((m) => [m.manager, m.fieldsV1]));
    expect(managers.labgate).toMatchObject({ 'f:spec': { 'f:routes': {} } });
    expect(managers.kubectl).toBeDefined();
    expect(JSON.stringify(managers.kubectl)).not.toContain('f:routes');
  });

  it('GIVEN two managers applying the same value THEN no conflict, and the field stays when one of them drops it', async () => {
    await apply(route('shared'), 'team-a', false);
    await apply(route('shared'), 'team-b', false);
    const afterDrop = await apply(
      { apiVersion: 'traefik.io/v1alpha1', kind: 'IngressRoute', metadata: { name: 'shared', namespace: 'media' }, spec: { routes: route('shared').spec.routes } } as Route,
      'team-a',
      false,
    );
    expect(afterDrop.spec.entryPoints).toEqual(['websecure']);
    expect(afterDrop.metadata?.labels).toEqual({ 'app.kubernetes.io/managed-by': 'labgate' });
  });

  it('GIVEN an object created with POST WHEN another manager applies a different value without force THEN the creator (an Update manager) conflicts', async () => {
    await objects.create(route('posted'), undefined, undefined, 'labgate-create');
    const at = sandbox.objects.get({ apiVersion: 'traefik.io/v1alpha1', kind: 'IngressRoute', namespace: 'media', name: 'posted' })?.metadata.managedFields?.[0]?.time;
    const err = await apiError(apply(route('posted', [{ name: 'a' }]), 'labgate', false));
    expect(err.body.message).toBe(`Apply failed with 1 conflict: conflict with "labgate-create" using traefik.io/v1alpha1 at ${at}: .spec.routes`);
  });

  it('answers 201 when apply creates and 200 when it updates', async () => {
    await apply(route('codes'));
    await apply(route('codes', [{ name: 'a' }]));
    const statuses = sandbox.requests.filter((r) => r.method === 'PATCH' && r.path.endsWith('/ingressroutes/codes')).map((r) => r.status);
    expect(statuses).toEqual([201, 200]);
  });

  it('GIVEN the namespace does not exist WHEN applying THEN 404 namespaces not found', async () => {
    const err = await apiError(apply({ ...route('nowhere'), metadata: { name: 'nowhere', namespace: 'ghost' } }));
    expect(err.code).toBe(404);
    expect(err.body.message).toBe('namespaces "ghost" not found');
  });

  it('GIVEN an applied configuration that is invalid once merged THEN 422 and nothing stored', async () => {
    const bad = route('invalid-apply');
    bad.spec.routes[0]!.kind = 'Rules';
    const err = await apiError(apply(bad));
    expect(err.code).toBe(422);
    expect(err.body.details?.causes).toEqual([expect.objectContaining({ reason: 'FieldValueNotSupported', field: 'spec.routes[0].kind' })]);
    const read = await apiError(objects.read({ apiVersion: 'traefik.io/v1alpha1', kind: 'IngressRoute', metadata: { name: 'invalid-apply', namespace: 'media' } }));
    expect(read.code).toBe(404);
  });

  it('applies core objects too (a CA Secret labgate syncs)', async () => {
    const secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'openbao-client-ca', namespace: 'media' },
      type: 'Opaque',
      data: { 'ca.crt': Buffer.from('-----BEGIN CERTIFICATE-----').toString('base64') },
    };
    await apply(secret);
    await apply({ ...secret, data: { 'tls.ca': secret.data['ca.crt'] } } as KubernetesObject);
    const kc = new KubeConfig();
    kc.loadFromString(sandbox.kubeconfig());
    const stored = await kc.makeApiClient(CoreV1Api).readNamespacedSecret({ name: 'openbao-client-ca', namespace: 'media' });
    expect(Object.keys(stored.data ?? {})).toEqual(['tls.ca']);
  });

  it('GIVEN dryRun=All WHEN applying THEN answers the result without storing it', async () => {
    const dry = (await objects.patch(route('dry'), undefined, 'All', 'labgate', true, PatchStrategy.ServerSideApply)) as Route;
    expect(dry.spec.routes).toHaveLength(1);
    const read = await apiError(objects.read({ apiVersion: 'traefik.io/v1alpha1', kind: 'IngressRoute', metadata: { name: 'dry', namespace: 'media' } }));
    expect(read.code).toBe(404);
  });
});
