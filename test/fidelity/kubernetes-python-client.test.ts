import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultHomelab } from '../../sandbox/homelab.js';
import { seedKubernetesState, startKubernetesSandbox, type KubernetesSandbox } from '../../sandbox/kubernetes/index.js';
import { KubeClients } from './support/kubernetes-clients.js';

// Debian's python3-kubernetes (the official Python client, generated from the OpenAPI spec):
// its models refuse a Node whose nodeInfo lacks a required field, and VersionApi calls /version/.

const SCRIPT = String.raw`
import json, sys
from kubernetes import client, config

config.load_kube_config(config_file=sys.argv[1])
out = {}
nodes = client.CoreV1Api().list_node()
out['nodes'] = [{'name': n.metadata.name, 'bootID': n.status.node_info.boot_id, 'machineID': n.status.node_info.machine_id,
                 'systemUUID': n.status.node_info.system_uuid, 'kubelet': n.status.node_info.kubelet_version} for n in nodes.items]
out['version'] = client.VersionApi().get_code().git_version
pods = client.CoreV1Api().list_namespaced_pod('traefik', label_selector='app.kubernetes.io/name=traefik')
out['pods'] = sorted(p.spec.node_name for p in pods.items)
print(json.dumps(out))
`;

describe('fidelity: python3-kubernetes against the sandbox Kubernetes API', () => {
  let sandbox: KubernetesSandbox;
  let k: KubeClients;

  beforeAll(async () => {
    sandbox = await startKubernetesSandbox({ state: seedKubernetesState(defaultHomelab()) });
    k = new KubeClients(sandbox.kubeconfig());
  });

  afterAll(async () => {
    await sandbox?.close();
    k?.close();
  });

  it('WHEN list_node and VersionApi.get_code THEN the client deserializes every Node (nodeInfo complete, https://kubernetes.io/docs/reference/kubernetes-api/cluster-resources/node-v1/#NodeStatus) and the version (GET /version/, https://kubernetes.io/docs/reference/using-api/health-checks/)', async () => {
    const out = await k.python<{ nodes: { name: string; bootID: string; machineID: string; systemUUID: string; kubelet: string }[]; version: string; pods: string[] }>(SCRIPT);
    expect(out.nodes.map((n) => n.name)).toEqual(['node-21', 'node-22', 'node-23']);
    for (const n of out.nodes) {
      expect(n.machineID).toMatch(/^[0-9a-f]{32}$/);
      expect(n.bootID).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(n.systemUUID).toMatch(/^[0-9a-f]{8}-/);
      expect(n.kubelet).toMatch(/^v1\.\d+/);
    }
    expect(out.version).toMatch(/^v1\.\d+\.\d+/);
    expect(out.pods).toEqual(['node-21', 'node-22', 'node-23']);
    expect(sandbox.requests.some((r) => r.path === '/version/' && r.status === 200)).toBe(true);
  });
});
