import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { deployCommand } from '../../src/cli/deploy-command.js';
import { parseConfig } from '../../src/config/load.js';
import { renderRbac } from '../../src/deploy/rbac.js';
import { BASE, shippedConfigDoc, type K8sObject } from './render.js';

const SHIPPED = join(BASE, 'labgate.yaml');

async function runDeploy(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await deployCommand(args, { out: (s) => (out += s), err: (s) => (err += s), usage: 'usage: labgate deploy rbac [--config FILE]' });
  return { code, out, err };
}

function configWith(edit: (doc: K8sObject) => void): string {
  const doc = shippedConfigDoc() as K8sObject;
  edit(doc);
  const dir = mkdtempSync(join(tmpdir(), 'labgate-rbac-'));
  const file = join(dir, 'labgate.yaml');
  writeFileSync(file, stringify(doc));
  return file;
}

const objectsOf = (yaml: string) => parseAllDocuments(yaml).map((d) => d.toJS() as K8sObject);
const shippedObjects = objectsOf(readFileSync(join(BASE, 'rbac.yaml'), 'utf8'));
const WRITE_VERBS = ['create', 'update', 'patch', 'delete', 'deletecollection', '*'];

/** Every rule a ServiceAccount holds, with where it holds it (a namespace, or the cluster). */
function grantsOf(objects: K8sObject[], account: string): { scope: string; rule: K8sObject }[] {
  const bound = (b: K8sObject) => (b.subjects ?? []).some((s: K8sObject) => s.kind === 'ServiceAccount' && s.name === account && s.namespace === 'labgate');
  const role = (kind: string, name: string, ns?: string) => objects.find((o) => o.kind === kind && o.metadata.name === name && (kind === 'ClusterRole' || o.metadata.namespace === ns));
  return objects
    .filter((o) => (o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding') && bound(o))
    .flatMap((b) => {
      const r = role(b.roleRef.kind, b.roleRef.name, b.metadata.namespace);
      if (!r) throw new Error(`${b.kind} ${b.metadata.name} refers to a missing ${b.roleRef.kind} ${b.roleRef.name}`);
      return r.rules.map((rule: K8sObject) => ({ scope: b.kind === 'ClusterRoleBinding' ? 'cluster' : b.metadata.namespace, rule }));
    });
}

describe('labgate deploy rbac', () => {
  it('prints exactly the shipped deploy/kubernetes/rbac.yaml for the shipped labgate.yaml', async () => {
    const res = await runDeploy(['rbac', '--config', SHIPPED]);
    expect(res.err).toBe('');
    expect(res.code).toBe(0);
    expect(res.out).toBe(readFileSync(join(BASE, 'rbac.yaml'), 'utf8'));
  });

  it('GIVEN exposure.namespaces.allow "*" THEN refuses with a message naming the field and what to write instead', async () => {
    const file = configWith((d) => (d.exposure.namespaces.allow = ['*']));
    try {
      const res = await runDeploy(['rbac', '--config', file]);
      expect(res.code).toBe(1);
      expect(res.out).toBe('');
      expect(res.err).toContain('exposure.namespaces.allow: "*"');
      expect(res.err).toContain('list the namespaces');
    } finally {
      rmSync(join(file, '..'), { recursive: true, force: true });
    }
  });

  it('GIVEN no config THEN says how to give one; GIVEN an unknown subcommand THEN prints the usage', async () => {
    const prev = process.env.LABGATE_CONFIG;
    delete process.env.LABGATE_CONFIG;
    try {
      const none = await runDeploy(['rbac']);
      expect(none.code).toBe(2);
      expect(none.err).toContain('--config FILE');
    } finally {
      if (prev !== undefined) process.env.LABGATE_CONFIG = prev;
    }
    const other = await runDeploy(['roles']);
    expect([other.code, other.err]).toEqual([2, 'labgate deploy: unknown subcommand "roles"\nusage: labgate deploy rbac [--config FILE]\n']);
  });

  it('grants writes only in the allowed namespaces, leaving out denied and built-in ones', () => {
    const res = parseConfig({ domain: 'home.example.com', exposure: { namespaces: { allow: ['media', 'kube-system', 'labgate', 'photos'], deny: ['photos'] } } }, {}, 'test');
    if (!res.ok) throw new Error(res.problems.join('\n'));
    const rbac = renderRbac(res.config);
    if (!rbac.ok) throw new Error(rbac.problem);
    expect(rbac.writable).toEqual(['media']);
    const writes = grantsOf(objectsOf(rbac.yaml), 'labgate-worker').filter((g) => g.rule.verbs.some((v: string) => WRITE_VERBS.includes(v)));
    expect([...new Set(writes.map((g) => g.scope))].sort()).toEqual(['media', 'traefik']);
  });
});

describe('the shipped grants (deploy/kubernetes/rbac.yaml)', () => {
  it('give the bot reads only: no write verb, no Secrets, no exec, anywhere', () => {
    const grants = grantsOf(shippedObjects, 'labgate-bot');
    expect(grants.length).toBeGreaterThan(0);
    for (const { scope, rule } of grants) {
      expect(rule.verbs.filter((v: string) => WRITE_VERBS.includes(v)), `${scope}: ${JSON.stringify(rule)}`).toEqual([]);
      expect(rule.resources, scope).not.toContain('secrets');
      expect(rule.resources.some((r: string) => r.startsWith('pods/')), scope).toBe(false);
    }
  });

  it('give the worker writes, Secrets and exec only by namespace: the allowed ones, and exec in Traefik’s', () => {
    const config = parseConfig(shippedConfigDoc(), {}, 'shipped');
    if (!config.ok) throw new Error(config.problems.join('\n'));
    const allowed = config.config.exposure.namespaces.allow;
    for (const { scope, rule } of grantsOf(shippedObjects, 'labgate-worker')) {
      const writes = rule.verbs.some((v: string) => WRITE_VERBS.includes(v));
      const sensitive = rule.resources.includes('secrets') || rule.resources.includes('pods/exec') || rule.resources.includes('pods');
      if (!writes && !sensitive) continue;
      expect(scope, JSON.stringify(rule)).not.toBe('cluster');
      if (rule.resources.includes('pods/exec') || rule.resources.includes('pods')) expect(scope).toBe(config.config.tailscale.daemonSet.namespace);
      else expect(allowed).toContain(scope);
    }
  });

  it('use no wildcard and no cluster-wide Secrets, and bind no one but labgate’s two accounts', () => {
    for (const o of shippedObjects) {
      for (const rule of o.rules ?? []) {
        expect([...rule.verbs, ...rule.resources, ...rule.apiGroups]).not.toContain('*');
        if (o.kind === 'ClusterRole') {
          const bindings = shippedObjects.filter((b) => b.kind === 'ClusterRoleBinding' && b.roleRef.name === o.metadata.name);
          if (bindings.length) expect(rule.resources, o.metadata.name).not.toContain('secrets');
        }
      }
      for (const s of o.subjects ?? []) expect(['labgate-bot', 'labgate-worker']).toContain(s.name);
    }
  });
});
