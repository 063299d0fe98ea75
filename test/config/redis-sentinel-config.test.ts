import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';

const BASE = { domain: 'home.example.com' };

describe('Redis Sentinel and the health port in the configuration', () => {
  it('GIVEN REDIS_SENTINELS THEN REDIS_URL names the sentinels (no credentials) and the master name defaults to labgate', () => {
    const res = parseConfig(BASE, { REDIS_SENTINELS: 's0:26379, s1:26379,[::1]:26380', REDIS_PASSWORD: 'pw', REDIS_SENTINEL_PASSWORD: 'spw' }, 'test');
    expect(res.ok).toBe(true);
    if (!res.ok) return;
    expect(res.config.env.REDIS_URL).toBe('redis-sentinel://s0:26379,s1:26379,[::1]:26380/labgate');
    expect(res.config.env.REDIS_MASTER_NAME).toBe('labgate');
  });

  it('GIVEN redis.sentinels and redis.masterName in labgate.yaml THEN they are used, and REDIS_SENTINELS wins over them', () => {
    const doc = { ...BASE, redis: { sentinels: ['a:26379', 'b:26379'], masterName: 'mymaster' } };
    const fromFile = parseConfig(doc, {}, 'test');
    expect(fromFile.ok && fromFile.config.env.REDIS_URL).toBe('redis-sentinel://a:26379,b:26379/mymaster');
    const fromEnv = parseConfig(doc, { REDIS_SENTINELS: 'c:1' }, 'test');
    expect(fromEnv.ok && fromEnv.config.env.REDIS_SENTINELS).toBe('c:1');
  });

  it('GIVEN bad sentinel addresses or a bad listen address THEN each problem names its field and what it takes', () => {
    const res = parseConfig({ ...BASE, redis: { sentinels: ['nope'] }, http: { listen: 'localhost' } }, { REDIS_SENTINELS: 's0', LABGATE_HTTP: '1.2.3.4:99999' }, 'test');
    expect(res.ok ? [] : res.problems).toEqual([
      'env.REDIS_SENTINELS: must be comma-separated host:port, like s0:26379,s1:26379,s2:26379',
      'env.LABGATE_HTTP: must be HOST:PORT or :PORT with a port from 0 to 65535, like 0.0.0.0:9464 or :9464',
      'http.listen: must be HOST:PORT or :PORT with a port from 0 to 65535, like 0.0.0.0:9464 or :9464',
      'redis.sentinels[0]: must be host:port, like redis-sentinel-0.redis:26379',
    ]);
  });

  it('GIVEN :9464 THEN it listens on every interface', async () => {
    const { parseListen } = await import('../../src/ops/listen.js');
    expect(parseListen(':9464', 'x')).toEqual({ host: '0.0.0.0', port: 9464 });
    expect(parseListen('[::1]:0', 'x')).toEqual({ host: '::1', port: 0 });
  });
});
