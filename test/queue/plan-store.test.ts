import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPlan, type Decision, type Identity, type Plan } from '../../src/plan/model.js';
import { LockBusyError, TargetLocks } from '../../src/stores/locks.js';
import { PlanStore } from '../../src/stores/plan-store.js';
import { redisKeys } from '../../src/stores/redis.js';
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
    const plan = buildPlan({ command: { name: 'expose', options: {}, text: '/expose' }, requester: bob, conversation: { platform: 'shell', channel: 'shell-test' }, now, ttlMs: 60_000, changes: [], summary: [] });
    await store.create(plan);
    return { plan, raw: JSON.stringify(plan) };
  };
  const approval = (plan: Plan, at: number): Decision => ({ planId: plan.id, hash: plan.hash, action: 'approved', by: alice, at });

  it('approves a pending plan once, atomically, under concurrency', async () => {
    const rec0 = await newPlan();
    const { plan } = rec0;
    const results = await Promise.all(Array.from({ length: 10 }, () => store.decide(rec0, approval(plan, T0 + 100), T0 + 100)));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok && r.reason === 'decided')).toHaveLength(9);
    const rec = await store.get(plan.id);
    expect(rec).toMatchObject({ status: 'approved', decidedBy: alice, decidedAt: T0 + 100 });
    expect(await store.approvedUnfinished()).toContain(plan.id);
    await store.finish(plan.id, 'applied', { status: 'applied', text: 'ok', at: 1 });
    expect(await store.approvedUnfinished()).not.toContain(plan.id);
  });

  it('refuses a decision after expiry and marks the plan expired', async () => {
    const rec = await newPlan();
    const { plan } = rec;
    expect(await store.decide(rec, approval(plan, plan.expiresAt), plan.expiresAt)).toEqual({ ok: false, reason: 'expired' });
    expect((await store.get(plan.id))?.status).toBe('expired');
    expect(await store.pending()).not.toContain(plan.id);
  });

  it('GIVEN the record was edited after it was read and checked WHEN the decision is recorded THEN it is refused and the plan stays pending', async () => {
    const rec = await newPlan();
    const { plan } = rec;
    const edited = { ...plan, changes: [{ system: 'kubernetes', action: 'create', target: 'x', before: null, after: { evil: true }, summary: 'x' }] };
    await redis.hset(keys.plan(plan.id), 'plan', JSON.stringify(edited));
    expect(await store.decide(rec, approval(plan, T0 + 1), T0 + 1)).toEqual({ ok: false, reason: 'changed' });
    expect((await store.get(plan.id))?.status).toBe('pending');
    expect(await store.decide({ ...rec, plan: { ...plan, id: 'p-nothere' } }, approval(plan, 1), 1)).toEqual({ ok: false, reason: 'missing' });
  });

  it('keeps plan records for a week after expiry, not forever', async () => {
    const { plan } = await newPlan(Date.now());
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
