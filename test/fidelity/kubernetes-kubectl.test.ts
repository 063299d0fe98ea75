import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../sandbox/sandbox.js';
import { KubeClients } from './support/kubernetes-clients.js';

// kubectl (the one on this machine, default flags) against the sandbox Kubernetes API. Each case
// names the real behaviour it holds the sandbox to and where Kubernetes documents it.

const route = (name: string, spec: string, manager = '') => `apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata:
  name: ${name}
  namespace: media${manager}
spec:
${spec}`;

const ROUTES = `  routes:
    - match: Host(\`photos.home.example.com\`)
      kind: Rule
      services:
        - name: immich
          port: 2283`;

describe('fidelity: kubectl against the sandbox Kubernetes API', () => {
  let sandbox: Sandbox;
  let k: KubeClients;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'labgate-fidelity-sandbox-'));
    sandbox = await startSandbox({ dir });
    k = new KubeClients(sandbox.kubernetes.kubeconfig());
  });

  afterAll(async () => {
    await sandbox?.close();
    k?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('GIVEN a valid IngressRoute WHEN `kubectl apply --server-side` THEN it is created, owned by kubectl as an Apply manager (https://kubernetes.io/docs/reference/using-api/server-side-apply/)', async () => {
    const file = k.manifest(route('valid', `  entryPoints: [websecure]\n${ROUTES}`));
    const r = await k.kubectl(['apply', '--server-side', '-f', file]);
    expect(r).toMatchObject({ code: 0, stdout: 'ingressroute.traefik.io/valid serverside-applied\n' });
    const live = sandbox.kubernetes.objects.get({ apiVersion: 'traefik.io/v1alpha1', kind: 'IngressRoute', namespace: 'media', name: 'valid' })!;
    expect(live.metadata.managedFields).toEqual([
      expect.objectContaining({ manager: 'kubectl', operation: 'Apply', fieldsV1: { 'f:spec': { 'f:entryPoints': {}, 'f:routes': {} } } }),
    ]);
  });

  it('GIVEN an IngressRoute the CRD schema refuses WHEN applied THEN kubectl shows the 422 causes and nothing is stored (https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#validation)', async () => {
    const file = k.manifest(route('invalid', `  routes:\n    - match: Host(\`x.example.com\`)\n      kind: Bogus\n      priority: "high"`));
    const r = await k.kubectl(['apply', '--server-side', '-f', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('The IngressRoute "invalid" is invalid:');
    expect(r.stderr).toContain('spec.routes[0].kind: Unsupported value: "Bogus": supported values: "Rule"');
    expect(r.stderr).toContain('spec.routes[0].priority: Invalid value: "string": spec.routes[0].priority in body must be of type integer: "string"');
    expect(sandbox.kubernetes.objects.get({ apiVersion: 'traefik.io/v1alpha1', kind: 'IngressRoute', namespace: 'media', name: 'invalid' })).toBeUndefined();
  });

  it('GIVEN a field the CRD does not declare WHEN applied with default flags (kubectl asks for fieldValidation=Strict) THEN 400 "field not declared in schema" (https://kubernetes.io/docs/reference/using-api/api-concepts/#field-validation)', async () => {
    const file = k.manifest(route('unknown-field', `${ROUTES}\n  bogus: true`));
    const r = await k.kubectl(['apply', '--server-side', '-f', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('failed to create typed patch object (media/unknown-field; traefik.io/v1alpha1, Kind=IngressRoute): .spec.bogus: field not declared in schema');
    expect(sandbox.kubernetes.objects.get({ apiVersion: 'traefik.io/v1alpha1', kind: 'IngressRoute', namespace: 'media', name: 'unknown-field' })).toBeUndefined();
  });

  it('GIVEN the same configuration applied twice THEN the second apply changes nothing: same resourceVersion (https://kubernetes.io/docs/reference/using-api/server-side-apply/#apply-and-update)', async () => {
    const file = k.manifest(route('twice', ROUTES));
    expect((await k.kubectl(['apply', '--server-side', '-f', file])).code).toBe(0);
    const rv = (await k.kubectl(['get', 'ingressroute', 'twice', '-n', 'media', '-o', 'jsonpath={.metadata.resourceVersion}'])).stdout;
    expect(await k.kubectl(['apply', '--server-side', '-f', file])).toMatchObject({ code: 0, stdout: 'ingressroute.traefik.io/twice serverside-applied\n' });
    expect((await k.kubectl(['get', 'ingressroute', 'twice', '-n', 'media', '-o', 'jsonpath={.metadata.resourceVersion}'])).stdout).toBe(rv);
  });

  it('GIVEN a field owned by another manager WHEN applied with another value THEN a conflict naming manager and field, and --force-conflicts takes it over (https://kubernetes.io/docs/reference/using-api/server-side-apply/#conflicts)', async () => {
    expect((await k.kubectl(['apply', '--server-side', '--field-manager=alice', '-f', k.manifest(route('contested', `  entryPoints: [websecure]\n${ROUTES}`))])).code).toBe(0);
    const bobs = k.manifest(route('contested', '  entryPoints: [ts-secure]'));
    const r = await k.kubectl(['apply', '--server-side', '--field-manager=bob', '-f', bobs]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Apply failed with 1 conflict: conflict with "alice": .spec.entryPoints');
    expect((await k.kubectl(['apply', '--server-side', '--field-manager=bob', '--force-conflicts', '-f', bobs])).code).toBe(0);
    const live = sandbox.kubernetes.objects.get({ apiVersion: 'traefik.io/v1alpha1', kind: 'IngressRoute', namespace: 'media', name: 'contested' })!;
    expect(live.spec).toMatchObject({ entryPoints: ['ts-secure'] });
    const owners = Object.fromEntries(live.metadata.managedFields!.map((m) => [m.manager, m.fieldsV1]));
    expect(owners).toEqual({ alice: { 'f:spec': { 'f:routes': {} } }, bob: { 'f:spec': { 'f:entryPoints': {} } } });
  });

  it('GIVEN two managers setting different nested fields of spec.tls THEN no conflict, and a re-apply by one keeps the other\'s field (https://kubernetes.io/docs/reference/using-api/server-side-apply/#merge-strategy)', async () => {
    const alice = k.manifest(route('nested', `${ROUTES}\n  tls:\n    certResolver: letsencrypt`));
    expect((await k.kubectl(['apply', '--server-side', '--field-manager=alice', '-f', alice])).code).toBe(0);
    expect((await k.kubectl(['apply', '--server-side', '--field-manager=bob', '-f', k.manifest(route('nested', '  tls:\n    options:\n      name: strict'))])).code).toBe(0);
    expect((await k.kubectl(['apply', '--server-side', '--field-manager=alice', '-f', alice])).code).toBe(0);
    const tls = await k.kubectl(['get', 'ingressroute', 'nested', '-n', 'media', '-o', 'jsonpath={.spec.tls}']);
    expect(JSON.parse(tls.stdout)).toEqual({ certResolver: 'letsencrypt', options: { name: 'strict' } });
  });

  it('WHEN `kubectl get pods -o wide` THEN the server-side table has the columns kubectl shows for pods (https://kubernetes.io/docs/reference/using-api/api-concepts/#receiving-resources-as-tables)', async () => {
    const r = await k.kubectl(['get', 'pods', '-n', 'traefik', '-o', 'wide']);
    expect(r.code).toBe(0);
    const [header, ...rows] = r.stdout.trimEnd().split('\n');
    expect(header!.split(/\s{2,}/)).toEqual(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES']);
    expect(rows).toHaveLength(3);
    for (const row of rows) expect(row).toMatch(/^traefik-\w{5}\s+2\/2\s+Running\s+0\s+\d+[smhd]\S*\s+192\.168\.10\.2\d\s+node-2\d\s+<none>\s+<none>$/);
    const nodes = await k.kubectl(['get', 'nodes', '-o', 'wide']);
    expect(nodes.stdout.split('\n')[0]!.split(/\s{2,}/)).toEqual(['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION', 'INTERNAL-IP', 'EXTERNAL-IP', 'OS-IMAGE', 'KERNEL-VERSION', 'CONTAINER-RUNTIME']);
  });

  it('WHEN `kubectl explain` THEN fields come from the published OpenAPI v3 schema, the CRD\'s for Traefik kinds (https://kubernetes.io/docs/reference/kubectl/generated/kubectl_explain/)', async () => {
    const r = await k.kubectl(['explain', 'ingressroute.spec.routes']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('KIND:       IngressRoute');
    expect(r.stdout).toMatch(/match\s+<string> -required-/);
    const pod = await k.kubectl(['explain', 'pods.spec.containers']);
    expect(pod.stdout).toMatch(/image\s+<string>/);
  });

  it('GIVEN `kubectl delete --dry-run=server` (dryRun in the DeleteOptions body) THEN the object stays (https://kubernetes.io/docs/reference/using-api/api-concepts/#dry-run)', async () => {
    const r = await k.kubectl(['delete', 'ingressroute', 'argocd-server', '-n', 'argocd', '--dry-run=server']);
    expect(r).toMatchObject({ code: 0, stdout: 'ingressroute.traefik.io "argocd-server" deleted (server dry run)\n' });
    expect(sandbox.kubernetes.objects.get({ apiVersion: 'traefik.io/v1alpha1', kind: 'IngressRoute', namespace: 'argocd', name: 'argocd-server' })).toBeDefined();
    const pod = (await k.kubectl(['get', 'pods', '-n', 'traefik', '-o', 'name'])).stdout.split('\n')[0]!;
    expect((await k.kubectl(['delete', pod, '-n', 'traefik', '--dry-run=server'])).code).toBe(0);
    expect((await k.kubectl(['get', pod, '-n', 'traefik', '-o', 'jsonpath={.metadata.deletionTimestamp}'])).stdout).toBe('');
  });

  it('WHEN `kubectl auth whoami` THEN the SelfSubjectReview names the admin and its groups (https://kubernetes.io/docs/reference/access-authn-authz/authentication/#self-subject-review)', async () => {
    const r = await k.kubectl(['auth', 'whoami', '-o', 'json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ kind: 'SelfSubjectReview', apiVersion: 'authentication.k8s.io/v1', status: { userInfo: { username: 'system:admin', groups: ['system:masters', 'system:authenticated'] } } });
  });

  it('WHEN `kubectl exec` into a tailscale container THEN the simulated tailscaled answers, also through the image\'s /bin/sh (https://kubernetes.io/docs/tasks/debug/debug-application/get-shell-running-container/)', async () => {
    const pod = (await k.kubectl(['get', 'pods', '-n', 'traefik', '--field-selector', 'spec.nodeName=node-21', '-o', 'name'])).stdout.trim().replace('pod/', '');
    const st = await k.kubectl(['exec', '-n', 'traefik', pod, '-c', 'tailscale', '--', 'tailscale', 'status', '--json']);
    expect(st.code).toBe(0);
    expect(JSON.parse(st.stdout)).toMatchObject({ BackendState: 'Running', Self: { HostName: 'node-21' } });
    const sh = await k.kubectl(['exec', '-n', 'traefik', pod, '-c', 'tailscale', '--', '/bin/sh', '-c', 'tailscale version && exit 4']);
    expect(sh.stdout.split('\n')[0]).toBe('1.102.3');
    expect(sh.code).toBe(4);
    expect(sh.stderr).toContain('command terminated with exit code 4');
  });

  it('WHEN `kubectl rollout restart` then `kubectl rollout status` on the Traefik DaemonSet THEN pods are replaced node by node and the rollout completes (https://kubernetes.io/docs/tasks/manage-daemon/update-daemon-set/)', async () => {
    const before = (await k.kubectl(['get', 'pods', '-n', 'traefik', '-o', 'name'])).stdout.split('\n').filter(Boolean);
    expect(await k.kubectl(['rollout', 'restart', 'daemonset/traefik', '-n', 'traefik'])).toMatchObject({ code: 0, stdout: 'daemonset.apps/traefik restarted\n' });
    const status = await k.kubectl(['rollout', 'status', 'daemonset/traefik', '-n', 'traefik', '--timeout=50s']);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('Waiting for daemon set "traefik" rollout to finish: 1 out of 3 new pods have been updated...');
    expect(status.stdout.trimEnd().split('\n').pop()).toBe('daemon set "traefik" successfully rolled out');
    const after = (await k.kubectl(['get', 'pods', '-n', 'traefik', '-o', 'name'])).stdout.split('\n').filter(Boolean);
    expect(after).toHaveLength(3);
    expect(after.filter((p) => before.includes(p))).toEqual([]);
  }, 60_000);
});
