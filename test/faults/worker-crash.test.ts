import { afterEach, describe, expect, it } from 'vitest';
import { Fleet } from '../support/fleet.js';
import { until, type LabgateProcess } from '../support/labgate-process.js';

const TRAEFIK = 'traefik.io/v1alpha1';
const routePath = (ns: string, name: string) => `/apis/traefik.io/v1alpha1/namespaces/${ns}/ingressroutes/${name}`;


/** Every apply ends in exactly one posted result, and the chat and the audit agree with live state. */
async function oneTrueResult(fleet: Fleet, planId: string, routes: { ns: string; name: string }[]) {
  const result = await fleet.result(planId);
  expect(result.result?.status).toBe('applied');
  for (const r of routes) expect(fleet.sandbox.kubernetes.objects.get({ apiVersion: TRAEFIK, kind: 'IngressRoute', namespace: r.ns, name: r.name })).toBeDefined();
  // Another 2 s for a second, contradicting result to show up, if one were coming.
  await new Promise((r) => setTimeout(r, 2_000));
  expect(fleet.results(planId)).toHaveLength(1);
  const audit = (await fleet.audit(planId)).filter((e) => e.action === 'apply' || e.action === 'fail' || e.action === 'refuse');
  expect(audit.map((e) => e.action)).toEqual(['apply']);
  expect((await fleet.chat.services.store.get(planId))?.status).toBe('applied');
}

describe('a worker dies mid-apply: another finishes it, with one true result', { timeout: 120_000 }, () => {
  let fleet: Fleet | undefined;
  afterEach(async () => {
    await fleet?.close();
    fleet = undefined;
  });

  it('GIVEN two workers WHEN the one applying is SIGKILLed while its write hangs THEN the other resumes within 15 s, writes each object once, and one result is posted', async () => {
    fleet = await Fleet.start();
    await fleet.spawnWorker();
    await fleet.spawnWorker();
    // The route's write never gets an answer the first time: the worker is mid-apply when it dies.
    fleet.sandbox.faults.kubernetes.add({ match: `PATCH ${routePath('media', 'photos-public')}`, hang: true, times: 1 });
    const planId = await fleet.plan('/expose service:immich namespace:media port:2283 host:photos auth:mtls-strict');
    await fleet.approve(planId);
    const victim = await fleet.applyingWorker(planId);
    await until(() => fleet!.sandbox.faults.kubernetes.pending === 0, 'the hanging write', 20_000);
    const killedAt = Date.now();
    await victim.kill('SIGKILL');

    await oneTrueResult(fleet, planId, [{ ns: 'media', name: 'photos-public' }]);
    const tookOver = Date.now() - killedAt;
    expect(tookOver).toBeLessThan(30_000); // the bench measures it; this only says it ends
    // Each object was written by one successful PATCH: the hung one never landed.
    const patches = fleet.sandbox.kubernetes.requests.filter((r) => r.method === 'PATCH' && r.status >= 200 && r.status < 300).map((r) => r.path);
    expect(new Set(patches).size).toBe(patches.length);
  });

  it('GIVEN three workers WHEN the applying worker is killed, and then the one that took over is killed too THEN the third finishes it and one result is posted', async () => {
    fleet = await Fleet.start();
    for (let i = 0; i < 3; i++) await fleet.spawnWorker();
    fleet.sandbox.faults.kubernetes.add({ match: `PATCH ${routePath('media', 'films-public')}`, hang: true, times: 2 });
    const planId = await fleet.plan('/expose service:jellyfin namespace:media port:8096 host:films auth:mtls-strict');
    await fleet.approve(planId);
    const first = await fleet.applyingWorker(planId);
    await until(() => fleet!.sandbox.faults.kubernetes.pending === 1 || fleet!.sandbox.faults.kubernetes.pending === 0, 'the first hanging write', 20_000);
    await first.kill('SIGKILL');
    // Just after the stalled-job check hands it on, the next worker is in the same place: kill it too.
    const second = await fleet.applyingWorker(planId, first);
    await until(() => fleet!.sandbox.faults.kubernetes.pending === 0, 'the second hanging write', 30_000, () => fleet!.workerLogs());
    await second.kill('SIGKILL');
    await oneTrueResult(fleet, planId, [{ ns: 'media', name: 'films-public' }]);
  });

  it('GIVEN the applying worker is frozen (SIGSTOP) past its locks WHEN another worker finishes the plan and the frozen one resumes THEN the frozen one writes nothing and posts nothing', async () => {
    fleet = await Fleet.start();
    await fleet.spawnWorker();
    await fleet.spawnWorker();
    fleet.sandbox.faults.kubernetes.add({ match: `PATCH ${routePath('monitoring', 'grafana-public')}`, delayMs: 500, times: 1 });
    const planId = await fleet.plan('/expose service:grafana namespace:monitoring port:3000 host:grafana auth:mtls-strict');
    await fleet.approve(planId);
    const frozen = await fleet.applyingWorker(planId);
    frozen.proc.kill('SIGSTOP');
    try {
      await oneTrueResult(fleet, planId, [{ ns: 'monitoring', name: 'grafana-public' }]);
      const writes = fleet.sandbox.kubernetes.requests.filter((r) => r.method !== 'GET').length;
      frozen.proc.kill('SIGCONT');
      // Give the resumed worker time to do whatever it would do.
      await new Promise((r) => setTimeout(r, 4_000));
      expect(fleet.sandbox.kubernetes.requests.filter((r) => r.method !== 'GET').length).toBe(writes);
      expect(fleet.results(planId)).toHaveLength(1);
    } finally {
      frozen.proc.kill('SIGCONT');
    }
  });
});
