import { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { applyJobId, JOB_OPTIONS, QUEUES, type ApplyJobData } from './jobs.js';
import { LazyQueue } from './lazy-queue.js';

/** The apply queue as both sides use it: one job per approved plan, its id derived from the plan's hash. */
export class ApplyQueue {
  private readonly lazy: LazyQueue;

  constructor(
    connection: Redis,
    bullPrefix: string,
    private readonly retry: { attempts: number; backoff: number },
  ) {
    this.lazy = new LazyQueue(QUEUES.apply, connection, bullPrefix);
  }

  async enqueue(data: ApplyJobData): Promise<Job<ApplyJobData>> {
    return (await this.lazy.getAfterReconnect()).add('apply', data, {
      ...JOB_OPTIONS.apply,
      attempts: this.retry.attempts,
      backoff: { type: 'exponential', delay: this.retry.backoff, jitter: 0.5 },
      jobId: applyJobId(data.planId, data.hash),
    });
  }

  async find(data: ApplyJobData): Promise<Job<ApplyJobData> | undefined> {
    return (await Job.fromId<ApplyJobData>(await this.lazy.getAfterReconnect(), applyJobId(data.planId, data.hash))) ?? undefined;
  }

  async close(): Promise<void> {
    await this.lazy.close();
  }
}
