import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lastPlan, startLab, type Lab } from '../support/lab.js';

const TRAEFIK = 'traefik.io/v1alpha1';

async function readBack(lab: Lab, kind: string, namespace: string, name: string) {
  try {
    return (await lab.kube.read({ apiVersion: TRAEFIK, kind, metadata: { name, namespace } })) as { metadata: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec: Record<string, unknown> };
  } catch (err) {
    if ((err as { code?: number }).code === 404) return undefined;
    throw err;
  }
}

/** Plans `line` as bob and approves that plan, by its id, as alice; the result must be applied. */
async function planAndApprove(lab: Lab, line: string): Promise<void> {
  const planned = await lab.run(line, 'bob');
  expect(planned.planId).toBeTruthy();
  await lab.run(`approve ${planned.planId}`, 'alice');
  const result = lab.printed.find((m) => m.kind === 'result' && m.planId === planned.planId);
  expect(result?.result?.status).toBe('applied');
}

const STEPS = [
  '/expose service:immich namespace:media port:2283 host:photos auth:tailscale-only',
  '/route mode host:photos mode:tailscale-bypass',
  '/route mode host:photos mode:mtls-strict',
  '/unexpose host:photos',
] as const;

/** Brings this test's own lab to the state after the first `n` steps of the flow. */
async function stepsDone(lab: Lab, n: number): Promise<void> {
  for (const line of STEPS.slice(0, n)) await planAndApprove(lab, line);
}

describe('expose → plan → approve → apply, through the sandbox Kubernetes API', () => {
  // Each test gets its own sandbox and Redis prefix, and builds the exposure it starts from.
  let lab: Lab;
  beforeEach(async () => {
    lab = await startLab();
  });
  afterEach(async () => {
    await lab.close();
  });

  it('GIVEN a Service WHEN exposed tailscale-only and approved THEN one IngressRoute on ts-secure exists with labgate labels', async () => {
    const planned = await lab.run('/expose service:immich namespace:media port:2283 host:photos auth:tailscale-only', 'bob');
    expect(planned.replies).toEqual([]);
    const plan = lastPlan(lab);
    expect(plan.planId).toBe(planned.planId);
    expect(plan.diff).toContain('+++ b/IngressRoute/media/photos-ts');
    expect(plan.buttons?.map((b) => b.label)).toEqual(['Approve', 'Reject']);
    // Nothing changes until someone allowed to approves.
    expect(lab.kubeWrites()).toEqual([]);
    expect(await readBack(lab, 'IngressRoute', 'media', 'photos-ts')).toBeUndefined();

    const approved = await lab.run(`approve ${planned.planId}`, 'alice');
    expect(approved.fault).toBeFalsy();
    const result = lab.printed.find((m) => m.kind === 'result' && m.planId === planned.planId);
    expect(result?.result?.status).toBe('applied');

    const route = await readBack(lab, 'IngressRoute', 'media', 'photos-ts');
    expect(route?.metadata.labels?.['app.kubernetes.io/managed-by']).toBe('labgate');
    expect(route?.metadata.annotations?.['labgate.dev/host']).toBe('photos.home.example.com');
    expect(route?.metadata.annotations?.['labgate.dev/access-mode']).toBe('tailscale-only');
    expect(route?.spec.entryPoints).toEqual(['ts-secure']);
    expect(JSON.stringify(route?.spec.routes)).toContain('Host(`photos.home.example.com`)');
  });

  it('GIVEN an exposed host WHEN switched to tailscale-bypass THEN the internet route sits behind the forward-auth middleware', async () => {
    await stepsDone(lab, 1);
    const planned = await lab.run('/route mode host:photos mode:tailscale-bypass', 'bob');
    expect(lastPlan(lab).diff).toContain('+++ b/IngressRoute/media/photos-public');
    await lab.run(`approve ${planned.planId}`, 'alice');
    const pub = await readBack(lab, 'IngressRoute', 'media', 'photos-public');
    expect(pub?.spec.entryPoints).toEqual(['websecure']);
    expect(JSON.stringify(pub?.spec.routes)).toContain('"middlewares":[{"name":"oidc-auth","namespace":"traefik"}]');
    expect(await readBack(lab, 'IngressRoute', 'media', 'photos-ts')).toBeDefined();
    expect(planned.planId).toBeTruthy();
  });

  it('GIVEN tailscale-bypass WHEN switched to mtls-strict THEN the tailnet route goes and a TLSOption requires client certificates', async () => {
    await stepsDone(lab, 2);
    const planned = await lab.run('/route mode host:photos mode:mtls-strict', 'bob');
    const plan = lastPlan(lab);
    expect(plan.planId).toBe(planned.planId);
    expect(plan.diff).toContain('--- a/IngressRoute/media/photos-ts');
    expect(plan.diff).toContain('+++ b/TLSOption/media/photos-mtls');
    expect(plan.lines?.join('\n')).toMatch(/Secret media\/labgate-client-ca .* does not exist yet/);
    await lab.run(`approve ${planned.planId}`, 'alice');
    expect(await readBack(lab, 'IngressRoute', 'media', 'photos-ts')).toBeUndefined();
    const opt = await readBack(lab, 'TLSOption', 'media', 'photos-mtls');
    expect(opt?.spec).toMatchObject({ clientAuth: { clientAuthType: 'RequireAndVerifyClientCert', secretNames: ['labgate-client-ca'] } });
    const pub = await readBack(lab, 'IngressRoute', 'media', 'photos-public');
    expect(pub?.spec.tls).toMatchObject({ options: { name: 'photos-mtls', namespace: 'media' } });
    expect(JSON.stringify(pub?.spec.routes)).not.toContain('oidc-auth');
  });

  it('GIVEN a labgate exposure and a foreign object in the same namespace WHEN unexposed THEN only labgate\'s objects are removed', async () => {
    await stepsDone(lab, 3);
    lab.sandbox.kubernetes.objects.put({
      apiVersion: TRAEFIK,
      kind: 'Middleware',
      metadata: { name: 'photos-extra', namespace: 'media', annotations: { 'labgate.dev/host': 'photos.home.example.com' } },
      spec: { headers: { customRequestHeaders: { 'X-Test': '1' } } },
    });
    const before = lab.kubeWrites().length;
    const planned = await lab.run('/unexpose host:photos', 'bob');
    const plan = lastPlan(lab);
    expect(plan.planId).toBe(planned.planId);
    expect(plan.diff).not.toContain('photos-extra');
    await lab.run(`approve ${planned.planId}`, 'alice');
    for (const [kind, name] of [['IngressRoute', 'photos-public'], ['TLSOption', 'photos-mtls'], ['Middleware', 'photos-client-cert']] as const)
      expect(await readBack(lab, kind, 'media', name)).toBeUndefined();
    expect(await readBack(lab, 'Middleware', 'media', 'photos-extra')).toBeDefined();
    expect(lab.kubeWrites().slice(before).every((w) => w.method === 'DELETE')).toBe(true);
    // The route goes first, so it never points at a TLSOption or middleware that is gone.
    const deleted = lab.kubeWrites().slice(before).map((w) => w.path.split('/').pop());
    expect(deleted[0]).toBe('photos-public');
    expect([...deleted].sort()).toEqual(['photos-client-cert', 'photos-gate', 'photos-mtls', 'photos-public']);
  });

  it('records every plan, approval and result in the audit stream, newest first', async () => {
    await stepsDone(lab, STEPS.length);
    const out = await lab.run('/audit count:30');
    const rows = out.replies[0]!.table!.rows;
    const actions = rows.map((r) => r[2]);
    expect(actions.slice(0, 3)).toEqual(['apply', 'approve', 'plan']);
    expect(actions.filter((a) => a === 'apply')).toHaveLength(4);
    for (const r of rows.filter((r) => r[2] === 'apply')) expect(r[5]).toMatch(/^[0-9a-f]{12}$/);
  });
});
