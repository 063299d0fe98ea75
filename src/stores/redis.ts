import { redactUrlCredentials } from '../redact.js';
import { Redis, ReplyError, type RedisOptions } from 'ioredis';
import { MaxRetriesPerRequestError } from 'ioredis/built/errors/index.js';
import { ConnectionClosedError } from 'bullmq';
import { RedisError } from '../errors.js';

/** Keys of labgate's own records; BullMQ's keys live under `<prefix>:q`. */
export function redisKeys(prefix: string) {
  return {
    bullPrefix: `${prefix}:q`,
    plan: (id: string) => `${prefix}:plan:${id}`,
    /** The sealed write-ahead journal of a plan's apply. */
    journal: (id: string) => `${prefix}:journal:${id}`,
    pending: `${prefix}:plans:pending`,
    approved: `${prefix}:plans:approved`,
    lock: (target: string) => `${prefix}:lock:${target}`,
    /** The fencing counter every lock acquisition draws a number from. */
    lockFence: `${prefix}:lock-fence`,
    audit: `${prefix}:audit`,
    /** Pub/sub: revocations the gates apply at once (src/gate). */
    gateRevoked: `${prefix}:gate:revoked`,
    /** Denials apart, capped on their own: a user with no rights cannot flush the audit. */
    auditDenials: `${prefix}:audit:denials`,
    suggestion: (id: string) => `${prefix}:suggestion:${id}`,
    /** What workers post for a shell conversation (or broadcast channel) of another process. */
    shellOutbox: (channel: string) => `${prefix}:shell:outbox:${channel}`,
    /** The alert ledger (src/stores/alert-ledger.ts): `<kind>:<key>` per alert or watched state. */
    alert: (id: string) => `${prefix}:alert:${id}`,
    /** A device certificate issued but not yet delivered (serial only): a crashed apply's orphan to revoke. */
    certDelivery: (target: string) => `${prefix}:cert-delivery:${target}`,
  };
}
export type RedisKeys = ReturnType<typeof redisKeys>;

/** Where Redis is: REDIS_URL, or sentinels and a master name; passwords beside (from Secrets). */
export interface RedisEnv {
  REDIS_URL: string;
  REDIS_SENTINELS?: string;
  REDIS_MASTER_NAME?: string;
  REDIS_PASSWORD?: string;
  REDIS_SENTINEL_PASSWORD?: string;
}

/**
 * Connections by role. Chat-side clients fail fast when Redis is down (no offline queue, and
 * no resending of a command after a reconnect: a command the person was told failed must not
 * run later), so a command gets a clear answer instead of hanging; BullMQ workers and event listeners wait
 * for Redis to come back (maxRetriesPerRequest: null, as BullMQ requires).
 */
export function createRedis(target: string | RedisEnv, role: 'client' | 'blocking'): Redis {
  const base: RedisOptions = {
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 3000),
    lazyConnect: false,
  };
  const opts: RedisOptions =
    role === 'client'
      ? { ...base, enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 3000 }
      : { ...base, maxRetriesPerRequest: null, enableReadyCheck: true };
  const redis = connectRedis(target, opts);
  // Connection errors surface on the commands that fail; an unhandled 'error' event must not kill the process.
  redis.on('error', () => {});
  return redis;
}

/** host:port[,host:port…] → ioredis's sentinel list. */
function sentinelList(list: string): { host: string; port: number }[] {
  return list
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean)
    .map((a) => {
      const i = a.lastIndexOf(':');
      return { host: a.slice(0, i).replace(/^\[(.*)\]$/, '$1'), port: Number(a.slice(i + 1)) };
    });
}

/**
 * The one place every Redis connection is made. `unix:///path/redis.sock` is a Unix socket (the
 * sandbox's private Redis listens on one; ioredis's URL parser would read `unix` as a host).
 * With sentinels (REDIS_SENTINELS, or a redis-sentinel://s0:26379,s1:26379/name address) ioredis
 * asks them for the master, and asks again after a failover: it reconnects to the new master on
 * its own (and leaves a demoted one, which answers READONLY).
 */
export function connectRedis(target: string | RedisEnv, opts: RedisOptions = {}): Redis {
  const env: RedisEnv = typeof target === 'string' ? { REDIS_URL: target } : target;
  const url = env.REDIS_URL;
  const auth: RedisOptions = env.REDIS_PASSWORD ? { password: env.REDIS_PASSWORD } : {};
  const sentinelUrl = /^redis-sentinel:\/\/([^/]*)\/?(.*)$/.exec(url);
  if (env.REDIS_SENTINELS || sentinelUrl) {
    const sentinels = sentinelList(env.REDIS_SENTINELS ?? sentinelUrl![1]!.replace(/^.*@/, ''));
    const name = env.REDIS_MASTER_NAME ?? (decodeURIComponent(sentinelUrl?.[2] ?? '') || 'labgate');
    return new Redis({
      ...opts,
      ...auth,
      sentinels,
      name,
      ...(env.REDIS_SENTINEL_PASSWORD ? { sentinelPassword: env.REDIS_SENTINEL_PASSWORD } : {}),
      // A demoted master answers READONLY: reconnect, and the sentinels name the new one. A
      // chat-side command fails (it is never resent later); a worker's is resent on the new master.
      reconnectOnError: (err) => (err.message.startsWith('READONLY') ? (opts.enableOfflineQueue === false ? 1 : 2) : false),
      sentinelRetryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 3000),
      // Leaves the old master as soon as a sentinel announces the switch (+switch-master), not
      // at the next error: writes there after the switch would be lost when it is demoted.
      failoverDetector: true,
    });
  }
  if (url.startsWith('unix:')) return new Redis({ ...opts, ...auth, path: decodeURIComponent(new URL(url).pathname) });
  return new Redis(url, { ...opts, ...auth });
}

/** What every "Redis is unreachable" notice ends with: labgate keeps trying, and where its log is. */
export function redisUnreachableNotice(url: string, logPlace: string): string {
  return `Redis at ${safeRedisUrl(url)} is not reachable; labgate keeps trying, and commands will say so until it is (log: ${logPlace})`;
}

/** Resolves when the connection is ready, or rejects after `timeoutMs`. */
export async function waitReady(redis: Redis, timeoutMs = 3000): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => {
      cleanup();
      reject(new Error(`Redis not reachable after ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      clearTimeout(t);
      redis.off('ready', onReady);
    };
    redis.on('ready', onReady);
  });
}

/**
 * Resolves once the connection is ready, however long that takes (ioredis keeps reconnecting);
 * rejects when `signal` aborts, so a process that stops while Redis is down is not held up.
 */
export function whenReady(redis: Redis, signal?: AbortSignal): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const onReady = () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    };
    const onAbort = () => {
      redis.off('ready', onReady);
      reject(new Error('stopped before Redis was reachable'));
    };
    if (signal?.aborted) return onAbort();
    redis.once('ready', onReady);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * redis://user:pass@host → redis://[redacted]@host, for messages and logs. Up to the last '@'
 * before the host: clients accept a raw '@' in the password (redis://u:p@ss@host).
 */
export function safeRedisUrl(url: string): string {
  return redactUrlCredentials(url);
}


/** Deletes every key under `<prefix>:` (a test's or a benchmark's footprint; also `labgate`'s own, on purpose only). */
export async function dropPrefix(url: string, prefix: string): Promise<void> {
  const r = connectRedis(url);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await r.del(...keys);
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
}

/**
 * What the Redis client (or BullMQ on top of it) raised, as a RedisError; labgate's own typed
 * errors (UserError, TamperError, another system's error …) pass through. Decided by class:
 * ioredis raises bare `Error`s for a closed or unwritable connection and for timeouts.
 */
export function asRedisError(err: unknown, what: string): unknown {
  if (!(err instanceof Error) || err instanceof RedisError) return err;
  const fromClient = err.constructor === Error || err instanceof ReplyError || err instanceof MaxRetriesPerRequestError || err instanceof ConnectionClosedError;
  return fromClient ? new RedisError(what, 'redis', undefined, `Redis ${what}: ${err.message}`, { cause: err }) : err;
}

/**
 * A store or queue whose every method talks to Redis, with the client's failures typed as
 * RedisError (see asRedisError): the dispatcher then names Redis only when Redis failed.
 */
export function redisPort<T extends object>(target: T, what: string): T {
  return new Proxy(target, {
    get(t, prop, receiver) {
      const v: unknown = Reflect.get(t, prop, receiver);
      if (typeof v !== 'function' || prop === 'constructor') return v;
      const name = `${what}.${String(prop)}`;
      return (...args: unknown[]) => {
        let out: unknown;
        try {
          out = (v as (...a: unknown[]) => unknown).apply(t, args);
        } catch (err) {
          throw asRedisError(err, name);
        }
        return out instanceof Promise ? out.catch((err: unknown) => Promise.reject(asRedisError(err, name))) : out;
      };
    },
  });
}
