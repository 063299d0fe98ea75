import { afterEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { LazyQueue, RedisNotReachable } from '../../src/queue/lazy-queue.js';
import { createRedis, dropPrefix, waitReady } from '../../src/stores/redis.js';
import { REDIS_URL } from '../support/lab.js';

// A chat-side connection fails fast (no offline queue). A Sentinel failover or a dropped socket
// leaves it reconnecting for a moment: a job queued then waits for it instead of being refused.
describe('LazyQueue: queueing while the connection reconnects', () => {
  const prefix = `lgtest-lazy-${process.pid}`;
  const clients: Redis[] = [];
  const queues: LazyQueue[] = [];
  afterEach(async () => {
    for (const q of queues.splice(0)) await q.close();
    for (const c of clients.splice(0)) c.disconnect();
    await dropPrefix(REDIS_URL, prefix);
  });
  const connected = async () => {
    const c = createRedis(REDIS_URL, 'client');
    clients.push(c);
    await waitReady(c);
    const q = new LazyQueue('plan', c, prefix);
    queues.push(q);
    return { c, q };
  };

  it('GIVEN the socket just dropped (ioredis reconnecting) WHEN a job is queued THEN it waits for the connection and the job is stored once', async () => {
    const { c, q } = await connected();
    const dropped = new Promise((r) => c.once('reconnecting', r));
    c.disconnect(true); // drop the socket; ioredis reconnects on its own, after its retry delay
    await dropped;
    expect(c.status).toBe('reconnecting');
    // Without waiting, the queue would refuse at once: the connection is not ready.
    expect(() => q.get()).toThrow(RedisNotReachable);
    const job = await (await q.getAfterReconnect()).add('plan', { n: 1 }, { jobId: 'plan-reconnect' });
    expect(job.id).toBe('plan-reconnect');
    expect((await (await q.getAfterReconnect()).getJobCounts('waiting')).waiting).toBe(1);
  });

  it('GIVEN a connection closed for good WHEN a job is queued THEN it is refused at once, naming Redis', async () => {
    const { c, q } = await connected();
    c.disconnect(false);
    await new Promise((r) => setTimeout(r, 50));
    expect(c.status).toBe('end');
    const err = await q.getAfterReconnect().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RedisNotReachable);
    expect((err as Error).message).toBe('Redis not reachable (connection end); nothing was sent');
  });
});
