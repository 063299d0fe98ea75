import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { AdapterError, KubernetesError, RedisError, UserError, UserErrorCode } from '../../src/errors.js';
import { asRedisError, redisPort } from '../../src/stores/redis.js';
import { REDIS_URL } from '../support/lab.js';

/** A store-shaped object over a real ioredis client. */
class Probe {
  constructor(private readonly redis: Redis) {}
  async get(key: string): Promise<string | null> {
    return this.redis.get(key);
  }
  async refuse(): Promise<never> {
    throw new UserError(UserErrorCode.InvalidInput, 'host: not a host name');
  }
  async other(): Promise<never> {
    throw new KubernetesError('GET', '/api/v1/namespaces', 503, 'Kubernetes GET /api/v1/namespaces: HTTP 503');
  }
}

describe('Redis failures are typed at the store boundary', () => {
  let redis: Redis;
  beforeAll(async () => {
    redis = new Redis(REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 0, lazyConnect: true });
    redis.on('error', () => {});
  });
  afterAll(() => redis.disconnect());

  it('GIVEN the client is not connected WHEN a store method runs THEN it rejects with a RedisError naming the store and method', async () => {
    const probe = redisPort(new Probe(redis), 'probe');
    const err = await probe.get('labgate-test:redis-errors:none').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RedisError);
    expect((err as RedisError).system).toBe('redis');
    expect((err as RedisError).method).toBe('probe.get');
  });

  it("GIVEN labgate's own typed errors THEN they pass through unchanged", async () => {
    const probe = redisPort(new Probe(redis), 'probe');
    await expect(probe.refuse()).rejects.toBeInstanceOf(UserError);
    const k = await probe.other().catch((e: unknown) => e);
    expect(k).toBeInstanceOf(KubernetesError);
    expect((k as AdapterError).system).toBe('kubernetes');
    class Custom extends Error {}
    const c = new Custom('mine');
    expect(asRedisError(c, 'x')).toBe(c);
  });
});
