import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPlan, type Identity } from '../../src/plan/model.js';
import { LockBusyError, TargetLocks } from '../../src/queue/locks.js';
import { PlanStore } from '../../src/queue/plan-store.js';
import { redisKeys } from '../../src/queue/redis.js';
import { dropPrefix, REDIS_URL } from '../support/lab.js';

const prefix = `lgtest-store-${process.pid}`;
const keys = redisKeys(prefix);
const alice: Identity = { platform: 'shell', id: 'alice', name: 'alice', roles: [] };
const bob: Identity = { platform: 'shell', id: 'bob', name: 'bob', roles: [] };

describe('plan store and target locks on real Redis', () => {
  let redis: Redis;
  let store: PlanStore;
  beforeAll(() => {
    redis = new Redis(REDIS_URL);
    store = new PlanStore(redis, keys);
  });
  afterAll(async () => {
    redis.disconnect();
    await dropPrefix(prefix);
  });

  const T0 = Date.now();
  const newPlan = async (now = T0) => {
    const plan = buildPlan({ command: { name: 'expose', options: {}, text: '/expose' }, requester: bob, now, ttlMs: 60_000, changes: [], summary: [] });
    await store.create(plan, { platform: 'shell', channel: 'shell' });
    return plan;
  };

  it('approves a pending plan once, atomically, under concurrency', async () => {
    const plan = await newPlan();
    const results = await Promise.all(Array.from({ length: 10 }, () => store.decide(plan.id, 'approved', alice, T0 + 100, plan.hash)));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok && r.reason === 'decided')).toHaveLength(9);
    const rec = await store.get(plan.id);
    expect(rec).toMatchObject({ status: 'approved', decidedBy: alice, decidedAt: T0 + 100, progress: 0 });
    expect(await store.approvedUnfinished()).toContain(plan.id);
    await store.finish(plan.id, 'applied', { status: 'applied', text: 'ok', at: 1 });
    expect(await store.approvedUnfinished()).not.toContain(plan.id);
  });

  it('refuses a decision after expiry and marks the plan expired', async () => {
    const plan = await newPlan();
    expect(await store.decide(plan.id, 'approved', alice, plan.expiresAt, plan.hash)).toEqual({ ok: false, reason: 'expired' });
    expect((await store.get(plan.id))?.status).toBe('expired');
    expect(await store.pending()).not.toContain(plan.id);
  });

  it('refuses a decision bound to another hash', async () => {
    const plan = await newPlan();
    expect(await store.decide(plan.id, 'approved', alice, T0 + 1, 'deadbeef')).toEqual({ ok: false, reason: 'hash-mismatch' });
    expect((await store.get(plan.id))?.status).toBe('pending');
    expect(await store.decide('p-nothere', 'approved', alice, 1, '')).toEqual({ ok: false, reason: 'missing' });
  });

  it('keeps plan records for a week after expiry, not forever', async () => {
    const plan = await newPlan(Date.now());
    const ttl = await redis.ttl(keys.plan(plan.id));
    expect(ttl).toBeGreaterThan(7 * 24 * 3600 - 10);
    expect(ttl).toBeLessThanOrEqual(7 * 24 * 3600 + 61);
  });

  it('takes all target locks or none, and releases only its own', async () => {
    const locks = new TargetLocks(redis, keys, 5_000);
    const a = await locks.acquire(['t1', 't2']);
    await expect(locks.acquire(['t3', 't2'])).rejects.toBeInstanceOf(LockBusyError);
    expect(await redis.exists(keys.lock('t3'))).toBe(0);
    await a.release();
    const b = await locks.acquire(['t2', 't3']);
    await a.release(); // a stale holder cannot free someone else's lock
    expect(await redis.exists(keys.lock('t2'))).toBe(1);
    await b.release();
    expect(await redis.exists(keys.lock('t2'))).toBe(0);
  });

  it('fails closed when Redis cannot be reached', async () => {
    const dead = new Redis('redis://127.0.0.1:1', { enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
    dead.on('error', () => {});
    const locks = new TargetLocks(dead, keys);
    await expect(locks.acquire(['t1'])).rejects.toThrow();
    dead.disconnect();
  });
});
