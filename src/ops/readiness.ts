import type { Redis } from 'ioredis';
import { QUEUES } from '../queue/jobs.js';
import { LazyQueue } from '../queue/lazy-queue.js';
import { metrics } from './metrics.js';

/**
 * What `/readyz` answers from: named checks this process set up (redis, queues, chat,
 * discord), each passing or not. A check nobody registered is not asked for: a worker has no
 * chat, a bot no queues. Code that knows a state sets it (`readiness.set('queues', true)`).
 */
class Readiness {
  private readonly checks = new Map<string, boolean>();
  private readonly beforeScrape = new Set<() => Promise<void>>();

  set(name: string, ok: boolean): void {
    this.checks.set(name, ok);
    metrics.ready(name, ok);
  }

  /** Registers a check that starts failing until it is set. */
  expect(name: string): void {
    if (!this.checks.has(name)) this.set(name, false);
  }

  forget(name: string): void {
    this.checks.delete(name);
  }

  state(): { ready: boolean; checks: Record<string, boolean> } {
    const checks = Object.fromEntries(this.checks);
    return { ready: this.checks.size > 0 && [...this.checks.values()].every(Boolean), checks };
  }

  /** Follows a Redis connection's state as the `redis` check; returns the undo. */
  watchRedis(redis: Redis): () => void {
    const update = () => this.set('redis', redis.status === 'ready');
    const events = ['ready', 'close', 'end', 'reconnecting', 'error'] as const;
    for (const e of events) redis.on(e, update);
    update();
    return () => {
      for (const e of events) redis.off(e, update);
    };
  }

  /** Queue depth per queue and state is read from Redis at each scrape (bounded: a slow Redis does not hold /metrics). */
  watchQueues(redis: Redis, prefix: string): () => void {
    const queues = Object.values(QUEUES).map((name) => ({ name, q: new LazyQueue(name, redis, prefix) }));
    const read = async () => {
      if (redis.status !== 'ready') return;
      await Promise.all(
        queues.map(async ({ name, q }) => {
          const counts = await q.get().getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed');
          metrics.queueDepth(name, counts);
        }),
      );
    };
    const bounded = () => Promise.race([read().catch(() => {}), new Promise<void>((r) => setTimeout(r, 1_000).unref())]);
    this.beforeScrape.add(bounded);
    return () => {
      this.beforeScrape.delete(bounded);
      for (const { q } of queues) void q.close().catch(() => {});
    };
  }

  async refresh(): Promise<void> {
    await Promise.all([...this.beforeScrape].map((f) => f()));
  }
}

export const readiness = new Readiness();
