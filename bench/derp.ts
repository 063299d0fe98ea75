import { dropPrefix as dropRedisPrefix } from '../src/stores/redis.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../src/app.js';
import type { ConversationRef, MessageRef, OutMessage } from '../src/messages/message.js';
import type { ChatNotifier } from '../src/messages/notifier.js';
import { loadConfig } from '../src/config/load.js';
import { createLogger } from '../src/log.js';
import { defaultHomelab, homelabNodes } from '../sandbox/homelab.js';
import { startSandbox } from '../sandbox/sandbox.js';
import { percentile, round, type Figure, type Scenario } from './figures.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const NODES = 50;
const EXEC_LATENCY_MS = 20;

const dropPrefix = (prefix: string) => dropRedisPrefix(REDIS_URL, prefix);

/** Resolves the time a report was posted, for "command → table shown". */
class ReportClock implements ChatNotifier {
  private waiter?: (t: number, msg: OutMessage) => void;
  next(): Promise<{ at: number; msg: OutMessage }> {
    return new Promise((resolve) => (this.waiter = (at, msg) => resolve({ at, msg })));
  }
  async post(to: ConversationRef, msg: OutMessage): Promise<MessageRef> {
    if (msg.kind === 'report') this.waiter?.(performance.now(), msg);
    return { conversation: to, messageId: '1' };
  }
  async edit(): Promise<void> {}
  async dm() {
    return { delivered: true as const, files: [] };
  }
}

const rssMb = () => process.memoryUsage.rss() / 1024 / 1024;

export const derpScenarios: Scenario[] = [
  {
    name: `derp-check (${NODES} nodes, ${EXEC_LATENCY_MS} ms exec latency)`,
    async run(): Promise<Figure[]> {
      const runs = Number(process.env.BENCH_RUNS ?? 10);
      const sandbox = await startSandbox({ dir: mkdtempSync(join(tmpdir(), 'labgate-bench-derp-')), homelab: { ...defaultHomelab(), nodes: homelabNodes(NODES) } });
      sandbox.tailscale.setExecLatency(EXEC_LATENCY_MS);
      const res = loadConfig({ ...process.env, ...sandbox.env, REDIS_URL });
      if (!res.ok) throw new Error(res.problems.join('\n'));
      const config = res.config;
      config.redis.prefix = `lgbench-derp-${process.pid}`;
      config.tailscale.monitor.enabled = false;
      const clock = new ReportClock();
      const app = await createApp({ config, logger: createLogger({ level: 'warn', destination: { write: () => true } as never }), notifier: clock, chat: true, workers: true });
      const who = { platform: 'shell' as const, id: 'alice', name: 'alice', roles: [] };
      const conv = { platform: 'shell' as const, channel: 'shell' };
      const walls: number[] = [];
      const baseRss = rssMb();
      let peakRss = baseRss;
      const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssMb())), 5);
      let first = NaN;
      let rows = 0;
      try {
        for (let i = 0; i < runs + 1; i++) {
          const shown = clock.next();
          const t = performance.now();
          const out = await app.dispatcher!.command({ name: 'derp-check', options: {}, text: '/derp-check' }, who, conv);
          if (out.replies.length) throw new Error(`derp-check failed: ${JSON.stringify(out.replies)}`);
          const { at, msg } = await shown;
          rows = msg.table?.rows.length ?? 0;
          if (i === 0) first = at - t;
          else walls.push(at - t);
        }
      } finally {
        clearInterval(sampler);
        await app.close();
        await sandbox.close();
        await dropPrefix(config.redis.prefix);
      }
      if (rows !== NODES) throw new Error(`derp-check reported ${rows} nodes, expected ${NODES}`);
      const s = `derp-check (${NODES} nodes, +${EXEC_LATENCY_MS} ms exec)`;
      const floor = Math.ceil(NODES / config.tailscale.concurrency) * EXEC_LATENCY_MS;
      return [
        { scenario: s, metric: 'command → table posted, first run', value: round(first), unit: 'ms', note: 'target ≤ 2000' },
        { scenario: s, metric: 'command → table posted p50', value: round(percentile(walls, 50)), unit: 'ms', note: `target ≤ 2000; floor ${floor} ms (${config.tailscale.concurrency} nodes at once × ${EXEC_LATENCY_MS} ms)` },
        { scenario: s, metric: 'command → table posted max', value: round(Math.max(...walls)), unit: 'ms', note: `${walls.length} runs` },
        { scenario: s, metric: 'peak RSS (bench process, sandbox included)', value: round(peakRss), unit: 'MB', note: `${round(baseRss)} MB before the first /derp-check; maxRSS ${round(process.resourceUsage().maxRSS / 1024)} MB` },
      ];
    },
  },
];
