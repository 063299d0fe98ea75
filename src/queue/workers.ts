import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { applyProcessor } from '../../jobs/apply.js';
import { planProcessor } from '../../jobs/plan.js';
import { scheduledJobs } from '../../jobs/scheduled.js';
import { startScheduled } from './scheduled.js';
import type { Services } from '../core/services.js';
import { QUEUES } from './jobs.js';

export interface Workers {
  close(): Promise<void>;
}

/**
 * Starts the plan and apply workers. On start, approved plans whose apply job is missing (a
 * crash between approval and enqueue) are queued again: an approved change is never lost.
 */
export async function startWorkers(s: Services, connection: () => Redis, opts: { concurrency?: number } = {}): Promise<Workers> {
  const prefix = s.keys.bullPrefix;
  const workerOpts = { connection: connection(), prefix, concurrency: opts.concurrency ?? 4 };
  const plan = new Worker(QUEUES.plan, planProcessor(s), workerOpts);
  const apply = new Worker(QUEUES.apply, applyProcessor(s), { ...workerOpts, connection: connection() });
  for (const w of [plan, apply]) {
    w.on('error', (err) => s.logger.warn({ err: err.message, queue: w.name }, 'worker connection trouble'));
    w.on('failed', (job, err) => s.logger.debug({ job: job?.id, queue: w.name, reason: err.message }, 'job attempt failed'));
  }
  await Promise.all([plan.waitUntilReady(), apply.waitUntilReady()]);
  await requeueApproved(s);
  const scheduled = await startScheduled(s, scheduledJobs, connection);
  return {
    close: async () => {
      await Promise.allSettled([plan.close(), apply.close(), scheduled.close()]);
    },
  };
}

/** Queues an apply for approved plans that have none; the apply job itself verifies each before anything. */
async function requeueApproved(s: Services): Promise<void> {
  for (const id of await s.store.approvedUnfinished()) {
    const rec = await s.store.get(id);
    if (!rec || (rec.status !== 'approved' && rec.status !== 'applying')) continue;
    const data = { planId: id, hash: rec.plan.hash };
    const existing = await s.applyQueue.find(data);
    if (existing && !(await existing.isFailed())) continue;
    if (existing) await existing.remove();
    await s.applyQueue.enqueue(data);
    s.logger.warn({ planId: id }, 'approved plan had no apply job; queued it again');
  }
}
