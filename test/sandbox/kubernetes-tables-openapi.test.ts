import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConfiguration, HttpMethod, KubeConfig, RequestContext } from '@kubernetes/client-node';
import { defaultHomelab } from '../../sandbox/homelab.js';
import { seedKubernetesState, startKubernetesSandbox, type KubernetesSandbox } from '../../sandbox/kubernetes/index.js';
import { humanDuration } from '../../sandbox/kubernetes/table-printing.js';

// Tables: https://kubernetes.io/docs/reference/using-api/api-concepts/#receiving-resources-as-tables
// OpenAPI: https://kubernetes.io/docs/concepts/overview/kubernetes-api/#openapi-interface-definition

const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';

describe('sandbox Kubernetes API: tables and OpenAPI documents', () => {
  let sandbox: KubernetesSandbox;
  let kc: KubeConfig;

  async function get(path: string, accept = 'application/json'): Promise<{ status: number; type: string; body: string }> {
    const ctx = new RequestContext(`${sandbox.url}${path}`, HttpMethod.GET);
    await kc.applySecurityAuthentication(ctx);
    ctx.setHeaderParam('Accept', accept);
    const res = await createConfiguration().httpApi.send(ctx).toPromise();
    return { status: res.httpStatusCode, type: res.headers['content-type'] ?? '', body: await res.body.text() };
  }

  beforeAll(async () => {
    sandbox = await startKubernetesSandbox({ state: seedKubernetesState(defaultHomelab()) });
    kc = new KubeConfig();
    kc.loadFromString(sandbox.kubeconfig());
  });

  afterAll(async () => {
    await sandbox?.close();
  });

  it('GIVEN a Table request for a CRD without printer columns THEN Name and Age (type date, humanized) with PartialObjectMetadata rows', async () => {
    const t = JSON.parse((await get('/apis/traefik.io/v1alpha1/namespaces/argocd/ingressroutes', TABLE)).body);
    expect(t).toMatchObject({ kind: 'Table', apiVersion: 'meta.k8s.io/v1' });
    expect(t.columnDefinitions.map((c: { name: string; type: string }) => `${c.name}:${c.type}`)).toEqual(['Name:string', 'Age:date']);
    expect(t.rows).toHaveLength(1);
    expect(t.rows[0].cells[0]).toBe('argocd-server');
    expect(t.rows[0].cells[1]).toMatch(/^\d+[smhdy]/);
    expect(t.rows[0].object).toMatchObject({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: { name: 'argocd-server' } });
  });

  it('GIVEN includeObject=Object THEN each row carries the whole object; a single GET is a one-row Table', async () => {
    const t = JSON.parse((await get('/apis/apps/v1/namespaces/traefik/daemonsets?includeObject=Object', TABLE)).body);
    expect(t.columnDefinitions.filter((c: { priority: number }) => c.priority === 0).map((c: { name: string }) => c.name)).toEqual(['Name', 'Desired', 'Current', 'Ready', 'Up-to-date', 'Available', 'Node Selector', 'Age']);
    expect(t.rows[0].cells.slice(0, 6)).toEqual(['traefik', 3, 3, 3, 3, 3]);
    expect(t.rows[0].object.kind).toBe('DaemonSet');
    const one = JSON.parse((await get('/api/v1/nodes/node-21', TABLE)).body);
    expect(one.rows.map((r: { cells: unknown[] }) => r.cells.slice(0, 3))).toEqual([['node-21', 'Ready', 'control-plane']]);
  });

  it('humanizes ages as kubectl shows them (apimachinery duration.HumanDuration)', () => {
    expect([59_000, 150_000, 600_000, 4 * 3_600_000 + 5 * 60_000, 3 * 86_400_000 + 3_600_000, 400 * 86_400_000].map(humanDuration)).toEqual(['59s', '2m30s', '10m', '4h5m', '3d1h', '400d']);
  });

  it('GIVEN /openapi/v3 THEN one document per group-version, whose PATCH declares fieldValidation and whose schemas carry the CRD schema', async () => {
    const root = JSON.parse((await get('/openapi/v3')).body) as { paths: Record<string, { serverRelativeURL: string }> };
    expect(Object.keys(root.paths)).toEqual(expect.arrayContaining(['api/v1', 'apis/apps/v1', 'apis/traefik.io/v1alpha1', 'apis/rbac.authorization.k8s.io/v1']));
    const doc = JSON.parse((await get(root.paths['apis/traefik.io/v1alpha1']!.serverRelativeURL)).body);
    const patch = doc.paths['/apis/traefik.io/v1alpha1/namespaces/{namespace}/ingressroutes/{name}'].patch;
    expect(patch['x-kubernetes-group-version-kind']).toEqual({ group: 'traefik.io', kind: 'IngressRoute', version: 'v1alpha1' });
    expect(patch.parameters.map((p: { name: string }) => p.name)).toContain('fieldValidation');
    const schema = doc.components.schemas['io.traefik.v1alpha1.IngressRoute'];
    expect(schema.properties.spec.required).toEqual(['routes']);
    expect(schema.properties.metadata).toMatchObject({ allOf: [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' }] });
  });

  it('GIVEN /openapi/v2 THEN JSON by default and gnostic protobuf when asked for it', async () => {
    const json = await get('/openapi/v2');
    expect(JSON.parse(json.body).definitions['io.k8s.api.core.v1.Pod']['x-kubernetes-group-version-kind']).toEqual([{ group: '', kind: 'Pod', version: 'v1' }]);
    const pb = await get('/openapi/v2', 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf');
    expect(pb.type).toBe('application/com.github.proto-openapi.spec.v2@v1.0+protobuf');
    // Field 1 (swagger, length-delimited) = "2.0".
    expect(Buffer.from(pb.body, 'latin1').subarray(0, 5)).toEqual(Buffer.from([0x0a, 0x03, 0x32, 0x2e, 0x30]));
  });
});
