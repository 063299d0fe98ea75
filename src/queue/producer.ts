import { QueueEvents, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { AdapterError, decodeUserError, UserError, type System } from '../errors.js';
import type { ApplyQueue } from './apply-queue.js';
import { decodeFault, JOB_OPTIONS, QUEUES, type ApplyJobData, type PlanJobData, type PlanJobResult, type ReportJobData, type ReportJobResult } from './jobs.js';
import { LazyQueue } from './lazy-queue.js';
import type { PlanResult } from '../stores/plan-store.js';
import { asRedisError } from '../stores/redis.js';


/** A job that ended in a fault: a short message and the log reference. */
export class JobFault extends Error {
  override readonly name = 'JobFault';
  constructor(
    message: string,
    readonly ref?: string,
    /** The outside system whose failure ended the job, when one did. */
    readonly system?: System,
  ) {
    super(message);
  }
}

export class JobTimeout extends Error {
  override readonly name = 'JobTimeout';
}

/**
 * The chat side of the queues: adds jobs and waits for their outcome. Its Redis connection
 * fails fast, so a command gets an answer when Redis is down; the event listeners use a
 * blocking connection that waits for Redis to come back. The Queues are made once the
 * connection is ready (src/queue/lazy-queue.ts), so a start with Redis down recovers.
 */
export class Producer {
  private readonly planQueue: LazyQueue;
  private readonly planEvents: QueueEvents;
  private readonly applyEvents: QueueEvents;
  /** Jobs this process is waiting for: only their progress is passed on (other chats share the queues). */
  private readonly waiting = new Map<string, number>();
  private readonly progressListeners = new Set<(step: string) => void>();

  constructor(
    client: Redis,
    eventsConnection: () => Redis,
    bullPrefix: string,
    private readonly applyQueue: ApplyQueue,
  ) {
    this.planQueue = new LazyQueue(QUEUES.plan, client, bullPrefix);
    this.planEvents = new QueueEvents(QUEUES.plan, { connection: eventsConnection(), prefix: bullPrefix });
    this.applyEvents = new QueueEvents(QUEUES.apply, { connection: eventsConnection(), prefix: bullPrefix });
    // Connection trouble surfaces on the calls that fail; an unhandled 'error' must not kill the process.
    for (const e of [this.planEvents, this.applyEvents]) e.on('error', () => {});
    for (const e of [this.planEvents, this.applyEvents])
      e.on('progress', ({ jobId, data }: { jobId: string; data: unknown }) => {
        const step = (data as { step?: unknown } | null)?.step;
        if (this.waiting.has(jobId) && typeof step === 'string') for (const l of this.progressListeners) l(step);
      });
  }

  /** Calls `listener` with each step a job reports while this process waits for it; returns the unsubscribe. */
  onProgress(listener: (step: string) => void): () => void {
    this.progressListeners.add(listener);
    return () => this.progressListeners.delete(listener);
  }

  async ready(): Promise<void> {
    await Promise.all([this.planEvents.waitUntilReady(), this.applyEvents.waitUntilReady()]);
  }

  async requestPlan(data: PlanJobData): Promise<Job<PlanJobData>> {
    return (await this.planQueue.getAfterReconnect())
      .add('plan', data, { ...JOB_OPTIONS.plan, jobId: `plan-${data.planId}` })
      .catch((err: unknown) => Promise.reject(asRedisError(err, 'queue a plan job')));
  }

  async requestReport(data: ReportJobData): Promise<Job<ReportJobData>> {
    return (await this.planQueue.getAfterReconnect())
      .add('report', data, JOB_OPTIONS.report)
      .catch((err: unknown) => Promise.reject(asRedisError(err, 'queue a report job')));
  }

  enqueueApply(data: ApplyJobData): Promise<Job<ApplyJobData>> {
    return this.applyQueue.enqueue(data);
  }

  /** The apply job of a plan someone else queued (self-service: the planning worker did). */
  findApply(data: ApplyJobData): Promise<Job<ApplyJobData> | undefined> {
    return this.applyQueue.find(data);
  }

  waitPlan(job: Job, timeoutMs = 30_000): Promise<PlanJobResult> {
    return this.wait(job, this.planEvents, timeoutMs);
  }

  waitReport(job: Job, timeoutMs = 30_000): Promise<ReportJobResult> {
    return this.wait(job, this.planEvents, timeoutMs);
  }

  waitApply(job: Job, timeoutMs = 120_000): Promise<PlanResult> {
    return this.wait(job, this.applyEvents, timeoutMs);
  }

  /** Resolves with the job's result; rejects with the UserError or JobFault it ended with. */
  private async wait<T>(job: Job, events: QueueEvents, timeoutMs: number): Promise<T> {
    const id = job.id!;
    this.waiting.set(id, (this.waiting.get(id) ?? 0) + 1);
    try {
      // Reaching Redis is this side's part; what fails after that, the job reported.
      await events.waitUntilReady().catch((err: unknown) => Promise.reject(asRedisError(err, 'wait for a job')));
      return (await job.waitUntilFinished(events, timeoutMs)) as T;
    } catch (err) {
      if (err instanceof AdapterError) throw err;
      const reason = (err as Error).message;
      const user = decodeUserError(reason);
      if (user) throw user;
      // BullMQ's own timeout carries only text: its wording, matched here alone, is BullMQ's.
      if (/timed out before finishing/.test(reason)) throw new JobTimeout(reason);
      const fault = decodeFault(reason);
      if (fault) throw new JobFault(fault.message, fault.ref, fault.system);
      throw err instanceof UserError ? err : new JobFault(reason);
    } finally {
      const n = (this.waiting.get(id) ?? 1) - 1;
      if (n > 0) this.waiting.set(id, n);
      else this.waiting.delete(id);
    }
  }

  /** Closes; with Redis unreachable BullMQ's close never settles, so give up after `ms`. */
  async close(ms = 3000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const all = Promise.allSettled([this.planEvents.close(), this.applyEvents.close(), this.planQueue.close()]);
    await Promise.race([all, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
    clearTimeout(timer);
  }
}
