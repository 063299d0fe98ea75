import { UnrecoverableError, Worker } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { reconcile } from '../../jobs/reconcile.js';
import { SHELL_CONVERSATION } from '../../src/messages/conversations.js';
import { shellIdentity } from '../../src/chat/shell/shell.js';
import { startLab, type Lab } from '../support/lab.js';

const TRAEFIK = 'traefik.io/v1alpha1';

/**
 * The reconciler, in-process, on plans whose apply job ended without a result (as when BullMQ gives
 * up on a job that stalled too often): each gets one true result from live state.
 */
describe('the reconciler finishes what a dead apply left', () => {
  let lab: Lab;
  // A lab per test: the reconciler takes up every unfinished plan it finds, so one left by another test would be in its answer.
  beforeEach(async () => {
    // No workers here: the test decides how each apply job ends.
    lab = await startLab({ workers: false });
  });
  afterEach(async () => {
    await lab.close();
  });

  /** Approves a plan and lets its apply job fail at once without doing anything, as a stalled-out job ends. */
  async function approveAndLoseTheApply(line: string): Promise<string> {
    const out = await lab.app.dispatcher!.command({ name: 'expose', options: Object.fromEntries([...line.matchAll(/(\w+):(\S+)/g)].map((m) => [m[1]!, m[2]!])), text: line }, shellIdentity('bob'), SHELL_CONVERSATION);
    // The plan job needs a worker: run plan jobs only.
    const planId = out.planId!;
    await lab.app.dispatcher!.decide({ action: 'approve', planId }, shellIdentity('alice'), SHELL_CONVERSATION);
    const dying = new Worker('apply', async () => {
      throw new UnrecoverableError('job stalled more than allowable limit');
    }, { connection: lab.app.services.redis.duplicate({ maxRetriesPerRequest: null }), prefix: lab.app.services.keys.bullPrefix });
    try {
      const until = Date.now() + 10_000;
      for (;;) {
        const job = await lab.app.services.applyQueue.find({ planId, hash: (await lab.app.services.store.get(planId))!.plan.hash });
        if (job && (await job.getState()) === 'failed') break;
        if (Date.now() > until) throw new Error('the apply job did not fail');
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      await dying.close();
    }
    return planId;
  }

  it('GIVEN an approved plan whose apply job died before writing WHEN the reconciler runs THEN it posts "Not applied", once, and audits it', async () => {
    const planWorker = new Worker('plan', (await import('../../jobs/plan.js')).planProcessor(lab.app.services), { connection: lab.app.services.redis.duplicate({ maxRetriesPerRequest: null }), prefix: lab.app.services.keys.bullPrefix });
    try {
      const planId = await approveAndLoseTheApply('/expose service:immich namespace:media port:2283 host:photos auth:tailscale-only');
      expect((await lab.app.services.store.get(planId))?.status).toBe('approved');
      const first = await reconcile(lab.app.services);
      expect(first.finished).toEqual([planId]);
      const results = lab.printed.filter((m) => m.kind === 'result' && m.planId === planId);
      expect(results).toHaveLength(1);
      expect(results[0]!.text).toBe(`Not applied ${planId}: its apply stopped for good (job stalled more than allowable limit). 0 of 1 change in place. Run the command again`);
      expect((await lab.app.services.store.get(planId))?.status).toBe('failed');
      // Run again: nothing more to do, nothing posted twice.
      expect(await reconcile(lab.app.services)).toEqual({ requeued: [], finished: [] });
      expect(lab.printed.filter((m) => m.kind === 'result' && m.planId === planId)).toHaveLength(1);
      expect((await lab.app.services.audit.latest(20)).filter((e) => e.planId === planId && e.action === 'fail')).toHaveLength(1);
    } finally {
      await planWorker.close();
    }
  });

  it('GIVEN a dead apply that had written part of its plan WHEN the reconciler runs THEN it says "Partly applied", naming what is in place, with Finish and Remove buttons', async () => {
    const planWorker = new Worker('plan', (await import('../../jobs/plan.js')).planProcessor(lab.app.services), { connection: lab.app.services.redis.duplicate({ maxRetriesPerRequest: null }), prefix: lab.app.services.keys.bullPrefix });
    try {
      const planId = await approveAndLoseTheApply('/expose service:jellyfin namespace:media port:8096 host:films auth:mtls-strict');
      // What the dead apply wrote before it died: the first change (as the apply writes it).
      const plan = (await lab.app.services.store.get(planId))!.plan;
      await lab.app.services.appliers.kubernetes!.apply(plan.changes[0]!, { plan });
      const r = await reconcile(lab.app.services);
      expect(r.finished).toEqual([planId]);
      const result = lab.printed.filter((m) => m.kind === 'result' && m.planId === planId).pop()!;
      expect(result.text).toMatch(new RegExp(`^Partly applied ${planId}: its apply stopped for good \\(job stalled more than allowable limit\\)\\. 1 of ${plan.changes.length} changes in place\\.`));
      expect(result.lines?.[0]).toMatch(/^✓ create Secret media\/labgate-client-ca/);
      expect(result.buttons?.map((b) => b.label)).toEqual([`Finish: ${plan.command.text}`, 'Remove: /unexpose host:films']);
      expect(lab.sandbox.kubernetes.objects.get({ apiVersion: TRAEFIK, kind: 'IngressRoute', namespace: 'media', name: 'films-public' })).toBeUndefined();
    } finally {
      await planWorker.close();
    }
  });

  it('GIVEN an approved plan whose apply job is gone from Redis WHEN the reconciler runs THEN it queues the apply again', async () => {
    const planWorker = new Worker('plan', (await import('../../jobs/plan.js')).planProcessor(lab.app.services), { connection: lab.app.services.redis.duplicate({ maxRetriesPerRequest: null }), prefix: lab.app.services.keys.bullPrefix });
    try {
      const out = await lab.app.dispatcher!.command({ name: 'expose', options: { service: 'grafana', namespace: 'monitoring', port: '3000', host: 'grafana', auth: 'tailscale-only' }, text: '/expose …' }, shellIdentity('bob'), SHELL_CONVERSATION);
      await lab.app.dispatcher!.decide({ action: 'approve', planId: out.planId }, shellIdentity('alice'), SHELL_CONVERSATION);
      const hash = (await lab.app.services.store.get(out.planId!))!.plan.hash;
      await (await lab.app.services.applyQueue.find({ planId: out.planId!, hash }))!.remove();
      expect((await reconcile(lab.app.services)).requeued).toEqual([out.planId]);
      expect(await (await lab.app.services.applyQueue.find({ planId: out.planId!, hash }))?.getState()).toBe('waiting');
    } finally {
      await planWorker.close();
    }
  });
});
