import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { Fleet } from '../support/fleet.js';
import { LabgateProcess, RedisServer, until } from '../support/labgate-process.js';

const TRAEFIK = 'traefik.io/v1alpha1';
const routePath = (ns: string, name: string) => `/apis/traefik.io/v1alpha1/namespaces/${ns}/ingressroutes/${name}`;

/** Redis outages and shutdowns, with a real redis-server the test stops and starts, and real labgate processes. */
describe('Redis outages and shutdowns end in one true result', { timeout: 120_000 }, () => {
  let fleet: Fleet | undefined;
  let redis: RedisServer | undefined;
  afterEach(async () => {
    await fleet?.close();
    await redis?.stop();
    fleet = undefined;
    redis = undefined;
  });

  async function fleetOnOwnRedis(persist: boolean): Promise<Fleet> {
    redis = await RedisServer.create(mkdtempSync(join(tmpdir(), 'labgate-redis-')), { persist });
    await redis.start();
    return await Fleet.start({ redisUrl: redis.url });
  }

  it('GIVEN Redis (with persistence) goes down for 8 s while an apply is writing WHEN it is back THEN the apply finishes and says "Applied", once, as live state shows', async () => {
    fleet = await fleetOnOwnRedis(true);
    await fleet.spawnWorker();
    fleet.sandbox.faults.kubernetes.add({ match: `PATCH ${routePath('media', 'photos-ts')}`, delayMs: 1_500, times: 1 });
    const planId = await fleet.plan('/expose service:immich namespace:media port:2283 host:photos auth:tailscale-only');
    await fleet.approve(planId);
    await until(() => fleet!.sandbox.faults.kubernetes.pending === 0, 'the write to start');
    // Redis goes away while the PATCH is in flight: the write lands, the journal entry after it cannot.
    await redis!.stop();
    await new Promise((r) => setTimeout(r, 8_000));
    await redis!.start();
    const result = await fleet.result(planId, 90_000);
    expect(result.result?.status).toBe('applied');
    expect(result.text).toMatch(new RegExp(`^Applied ${planId}: 1 change`));
    expect(fleet.sandbox.kubernetes.objects.get({ apiVersion: TRAEFIK, kind: 'IngressRoute', namespace: 'media', name: 'photos-ts' })).toBeDefined();
    await new Promise((r) => setTimeout(r, 2_000));
    expect(fleet.results(planId)).toHaveLength(1);
    expect((await fleet.audit(planId)).filter((e) => ['apply', 'fail', 'refuse'].includes(e.action)).map((e) => e.action)).toEqual(['apply']);
  });

  it('GIVEN Redis restarts without persistence WHEN a worker reconnects THEN it puts the relay monitor and expiry scan schedulers back', async () => {
    fleet = await fleetOnOwnRedis(false);
    await fleet.spawnWorker();
    const schedulers = async () => {
      const r = new Redis(redis!.url, { maxRetriesPerRequest: 1 });
      r.on('error', () => {});
      const q = new Queue('scheduled', { connection: r, prefix: fleet!.chat.services.keys.bullPrefix });
      try {
        return (await q.getJobSchedulers()).map((j) => j.key).sort();
      } finally {
        await q.close();
        r.disconnect();
      }
    };
    await until(async () => (await schedulers()).length === 2, 'the schedulers');
    expect(await schedulers()).toEqual(['cert-expiry-scan', 'derp-monitor']);
    await redis!.stop();
    await redis!.start();
    expect(await schedulers()).toEqual([]);
    await until(async () => (await schedulers()).length === 2, 'the schedulers to be put back', 40_000);
  });

  it('GIVEN Redis is down WHEN a worker gets SIGTERM THEN it exits 0 within its grace', async () => {
    fleet = await fleetOnOwnRedis(false);
    const w = await fleet.spawnWorker();
    await redis!.stop();
    const t = Date.now();
    w.proc.kill('SIGTERM');
    expect(await w.exited).toBe(0);
    expect(Date.now() - t).toBeLessThan(15_000);
  });

  it('GIVEN labgate start is applying WHEN it gets SIGTERM THEN it finishes the apply within its grace, releases its locks and exits 0', async () => {
    fleet = await Fleet.start();
    fleet.sandbox.faults.kubernetes.add({ match: `PATCH ${routePath('media', 'films-ts')}`, delayMs: 3_000, times: 1 });
    const lg = new LabgateProcess(['shell', '--json'], { cwd: fleet.dir, env: { ...fleet.env, LABGATE_LOG_FILE: join(fleet.dir, 'start.log') } });
    lg.send('/expose service:jellyfin namespace:media port:8096 host:films auth:tailscale-only');
    await lg.waitFor(/"kind":"plan"/);
    lg.send('approve');
    await until(() => fleet!.sandbox.faults.kubernetes.pending === 0, 'the write to start');
    lg.proc.kill('SIGTERM');
    expect(await lg.exited).toBe(0);
    expect(fleet.sandbox.kubernetes.objects.get({ apiVersion: TRAEFIK, kind: 'IngressRoute', namespace: 'media', name: 'films-ts' })).toBeDefined();
    const planId = /"planId":"(p-\w+)"/.exec(lg.stdout)![1]!;
    expect((await fleet.chat.services.store.get(planId))?.status).toBe('applied');
    const locks = await fleet.chat.services.redis.keys(`${fleet.config.redis.prefix}:lock:kubernetes:*`);
    expect(locks).toEqual([]);
  });
});
