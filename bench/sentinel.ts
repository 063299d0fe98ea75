import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRedis } from '../src/stores/redis.js';
import { SentinelLab } from '../test/support/sentinel.js';
import { percentile, round, type Figure, type Scenario } from './figures.js';

const DOWN_AFTER_MS = 1_000;

/**
 * Writes through labgate's own chat-side connection (createRedis with REDIS_SENTINELS) every
 * 10 ms while the primary fails over; the figure is the longest gap between two successful
 * writes (labgate's commands answer "Redis is unreachable" during it).
 */
async function gapDuring(lab: SentinelLab, failover: () => Promise<unknown>): Promise<{ gap: number; lost: number }> {
  const redis = createRedis({ REDIS_URL: 'redis-sentinel://unused/labgate', ...lab.env() }, 'client');
  await new Promise<void>((r) => (redis.status === 'ready' ? r() : redis.once('ready', () => r())));
  let last = performance.now();
  let gap = 0;
  let writing = true;
  let acked = 0;
  await redis.del('lgbench-sentinel');
  const loop = (async () => {
    while (writing) {
      const ok = await redis.incr('lgbench-sentinel').then(() => true, () => false);
      if (ok) acked++;
      const now = performance.now();
      if (ok) {
        gap = Math.max(gap, now - last);
        last = now;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  await new Promise((r) => setTimeout(r, 300));
  const old = (await lab.masterPort())!;
  const before = gap;
  await failover();
  await lab.untilNewMaster(old);
  // Until a write has landed after the switch.
  const switched = performance.now();
  while (last < switched) await new Promise((r) => setTimeout(r, 20));
  writing = false;
  await loop;
  // Increments the old primary acknowledged but the new one never got (asynchronous replication).
  const kept = Number(await redis.get('lgbench-sentinel'));
  redis.disconnect();
  return { gap: Math.max(gap, before), lost: acked - kept };
}

export const sentinelScenario: Scenario = {
  name: 'sentinel failover',
  async run(): Promise<Figure[]> {
    const lab = await SentinelLab.start(mkdtempSync(join(tmpdir(), 'labgate-bench-sentinel-')), { downAfterMs: DOWN_AFTER_MS });
    try {
      const planned: number[] = [];
      let lost = 0;
      for (let i = 0; i < 3; i++) {
        await lab.untilSettled();
        await lab.untilReplicasInSync();
        const r = await gapDuring(lab, () => lab.failover());
        planned.push(r.gap);
        lost += r.lost;
      }
      await lab.untilSettled();
      await lab.untilReplicasInSync();
      const killed = await gapDuring(lab, () => lab.killMaster());
      const lostKilled = killed.lost;
      const s = 'sentinel';
      return [
        { scenario: s, metric: 'SENTINEL FAILOVER: longest gap between labgate writes p50', value: round(percentile(planned, 50)), unit: 'ms', note: `max of ${planned.length}: ${round(Math.max(...planned))} ms; floor: a write every 10 ms` },
        { scenario: s, metric: 'primary SIGKILLed: longest gap between labgate writes', value: round(killed.gap), unit: 'ms', note: `floor: sentinel down-after-milliseconds ${DOWN_AFTER_MS} ms (the detection delay; deploy/ sets its own)` },
        { scenario: s, metric: 'acknowledged writes lost, 3 SENTINEL FAILOVERs', value: lost, unit: 'writes', note: `of one every 10 ms: written to the old primary between the promotion and the switch (docs/deploying-redis.md)` },
        { scenario: s, metric: 'acknowledged writes lost, primary SIGKILLed', value: lostKilled, unit: 'writes', note: 'asynchronous replication: what the replicas had not received yet' },
      ];
    } finally {
      await lab.close();
    }
  },
};
