import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { applyProcessor } from '../../jobs/apply.js';
import { planProcessor } from '../../jobs/plan.js';
import { scheduledJobs } from '../../jobs/scheduled.js';
import { startScheduled } from './scheduled.js';
import type { Services } from '../core/services.js';
import { applyJobId, JOB_OPTIONS, QUEUES } from './jobs.js';
import { Queue } from 'bullmq';

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
  let scheduled;
  try {
    await Promise.all([plan.waitUntilReady(), apply.waitUntilReady()]);
    await requeueApproved(s, connection);
    scheduled = await startScheduled(s, scheduledJobs, connection);
  } catch (err) {
    // Redis went away while starting: the caller starts again later; these must not linger.
    await Promise.allSettled([plan.close(), apply.close()]);
    throw err;
  }
  return {
    close: async () => {
      await Promise.allSettled([plan.close(), apply.close(), scheduled.close()]);
    },
  };
}

async function requeueApproved(s: Services, connection: () => Redis): Promise<void> {
  const ids = await s.store.approvedUnfinished();
  if (!ids.length) return;
  const queue = new Queue(QUEUES.apply, { connection: connection(), prefix: s.keys.bullPrefix });
  try {
    for (const id of ids) {
      const rec = await s.store.get(id);
      if (!rec || (rec.status !== 'approved' && rec.status !== 'applying')) continue;
      const jobId = applyJobId(id, rec.plan.hash);
      const existing = await queue.getJob(jobId);
      if (existing && !(await existing.isFailed())) continue;
      if (existing) await existing.remove();
      await queue.add('apply', { planId: id, hash: rec.plan.hash }, { ...JOB_OPTIONS.apply, attempts: s.config.apply.attempts, backoff: { type: 'exponential', delay: s.config.apply.backoff, jitter: 0.5 }, jobId });
      s.logger.warn({ planId: id }, 'approved plan had no apply job; queued it again');
    }
  } finally {
    await queue.close();
  }
}
