import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from '../support/lab.js';

const TRAEFIK = 'traefik.io/v1alpha1';

describe('approvals: who may decide, once, in time, on unchanged state', () => {
  let lab: Lab;
  // Starts at the real time and only moves forward by hand: nothing here depends on the calendar.
  let clock = Date.now();
  beforeAll(async () => {
    lab = await startLab({
      now: () => clock,
      configure: (c) => {
        c.shell.users = ['alice', 'bob', 'carol', 'mallory'];
        c.access.groups = { approvers: ['shell:alice', 'shell:bob'], operators: ['shell:alice', 'shell:bob', 'shell:carol'] };
        // The secure default: someone other than the requester approves.
        c.access.defaults = { request: ['operators'], approve: ['approvers'] };
      },
    });
  });
  afterAll(async () => {
    await lab.close();
  });

  const routeWrites = (name: string) => lab.kubeWrites().filter((w) => w.path.endsWith(`/${name}`));
  // Each test makes its own plans (own hosts) and names them: it stands alone in any order.
  const planFor = async (host: string, as = 'alice') => (await lab.run(`/expose service:grafana namespace:monitoring port:3000 host:${host} auth:tailscale-only`, as)).planId!;

  it('GIVEN a plan WHEN a user who may request but not approve approves THEN it is refused and stays pending', async () => {
    const { planId } = await lab.run('/expose service:grafana namespace:monitoring port:3000 host:grafana auth:tailscale-only', 'alice');
    const out = await lab.run(`approve ${planId}`, 'carol');
    expect(out.replies[0]).toMatchObject({ kind: 'refusal', text: expect.stringMatching(/you may not approve \/expose plans \(allowed: approvers\)/) });
    const rec = await lab.app.services.store.get(planId!);
    expect(rec?.status).toBe('pending');
    expect(routeWrites('grafana-ts')).toEqual([]);
  });

  it('GIVEN self-approval off (the default) WHEN the requester approves THEN it is refused', async () => {
    const planId = await planFor('selfie');
    const out = await lab.run(`approve ${planId}`, 'alice');
    expect(out.replies[0]?.text).toMatch(/you requested this plan; someone else must approve it/);
    expect(routeWrites('selfie-ts')).toEqual([]);
  });

  it('GIVEN two approvers clicking at the same moment THEN the plan is applied exactly once', async () => {
    const planId = await planFor('dash');
    const [a, b] = await Promise.all([lab.run(`approve ${planId}`, 'bob'), lab.run(`approve ${planId}`, 'alice')]);
    const refusals = [...a.replies, ...b.replies].filter((r) => r.kind === 'refusal');
    expect(refusals).toHaveLength(1);
    expect(refusals[0]!.text).toMatch(/already approved|someone else must approve/);
    // Even a duplicate enqueue (a double click racing past the decision) adds no second apply.
    const { Queue } = await import('bullmq');
    const q = new Queue('apply', { connection: lab.app.services.redis.duplicate(), prefix: lab.app.services.keys.bullPrefix });
    const hash = (await lab.app.services.store.get(planId))!.plan.hash;
    const { applyJobId } = await import('../../src/queue/jobs.js');
    const added = await q.add('apply', { planId, hash }, { jobId: applyJobId(planId, hash) });
    expect(await added.getState()).toBe('completed');
    expect(await q.getJobCounts()).toMatchObject({ waiting: 0, active: 0 });
    await q.close();
    expect(routeWrites('dash-ts')).toEqual([{ method: 'PATCH', path: '/apis/traefik.io/v1alpha1/namespaces/monitoring/ingressroutes/dash-ts' }]);
    expect(lab.printed.filter((m) => m.kind === 'result' && m.planId === planId)).toHaveLength(1);
  });

  it('GIVEN an applied plan WHEN approved again THEN it is refused as already applied', async () => {
    const planId = await planFor('again');
    await lab.run(`approve ${planId}`, 'bob');
    expect((await lab.app.services.store.get(planId))?.status).toBe('applied');
    const out = await lab.run(`approve ${planId}`, 'bob');
    expect(out.replies[0]?.text).toMatch(new RegExp(`plan ${planId} is already applied`));
  });

  it('GIVEN a rejected plan WHEN approved THEN it is refused and nothing is applied', async () => {
    const { planId } = await lab.run('/expose service:prometheus namespace:monitoring port:9090 host:prom auth:tailscale-only', 'carol');
    const rejected = await lab.run(`reject ${planId}`, 'bob');
    expect(rejected.replies[0]?.text).toMatch(/Rejected/);
    const out = await lab.run(`approve ${planId}`, 'alice');
    expect(out.replies[0]?.text).toMatch(/is already rejected/);
    expect(routeWrites('prom-ts')).toEqual([]);
  });

  it('GIVEN a plan older than its lifetime WHEN approved THEN it is refused as expired', async () => {
    const { planId } = await lab.run('/expose service:prometheus namespace:monitoring port:9090 host:prom auth:tailscale-only', 'carol');
    clock += 15 * 60_000 + 1;
    const out = await lab.run(`approve ${planId}`, 'alice');
    expect(out.replies[0]?.text).toMatch(new RegExp(`plan ${planId} expired at .*; run /expose .* again`));
    expect((await lab.app.services.store.get(planId!))?.status).toBe('expired');
    expect(routeWrites('prom-ts')).toEqual([]);
    const edit = lab.printed.filter((m) => m.planId === planId && m.edit).pop();
    expect(edit?.buttons?.every((b) => b.disabled)).toBe(true);
  });

  it('GIVEN a plan WHEN its target is edited by someone else before approval THEN apply refuses: state changed', async () => {
    const exposed = await planFor('edited', 'carol');
    await lab.run(`approve ${exposed}`, 'alice');
    expect((await lab.app.services.store.get(exposed))?.status).toBe('applied');
    const { planId } = await lab.run('/route mode host:edited mode:tailscale-bypass', 'carol');
    const live = lab.sandbox.kubernetes.objects.get({ apiVersion: TRAEFIK, kind: 'IngressRoute', namespace: 'monitoring', name: 'edited-ts' })!;
    (live.spec as { entryPoints: string[] }).entryPoints = ['ts-secure', 'web'];
    lab.sandbox.kubernetes.objects.put(live);
    const writes = lab.kubeWrites().length;
    await lab.run(`approve ${planId}`, 'alice');
    const result = lab.printed.filter((m) => m.kind === 'result' && m.planId === planId).pop();
    expect(result?.result?.status).toBe('refused');
    expect(result?.text).toMatch(/state changed since the plan; run it again \(IngressRoute\/monitoring\/edited-ts changed\)/);
    expect(lab.kubeWrites().length).toBe(writes);
    expect((await lab.app.services.store.get(planId!))?.status).toBe('failed');
  });

  it('GIVEN an expose plan WHEN another route takes the host before approval THEN apply refuses: state changed', async () => {
    const { planId } = await lab.run('/expose service:jellyfin namespace:media port:8096 host:tv auth:tailscale-only', 'carol');
    lab.sandbox.kubernetes.objects.put({
      apiVersion: TRAEFIK,
      kind: 'IngressRoute',
      metadata: { name: 'tv-by-hand', namespace: 'media' },
      spec: { routes: [{ kind: 'Rule', match: 'Host(`tv.home.example.com`)', services: [{ name: 'jellyfin', port: 8096 }] }] },
    });
    const writes = lab.kubeWrites().length;
    await lab.run(`approve ${planId}`, 'alice');
    const result = lab.printed.filter((m) => m.kind === 'result' && m.planId === planId).pop();
    expect(result?.text).toMatch(/state changed since the plan; run it again \(tv\.home\.example\.com is already served by IngressRoute media\/tv-by-hand/);
    expect(lab.kubeWrites().length).toBe(writes);
  });

  it('GIVEN an mtls-strict plan WHEN, before its approval, one plan takes its host and another creates the client-CA Secret it shares THEN apply refuses: nothing of it is written', async () => {
    // The Secret already matching the plan is no reason to skip re-checking what the plan
    // depended on: applied, photos would be served with and without client certificates.
    const strict = await lab.run('/expose service:immich namespace:media port:2283 host:photos auth:mtls-strict', 'carol');
    const bypass = await lab.run('/expose service:grafana namespace:monitoring port:3000 host:photos auth:tailscale-bypass', 'carol');
    const shares = await lab.run('/expose service:jellyfin namespace:media port:8096 host:videos auth:mtls-strict', 'carol');
    const strictPlan = lab.printed.find((m) => m.kind === 'plan' && !m.edit && m.planId === strict.planId);
    expect(JSON.stringify(strictPlan)).toContain('labgate-client-ca');
    for (const { planId } of [bypass, shares]) {
      await lab.run(`approve ${planId}`, 'alice');
      expect((await lab.app.services.store.get(planId!))?.status).toBe('applied');
    }
    const writes = lab.kubeWrites().length;
    await lab.run(`approve ${strict.planId}`, 'alice');
    const result = lab.printed.filter((m) => m.kind === 'result' && m.planId === strict.planId).pop();
    expect(result?.result?.status).toBe('refused');
    expect(result?.text).toMatch(/state changed since the plan; run it again \(photos\.home\.example\.com is already exposed by labgate/);
    expect(lab.kubeWrites().length).toBe(writes);
    expect(lab.sandbox.kubernetes.objects.get({ apiVersion: TRAEFIK, kind: 'IngressRoute', namespace: 'media', name: 'photos-public' })).toBeUndefined();
  });

  it('GIVEN a user with no rights THEN every command and every decision is refused', async () => {
    const { planId } = await lab.run('/expose service:jellyfin namespace:media port:8096 host:films auth:tailscale-only', 'carol');
    const out = await lab.run(`approve ${planId}`, 'mallory');
    expect(out.replies[0]?.text).toMatch(/you may not approve/);
    const rej = await lab.run(`reject ${planId}`, 'mallory');
    expect(rej.replies[0]?.text).toMatch(/you may not reject/);
    expect((await lab.app.services.store.get(planId!))?.status).toBe('pending');
    // The requester may withdraw their own plan.
    expect((await lab.run(`reject ${planId}`, 'carol')).replies[0]?.text).toMatch(/Rejected/);
    expect((await lab.app.services.store.get(planId!))?.status).toBe('rejected');
    expect(await lab.app.services.store.pending(200)).not.toContain(planId);
  });
});
