import { spawn } from 'node:child_process';
import { createServer, get } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Registry } from 'prom-client';
import { startOpsServer } from '../src/ops/http.js';
import { metrics } from '../src/ops/metrics.js';
import { readiness } from '../src/ops/readiness.js';
import { createRedis, dropPrefix } from '../src/stores/redis.js';
import { startDiscordHarness } from '../test/harness/discord/discord-harness.js';
import { BIN, freePort, LabgateProcess, until } from '../test/support/labgate-process.js';
import { percentile, round, type Figure, type Scenario } from './figures.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const SCRAPES = 300;
/** bin/labgate.js's shebang flags. */
const NODE_FLAGS = /^#!.*?node (.*)$/m.exec(readFileSync(BIN, 'utf8'))![1]!.split(' ');

async function timeScrapes(url: string): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < SCRAPES + 20; i++) {
    const t = performance.now();
    // node:http, as a scraper would read it (no fetch/undici layer on the client side).
    await new Promise<void>((resolve, reject) =>
      get(url, (res) => {
        res.on('data', () => {});
        res.on('end', () => resolve());
      }).on('error', reject),
    );
    if (i >= 20) out.push(performance.now() - t);
  }
  return out;
}

/** /metrics with 1,000 device certificates and 50 Traefik nodes, queue depth read from real Redis, beside an empty registry over the same HTTP. */
async function scrapeFigures(): Promise<Figure[]> {
  const prefix = `lgbench-ops-${process.pid}`;
  const redis = createRedis(REDIS_URL, 'client');
  const unwatch = readiness.watchQueues(redis, `${prefix}:q`);
  const now = Date.now();
  metrics.certificates(Array.from({ length: 1000 }, (_, i) => ({ owner: `discord:${100000000000000000n + BigInt(i % 40)}`, device: `device-${i}`, serial: (i + 0x1000).toString(16).padStart(8, '0').replace(/(..)(?!$)/g, '$1:'), notAfter: now + (i + 1) * 86_400_000 })));
  metrics.tailscalePaths(Array.from({ length: 50 }, (_, i) => ({ node: `node-${i}`, direct: i % 7 !== 0 })));
  for (const c of ['expose', 'unexpose', 'cert issue', 'cert revoke', 'router sync']) for (const o of ['planned', 'refused', 'denied'] as const) metrics.command(c, o, o === 'planned' ? '' : 'invalid-input');
  const server = await startOpsServer({ host: '127.0.0.1', port: 0 });
  const empty = new Registry();
  const floor = createServer((_req, res) => void empty.metrics().then((t) => res.writeHead(200, { 'content-type': empty.contentType }).end(t)));
  await new Promise<void>((r) => floor.listen(0, '127.0.0.1', r));
  try {
    const size = (await (await fetch(`${server.url}/metrics`)).text()).length;
    const full = await timeScrapes(`${server.url}/metrics`);
    const bare = await timeScrapes(`http://127.0.0.1:${(floor.address() as { port: number }).port}/metrics`);
    // The same without the queue-depth read (two BullMQ getJobCounts on Redis): what Redis adds.
    unwatch();
    const noRedis = await timeScrapes(`${server.url}/metrics`);
    const note = `empty registry over the same loopback HTTP: p50 ${round(percentile(bare, 50), 2)} ms, p95 ${round(percentile(bare, 95), 2)} ms; target ≤ 20 ms`;
    return [
      { scenario: 'ops', metric: '/metrics scrape, 1,000 certificates + 50 nodes p50', value: round(percentile(full, 50), 2), unit: 'ms', note: `${note}; ${Math.round(size / 1024)} KiB` },
      { scenario: 'ops', metric: '/metrics scrape, 1,000 certificates + 50 nodes p95', value: round(percentile(full, 95), 2), unit: 'ms', note },
      { scenario: 'ops', metric: '/metrics scrape, same without the queue-depth read p50', value: round(percentile(noRedis, 50), 2), unit: 'ms', note: `p95 ${round(percentile(noRedis, 95), 2)} ms` },
    ];
  } finally {
    unwatch();
    await server.close();
    floor.close();
    redis.disconnect();
    metrics.certificates([]);
    metrics.tailscalePaths([]);
    await dropPrefix(REDIS_URL, prefix);
  }
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Idle RSS: the largest of a few samples taken once the process has been ready and quiet for a while. */
async function idleRss(pid: number): Promise<number> {
  await new Promise((r) => setTimeout(r, 5_000));
  let max = 0;
  for (let i = 0; i < 5; i++) {
    max = Math.max(max, rssMiB(pid));
    await new Promise((r) => setTimeout(r, 1_000));
  }
  return max;
}

const ready = async (url: string) => (await fetch(`${url}/readyz`).catch(() => undefined))?.status === 200;

/**
 * `labgate worker` and `labgate bot` as deployed (--http on, DISCORD_TOKEN set: the bot on the
 * loopback Discord's gateway, the worker posting over its REST), started against an external
 * `labgate sandbox` process; beside a bare node with the same V8 flags as bin/labgate.js.
 */
async function rssFigures(): Promise<Figure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'labgate-bench-ops-'));
  const prefix = `lgbench-rss-${process.pid}`;
  const sandbox = new LabgateProcess(['sandbox', '--state', join(dir, 'state.json'), '--write-env', join(dir, 'sandbox.env')], { cwd: dir, env: { PATH: process.env.PATH! } });
  const harness = await startDiscordHarness();
  const procs: LabgateProcess[] = [sandbox];
  try {
    await until(() => existsSync(join(dir, 'sandbox.env')) && /labgate sandbox running/.test(sandbox.stdout), 'labgate sandbox', 60_000, () => sandbox.stderr);
    const env = Object.fromEntries(
      readFileSync(join(dir, 'sandbox.env'), 'utf8')
        .split('\n')
        .filter((l) => /^[A-Z_]+=/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).replace(/^'(.*)'$/, '$1')]),
    ) as Record<string, string>;
    const config = join(dir, 'labgate.yaml');
    writeFileSync(
      config,
      readFileSync(env.LABGATE_CONFIG!, 'utf8').replace('prefix: labgate-sandbox', `prefix: ${prefix}`) +
        `discord:\n  guildId: "${harness.guildId}"\n  channels: { ops: "${harness.channels.ops}", alerts: "${harness.channels.alerts}" }\n  registerOnStart: false\n  apiBase: ${harness.apiBase}\n`,
    );
    const base = { ...env, PATH: process.env.PATH!, LABGATE_CONFIG: config, REDIS_URL, LABGATE_LOG_LEVEL: 'warn' };
    const [wp, bp] = [await freePort(), await freePort()];
    // With bin/labgate.js's V8 flags, as its shebang and the image's ENTRYPOINT pass them.
    const worker = new LabgateProcess(['worker', '--http', `127.0.0.1:${wp}`], { cwd: dir, env: { ...base, DISCORD_TOKEN: harness.token, LABGATE_LOG_FILE: join(dir, 'worker.log') }, nodeArgs: NODE_FLAGS });
    const bot = new LabgateProcess(['bot', '--http', `127.0.0.1:${bp}`], { cwd: dir, env: { ...base, DISCORD_TOKEN: harness.token, LABGATE_LOG_FILE: join(dir, 'bot.log') }, nodeArgs: NODE_FLAGS });
    procs.push(worker, bot);
    await until(async () => (await ready(`http://127.0.0.1:${wp}`)) && (await ready(`http://127.0.0.1:${bp}`)), 'worker and bot ready', 60_000, () => worker.stderr + bot.stderr);
    // The floor: node with bin/labgate.js's V8 flags, doing nothing.
    const bare = spawn(process.execPath, [...NODE_FLAGS, '-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    try {
      const [w, b, f] = await Promise.all([idleRss(worker.proc.pid!), idleRss(bot.proc.pid!), idleRss(bare.pid!)]);
      const note = `bare node with the same flags: ${round(f)} MiB; target ≤ 100 MiB`;
      return [
        { scenario: 'ops', metric: 'idle RSS, labgate worker, posting to Discord (external sandbox)', value: round(w), unit: 'MiB', note },
        { scenario: 'ops', metric: 'idle RSS, labgate bot, Discord (external sandbox)', value: round(b), unit: 'MiB', note },
      ];
    } finally {
      bare.kill('SIGKILL');
    }
  } finally {
    for (const p of procs.reverse()) await p.kill('SIGTERM');
    await harness.close();
    await dropPrefix(REDIS_URL, prefix);
  }
}

/** What importing each heavy dependency alone adds to a bare node's RSS (same flags): where labgate's memory goes. */
async function importCosts(): Promise<Figure[]> {
  const rssAfter = (m?: string) =>
    new Promise<number>((resolve, reject) => {
      const code = `${m ? `await import(${JSON.stringify(m)});` : ''} await new Promise((r) => setTimeout(r, 500)); process.stdout.write(String(process.memoryUsage().rss));`;
      const p = spawn(process.execPath, [...NODE_FLAGS, '--input-type=module', '-e', code], { cwd: dirname(BIN), stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      p.stdout.on('data', (d) => (out += d));
      p.on('close', () => (out ? resolve(Number(out) / 1048576) : reject(new Error(`could not import ${m}`))));
    });
  const bare = await rssAfter();
  const out: Figure[] = [];
  for (const m of ['@kubernetes/client-node', 'discord.js', 'bullmq', 'node-vault', 'prom-client']) {
    out.push({ scenario: 'ops', metric: `RSS added by importing ${m} alone`, value: round((await rssAfter(m)) - bare), unit: 'MiB', note: `over a bare node (${round(bare)} MiB), same flags` });
  }
  return out;
}

export const opsScenario: Scenario = {
  name: 'ops (/metrics scrape, idle RSS)',
  async run(): Promise<Figure[]> {
    return [...(await scrapeFigures()), ...(await rssFigures()), ...(await importCosts())];
  },
};

