import { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { applyJobId, JOB_OPTIONS, QUEUES, type ApplyJobData } from './jobs.js';

/** The apply queue as both sides use it: one job per approved plan, its id derived from the plan's hash. */
export class ApplyQueue {
  readonly queue: Queue;

  constructor(
    connection: Redis,
    bullPrefix: string,
    private readonly retry: { attempts: number; backoff: number },
  ) {
    this.queue = new Queue(QUEUES.apply, { connection, prefix: bullPrefix, skipWaitingForReady: true });
    // Connection trouble surfaces on the calls that fail; an unhandled 'error' must not kill the process.
    this.queue.on('error', () => {});
  }

  enqueue(data: ApplyJobData): Promise<Job<ApplyJobData>> {
    return this.queue.add('apply', data, {
      ...JOB_OPTIONS.apply,
      attempts: this.retry.attempts,
      backoff: { type: 'exponential', delay: this.retry.backoff, jitter: 0.5 },
      jobId: applyJobId(data.planId, data.hash),
    });
  }

  async find(data: ApplyJobData): Promise<Job<ApplyJobData> | undefined> {
    return (await Job.fromId<ApplyJobData>(this.queue, applyJobId(data.planId, data.hash))) ?? undefined;
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
