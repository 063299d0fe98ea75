import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, type Config } from '../../src/config/load.js';
import { UserError } from '../../src/errors.js';
import { KubernetesApplier } from '../../src/kubernetes/applier.js';
import { ClientNodeKubernetes, loadKubeConfig } from '../../src/kubernetes/client-node-adapter.js';
import { kubeTarget, MANAGED_BY_LABEL } from '../../src/kubernetes/objects.js';
import type { KubeObject } from '../../src/kubernetes/port.js';
import { OpenBaoApplier } from '../../src/openbao/applier.js';
import { deviceTarget } from '../../src/openbao/certificate-changes.js';
import { deviceUrn, profileUrn } from '../../src/openbao/device-identity.js';
import type { Change } from '../../src/plan/model.js';
import { ExposurePolicy } from '../../src/policy/exposure-policy.js';
import { RouterApplier } from '../../src/router/applier.js';
import { startSandbox, type Sandbox } from '../../sandbox/sandbox.js';

const TRAEFIK = 'traefik.io/v1alpha1';
const managed = { [MANAGED_BY_LABEL]: 'labgate' };

function route(namespace: string, name: string, service: { name: string; namespace?: string; port: number }): KubeObject {
  return {
    apiVersion: TRAEFIK,
    kind: 'IngressRoute',
    metadata: { name, namespace, labels: managed },
    spec: { entryPoints: ['ts-secure'], routes: [{ kind: 'Rule', match: 'Host(`x.home.example.com`)', services: [service] }] },
  };
}

const create = (obj: KubeObject): Change => ({
  system: 'kubernetes',
  action: 'create',
  target: kubeTarget({ apiVersion: obj.apiVersion, kind: obj.kind, namespace: obj.metadata.namespace, name: obj.metadata.name }),
  before: null,
  after: obj,
  summary: 'x',
});

/**
 * Defence in depth: each applier refuses what labgate must never do even when a change is handed
 * to it directly, with no planner and no approval in between (as a forged, or a buggy, plan would).
 */
describe('appliers guard ownership and the exposure policy themselves', () => {
  let sandbox: Sandbox;
  let config: Config;
  let applier: KubernetesApplier;
  beforeAll(async () => {
    sandbox = await startSandbox({ dir: `/tmp/labgate-guard-${process.pid}` });
    const res = parseConfig({ domain: 'home.example.com', exposure: { namespaces: { allow: ['media', 'monitoring', 'argocd'] } } }, sandbox.env, 'test');
    if (!res.ok) throw new Error(res.problems.join('\n'));
    config = res.config;
    const kube = new ClientNodeKubernetes(loadKubeConfig({ kubeconfig: sandbox.env.KUBECONFIG }));
    applier = new KubernetesApplier(kube, { policy: new ExposurePolicy(config), clientCaSecret: 'labgate-client-ca' });
  });
  afterAll(async () => {
    await sandbox.close();
  });

  async function refused(p: Promise<unknown>): Promise<string> {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UserError);
    return (err as UserError).message;
  }

  const writes = () => sandbox.kubernetes.requests.filter((r) => r.method !== 'GET').length;

  it('GIVEN an IngressRoute labgate does not own WHEN a change to update or delete it is applied THEN it is refused and left as it is', async () => {
    const foreign = sandbox.kubernetes.objects.get({ apiVersion: TRAEFIK, kind: 'IngressRoute', namespace: 'argocd', name: 'argocd-server' })!;
    const before = writes();
    const mine = route('argocd', 'argocd-server', { name: 'argocd-server', port: 80 });
    expect(await refused(applier.apply({ ...create(mine), action: 'update', before: foreign }))).toBe(
      'IngressRoute argocd/argocd-server exists and is not managed by labgate (no app.kubernetes.io/managed-by: labgate label); labgate will not change it',
    );
    expect(await refused(applier.apply({ ...create(mine), action: 'delete', before: mine, after: null }))).toMatch(/is not managed by labgate/);
    expect(writes()).toBe(before);
    expect(sandbox.kubernetes.objects.get({ apiVersion: TRAEFIK, kind: 'IngressRoute', namespace: 'argocd', name: 'argocd-server' })).toEqual(foreign);
  });

  it('GIVEN a denied namespace, a route to the Kubernetes API, a Secret that is not the client CA, a kind labgate never writes, or no managed-by label THEN each is refused before anything is read or written', async () => {
    const before = sandbox.kubernetes.requests.length;
    expect(await refused(applier.apply(create(route('kube-system', 'evil', { name: 'kube-dns', port: 53 }))))).toBe(
      "refused to write IngressRoute kube-system/evil: namespace kube-system may not be exposed: the cluster's own components run there (built-in rule)",
    );
    expect(await refused(applier.apply(create(route('media', 'api', { name: 'kubernetes', namespace: 'default', port: 443 }))))).toBe(
      'refused IngressRoute media/api: Service default/kubernetes may not be exposed: it is the Kubernetes API (built-in rule)',
    );
    expect(await refused(applier.apply(create(route('traefik', 'dash', { name: 'traefik', port: 9000 }))))).toMatch(/namespace traefik may not be exposed: exposure\.namespaces\.allow has only media, monitoring, argocd/);
    const secret: KubeObject = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'pwned', namespace: 'media', labels: managed }, data: { a: 'eA==' } };
    expect(await refused(applier.apply(create(secret)))).toBe("the only Secret labgate writes is its client-CA Secret labgate-client-ca; refused Secret media/pwned");
    const binding: KubeObject = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'x', namespace: 'media', labels: managed } };
    expect(await refused(applier.apply(create(binding)))).toMatch(/^labgate writes only IngressRoutes, Middlewares, TLSOptions and its client-CA Secret; refused ServiceAccount media\/x$/);
    const unlabelled = route('media', 'nolabel', { name: 'immich', port: 2283 });
    unlabelled.metadata.labels = {};
    expect(await refused(applier.apply(create(unlabelled)))).toBe("IngressRoute media/nolabel would be written without labgate's app.kubernetes.io/managed-by label");
    const mismatched = { ...create(route('media', 'a', { name: 'immich', port: 2283 })), target: `kubernetes:${TRAEFIK}/IngressRoute/media/b` };
    expect(await refused(applier.apply(mismatched))).toBe(`change kubernetes:${TRAEFIK}/IngressRoute/media/b would write IngressRoute media/a`);
    expect(sandbox.kubernetes.requests.length).toBe(before);
  });

  it('GIVEN a router change whose target has no labgate comment THEN the router applier refuses it without connecting', async () => {
    const router = new RouterApplier({} as never);
    const change: Change = { system: 'router', action: 'delete', target: 'router:/ip/firewall/nat/web-https', before: { comment: 'web-https' }, after: null, summary: 'x' };
    expect(await refused(router.apply(change))).toBe('labgate changes only router rules whose comment starts with labgate:; refused router:/ip/firewall/nat/web-https');
    const renamed: Change = { ...change, target: 'router:/ip/firewall/nat/labgate:tailscale:node-21', action: 'update', after: { comment: 'web-https', chain: 'dstnat' } };
    expect(await refused(router.apply(renamed))).toBe('change router:/ip/firewall/nat/labgate:tailscale:node-21 would write a rule with comment web-https');
  });

  it("GIVEN an issue change whose certificate would name someone else's device THEN the OpenBao applier refuses it before OpenBao is asked", async () => {
    const bao = new OpenBaoApplier({ bao: {} as never, notifier: {} as never, config: { ...config, openbao: { roles: { device: 'device', server: 'server' } } } as Config, redis: {} as never, keys: {} as never, logger: {} as never, now: Date.now });
    const bob = { platform: 'shell' as const, id: 'bob', name: 'bob' };
    const alice = { platform: 'shell' as const, id: 'alice', name: 'alice' };
    const spec = { device: 'phone', owner: bob, subject: 'CN=phone', uriSans: [deviceUrn(alice, 'laptop'), profileUrn('modern')], role: 'device', profile: 'modern', requestedBy: bob };
    const change: Change = { system: 'openbao', action: 'issue', target: deviceTarget(bob, 'phone'), before: null, after: spec, summary: 'x' };
    expect(await refused(bao.apply(change))).toMatch(/^the certificate for @bob's phone would carry names other than its owner's \(urn:labgate:device:shell:alice:laptop/);
    expect(await refused(bao.apply({ ...change, after: { ...spec, uriSans: [deviceUrn(bob, 'phone'), profileUrn('modern')], role: 'server' } }))).toBe('device certificates come only from the role device; refused role server');
    expect(await refused(bao.apply({ ...change, target: deviceTarget(alice, 'phone'), after: { ...spec, uriSans: [deviceUrn(bob, 'phone'), profileUrn('modern')] } }))).toBe(
      "change openbao:device/shell/alice/phone would issue for @bob's phone",
    );
  });
});
