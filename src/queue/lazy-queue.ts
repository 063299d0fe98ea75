import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { RedisError } from '../errors.js';
import { waitReady } from '../stores/redis.js';

/**
 * How long a job to be queued waits for a connection that is between sockets: a Sentinel
 * failover or a dropped socket leaves it reconnecting for a moment, and a command that arrives
 * then should not be told Redis is unreachable. Redis really down still answers within it.
 */
export const RECONNECT_GRACE_MS = 2000;

/** Redis was not connected when a job was to be queued; nothing was sent. */
export class RedisNotReachable extends RedisError {
  constructor(status: string) {
    super('queue', 'redis', undefined, `Redis not reachable (connection ${status}); nothing was sent`);
  }
}

/**
 * A BullMQ Queue made only once its connection is ready, and made again when its setup failed:
 * BullMQ sets a Queue up once (it reads the server version), and a Queue made while Redis was
 * down keeps that failure forever ("Stream isn't writeable …"), even after Redis is back.
 */
export class LazyQueue {
  private current?: Queue;

  constructor(
    private readonly name: string,
    private readonly client: Redis,
    private readonly prefix: string,
  ) {}

  get(): Queue {
    if (this.current) return this.current;
    if (this.client.status !== 'ready') throw new RedisNotReachable(this.client.status);
    const q = new Queue(this.name, { connection: this.client, prefix: this.prefix, skipWaitingForReady: true });
    // Connection trouble surfaces on the calls that fail; an unhandled 'error' must not kill the process.
    q.on('error', () => {});
    this.current = q;
    // Redis went away during the setup: forget this Queue so the next call makes a new one.
    q.waitUntilReady().catch(() => {
      if (this.current !== q) return;
      this.current = undefined;
      void q.close().catch(() => {});
    });
    return q;
  }

  /**
   * The Queue, once the connection is ready: waits up to RECONNECT_GRACE_MS for one that is
   * reconnecting. Nothing was sent while it was not ready, so nothing can run twice.
   */
  async getAfterReconnect(): Promise<Queue> {
    // A connection closed for good ('end') will not come back: refuse at once.
    if (this.client.status !== 'end') await waitReady(this.client, RECONNECT_GRACE_MS).catch(() => {});
    return this.get();
  }

  async close(): Promise<void> {
    await this.current?.close();
  }
}
