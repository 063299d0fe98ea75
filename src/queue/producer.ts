import { Queue, QueueEvents, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { decodeUserError, UserError } from '../errors.js';
import { applyJobId, decodeFault, JOB_OPTIONS, QUEUES, type ApplyJobData, type PlanJobData, type PlanJobResult, type ReportJobData } from './jobs.js';
import type { PlanResult } from './plan-store.js';

/** A job that ended in a fault: a short message and the log reference. */
export class JobFault extends Error {
  override readonly name = 'JobFault';
  constructor(
    message: string,
    readonly ref?: string,
  ) {
    super(message);
  }
}

export class JobTimeout extends Error {
  override readonly name = 'JobTimeout';
}

/** Redis was not connected when a job was to be queued; nothing was sent. */
export class RedisNotReachable extends Error {
  override readonly name = 'RedisNotReachable';
  constructor(status: string) {
    super(`Redis not reachable (connection ${status}); nothing was sent`);
  }
}

/**
 * The chat side of the queues: adds jobs and waits for their outcome. Its Redis connection
 * fails fast, so a command gets an answer when Redis is down; the event listeners use a
 * blocking connection that waits for Redis to come back.
 *
 * The Queues are made only once that connection is ready, and made again when their setup
 * failed: BullMQ sets a Queue up once (it reads the server version), and a Queue made while
 * Redis was down keeps that failure forever ("Stream isn't writeable …"), even after Redis is back.
 */
export class Producer {
  private readonly queues: { plan?: Queue; apply?: Queue } = {};
  private readonly planEvents: QueueEvents;
  private readonly applyEvents: QueueEvents;

  constructor(
    private readonly client: Redis,
    eventsConnection: () => Redis,
    private readonly bullPrefix: string,
    private readonly applyRetry: { attempts: number; backoff: number } = { attempts: 5, backoff: 500 },
  ) {
    this.planEvents = new QueueEvents(QUEUES.plan, { connection: eventsConnection(), prefix: bullPrefix });
    this.applyEvents = new QueueEvents(QUEUES.apply, { connection: eventsConnection(), prefix: bullPrefix });
    // Connection trouble surfaces on the calls that fail; an unhandled 'error' must not kill the process.
    for (const e of [this.planEvents, this.applyEvents]) e.on('error', () => {});
  }

  async ready(): Promise<void> {
    await Promise.all([this.planEvents.waitUntilReady(), this.applyEvents.waitUntilReady()]);
  }

  private queue(kind: 'plan' | 'apply'): Queue {
    const existing = this.queues[kind];
    if (existing) return existing;
    if (this.client.status !== 'ready') throw new RedisNotReachable(this.client.status);
    const q = new Queue(QUEUES[kind], { connection: this.client, prefix: this.bullPrefix, skipWaitingForReady: true });
    q.on('error', () => {});
    this.queues[kind] = q;
    // Redis went away during the setup: forget this Queue so the next command makes a new one.
    q.waitUntilReady().catch(() => {
      if (this.queues[kind] !== q) return;
      delete this.queues[kind];
      void q.close().catch(() => {});
    });
    return q;
  }

  async requestPlan(data: PlanJobData): Promise<Job<PlanJobData>> {
    return this.queue('plan').add('plan', data, { ...JOB_OPTIONS.plan, jobId: `plan-${data.planId}` });
  }

  async requestReport(data: ReportJobData): Promise<Job<ReportJobData>> {
    return this.queue('plan').add('report', data, JOB_OPTIONS.report);
  }

  async enqueueApply(data: ApplyJobData): Promise<Job<ApplyJobData>> {
    return this.queue('apply').add('apply', data, {
      ...JOB_OPTIONS.apply,
      attempts: this.applyRetry.attempts,
      backoff: { type: 'exponential', delay: this.applyRetry.backoff, jitter: 0.5 },
      jobId: applyJobId(data.planId, data.hash),
    });
  }

  waitPlan(job: Job, timeoutMs = 30_000): Promise<PlanJobResult | { posted: true }> {
    return this.wait(job, this.planEvents, timeoutMs);
  }

  waitApply(job: Job, timeoutMs = 120_000): Promise<PlanResult> {
    return this.wait(job, this.applyEvents, timeoutMs);
  }

  /** Resolves with the job's result; rejects with the UserError or JobFault it ended with. */
  private async wait<T>(job: Job, events: QueueEvents, timeoutMs: number): Promise<T> {
    try {
      return (await job.waitUntilFinished(events, timeoutMs)) as T;
    } catch (err) {
      const reason = (err as Error).message;
      const user = decodeUserError(reason);
      if (user) throw user;
      if (/timed out before finishing/.test(reason)) throw new JobTimeout(reason);
      const fault = decodeFault(reason);
      if (fault) throw new JobFault(fault.message, fault.ref);
      throw err instanceof UserError ? err : new JobFault(reason);
    }
  }

  /** Closes; with Redis unreachable BullMQ's close never settles, so give up after `ms`. */
  async close(ms = 3000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const all = Promise.allSettled([this.planEvents.close(), this.applyEvents.close(), ...Object.values(this.queues).map((q) => q.close())]);
    await Promise.race([all, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
    clearTimeout(timer);
  }
}
