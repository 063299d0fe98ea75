import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { applyProcessor } from '../../jobs/apply.js';
import { planProcessor } from '../../jobs/plan.js';
import { reconcile } from '../../jobs/reconcile.js';
import { scheduledJobs } from '../../jobs/scheduled.js';
import { startScheduled } from './scheduled.js';
import type { Services } from '../core/services.js';
import { QUEUES } from './jobs.js';
import { LockBusyError, TargetLocks } from '../stores/locks.js';

export interface Workers {
  /**
   * Stops taking work and lets running jobs finish; an apply still running after `graceMs` stops
   * at its next safe point and goes back to the queue. Bounded even when Redis is down.
   */
  close(graceMs?: number): Promise<void>;
}

/**
 * How a crashed worker's apply is taken over, chosen together (docs/operations.md, "Apply timing"):
 * - BullMQ renews a job's lock every JOB_LOCK_MS/2 (3 s), so a dead worker's job lock lapses within
 *   6 s; the stalled-job check runs every 3 s, so the job is back in the queue within 9 s;
 * - the apply's own target locks live APPLY_LOCK_MS (10 s), renewed every 2.5 s and before every
 *   write, so they lapse within 10 s of the crash; an apply that finds them still held waits for
 *   them a second at a time without spending an attempt (jobs/apply.ts), so the next worker resumes
 *   about 10 s after the crash;
 * - a job may stall twice (two crashes) before BullMQ gives up on it; the reconciler then
 *   finishes the plan from live state within RECONCILE_EVERY_MS.
 */
export const JOB_LOCK_MS = 6_000;
export const STALLED_INTERVAL_MS = 3_000;
export const MAX_STALLED_COUNT = 2;
export const RECONCILE_EVERY_MS = 30_000;
export const DEFAULT_GRACE_MS = 20_000;

/**
 * Starts the plan and apply workers, the scheduled jobs, and the reconciler: at start and every
 * RECONCILE_EVERY_MS, approved plans whose apply job is missing are queued again and plans whose
 * apply stopped for good without a result are finished, so an approved change is never lost and
 * always ends in one posted result. The reconciler also puts back the job schedulers if Redis
 * lost them (a restart without persistence).
 */
export async function startWorkers(s: Services, connection: () => Redis, opts: { concurrency?: number } = {}): Promise<Workers> {
  const prefix = s.keys.bullPrefix;
  let handingBack = false;
  // Named after the process, so a job says who is working on it (job.processedBy).
  const common = { prefix, name: `labgate-${process.pid}`, concurrency: opts.concurrency ?? 4, lockDuration: JOB_LOCK_MS, stalledInterval: STALLED_INTERVAL_MS, maxStalledCount: MAX_STALLED_COUNT };
  const plan = new Worker(QUEUES.plan, planProcessor(s), { ...common, connection: connection() });
  const apply = new Worker(QUEUES.apply, applyProcessor(s, { handBack: () => handingBack }), { ...common, connection: connection() });
  for (const w of [plan, apply]) {
    w.on('error', (err) => s.logger.warn({ err: err.message, queue: w.name }, 'worker connection trouble'));
    // Logged at warn with the plan id: a failed attempt is worth a look even when a retry follows.
    w.on('failed', (job, err) => s.logger.warn({ job: job?.id, planId: (job?.data as { planId?: string } | undefined)?.planId, queue: w.name, attempt: job?.attemptsMade, reason: err.message }, 'job attempt failed'));
  }
  let scheduled: Awaited<ReturnType<typeof startScheduled>>;
  try {
    await Promise.all([plan.waitUntilReady(), apply.waitUntilReady()]);
    scheduled = await startScheduled(s, scheduledJobs, connection);
  } catch (err) {
    // Redis went away while starting: the caller starts again later; these must not linger.
    await Promise.allSettled([plan.close(true), apply.close(true)]);
    throw err;
  }

  // One reconciler at a time across workers (a run lock), at start and then periodically.
  const runLock = new TargetLocks(s.redis, s.keys, RECONCILE_EVERY_MS * 2);
  let reconciling: Promise<void> | undefined;
  const reconcileOnce = async () => {
    let held;
    try {
      held = await runLock.acquire(['reconcile']);
    } catch (err) {
      if (!(err instanceof LockBusyError)) s.logger.warn({ err: (err as Error).message }, 'reconciler could not run (Redis?)');
      return;
    }
    try {
      const r = await reconcile(s);
      if (r.requeued.length || r.finished.length) s.logger.warn(r, 'reconciler: approved plans requeued or finished');
      await scheduled.ensure();
    } catch (err) {
      s.logger.warn({ err: (err as Error).message }, 'reconciler run failed; it runs again shortly');
    } finally {
      await held.release().catch(() => {});
    }
  };
  const tick = () => {
    reconciling ??= reconcileOnce().finally(() => (reconciling = undefined));
  };
  tick();
  const timer = setInterval(tick, RECONCILE_EVERY_MS);
  timer.unref();
  // Back from an outage (maybe a Redis that lost everything): check at once, not at the next tick.
  s.redis.on('ready', tick);

  return {
    close: async (graceMs = DEFAULT_GRACE_MS) => {
      clearInterval(timer);
      s.redis.off('ready', tick);
      // Stop taking work; let what runs finish within the grace, then hand applies back. With
      // Redis down nothing running can finish (nor be recorded): there is nothing to wait for.
      // Redis may also go away during the grace (or just before the signal, unnoticed yet).
      if (s.redis.status === 'ready') {
        const closing = Promise.allSettled([plan.close(), apply.close(), scheduled.close()]);
        const graceTimer = setTimeout(() => (handingBack = true), graceMs);
        const hard = new Promise<void>((r) => setTimeout(r, graceMs + 3_000).unref());
        let poll: NodeJS.Timeout | undefined;
        const redisGone = new Promise<void>((r) => {
          poll = setInterval(() => s.redis.status !== 'ready' && r(), 250);
          poll.unref();
        });
        await Promise.race([closing, hard, redisGone]);
        clearTimeout(graceTimer);
        clearInterval(poll);
        if (s.redis.status !== 'ready') handingBack = true;
      } else handingBack = true;
      // Past the deadline (or Redis down): stop waiting for BullMQ.
      await Promise.race([Promise.allSettled([plan.close(true), apply.close(true), reconciling]), new Promise<void>((r) => setTimeout(r, 2_000).unref())]);
    },
  };
}
