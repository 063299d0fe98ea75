import { dropPrefix as dropRedisPrefix } from '../src/stores/redis.js';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApp } from '../src/app.js';
import type { ConversationRef, MessageRef, OutMessage } from '../src/messages/message.js';
import type { ChatNotifier, DmResult, OutgoingFile } from '../src/messages/notifier.js';
import { loadConfig, type Config } from '../src/config/load.js';
import { createLogger } from '../src/log.js';
import { mapBounded } from '../src/concurrency.js';
import { NodeVaultOpenBao, openBaoFromConfig } from '../src/openbao/node-vault-adapter.js';
import { runExpiryScan } from '../jobs/expiry-scan.js';
import type { Identity } from '../src/plan/model.js';
import { seedSandboxState, startSandbox, type Sandbox } from '../sandbox/sandbox.js';
import { percentile, round, type Figure, type Scenario } from './figures.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const DAY = 86_400_000;
const silent = () => createLogger({ level: 'warn', destination: { write: () => true } as never });

const dropPrefix = (prefix: string) => dropRedisPrefix(REDIS_URL, prefix);

/** Resolves a waiter when a DM is sent, so the bench can time "DM delivered"; posts go nowhere. */
class DmTimingNotifier implements ChatNotifier {
  private waiters: ((t: number) => void)[] = [];
  private next = 0;
  nextDm(): Promise<number> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }
  async post(to: ConversationRef, _msg: OutMessage): Promise<MessageRef> {
    return { conversation: to, messageId: String(this.next++) };
  }
  async edit(): Promise<void> {}
  async dm(_to: Identity, _msgs: OutMessage[], files: OutgoingFile[] = []): Promise<DmResult> {
    const t = performance.now();
    this.waiters.shift()?.(t);
    return { delivered: true, files: files.map((f) => ({ name: f.name })) };
  }
}

/** The sandbox with a device role that honours key_type, so one role serves RSA and EC. */
async function sandboxWithAnyKeyRole(dir: string): Promise<Sandbox> {
  const state = await seedSandboxState();
  state.openbao.pki.roles.device!.key_type = 'any';
  state.openbao.pki.roles.device!.key_bits = 0;
  return startSandbox({ dir, state });
}

function configFor(sandbox: Sandbox, prefix: string): Config {
  const res = loadConfig({ ...process.env, REDIS_URL, ...sandbox.env });
  if (!res.ok) throw new Error(res.problems.join('\n'));
  const config = res.config;
  config.redis.prefix = prefix;
  config.access.defaults.selfApprove = true;
  const ts = config.tailscale as unknown as { monitor?: { enabled: boolean } };
  if (ts.monitor) ts.monitor.enabled = false;
  return config;
}

/** Approve → DM delivered for `runs` certificates of one key type; and OpenBao's own issue time, the floor. */
async function issueToDm(key: { type: 'rsa' | 'ec'; bits: number }, runs: number): Promise<{ samples: number[]; floor: number[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'labgate-bench-certs-'));
  const sandbox = await sandboxWithAnyKeyRole(dir);
  const prefix = `lgbench-certs-${process.pid}-${key.type}`;
  const config = configFor(sandbox, prefix);
  config.openbao!.deviceKey = key;
  const notifier = new DmTimingNotifier();
  const app = await createApp({ config, logger: silent(), notifier, chat: true, workers: true });
  const who: Identity = { platform: 'shell', id: 'alice', name: 'alice', roles: [] };
  const conv: ConversationRef = { platform: 'shell', channel: 'shell' };
  const samples: number[] = [];
  try {
    for (let i = 0; i < runs + 2; i++) {
      const device = `bench-${key.type}-${i}`;
      const out = await app.dispatcher!.command({ name: 'cert issue', options: { device }, text: `/cert issue device:${device}` }, who, conv);
      if (!out.planId) throw new Error(`bench: /cert issue failed: ${JSON.stringify(out.replies)}`);
      const dm = notifier.nextDm();
      const t = performance.now();
      await app.dispatcher!.decide({ action: 'approve', planId: out.planId }, who, conv);
      const at = await dm;
      if (i >= 2) samples.push(at - t);
    }
    const bao = new NodeVaultOpenBao({ endpoint: sandbox.env.BAO_ADDR!, login: { method: 'token', token: sandbox.env.BAO_TOKEN! }, mount: 'pki' });
    const floor: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      await bao.issue('device', { commonName: `floor-${i}`, uriSans: [], ttlSeconds: 3600, keyType: key.type, keyBits: key.bits });
      floor.push(performance.now() - t);
    }
    bao.close();
    return { samples, floor };
  } finally {
    await app.close();
    await sandbox.close();
    await dropPrefix(prefix);
  }
}

interface ScanRun {
  coldMs: number;
  /** CPU labgate's process spent in the cold scan (the rest is waiting on OpenBao and Redis). */
  coldCpuMs: number;
  warmMs: number;
  /** The OpenBao reads the scan cannot do without, made bare: the listing and the PEMs of certificates near a threshold. */
  floorMs: number;
  floorReads: number;
  rssBeforeMb: number;
  peakRssMb: number;
  expiring: number;
  alerts: number;
  messages: number;
  listed: number;
}

/** The floor: a fresh adapter lists (detailed and revoked) and reads the PEM of every live certificate within a threshold, 16 at a time. */
async function bareReads(config: Config, now: number): Promise<{ ms: number; reads: number }> {
  const bao = openBaoFromConfig(config)!;
  const horizon = Math.max(...config.openbao!.expiry.thresholds);
  const t = performance.now();
  const [all, revoked] = await Promise.all([bao.listCertificates(), bao.listRevoked()]);
  const gone = new Set(revoked);
  const near = all.filter((c) => c.notAfter > now && c.notAfter - now <= horizon && !gone.has(c.serial));
  await mapBounded(near, 16, (c) => bao.readCertificate(c.serial));
  const ms = performance.now() - t;
  bao.close();
  return { ms, reads: near.length };
}

/** Child mode: one labgate process (no chat, no workers) runs the scan twice, then the floor, and reports time and peak RSS. */
async function scanChild(): Promise<void> {
  const config = configFor({ env: JSON.parse(process.env.BENCH_SANDBOX_ENV!) } as Sandbox, process.env.BENCH_PREFIX!);
  if (process.env.BENCH_DIGEST_OVER) config.openbao!.expiry.digestOver = Number(process.env.BENCH_DIGEST_OVER);
  const notifier = new DmTimingNotifier();
  const app = await createApp({ config, logger: silent(), notifier, chat: false, workers: false });
  const rssBeforeMb = process.memoryUsage().rss / 1048576;
  let t = performance.now();
  const cpu = process.cpuUsage();
  const cold = await runExpiryScan(app.services);
  const coldMs = performance.now() - t;
  const { user, system } = process.cpuUsage(cpu);
  const coldCpuMs = (user + system) / 1000;
  t = performance.now();
  await runExpiryScan(app.services);
  const warmMs = performance.now() - t;
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  const floor = await bareReads(config, app.services.now());
  await app.close();
  const out: ScanRun = { coldMs, coldCpuMs, warmMs, floorMs: floor.ms, floorReads: floor.reads, rssBeforeMb, peakRssMb, expiring: cold.expiring, alerts: cold.alerts, messages: cold.messages, listed: cold.listed };
  process.stdout.write(JSON.stringify(out) + '\n');
  process.exit(0);
}

/** 10,000 labgate device certificates, `share` of them expiring within 30 days, scanned by a fresh process. */
async function scan(count: number, share: number, digestOver?: number): Promise<ScanRun> {
  const dir = mkdtempSync(join(tmpdir(), 'labgate-bench-scan-'));
  const sandbox = await startSandbox({ dir });
  const prefix = `lgbench-scan-${process.pid}-${Math.round(share * 100)}-${digestOver ?? 'd'}`;
  try {
    const now = Date.now();
    const specs = Array.from({ length: count }, (_, i) => {
      const soon = i < count * share;
      // Soon: spread over 0–30 days; the rest over 31–365 days.
      const days = soon ? (i % 30) + 0.5 : 31 + (i % 334);
      const device = `dev-${i}`;
      return { commonName: device, notAfter: new Date(now + days * DAY), uris: [`urn:labgate:device:shell:user${i % 50}:${device}`, 'urn:labgate:device:profile:modern'] };
    });
    await sandbox.openbao.addCertificates(specs);
    const script = fileURLToPath(import.meta.url);
    // With the flags labgate runs with (bin/labgate.js).
    const child = spawn(process.execPath, ['--max-semi-space-size=1', '--max-old-space-size=192', script, '--scan-child'], {
      env: { ...process.env, BENCH_SANDBOX_ENV: JSON.stringify(sandbox.env), BENCH_PREFIX: prefix, REDIS_URL, ...(digestOver === undefined ? {} : { BENCH_DIGEST_OVER: String(digestOver) }) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('close', r));
    if (code !== 0) throw new Error(`the scan child exited with ${code}`);
    return JSON.parse(out.trim().split('\n').pop()!) as ScanRun;
  } finally {
    await sandbox.close();
    await dropPrefix(prefix);
  }
}

export const certScenarios: Scenario[] = [
  {
    name: 'certs: approve → DM delivered',
    async run(): Promise<Figure[]> {
      const runs = Number(process.env.BENCH_CERT_RUNS ?? 20);
      const figures: Figure[] = [];
      for (const key of [
        { type: 'rsa' as const, bits: 2048, label: 'RSA 2048' },
        { type: 'ec' as const, bits: 256, label: 'EC P-256' },
      ]) {
        const { samples, floor } = await issueToDm(key, runs);
        figures.push(
          { scenario: 'cert issue', metric: `approve → DM delivered p50 (${key.label})`, value: round(percentile(samples, 50)), unit: 'ms', note: `p95 ${round(percentile(samples, 95))} ms; floor (OpenBao issue alone) p50 ${round(percentile(floor, 50))} ms; ${runs} runs` },
        );
      }
      return figures;
    },
  },
  {
    name: 'certs: expiry scan of 10,000 certificates',
    async run(): Promise<Figure[]> {
      const typical = await scan(10_000, 0.08);
      const worst = await scan(10_000, 1);
      // The same worst case with one message per certificate, as before digests (digestOver: ∞).
      const flood = await scan(10_000, 1, 1e9);
      const s = 'expiry scan (10,000 certs, 50 owners, detailed list)';
      const posted = (r: ScanRun) => `${r.alerts} certificates alerted in ${r.messages} messages`;
      const floor = (r: ScanRun) => `floor (list + ${r.floorReads} PEM reads, bare) ${round(r.floorMs)} ms`;
      return [
        { scenario: s, metric: 'scan time, 8% near a threshold (cold)', value: round(typical.coldMs), unit: 'ms', note: `${floor(typical)}; labgate CPU ${round(typical.coldCpuMs)} ms; warm ${round(typical.warmMs)} ms; ${posted(typical)}; target ≤ 500` },
        { scenario: s, metric: 'peak RSS, 8% near a threshold', value: round(typical.peakRssMb), unit: 'MB', note: `floor (labgate loaded, before the scan) ${round(typical.rssBeforeMb)} MB; target ≤ 200` },
        { scenario: s, metric: 'scan time, all near a threshold (cold)', value: round(worst.coldMs), unit: 'ms', note: `${floor(worst)}; labgate CPU ${round(worst.coldCpuMs)} ms; warm ${round(worst.warmMs)} ms; ${posted(worst)}; target ≤ 5000` },
        { scenario: s, metric: 'peak RSS, all near a threshold', value: round(worst.peakRssMb), unit: 'MB', note: `floor (labgate loaded, before the scan) ${round(worst.rssBeforeMb)} MB; target ≤ 200` },
        { scenario: s, metric: 'scan time, all near, no digest (cold)', value: round(flood.coldMs), unit: 'ms', note: `${floor(flood)}; warm ${round(flood.warmMs)} ms; ${posted(flood)}; peak RSS ${round(flood.peakRssMb)} MB` },
      ];
    },
  },
];

if (process.argv.includes('--scan-child')) void scanChild();
