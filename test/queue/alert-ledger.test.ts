import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertLedger } from '../../src/stores/alert-ledger.js';
import { redisKeys } from '../../src/stores/redis.js';
import { dropPrefix, REDIS_URL } from '../support/lab.js';

describe('the alert ledger: each alert goes out once', () => {
  const prefix = `lgtest-ledger-${process.pid}-${Date.now().toString(36)}`;
  const keys = redisKeys(prefix);
  let redis: Redis;
  let a: AlertLedger;
  let b: AlertLedger;
  beforeAll(() => {
    redis = new Redis(REDIS_URL);
    a = new AlertLedger(redis, keys);
    b = new AlertLedger(redis, keys);
  });
  afterAll(async () => {
    await dropPrefix(prefix);
    redis.disconnect();
  });

  it('GIVEN two workers raise the same alert THEN exactly one raises it, and it is raised until cleared', async () => {
    const [x, y] = await Promise.all([a.raise('stale', 'gate-1', 60_000), b.raise('stale', 'gate-1', 60_000)]);
    expect([x, y].filter(Boolean)).toHaveLength(1);
    expect(await a.raised('stale', ['gate-1', 'gate-2'])).toEqual([true, false]);
    expect(await redis.pttl(keys.alert('stale:gate-1'))).toBeGreaterThan(0);
    await b.clear('stale', 'gate-1');
    expect(await a.raise('stale', 'gate-1', 60_000)).toBe(true);
  });

  it('GIVEN kinds differ THEN the same key is a different alert', async () => {
    expect(await a.raiseAll('cert', [{ key: 'k', keepMs: 60_000 }, { key: 'k2', keepMs: 60_000 }])).toEqual([true, true]);
    expect(await a.raise('ca', 'k', 60_000)).toBe(true);
    expect(await a.raiseAll('cert', [{ key: 'k', keepMs: 60_000 }, { key: 'k3', keepMs: 60_000 }])).toEqual([false, true]);
  });

  it('GIVEN a watched state WHEN it changes THEN one look reports the change, first sightings are not changes, and a revert reports it again', async () => {
    expect(await a.swap('derp', 'node-1', { node: 'direct' }, 60_000)).toEqual([]);
    const changes = await a.swap('derp', 'node-1', { node: 'derp' }, 60_000);
    expect(changes).toEqual([{ subject: 'node', from: 'direct', to: 'derp' }]);
    expect(await b.swap('derp', 'node-1', { node: 'derp' }, 60_000)).toEqual([]);
    await a.revert('derp', 'node-1', changes);
    expect(await b.swap('derp', 'node-1', { node: 'derp' }, 60_000)).toEqual(changes);
  });
});
