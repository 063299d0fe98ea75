import { describe, expect, it } from 'vitest';
import { recordUpdate, serverSideApply } from '../../sandbox/kubernetes/field-ownership.js';
import type { KubeObject } from '../../sandbox/kubernetes/kubernetes-state.js';

// Per-leaf ownership as structured-merge-diff keeps it:
// https://kubernetes.io/docs/reference/using-api/server-side-apply/#field-management
const T = '2026-01-01T00:00:00Z';

function route(spec: Record<string, unknown>, labels?: Record<string, string>): KubeObject {
  return { apiVersion: 'traefik.io/v1alpha1', kind: 'IngressRoute', metadata: { name: 'r', namespace: 'media', ...(labels ? { labels } : {}) }, spec };
}

const ROUTES = [{ match: 'Host(`a.example.com`)', kind: 'Rule', services: [{ name: 'immich', port: 2283 }] }];

function daemonSet(containers: Record<string, unknown>[]): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'ds', namespace: 'traefik' },
    spec: { selector: { matchLabels: { app: 'x' } }, template: { metadata: { labels: { app: 'x' } }, spec: { containers } } },
  };
}

describe('sandbox Kubernetes: per-leaf server-side apply ownership', () => {
  it('GIVEN an applied route THEN managedFields name each leaf, atomic lists whole (fieldsV1 as the apiserver writes it)', () => {
    const obj = serverSideApply(undefined, route({ entryPoints: ['websecure'], routes: ROUTES, tls: { certResolver: 'le' } }, { a: 'b' }), 'labgate', false, T);
    expect(obj.metadata.managedFields).toEqual([
      {
        manager: 'labgate',
        operation: 'Apply',
        apiVersion: 'traefik.io/v1alpha1',
        time: T,
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:metadata': { 'f:labels': { 'f:a': {} } }, 'f:spec': { 'f:entryPoints': {}, 'f:routes': {}, 'f:tls': { 'f:certResolver': {} } } },
      },
    ]);
  });

  it('GIVEN two managers setting different nested fields of spec.tls THEN no conflict, and each owns its own leaf', () => {
    const first = serverSideApply(undefined, route({ routes: ROUTES, tls: { certResolver: 'le' } }), 'labgate', false, T);
    const both = serverSideApply(first, route({ tls: { options: { name: 'strict' } } }), 'ops', false, T);
    expect(both.spec).toMatchObject({ routes: ROUTES, tls: { certResolver: 'le', options: { name: 'strict' } } });
    const ops = both.metadata.managedFields!.find((m) => m.manager === 'ops')!;
    expect(ops.fieldsV1).toEqual({ 'f:spec': { 'f:tls': { 'f:options': { 'f:name': {} } } } });
  });

  it("GIVEN another manager's nested field WHEN the first manager re-applies its own fields THEN the other manager's field stays", () => {
    const first = serverSideApply(undefined, route({ routes: ROUTES, tls: { certResolver: 'le' } }), 'labgate', false, T);
    const both = serverSideApply(first, route({ tls: { options: { name: 'strict' } } }), 'ops', false, T);
    const again = serverSideApply(both, route({ routes: ROUTES, tls: { certResolver: 'le' } }), 'labgate', true, T);
    expect((again.spec as { tls: unknown }).tls).toEqual({ certResolver: 'le', options: { name: 'strict' } });
  });

  it('GIVEN a field set by an Update (kubectl edit) WHEN the applier sets it to another value without force THEN 409 naming the nested path', () => {
    const applied = serverSideApply(undefined, route({ routes: ROUTES, tls: { certResolver: 'le' } }), 'labgate', false, T);
    const edited = structuredClone(applied);
    (edited.spec as { tls: { certResolver: string } }).tls.certResolver = 'other';
    edited.metadata.managedFields = recordUpdate(applied, edited, 'kubectl-edit', 'traefik.io/v1alpha1', T);
    expect(() => serverSideApply(edited, route({ routes: ROUTES, tls: { certResolver: 'le' } }), 'labgate', false, T)).toThrow(
      `Apply failed with 1 conflict: conflict with "kubectl-edit" using traefik.io/v1alpha1 at ${T}: .spec.tls.certResolver`,
    );
    const forced = serverSideApply(edited, route({ routes: ROUTES, tls: { certResolver: 'le' } }), 'labgate', true, T);
    expect((forced.spec as { tls: unknown }).tls).toEqual({ certResolver: 'le' });
    // Ownership passed to the applier: the editor owns nothing any more, so its entry is gone.
    expect(forced.metadata.managedFields!.map((m) => m.manager)).toEqual(['labgate']);
  });

  it('GIVEN a DaemonSet THEN containers are owned item by item (k:{"name":…}) and two managers may own different containers', () => {
    const a = serverSideApply(undefined, daemonSet([{ name: 'traefik', image: 'traefik:v3' }]), 'helm', false, T);
    expect(a.metadata.managedFields![0]!.fieldsV1).toMatchObject({
      'f:spec': { 'f:selector': {}, 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"traefik"}': { '.': {}, 'f:image': {}, 'f:name': {} } } } } },
    });
    const b = serverSideApply(a, daemonSet([{ name: 'sidecar', image: 'busybox' }]), 'ops', false, T);
    const names = ((b.spec as { template: { spec: { containers: { name: string }[] } } }).template.spec.containers).map((c) => c.name);
    expect(names).toEqual(['traefik', 'sidecar']);
    // helm re-applies without the sidecar it never owned: the sidecar stays.
    const c = serverSideApply(b, daemonSet([{ name: 'traefik', image: 'traefik:v3.1' }]), 'helm', false, T);
    expect(((c.spec as { template: { spec: { containers: { name: string; image: string }[] } } }).template.spec.containers)).toEqual([
      { name: 'traefik', image: 'traefik:v3.1' },
      { name: 'sidecar', image: 'busybox' },
    ]);
  });

  it('GIVEN an object created by an Update THEN granular maps are members (".") as kubectl create leaves them', () => {
    const cm: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default', labels: { a: 'b' } }, data: { k: 'v' } };
    expect(recordUpdate(undefined, cm, 'kubectl-create', 'v1', T)[0]!.fieldsV1).toEqual({
      'f:data': { '.': {}, 'f:k': {} },
      'f:metadata': { 'f:labels': { '.': {}, 'f:a': {} } },
    });
  });

  it('GIVEN a label the applier set before WHEN omitted THEN it goes, but one another manager owns stays', () => {
    const a = serverSideApply(undefined, route({ routes: ROUTES }, { mine: '1', shared: '1' }), 'labgate', false, T);
    const b = serverSideApply(a, route({}, { shared: '1' }), 'other', false, T);
    const c = serverSideApply(b, route({ routes: ROUTES }), 'labgate', false, T);
    expect(c.metadata.labels).toEqual({ shared: '1' });
  });

  it("GIVEN a Service port stored with protocol TCP WHEN a configuration leaves the protocol out THEN it names the same item (the key field's default), no second port", () => {
    const live: KubeObject = { apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'media' }, spec: { ports: [{ port: 80, protocol: 'TCP', targetPort: 8080 }] } };
    live.metadata.managedFields = recordUpdate(undefined, live, 'helm', 'v1', T);
    const applied = serverSideApply(live, { apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'media' }, spec: { ports: [{ port: 80, name: 'http' }] } }, 'ops', false, T);
    expect((applied.spec as { ports: unknown[] }).ports).toEqual([{ port: 80, protocol: 'TCP', targetPort: 8080, name: 'http' }]);
    expect(applied.metadata.managedFields!.find((m) => m.manager === 'ops')!.fieldsV1).toEqual({
      'f:spec': { 'f:ports': { 'k:{"port":80,"protocol":"TCP"}': { '.': {}, 'f:name': {}, 'f:port': {} } } },
    });
  });
});
