import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Fleet } from '../support/fleet.js';
import { until, type LabgateProcess } from '../support/labgate-process.js';


describe('SIGTERM past the grace: the apply goes back to the queue and another worker finishes it', { timeout: 120_000 }, () => {
  let fleet: Fleet | undefined;
  afterEach(async () => {
    await fleet?.close();
    fleet = undefined;
  });

  it('GIVEN a worker whose apply outlasts shutdown.grace WHEN it gets SIGTERM THEN it exits 0, hands the apply back at a safe point, and a second worker finishes it: each object written once, one result', async () => {
    fleet = await Fleet.start({ yaml: 'shutdown:\n  grace: 1s\n' });
    const workers = [await fleet.spawnWorker(), await fleet.spawnWorker()];
    const planId = await fleet.plan('/expose service:immich namespace:media port:2283 host:photos auth:mtls-strict');
    const rec = (await fleet.chat.services.store.get(planId))!;
    // More than one change: a safe point lies between the first write and the rest.
    expect(rec.plan.changes.length).toBeGreaterThan(1);
    // The first write takes 5 s, longer than the 1 s grace.
    fleet.sandbox.faults.kubernetes.add({ match: /^PATCH \/api/, delayMs: 5_000, times: 1 });
    const before = fleet.sandbox.kubernetes.requests.length;
    await fleet.approve(planId);
    const first = await fleet.applyingWorker(planId);
    const second = workers.find((w) => w !== first)!;
    await until(() => fleet!.sandbox.faults.kubernetes.list().length === 0, 'the first write to start', 30_000);
    first.proc.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    const log = join(fleet.dir, `w${workers.indexOf(first) + 1}.log`);
    expect(existsSync(log) && readFileSync(log, 'utf8')).toContain('apply stopped at a safe point and went back to the queue');

    const result = await fleet.result(planId);
    expect(result.result?.status).toBe('applied');
    await new Promise((r) => setTimeout(r, 2_000)); // room for a second result, if one were coming
    expect(fleet.results(planId)).toHaveLength(1);
    expect((await fleet.audit(planId)).filter((e) => ['apply', 'fail', 'refuse'].includes(e.action)).map((e) => e.action)).toEqual(['apply']);
    const writes = fleet.sandbox.kubernetes.requests.slice(before).filter((r) => r.method === 'PATCH' && r.status < 300).map((r) => r.path);
    expect(writes.length).toBe(rec.plan.changes.filter((c) => c.system === 'kubernetes').length);
    expect(new Set(writes).size).toBe(writes.length);
    // The second worker carried on (it did the rest).
    expect(second.proc.exitCode).toBeNull();
  });
});
