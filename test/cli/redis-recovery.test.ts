import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../sandbox/sandbox.js';
import { LabgateProcess, RedisServer, until } from '../support/labgate-process.js';

const UNREACHABLE = /is unreachable; nothing was queued or changed/;
/** /route list's report: it runs as a job, so an answer means the queues and a worker are attached. */
const REPORT = /No hosts are exposed by labgate yet|hosts? exposed by labgate/;

/**
 * labgate started while Redis is down, then Redis comes up (and later goes away and comes back):
 * every mode carries on without a restart. Real `node bin/labgate.js` processes against a real
 * redis-server on its own free port, stopped and started by the test.
 */
describe('Redis down at start, then up: every mode recovers without a restart', { timeout: 120_000 }, () => {
  let sandbox: Sandbox;
  const dir = mkdtempSync(join(tmpdir(), 'labgate-recovery-'));
  const running: LabgateProcess[] = [];
  const servers: RedisServer[] = [];
  let config: string;

  beforeAll(async () => {
    sandbox = await startSandbox({ dir });
    config = join(dir, 'labgate-test.yaml');
    writeFileSync(config, readFileSync(sandbox.files.config, 'utf8').replace('users: [alice, bob, mallory]', `users: [alice, bob, mallory]\n  dmFolder: ${join(dir, 'dm')}`));
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((p) => p.kill()));
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });
  afterAll(async () => {
    await sandbox.close();
  });

  const redisServer = async (opts: { persist?: boolean } = {}) => {
    const s = await RedisServer.create(mkdtempSync(join(dir, 'redis-')), opts);
    servers.push(s);
    return s;
  };
  const labgate = (args: string[], redis: RedisServer, log: string) => {
    const p = new LabgateProcess(args, { cwd: dir, env: { ...sandbox.env, PATH: process.env.PATH!, LABGATE_CONFIG: config, REDIS_URL: redis.url, LABGATE_LOG_FILE: join(dir, log) } });
    running.push(p);
    return p;
  };

  /** Sends `line` until its answer matches `want` (each try waits for its own answer); bounded. */
  async function untilAnswered(lg: LabgateProcess, line: string, want: RegExp, timeoutMs = 45_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const before = { want: lg.count(want), down: lg.count(UNREACHABLE) };
      lg.send(line);
      await until(() => lg.count(want) > before.want || lg.count(UNREACHABLE) > before.down, `an answer to ${line}`, 35_000, () => lg.stdout);
      if (lg.count(want) > before.want) return;
      if (Date.now() > deadline) throw new Error(`still unreachable after ${timeoutMs} ms:\n${lg.stdout}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  it.each(['start', 'shell'])('GIVEN labgate %s started while Redis is down WHEN Redis comes up, goes away and comes back THEN commands are answered again each time, with no restart', async (mode) => {
    const redis = await redisServer();
    const lg = labgate([mode], redis, `${mode}.log`);
    await lg.waitFor(new RegExp(`warning: Redis at ${redis.url} is not reachable; labgate keeps trying`));
    lg.send('/route list');
    await lg.waitFor(UNREACHABLE);
    expect(lg.stdout).toContain(`Redis at ${redis.url} is unreachable; nothing was queued or changed. Try again when it is back (log: ${join(dir, `${mode}.log`)}).`);

    await redis.start();
    await untilAnswered(lg, '/route list', REPORT);
    // A whole plan → approve → apply: the apply queue and its worker are attached too.
    lg.send('/expose service:grafana namespace:monitoring port:3000 host:grafana-' + mode + ' auth:tailscale-only');
    lg.send('approve');
    await lg.waitFor(/✓ Applied p-\w+: 1 change/);

    await redis.stop();
    const downs = lg.count(UNREACHABLE);
    lg.send('/route list');
    await until(() => lg.count(UNREACHABLE) > downs, 'the unreachable answer while Redis is stopped', 30_000, () => lg.stdout);
    await redis.start();
    await untilAnswered(lg, '/route list', REPORT);
    expect(await lg.end()).toBe(1); // lines hit faults while Redis was down
  });

  it('GIVEN labgate worker started while Redis is down WHEN Redis comes up THEN it attaches its queues and a bot\'s commands are answered', async () => {
    const redis = await redisServer();
    const worker = labgate(['worker'], redis, 'worker.log');
    const log = join(dir, 'worker.log');
    const logText = () => {
      try {
        return readFileSync(log, 'utf8');
      } catch {
        return '';
      }
    };
    await until(() => logText().includes('Redis is not reachable yet'), 'the worker to find Redis down', 30_000, logText);
    await worker.waitFor(new RegExp(`labgate worker: Redis at ${redis.url} is not reachable; labgate keeps trying, .*the workers attach when it is`), 'stderr');
    await redis.start();
    await until(() => logText().includes('workers attached to their queues'), 'the worker to attach', 30_000, logText);

    const bot = labgate(['bot', '--json'], redis, 'bot.log');
    bot.send('/route list');
    const code = await bot.end();
    const msgs = bot.stdout.trim().split('\n').map((l) => JSON.parse(l) as { kind: string; text: string });
    expect(msgs).toEqual([expect.objectContaining({ kind: 'report', text: expect.stringMatching(REPORT) })]);
    expect(code).toBe(0);
    expect(worker.proc.exitCode).toBe(null);
  });

  it('GIVEN labgate bot started while Redis is down WHEN Redis comes up THEN it stops saying unreachable, prints what the worker relays, and not earlier sessions\' messages', async () => {
    const redis = await redisServer({ persist: true });
    // An earlier session's relayed message, in the Redis the bot will find when it comes back.
    await redis.start();
    const r = new Redis(redis.url);
    await r.xadd('labgate-sandbox:shell:outbox', '*', 'm', JSON.stringify({ msg: { kind: 'report', text: 'from an earlier session' }, messageId: 'old-1' }));
    r.disconnect();
    await redis.stop();

    const bot = labgate(['bot'], redis, 'bot.log');
    await bot.waitFor(new RegExp(`warning: Redis at ${redis.url} is not reachable; labgate keeps trying`));
    bot.send('/route list');
    await bot.waitFor(UNREACHABLE);

    await redis.start();
    labgate(['worker'], redis, 'worker-for-bot.log');
    await untilAnswered(bot, '/route list', REPORT);
    expect(bot.stdout).not.toContain('from an earlier session');
  });
});
