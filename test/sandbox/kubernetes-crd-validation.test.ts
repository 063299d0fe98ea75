import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ApiException, CustomObjectsApi, KubeConfig, KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { projectRoot } from '../../src/paths.js';
import { defaultHomelab } from '../../sandbox/homelab.js';
import { seedKubernetesState, startKubernetesSandbox, type KubernetesSandbox } from '../../sandbox/kubernetes/index.js';
import { CrdSchemas } from '../../sandbox/kubernetes/crd-schemas.js';

interface Cause {
  reason: string;
  message: string;
  field?: string;
}
interface StatusBody {
  reason: string;
  message: string;
  details?: { name?: string; group?: string; kind?: string; causes?: Cause[] };
}

async function apiError(p: Promise<unknown>): Promise<{ code: number; body: StatusBody }> {
  try {
    await p;
  } catch (e) {
    if (!(e instanceof ApiException)) throw e;
    return { code: e.code, body: (typeof e.body === 'string' ? JSON.parse(e.body) : e.body) as StatusBody };
  }
  throw new Error('expected the request to fail');
}

const ROUTE = {
  apiVersion: 'traefik.io/v1alpha1',
  kind: 'IngressRoute',
  metadata: { name: 'r', namespace: 'media' },
  spec: { entryPoints: ['websecure'], routes: [{ match: 'Host(`a.example.com`)', kind: 'Rule', services: [{ name: 'immich', port: 2283 }] }] },
};

function withSpec(name: string, spec: unknown): KubernetesObject {
  return { ...ROUTE, metadata: { name, namespace: 'media' }, spec } as KubernetesObject;
}

/** Kinds in the upstream sample file that the sandbox does not serve (no CRD for them in crds/). */
const NOT_SERVED = new Set(['TraefikService', 'IngressRouteUDP', 'ServersTransportTCP', 'MiddlewareTCP']);

describe('sandbox Kubernetes API: Traefik CRD validation', () => {
  let sandbox: KubernetesSandbox;
  let objects: KubernetesObjectApi;
  let custom: CustomObjectsApi;

  beforeAll(async () => {
    sandbox = await startKubernetesSandbox({ state: seedKubernetesState(defaultHomelab()) });
    const kc = new KubeConfig();
    kc.loadFromString(sandbox.kubeconfig());
    objects = KubernetesObjectApi.makeApiClient(kc);
    custom = kc.makeApiClient(CustomObjectsApi);
  });

  afterAll(async () => {
    await sandbox.close();
  });

  it('GIVEN a route without match THEN 422 Invalid with a FieldValueRequired cause at spec.routes[0].match', async () => {
    const err = await apiError(objects.create(withSpec('no-match', { routes: [{ kind: 'Rule', services: [{ name: 'immich', port: 80 }] }] })));
    expect(err.code).toBe(422);
    expect(err.body).toMatchObject({
      reason: 'Invalid',
      message: 'IngressRoute.traefik.io "no-match" is invalid: spec.routes[0].match: Required value',
      details: { name: 'no-match', group: 'traefik.io', kind: 'IngressRoute' },
    });
    expect(err.body.details?.causes).toEqual([{ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.routes[0].match' }]);
  });

  it('GIVEN a bad enum and a wrong type THEN 422 with one cause each', async () => {
    const err = await apiError(
      objects.create(withSpec('bad', { routes: [{ match: 'Host(`x`)', kind: 'Rules', priority: 'high', services: [{ name: 'immich', port: 80, kind: 'Pod' }] }] })),
    );
    expect(err.code).toBe(422);
    expect(err.body.details?.causes).toEqual(
      expect.arrayContaining([
        { reason: 'FieldValueNotSupported', message: 'Unsupported value: "Rules": supported values: "Rule"', field: 'spec.routes[0].kind' },
        {
          reason: 'FieldValueTypeInvalid',
          message: 'Invalid value: "string": spec.routes[0].priority in body must be of type integer: "string"',
          field: 'spec.routes[0].priority',
        },
        {
          reason: 'FieldValueNotSupported',
          message: 'Unsupported value: "Pod": supported values: "Service", "TraefikService"',
          field: 'spec.routes[0].services[0].kind',
        },
      ]),
    );
    expect(err.body.details?.causes).toHaveLength(3);
    expect(err.body.message).toMatch(/^IngressRoute\.traefik\.io "bad" is invalid: \[/);
  });

  it('GIVEN spec is missing THEN 422 spec: Required value', async () => {
    const err = await apiError(objects.create({ apiVersion: 'traefik.io/v1alpha1', kind: 'Middleware', metadata: { name: 'empty', namespace: 'media' } }));
    expect(err.body.details?.causes).toEqual([{ reason: 'FieldValueRequired', message: 'Required value', field: 'spec' }]);
  });

  it('accepts an int-or-string port as a number or a name and refuses a boolean', async () => {
    const byNumber = { routes: [{ match: 'Host(`n`)', services: [{ name: 'immich', port: 2283 }] }] };
    const byName = { routes: [{ match: 'Host(`n`)', services: [{ name: 'immich', port: 'http' }] }] };
    await objects.create(withSpec('port-number', byNumber));
    await objects.create(withSpec('port-name', byName));
    const err = await apiError(objects.create(withSpec('port-bool', { routes: [{ match: 'Host(`n`)', services: [{ name: 'immich', port: true }] }] })));
    expect(err.code).toBe(422);
    expect(err.body.details?.causes).toEqual([expect.objectContaining({ reason: 'FieldValueTypeInvalid', field: 'spec.routes[0].services[0].port' })]);
  });

  it('checks minimum and pattern constraints', async () => {
    const err = await apiError(
      objects.create({
        apiVersion: 'traefik.io/v1alpha1',
        kind: 'ServersTransport',
        metadata: { name: 'st', namespace: 'media' },
        spec: { maxIdleConnsPerHost: -5, forwardingTimeouts: { dialTimeout: 'soon' } },
      }),
    );
    expect(err.body.details?.causes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ reason: 'FieldValueInvalid', field: 'spec.maxIdleConnsPerHost' }),
        expect.objectContaining({ reason: 'FieldValueInvalid', field: 'spec.forwardingTimeouts.dialTimeout' }),
      ]),
    );
  });

  it("evaluates the CRDs' CEL rules it knows (addPrefix must start with '/')", async () => {
    const err = await apiError(
      objects.create({ apiVersion: 'traefik.io/v1alpha1', kind: 'Middleware', metadata: { name: 'prefix', namespace: 'media' }, spec: { addPrefix: { prefix: 'api' } } }),
    );
    expect(err.body.details?.causes).toEqual([{ reason: 'FieldValueInvalid', message: `Invalid value: "string": must start with a '/'`, field: 'spec.addPrefix.prefix' }]);
  });

  it('GIVEN an unknown field and fieldValidation=Strict THEN 400 with the strict decoding error naming the field', async () => {
    const err = await apiError(
      custom.createNamespacedCustomObject({
        group: 'traefik.io',
        version: 'v1alpha1',
        namespace: 'media',
        plural: 'tlsoptions',
        fieldValidation: 'Strict',
        body: { apiVersion: 'traefik.io/v1alpha1', kind: 'TLSOption', metadata: { name: 'strict' }, spec: { clientauth: { clientAuthType: 'RequireAndVerifyClientCert' } } },
      }),
    );
    // A real API server refuses unknown fields under Strict while decoding: 400, not a 422 validation error.
    expect(err.code).toBe(400);
    expect(err.body.message).toBe('TLSOption in version "v1alpha1" cannot be handled as a TLSOption: strict decoding error: unknown field "spec.clientauth"');
  });

  it('GIVEN an unknown field without Strict THEN the field is pruned and a Warning header names it', async () => {
    const res = await custom.createNamespacedCustomObjectWithHttpInfo({
      group: 'traefik.io',
      version: 'v1alpha1',
      namespace: 'media',
      plural: 'tlsoptions',
      body: { apiVersion: 'traefik.io/v1alpha1', kind: 'TLSOption', metadata: { name: 'lenient' }, spec: { minVersion: 'VersionTLS12', clientauth: { x: 1 } } },
    });
    expect(res.httpStatusCode).toBe(201);
    expect(res.headers.warning).toBe('299 - "unknown field \\"spec.clientauth\\""');
    expect((res.data as { spec: unknown }).spec).toEqual({ minVersion: 'VersionTLS12' });
  });

  it('validates merge patches on the merged result', async () => {
    await objects.create(withSpec('patched', ROUTE.spec));
    const err = await apiError(
      custom.patchNamespacedCustomObject(
        { group: 'traefik.io', version: 'v1alpha1', namespace: 'media', plural: 'ingressroutes', name: 'patched', body: [{ op: 'remove', path: '/spec/routes/0/match' }] },
      ),
    );
    expect(err.code).toBe(422);
    expect(err.body.details?.causes?.[0]?.field).toBe('spec.routes[0].match');
  });

  it('keeps the seeded Middleware and IngressRoute valid against their CRDs', () => {
    const schemas = new CrdSchemas();
    for (const ref of [
      { apiVersion: 'traefik.io/v1alpha1', kind: 'Middleware', namespace: 'traefik', name: 'oidc-auth' },
      { apiVersion: 'traefik.io/v1alpha1', kind: 'IngressRoute', namespace: 'argocd', name: 'argocd-server' },
    ]) {
      const obj = sandbox.objects.get(ref)!;
      expect(schemas.check(obj)).toEqual({ unknownFields: [], causes: [] });
    }
  });

  describe('upstream sample resources (test/fixtures/traefik/sample-resources.yml)', () => {
    const docs = parseAllDocuments(readFileSync(join(projectRoot(), 'test/fixtures/traefik/sample-resources.yml'), 'utf8'))
      .map((d) => d.toJSON() as KubernetesObject)
      .filter((d) => d?.apiVersion === 'traefik.io/v1alpha1');
    const served = docs.filter((d) => !NOT_SERVED.has(d.kind!));

    it('has both kinds the sandbox serves and kinds it skips on purpose', () => {
      expect(served.map((d) => d.kind).sort()).toEqual(['IngressRoute', 'IngressRouteTCP', 'ServersTransport', 'TLSOption']);
      expect([...new Set(docs.filter((d) => NOT_SERVED.has(d.kind!)).map((d) => d.kind))].sort()).toEqual(['IngressRouteUDP', 'ServersTransportTCP', 'TraefikService']);
    });

    it.each(served.map((d) => [`${d.kind} ${d.metadata?.name}`, d] as const))('%s validates and is stored', async (_label, doc) => {
      const created = await objects.create(structuredClone(doc));
      expect(created.metadata?.uid).toBeTruthy();
      expect(created.metadata?.namespace).toBe(doc.metadata?.namespace ?? 'default');
    });
  });
});
