import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeConfig, KubernetesObjectApi, PatchStrategy } from '@kubernetes/client-node';
import { ClientNodeKubernetes } from '../../src/kubernetes/client-node-adapter.js';
import type { KubeObject } from '../../src/kubernetes/port.js';
import { defaultHomelab } from '../../sandbox/homelab.js';
import { seedKubernetesState, startKubernetesSandbox, type KubernetesSandbox } from '../../sandbox/kubernetes/index.js';

// labgate's adapter applies only its own fields with force (fieldManager=labgate); what another
// manager set on the same object survives a re-apply, as on a real cluster
// (https://kubernetes.io/docs/reference/using-api/server-side-apply/#apply-and-update).

const mine: KubeObject = {
  apiVersion: 'traefik.io/v1alpha1',
  kind: 'IngressRoute',
  metadata: { name: 'photos-ts', namespace: 'media', labels: { 'app.kubernetes.io/managed-by': 'labgate' } },
  spec: { entryPoints: ['ts-secure'], routes: [{ match: 'Host(`photos.home.example.com`)', kind: 'Rule', services: [{ name: 'immich', port: 2283 }] }], tls: { certResolver: 'letsencrypt' } },
};

describe("labgate's re-apply next to another field manager", () => {
  let sandbox: KubernetesSandbox;
  let kube: ClientNodeKubernetes;
  let objects: KubernetesObjectApi;

  beforeAll(async () => {
    sandbox = await startKubernetesSandbox({ state: seedKubernetesState(defaultHomelab()) });
    const kc = new KubeConfig();
    kc.loadFromString(sandbox.kubeconfig());
    kube = new ClientNodeKubernetes(kc);
    objects = KubernetesObjectApi.makeApiClient(kc);
  });

  afterAll(async () => {
    await sandbox?.close();
  });

  it('GIVEN a nested field and a label another manager applied WHEN labgate re-applies its object THEN both stay, owned by that manager', async () => {
    await kube.apply(mine);
    await objects.patch(
      { apiVersion: 'traefik.io/v1alpha1', kind: 'IngressRoute', metadata: { name: 'photos-ts', namespace: 'media', labels: { team: 'media' } }, spec: { tls: { options: { name: 'modern', namespace: 'traefik' } } } } as never,
      undefined,
      undefined,
      'ops-tooling',
      false,
      PatchStrategy.ServerSideApply,
    );
    const after = await kube.apply(mine);
    expect(after.spec).toMatchObject({ tls: { certResolver: 'letsencrypt', options: { name: 'modern', namespace: 'traefik' } } });
    expect(after.metadata.labels).toEqual({ 'app.kubernetes.io/managed-by': 'labgate', team: 'media' });
    const ops = (after.metadata.managedFields as { manager: string; fieldsV1: unknown }[]).find((m) => m.manager === 'ops-tooling');
    expect(ops?.fieldsV1).toEqual({ 'f:metadata': { 'f:labels': { 'f:team': {} } }, 'f:spec': { 'f:tls': { 'f:options': { 'f:name': {}, 'f:namespace': {} } } } });
  });
});
