import { Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ScheduledJob } from '../core/scheduled-job.js';
import type { Services } from '../core/services.js';
import { LockBusyError, TargetLocks } from '../stores/locks.js';

export const SCHEDULED_QUEUE = 'scheduled';

export type { ScheduledJob } from '../core/scheduled-job.js';

export interface ScheduledWorkers {
  /** Puts back any job scheduler Redis no longer has (a restart without persistence wipes them). */
  ensure(): Promise<void>;
  close(): Promise<void>;
}

/** Upserts the schedulers (idempotent across workers) and processes their jobs. */
export async function startScheduled(s: Services, jobs: readonly ScheduledJob[], connection: () => Redis): Promise<ScheduledWorkers> {
  const byName = new Map(jobs.map((j) => [j.name, j]));
  // Runs of one kind never overlap, in this worker or another (a slow run and the next interval's
  // job would otherwise race, e.g. post a recovery before the fallback it follows). A run that
  // finds the previous one still going is skipped; the lock expires on its own after a crash.
  const runLocks = new TargetLocks(s.redis, s.keys, 10 * 60_000);
  const queue = new Queue(SCHEDULED_QUEUE, { connection: connection(), prefix: s.keys.bullPrefix });
  queue.on('error', () => {});
  const upsert = (j: ScheduledJob, every: number) =>
    queue.upsertJobScheduler(j.name, { every }, { name: j.name, data: {}, opts: { removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } } });
  for (const j of jobs) {
    const every = j.every(s);
    if (every) await upsert(j, every);
    else await queue.removeJobScheduler(j.name);
  }
  const worker = new Worker(
    SCHEDULED_QUEUE,
    async (job) => {
      const j = byName.get(job.name);
      if (!j) throw new Error(`no scheduled job named ${job.name} in this worker`);
      let held;
      try {
        held = await runLocks.acquire([`scheduled:${j.name}`]);
      } catch (err) {
        if (err instanceof LockBusyError) return { skipped: 'the previous run is still going' };
        throw err;
      }
      try {
        return await j.run(s, job);
      } finally {
        await held.release().catch(() => {});
      }
    },
    { connection: connection(), prefix: s.keys.bullPrefix, concurrency: 2 },
  );
  worker.on('error', (err) => s.logger.warn({ err: err.message }, 'scheduled worker connection trouble'));
  worker.on('failed', (job, err) => s.logger.error({ job: job?.name, err: err.message }, 'scheduled job failed'));
  await worker.waitUntilReady();
  return {
    ensure: async () => {
      for (const j of jobs) {
        const every = j.every(s);
        if (!every || (await queue.getJobScheduler(j.name))) continue;
        await upsert(j, every);
        s.logger.warn({ job: j.name, every }, 'job scheduler was missing (Redis lost it); put it back');
      }
    },
    close: async () => {
      await Promise.allSettled([worker.close(), queue.close()]);
    },
  };
}
