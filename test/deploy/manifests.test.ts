import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { parseConfig } from '../../src/config/load.js';
import { CrdSchemas } from '../../sandbox/kubernetes/crd-schemas.js';
import { BASE, componentNames, kustomize, kustomizeWithComponent, podTemplates, shippedConfigDoc, type K8sObject } from './render.js';

// deploy/kubernetes as an operator applies it: rendered by kustomize, every object checked
// against the Kubernetes JSON schemas (kubernetes-models) and held to the hardening the issue
// asks for, object by object. Every workload found is checked, whoever added it.

const base = kustomize(BASE);
const renders: [string, K8sObject[]][] = [['base', base], ...componentNames().map((c): [string, K8sObject[]] => [`base + components/${c}`, kustomizeWithComponent(c)])];
const shipped = parseConfig(shippedConfigDoc(), {}, 'deploy/kubernetes/labgate.yaml');
if (!shipped.ok) throw new Error(shipped.problems.join('\n'));
const graceMs = shipped.config.shutdown.grace;

/** Kinds from CRDs kubernetes-models does not model and the sandbox has no schema for: checked by their own components' tests. */
const OTHER_CRD_KINDS = new Set(['monitoring.coreos.com/v1/ServiceMonitor']);
const traefikCrds = new CrdSchemas();

async function schemaProblems(o: K8sObject): Promise<string | undefined> {
  const id = `${o.apiVersion}/${o.kind}`;
  if (OTHER_CRD_KINDS.has(id)) return undefined;
  // Traefik's objects (a forwardAuth Middleware, say) against Traefik's own CRD schemas.
  if (traefikCrds.has(o.apiVersion, o.kind)) {
    const check = traefikCrds.check(structuredClone(o));
    const problems = [...check.unknownFields.map((f) => `unknown field ${f}`), ...check.causes.map((c) => `${c.field}: ${c.message}`)];
    return problems.length ? `${id} ${o.metadata?.name}: ${problems.join('; ')}` : undefined;
  }
  let model: Record<string, new (o: unknown) => { validate(): void }>;
  try {
    model = await import(/* @vite-ignore */ `kubernetes-models/${o.apiVersion}/${o.kind}`);
  } catch {
    return `${id}: no schema for this kind`;
  }
  try {
    new model[o.kind]!(o).validate();
    return undefined;
  } catch (err) {
    return `${id} ${o.metadata?.name}: ${(err as Error).message}`;
  }
}

const containersOf = (spec: K8sObject): K8sObject[] => [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
const labgatePods = (objs: K8sObject[]) => podTemplates(objs).filter((p) => p.labels['app.kubernetes.io/name'] === 'labgate');
const component = (objs: K8sObject[], c: string) => labgatePods(objs).find((p) => p.labels['app.kubernetes.io/component'] === c)!;

describe.each(renders)('deploy/kubernetes rendered by kustomize (%s)', (_name, objects) => {
  it('validates every object against the Kubernetes schemas', async () => {
    expect(objects.length).toBeGreaterThan(10);
    const problems = (await Promise.all(objects.map(schemaProblems))).filter(Boolean);
    expect(problems).toEqual([]);
  });

  it('runs every container hardened: seccomp RuntimeDefault, non-root, read-only root, no capabilities, no escalation', () => {
    const problems: string[] = [];
    for (const { owner, spec } of podTemplates(objects)) {
      if (spec.securityContext?.seccompProfile?.type !== 'RuntimeDefault') problems.push(`${owner}: pod seccompProfile is not RuntimeDefault`);
      if (spec.securityContext?.runAsNonRoot !== true) problems.push(`${owner}: pod runAsNonRoot is not true`);
      if (spec.hostNetwork || spec.hostPID || spec.hostIPC) problems.push(`${owner}: uses the host's namespaces`);
      for (const c of containersOf(spec)) {
        const sc = c.securityContext ?? {};
        const where = `${owner} container ${c.name}`;
        if (sc.allowPrivilegeEscalation !== false) problems.push(`${where}: allowPrivilegeEscalation is not false`);
        if (sc.readOnlyRootFilesystem !== true) problems.push(`${where}: readOnlyRootFilesystem is not true`);
        if (!(sc.capabilities?.drop ?? []).includes('ALL')) problems.push(`${where}: capabilities do not drop ALL`);
        if (sc.privileged) problems.push(`${where}: privileged`);
        if (sc.seccompProfile && sc.seccompProfile.type !== 'RuntimeDefault') problems.push(`${where}: seccompProfile ${sc.seccompProfile.type}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('gives every container CPU and memory requests and a memory limit, a pinned image, and probes', () => {
    const problems: string[] = [];
    for (const { owner, spec } of podTemplates(objects)) {
      for (const c of containersOf(spec)) {
        const where = `${owner} container ${c.name}`;
        if (!c.resources?.requests?.cpu || !c.resources?.requests?.memory) problems.push(`${where}: no cpu/memory requests`);
        if (!c.resources?.limits?.memory) problems.push(`${where}: no memory limit`);
        if (!/^[^:@]+(:[\w.-]+|@sha256:[0-9a-f]{64})$/.test(c.image) || /:latest$/.test(c.image)) problems.push(`${where}: image ${c.image} is not pinned`);
      }
      for (const c of spec.containers ?? []) if (!c.livenessProbe || !c.readinessProbe) problems.push(`${owner} container ${c.name}: no liveness/readiness probe`);
    }
    expect(problems).toEqual([]);
  });

  it('probes the bot and the workers on /healthz and /readyz at port 9464 and stops them within the pod grace', () => {
    const pods = labgatePods(objects).filter((p) => ['bot', 'worker'].includes(p.labels['app.kubernetes.io/component']!));
    expect(pods.map((p) => p.labels['app.kubernetes.io/component']).sort()).toEqual(['bot', 'worker']);
    for (const { owner, spec } of pods) {
      const c = spec.containers.find((x: K8sObject) => x.name === 'labgate');
      const port = (ref: string | number) => (typeof ref === 'number' ? ref : c.ports.find((p: K8sObject) => p.name === ref)?.containerPort);
      expect(c.args.slice(1), owner).toEqual(['--http', '0.0.0.0:9464']);
      expect([c.livenessProbe.httpGet.path, port(c.livenessProbe.httpGet.port)], owner).toEqual(['/healthz', 9464]);
      expect([c.readinessProbe.httpGet.path, port(c.readinessProbe.httpGet.port)], owner).toEqual(['/readyz', 9464]);
      expect(spec.terminationGracePeriodSeconds * 1000, `${owner}: terminationGracePeriodSeconds vs shutdown.grace`).toBeGreaterThan(graceMs + 5_000);
    }
  });

  it('mounts labgate.yaml from a generated ConfigMap, so an edit rolls the pods', () => {
    const generated = objects.find((o) => o.kind === 'ConfigMap' && /^labgate-config-[a-z0-9]{10}$/.test(o.metadata.name));
    expect(generated?.data['labgate.yaml']).toBe(readFileSync(join(BASE, 'labgate.yaml'), 'utf8'));
    for (const { owner, spec } of labgatePods(objects)) {
      expect(spec.volumes.find((v: K8sObject) => v.name === 'config').configMap.name, owner).toBe(generated!.metadata.name);
    }
  });

  it('gives the bot and the worker their own ServiceAccount and only their own Secrets', () => {
    const bot = component(objects, 'bot');
    const worker = component(objects, 'worker');
    expect(bot.spec.serviceAccountName).toBe('labgate-bot');
    expect(worker.spec.serviceAccountName).toBe('labgate-worker');
    const secretsOf = (spec: K8sObject) =>
      new Set(
        containersOf(spec).flatMap((c) => [
          ...(c.envFrom ?? []).map((e: K8sObject) => e.secretRef?.name),
          ...(c.env ?? []).map((e: K8sObject) => e.valueFrom?.secretKeyRef?.name),
        ]).filter(Boolean),
      );
    expect([...secretsOf(bot.spec)].sort()).toEqual(['labgate-bot', 'labgate-redis']);
    expect([...secretsOf(worker.spec)].sort()).toEqual(['labgate-redis', 'labgate-worker']);
    const botEnv = bot.spec.containers[0].env.map((e: K8sObject) => e.name);
    expect(botEnv.filter((n: string) => /^(BAO_|ROUTEROS_)/.test(n))).toEqual([]);
  });

  it('keeps at least one worker through a voluntary disruption', () => {
    const worker = component(objects, 'worker');
    const pdbs = objects.filter((o) => o.kind === 'PodDisruptionBudget');
    const covering = pdbs.filter((p) => Object.entries(p.spec.selector.matchLabels).every(([k, v]) => worker.labels[k] === v));
    expect(covering.map((p) => p.spec.minAvailable)).toEqual([1]);
    expect(worker.obj.spec.replicas).toBeGreaterThan(1);
  });

  it('locks Redis: a password from a Secret, a pinned version, and a NetworkPolicy admitting only labgate', () => {
    const redis = podTemplates(objects).filter((p) => p.labels['app.kubernetes.io/name'] === 'redis');
    expect(redis.length).toBeGreaterThan(0);
    for (const { owner, spec } of redis) {
      expect(spec.automountServiceAccountToken, owner).toBe(false);
      for (const c of spec.containers) {
        expect(c.image, owner).toBe('redis:7.4.2-alpine');
        expect(c.env.find((e: K8sObject) => e.name === 'REDIS_PASSWORD').valueFrom.secretKeyRef, owner).toEqual({ name: 'labgate-redis', key: 'password' });
        // The password never sits in the command line or a probe's arguments.
        expect(JSON.stringify([c.command, c.args, c.livenessProbe, c.readinessProbe]), owner).not.toMatch(/-a |--pass|requirepass \$/);
      }
    }
    const policy = objects.find((o) => o.kind === 'NetworkPolicy' && o.spec.podSelector.matchLabels?.['app.kubernetes.io/name'] === 'redis')!;
    expect(policy.spec.policyTypes).toContain('Ingress');
    const from = policy.spec.ingress.flatMap((r: K8sObject) => r.from);
    for (const f of from) {
      expect(f.namespaceSelector, 'no other namespace').toBeUndefined();
      expect(f.ipBlock, 'no address range').toBeUndefined();
      expect(['labgate', 'redis']).toContain(f.podSelector.matchLabels['app.kubernetes.io/name']);
    }
  });

  it('selects every pod in the namespace with an ingress NetworkPolicy, with a default deny', () => {
    const policies = objects.filter((o) => o.kind === 'NetworkPolicy' && o.metadata.namespace === 'labgate');
    const deny = policies.find((p) => Object.keys(p.spec.podSelector).length === 0 && p.spec.policyTypes.includes('Ingress') && !p.spec.ingress);
    expect(deny, 'a default-deny ingress policy').toBeDefined();
    for (const { owner, labels } of podTemplates(objects)) {
      const own = policies.filter((p) => p !== deny && Object.entries(p.spec.podSelector.matchLabels ?? {}).every(([k, v]) => labels[k] === v) && Object.keys(p.spec.podSelector).length > 0);
      expect(own.length, `${owner}: a NetworkPolicy of its own`).toBeGreaterThan(0);
    }
  });

  it('runs labgate from the image the kustomization pins with images:', () => {
    const k = parse(readFileSync(join(BASE, 'kustomization.yaml'), 'utf8'));
    const tag = k.images.find((i: K8sObject) => i.name === 'ghcr.io/example/labgate').newTag;
    for (const { owner, spec } of labgatePods(objects)) expect(spec.containers[0].image, owner).toBe(`ghcr.io/example/labgate:${tag}`);
  });
});

describe('deploy/kubernetes configuration and secrets', () => {
  it("ships a labgate.yaml that passes labgate's own config check", () => {
    const res = parseConfig(shippedConfigDoc(), { DISCORD_TOKEN: 'x'.repeat(60) }, 'labgate.yaml');
    expect(res.ok ? [] : res.problems).toEqual([]);
  });

  it('ships only placeholders in the example Secrets, the bot without router or OpenBao credentials', () => {
    const secrets = parseAllDocuments(readFileSync(join(BASE, 'secrets.example.yaml'), 'utf8')).map((d) => d.toJS() as K8sObject);
    for (const s of secrets) for (const v of Object.values(s.stringData ?? {})) expect(String(v)).toMatch(/^<.*>$/);
    const keys = (name: string) => Object.keys(secrets.find((s) => s.metadata.name === name)!.stringData).sort();
    expect(keys('labgate-bot')).toEqual(['DISCORD_TOKEN', 'LABGATE_SIGNING_KEY']);
    expect(keys('labgate-worker')).toEqual(['DISCORD_TOKEN', 'LABGATE_SIGNING_KEY', 'ROUTEROS_PASSWORD']);
    expect(keys('labgate-redis')).toEqual(['password', 'sentinel-password']);
    // Not applied by the kustomization: people fill in and apply their own copy.
    expect(base.filter((o) => o.kind === 'Secret')).toEqual([]);
  });
});

describe('components/sentinel', () => {
  const objects = kustomizeWithComponent('sentinel');

  it('replaces the single Redis with three Redis + Sentinel pods and points bot and workers at the Sentinels', () => {
    expect(objects.filter((o) => o.kind === 'StatefulSet').map((o) => [o.metadata.name, o.spec.replicas])).toEqual([['redis-ha', 3]]);
    expect(objects.find((o) => o.kind === 'Service' && o.metadata.name === 'redis')).toBeUndefined();
    const ha = objects.find((o) => o.kind === 'StatefulSet')!;
    expect(ha.spec.template.spec.containers.map((c: K8sObject) => c.name)).toEqual(['redis', 'sentinel']);
    for (const { owner, spec } of labgatePods(objects)) {
      const env = Object.fromEntries(spec.containers[0].env.map((e: K8sObject) => [e.name, e]));
      expect(env.REDIS_SENTINELS.value.split(','), owner).toEqual([0, 1, 2].map((i) => `redis-ha-${i}.redis-ha.labgate.svc:26379`));
      expect(env.REDIS_MASTER_NAME.value, owner).toBe('labgate');
      expect(env.REDIS_SENTINEL_PASSWORD.valueFrom.secretKeyRef, owner).toEqual({ name: 'labgate-redis', key: 'sentinel-password' });
    }
    const pdb = objects.find((o) => o.kind === 'PodDisruptionBudget' && o.metadata.name === 'redis-ha')!;
    expect(pdb.spec.maxUnavailable).toBe(1);
  });
});

describe('the schema check itself', () => {
  it('GIVEN a Traefik Middleware or a Deployment with a wrong field THEN it names the problem', async () => {
    const mw = { apiVersion: 'traefik.io/v1alpha1', kind: 'Middleware', metadata: { name: 'gate', namespace: 'labgate' }, spec: { forwardAuth: { address: 'http://gate:8080', bogus: true } } };
    expect(await schemaProblems(mw)).toMatch(/Middleware gate: unknown field spec\.forwardAuth\.bogus/);
    expect(await schemaProblems({ ...mw, spec: { forwardAuth: { address: 'http://gate:8080' } } })).toBeUndefined();
    expect(await schemaProblems({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: { replicas: 'two' } })).toMatch(/replicas must be integer/);
    expect(await schemaProblems({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'x' } })).toBe('example.com/v1/Widget: no schema for this kind');
  });
});
