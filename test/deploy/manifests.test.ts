import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { parseConfig } from '../../src/config/load.js';

const dir = fileURLToPath(new URL('../../deploy/kubernetes/', import.meta.url));
const docs = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((f) => parseAllDocuments(readFileSync(dir + f, 'utf8')).map((d) => ({ file: f, errors: d.errors, obj: d.toJS() as Record<string, any> })));
const byKind = (kind: string) => docs.filter((d) => d.obj?.kind === kind).map((d) => d.obj);

describe('deploy/kubernetes manifests', () => {
  it('parse as YAML without errors', () => {
    expect(docs.flatMap((d) => d.errors.map((e) => `${d.file}: ${e.message}`))).toEqual([]);
  });

  it('ship a labgate.yaml that passes labgate\'s own config check', () => {
    const cm = byKind('ConfigMap').find((c) => c.metadata.name === 'labgate-config')!;
    const res = parseConfig(parse(cm.data['labgate.yaml']), { DISCORD_TOKEN: 'x'.repeat(60) }, 'configmap');
    expect(res.ok ? [] : res.problems).toEqual([]);
  });

  it('run one gateway (bot) and scalable workers from the same config and secrets', () => {
    // The gate (gate.yaml) has its own account and no secrets: test/deploy/gate-manifest.test.ts.
    const deps = byKind('Deployment').filter((d) => d.metadata.name !== 'labgate-gate');
    const args = deps.map((d) => d.spec.template.spec.containers[0].args[0]).sort();
    expect(args).toEqual(['bot', 'worker']);
    expect(deps.find((d) => d.spec.template.spec.containers[0].args[0] === 'bot')!.spec.replicas).toBe(1);
    for (const d of deps) {
      const c = d.spec.template.spec.containers[0];
      expect(d.spec.template.spec.serviceAccountName).toBe('labgate');
      expect(c.env.find((e: { name: string }) => e.name === 'LABGATE_CONFIG').value).toBe('/etc/labgate/labgate.yaml');
      expect(c.envFrom[0].secretRef.name).toBe('labgate-secrets');
      expect(c.securityContext.runAsNonRoot).toBe(true);
    }
  });

  it('grant what the adapters use: Traefik objects, Secrets, pods/exec, and no cluster-admin', () => {
    const role = byKind('ClusterRole').find((r) => r.metadata.name === 'labgate')!;
    const can = (group: string, resource: string, verb: string) =>
      role.rules.some((r: { apiGroups: string[]; resources: string[]; verbs: string[] }) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb));
    for (const res of ['ingressroutes', 'middlewares', 'tlsoptions']) for (const v of ['get', 'list', 'patch', 'delete']) expect(can('traefik.io', res, v)).toBe(true);
    expect(can('', 'secrets', 'patch')).toBe(true);
    expect(can('', 'pods/exec', 'create')).toBe(true);
    expect(can('', 'services', 'get')).toBe(true);
    expect(role.rules.some((r: { resources: string[]; verbs: string[] }) => r.resources.includes('*') || r.verbs.includes('*'))).toBe(false);
  });

  it('keep secrets out of the committed manifests', () => {
    const secrets = byKind('Secret');
    for (const s of secrets) for (const v of Object.values(s.stringData ?? {})) expect(String(v)).toMatch(/^<.*>$/);
  });
});
