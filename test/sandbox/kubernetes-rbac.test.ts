import { readFileSync } from 'node:fs';
import https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultHomelab } from '../../sandbox/homelab.js';
import { seedKubernetesState, startKubernetesSandbox, type KubernetesSandbox } from '../../sandbox/kubernetes/index.js';
import { KubeClients } from '../fidelity/support/kubernetes-clients.js';

// RBAC as https://kubernetes.io/docs/reference/access-authn-authz/rbac/ describes it, driven by
// kubectl with a ServiceAccount's kubeconfig; the 403 texts are the API server's own wording.

const READER = `apiVersion: v1
kind: ServiceAccount
metadata: { name: reader, namespace: media }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: reader, namespace: media }
rules:
  - apiGroups: [""]
    resources: [configmaps]
    verbs: [get, list]
  - apiGroups: [""]
    resources: [secrets]
    resourceNames: [allowed]
    verbs: [get]
  - apiGroups: [""]
    resources: [pods/exec]
    verbs: [create]
    resourceNames: [nothing-here]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: reader, namespace: media }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader }
subjects:
  - { kind: ServiceAccount, name: reader, namespace: media }
---
apiVersion: v1
kind: Secret
metadata: { name: allowed, namespace: media }
stringData: { a: b }
---
apiVersion: v1
kind: Secret
metadata: { name: other, namespace: media }
stringData: { a: b }
`;

describe('sandbox Kubernetes RBAC (kubectl with ServiceAccount kubeconfigs)', () => {
  let sandbox: KubernetesSandbox;
  let k: KubeClients;

  beforeAll(async () => {
    sandbox = await startKubernetesSandbox({ state: seedKubernetesState(defaultHomelab()) });
    k = new KubeClients(sandbox.kubeconfig());
    const applied = await k.kubectl(['apply', '-f', k.manifest(READER)]);
    expect(applied.code).toBe(0);
  });

  afterAll(async () => {
    await sandbox?.close();
    k?.close();
  });

  it("GIVEN deploy/kubernetes's namespace and RBAC applied with kubectl WHEN labgate's worker ServiceAccount acts THEN it gets pods and exec in Traefik's namespace only", async () => {
    const files = ['namespace.yaml', 'rbac.yaml'].map((f) => k.manifest(readFileSync(`deploy/kubernetes/${f}`, 'utf8')));
    expect((await k.kubectl(['apply', ...files.flatMap((f) => ['-f', f])])).code).toBe(0);
    const sa = k.kubeconfigFile(sandbox.kubeconfigFor('labgate', 'labgate-worker'));
    expect((await k.kubectl(['get', 'pods', '-n', 'traefik', '-o', 'name'], { kubeconfig: sa })).stdout.split('\n').filter(Boolean)).toHaveLength(3);
    expect((await k.kubectl(['auth', 'can-i', 'get', 'pods', '-n', 'media'], { kubeconfig: sa })).stdout).toBe('no\n');
    // (`pods/exec` alone would ask about a pod named "exec": kubectl takes TYPE/NAME.)
    expect((await k.kubectl(['auth', 'can-i', 'create', 'pods', '--subresource=exec', '-n', 'traefik'], { kubeconfig: sa })).stdout).toBe('yes\n');
    const denied = await k.kubectl(['get', 'configmaps', '-n', 'media'], { kubeconfig: sa });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toBe(
      'Error from server (Forbidden): configmaps is forbidden: User "system:serviceaccount:labgate:labgate-worker" cannot list resource "configmaps" in API group "" in the namespace "media"\n',
    );
    expect((await k.kubectl(['auth', 'can-i', 'delete', 'nodes'], { kubeconfig: sa })).stdout).toBe('no\n');
  });

  it('GIVEN a Role with resourceNames THEN only the named Secret can be read, and the 403 names the object', async () => {
    const sa = k.kubeconfigFile(sandbox.kubeconfigFor('media', 'reader'));
    expect((await k.kubectl(['get', 'secret', 'allowed', '-n', 'media', '-o', 'name'], { kubeconfig: sa })).stdout).toBe('secret/allowed\n');
    const other = await k.kubectl(['get', 'secret', 'other', '-n', 'media'], { kubeconfig: sa });
    expect(other.stderr).toBe('Error from server (Forbidden): secrets "other" is forbidden: User "system:serviceaccount:media:reader" cannot get resource "secrets" in API group "" in the namespace "media"\n');
    const list = await k.kubectl(['get', 'secrets', '-n', 'media'], { kubeconfig: sa });
    expect(list.stderr).toContain('secrets is forbidden: User "system:serviceaccount:media:reader" cannot list resource "secrets" in API group "" in the namespace "media"');
    // A RoleBinding grants in its own namespace only.
    expect((await k.kubectl(['get', 'configmaps', '-n', 'auth'], { kubeconfig: sa })).stderr).toContain('in the namespace "auth"');
    expect((await k.kubectl(['get', 'configmaps', '-n', 'media'], { kubeconfig: sa })).code).toBe(0);
  });

  it('GIVEN no grant on pods/exec for that pod WHEN kubectl exec THEN 403 for the create verb on the subresource', async () => {
    const sa = k.kubeconfigFile(sandbox.kubeconfigFor('media', 'reader'));
    const pod = sandbox.objects.list('v1', 'Pod', 'traefik')[0]!.metadata.name;
    // kubectl exec reads the pod first: that much it may.
    expect((await k.kubectl(['create', 'role', 'pod-reader', '--verb=get', '--resource=pods', '-n', 'traefik'])).code).toBe(0);
    expect((await k.kubectl(['create', 'rolebinding', 'pod-reader', '--role=pod-reader', '--serviceaccount=media:reader', '-n', 'traefik'])).code).toBe(0);
    const r = await k.kubectl(['exec', '-n', 'traefik', pod, '-c', 'tailscale', '--', 'tailscale', 'version'], { kubeconfig: sa });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`pods "${pod}" is forbidden: User "system:serviceaccount:media:reader" cannot create resource "pods/exec" in API group "" in the namespace "traefik"`);
  });

  it('WHEN `kubectl create token` (the TokenRequest subresource) THEN the token authenticates as the ServiceAccount, and stops working once it is deleted', async () => {
    const token = (await k.kubectl(['create', 'token', 'reader', '-n', 'media'])).stdout.trim();
    expect(token.split('.')).toHaveLength(3);
    const who = await k.kubectl(['auth', 'whoami', '--token', token, '-o', 'jsonpath={.status.userInfo.username}']);
    expect(who.stdout).toBe('system:serviceaccount:media:reader');
    await k.kubectl(['create', 'serviceaccount', 'short-lived', '-n', 'media']);
    const gone = (await k.kubectl(['create', 'token', 'short-lived', '-n', 'media'])).stdout.trim();
    await k.kubectl(['delete', 'serviceaccount', 'short-lived', '-n', 'media']);
    const refused = await k.kubectl(['get', 'pods', '--token', gone]);
    expect(refused.stderr).toContain('error: You must be logged in to the server (Unauthorized)');
  });

  it('GIVEN a binding to the aggregated "view" ClusterRole THEN the rules of the roles it aggregates apply', async () => {
    await k.kubectl(['create', 'serviceaccount', 'viewer', '-n', 'monitoring']);
    const sa = k.kubeconfigFile(sandbox.kubeconfigFor('monitoring', 'viewer'));
    expect((await k.kubectl(['auth', 'can-i', 'list', 'pods', '-n', 'monitoring'], { kubeconfig: sa })).stdout).toBe('no\n');
    await k.kubectl(['create', 'rolebinding', 'viewer', '--clusterrole=view', '--serviceaccount=monitoring:viewer', '-n', 'monitoring']);
    expect((await k.kubectl(['auth', 'can-i', 'list', 'pods', '-n', 'monitoring'], { kubeconfig: sa })).stdout).toBe('yes\n');
    expect((await k.kubectl(['auth', 'can-i', 'delete', 'pods', '-n', 'monitoring'], { kubeconfig: sa })).stdout).toBe('no\n');
  });

  it('GIVEN only patch WHEN a server-side apply would create the object THEN 403 for create; with create as well it is made, and patch alone updates it', async () => {
    await k.kubectl(['create', 'serviceaccount', 'applier', '-n', 'media']);
    await k.kubectl(['create', 'role', 'cm-patch', '--verb=patch', '--resource=configmaps', '-n', 'media']);
    await k.kubectl(['create', 'rolebinding', 'cm-patch', '--role=cm-patch', '--serviceaccount=media:applier', '-n', 'media']);
    const sa = k.kubeconfigFile(sandbox.kubeconfigFor('media', 'applier'));
    const cm = k.manifest('apiVersion: v1\nkind: ConfigMap\nmetadata: { name: ssa-made, namespace: media }\ndata: { a: "1" }\n');
    const refused = await k.kubectl(['apply', '--server-side', '-f', cm], { kubeconfig: sa });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('configmaps "ssa-made" is forbidden: User "system:serviceaccount:media:applier" cannot create resource "configmaps" in API group "" in the namespace "media"');
    await k.kubectl(['create', 'role', 'cm-create', '--verb=create', '--resource=configmaps', '-n', 'media']);
    await k.kubectl(['create', 'rolebinding', 'cm-create', '--role=cm-create', '--serviceaccount=media:applier', '-n', 'media']);
    expect((await k.kubectl(['apply', '--server-side', '-f', cm], { kubeconfig: sa })).code).toBe(0);
    await k.kubectl(['delete', 'rolebinding', 'cm-create', '-n', 'media']);
    const updated = k.manifest('apiVersion: v1\nkind: ConfigMap\nmetadata: { name: ssa-made, namespace: media }\ndata: { a: "2" }\n');
    expect((await k.kubectl(['apply', '--server-side', '-f', updated], { kubeconfig: sa })).code).toBe(0);
    expect((await k.kubectl(['get', 'configmap', 'ssa-made', '-n', 'media', '-o', 'jsonpath={.data.a}'])).stdout).toBe('2');
  });

  it('GIVEN no credentials THEN /healthz, /readyz, /livez and /version are served, and anything else is refused to system:anonymous', async () => {
    const anon = (path: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        https.get(`${sandbox.url}${path}`, { ca: sandbox.caPem }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString('utf8')));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        }).on('error', reject);
      });
    for (const path of ['/healthz', '/readyz', '/livez']) expect(await anon(path)).toEqual({ status: 200, body: 'ok' });
    expect(JSON.parse((await anon('/version')).body).major).toBe('1');
    const apis = await anon('/apis');
    expect(apis.status).toBe(403);
    expect(JSON.parse(apis.body).message).toBe('forbidden: User "system:anonymous" cannot get path "/apis"');
  });
});
