import { Job, Queue } from 'bullmq';
import type { Plan } from '../../src/plan/model.js';
import { applyJobId } from '../../src/queue/jobs.js';
import type { Lab } from './lab.js';

/**
 * What an attacker with write access to labgate's Redis can do, done with plain Redis and BullMQ
 * calls (not through labgate): edit records, write new ones, queue jobs.
 */
export class RedisAttacker {
  private readonly queue: Queue;

  constructor(private readonly lab: Lab) {
    this.queue = new Queue('apply', { connection: lab.app.services.redis.duplicate(), prefix: lab.app.services.keys.bullPrefix });
  }

  private get redis() {
    return this.lab.app.services.redis;
  }

  private key(planId: string) {
    return this.lab.app.services.keys.plan(planId);
  }

  async record(planId: string): Promise<Record<string, string>> {
    return await this.redis.hgetall(this.key(planId));
  }

  async plan(planId: string): Promise<Plan> {
    return JSON.parse((await this.record(planId)).plan!) as Plan;
  }

  /** Overwrites fields of a plan's hash in Redis. */
  async write(planId: string, fields: Record<string, string>): Promise<void> {
    await this.redis.hset(this.key(planId), fields);
  }

  /** Queues an apply job the way labgate would (same job id), and resolves when it has ended. */
  async apply(planId: string, hash: string): Promise<{ state: string; reason?: string }> {
    const job = await this.queue.add('apply', { planId, hash }, { jobId: applyJobId(planId, hash), attempts: 1 });
    return await this.settled(job.id!);
  }

  /** Waits (bounded) until a job is completed or failed. */
  async settled(jobId: string, timeoutMs = 20_000): Promise<{ state: string; reason?: string }> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const job = await Job.fromId(this.queue, jobId);
      const state = job ? await job.getState() : 'missing';
      if (state === 'completed' || state === 'failed') return { state, reason: job?.failedReason };
      if (Date.now() > until) throw new Error(`apply job ${jobId} still ${state} after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
