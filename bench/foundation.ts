import { dropPrefix as dropRedisPrefix } from '../src/stores/redis.js';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubernetesObjectApi, PatchStrategy } from '@kubernetes/client-node';
import { loadKubeConfig } from '../src/kubernetes/client-node-adapter.js';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { createApp } from '../src/app.js';
import type { ConversationRef, MessageRef, OutMessage } from '../src/messages/message.js';
import type { ChatNotifier } from '../src/messages/notifier.js';
import { loadConfig } from '../src/config/load.js';
import { createLogger } from '../src/log.js';
import { startSandbox, type Sandbox } from '../sandbox/sandbox.js';
import { renderExposure } from '../src/traefik/render.js';
import { percentile, round, type Figure, type Scenario } from './figures.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const TRAEFIK = 'traefik.io/v1alpha1';

const dropPrefix = (prefix: string) => dropRedisPrefix(REDIS_URL, prefix);

/** Notifies by resolving waiters, so the bench can time "diff shown" and "result posted". */
class TimingNotifier implements ChatNotifier {
  private waiters: { match: (m: OutMessage) => boolean; resolve: (t: number) => void }[] = [];
  private next = 0;
  waitFor(match: (m: OutMessage) => boolean): Promise<number> {
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }
  async post(to: ConversationRef, msg: OutMessage): Promise<MessageRef> {
    const t = performance.now();
    this.waiters = this.waiters.filter((w) => (w.match(msg) ? (w.resolve(t), false) : true));
    return { conversation: to, messageId: String(this.next++) };
  }
  async edit(): Promise<void> {}
  async dm() {
    return { delivered: true as const, files: [] };
  }
}

function seedRoutes(sandbox: Sandbox, domain: string, count: number) {
  const cfg = { entryPoints: { tailscale: 'ts-secure', internet: 'websecure' }, allowCrossNamespace: true, tls: { certResolver: 'letsencrypt' }, mtls: { clientCaSecret: 'labgate-client-ca', passClientCert: true, minVersion: 'VersionTLS12' as const } };
  for (let i = 0; i < count; i++)
    for (const obj of renderExposure({ host: `svc-${i}.${domain}`, namespace: 'media', service: 'immich', port: 2283, mode: 'tailscale-only' }, cfg, domain))
      sandbox.kubernetes.objects.put(obj as never);
}

async function bullRoundTrip(runs: number): Promise<number[]> {
  const prefix = `lgbench-bull-${process.pid}`;
  const conn = () => new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue('rt', { connection: conn(), prefix });
  const events = new QueueEvents('rt', { connection: conn(), prefix });
  const worker = new Worker('rt', async () => 1, { connection: conn(), prefix });
  await Promise.all([events.waitUntilReady(), worker.waitUntilReady()]);
  const samples: number[] = [];
  for (let i = 0; i < runs + 10; i++) {
    const t = performance.now();
    const job = await queue.add('j', { i });
    await job.waitUntilFinished(events);
    if (i >= 10) samples.push(performance.now() - t);
  }
  await worker.close();
  await events.close();
  await queue.close();
  await dropPrefix(prefix);
  return samples;
}

/** The reads an /expose plan makes, done directly with the client: the Kubernetes floor. */
async function directReads(sandbox: Sandbox, runs: number): Promise<{ plan: number[]; apply: number[] }> {
  // The client as labgate configures it (one keep-alive connection pool), so the floor is fair.
  const api = KubernetesObjectApi.makeApiClient(loadKubeConfig({ kubeconfig: sandbox.env.KUBECONFIG }));
  const plan: number[] = [];
  const apply: number[] = [];
  for (let i = 0; i < runs + 5; i++) {
    let t = performance.now();
    await Promise.all([
      api.list(TRAEFIK, 'IngressRoute'),
      api.list(TRAEFIK, 'IngressRouteTCP'),
      api.list(TRAEFIK, 'Middleware', undefined, undefined, undefined, undefined, undefined, 'app.kubernetes.io/managed-by=labgate'),
      api.list(TRAEFIK, 'TLSOption', undefined, undefined, undefined, undefined, undefined, 'app.kubernetes.io/managed-by=labgate'),
      api.read({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'media' } }),
      api.read({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'immich', namespace: 'media' } }),
      api.read({ apiVersion: TRAEFIK, kind: 'IngressRoute', metadata: { name: 'svc-0-ts', namespace: 'media' } }),
    ]);
    if (i >= 5) plan.push(performance.now() - t);
    t = performance.now();
    const obj = { apiVersion: TRAEFIK, kind: 'IngressRoute', metadata: { name: `floor-${i}`, namespace: 'media' }, spec: { routes: [{ kind: 'Rule', match: `Host(\`floor-${i}.x\`)`, services: [{ name: 'immich', port: 2283 }] }] } };
    await api.read({ apiVersion: TRAEFIK, kind: 'IngressRoute', metadata: { name: 'svc-0-ts', namespace: 'media' } });
    await api.patch(obj, undefined, undefined, 'bench', true, PatchStrategy.ServerSideApply);
    await api.read(obj);
    if (i >= 5) apply.push(performance.now() - t);
    await api.delete(obj);
  }
  return { plan, apply };
}

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** `labgate start` against the (already running) sandbox, stdin held open, RSS once it is idle. */
async function idleRss(sandbox: Sandbox, configPath: string): Promise<number> {
  const bin = fileURLToPath(new URL('../../bin/labgate.js', import.meta.url));
  // Run as a user runs it (the bin's shebang carries labgate's Node flags).
  const child = spawn(bin, ['start'], {
    env: { PATH: process.env.PATH!, KUBECONFIG: sandbox.env.KUBECONFIG!, LABGATE_SIGNING_KEY: sandbox.env.LABGATE_SIGNING_KEY!, LABGATE_CONFIG: configPath, LABGATE_LOG_FILE: join(tmpdir(), `labgate-bench-${process.pid}.log`) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdout.resume();
  child.stderr.resume();
  // Idle: started, connected, its first scheduled checks (run at start) done, nothing to do.
  // The median of five readings a second apart.
  await new Promise((r) => setTimeout(r, 8000));
  const readings: number[] = [];
  for (let i = 0; i < 5; i++) {
    readings.push(rssOf(child.pid!));
    await new Promise((r) => setTimeout(r, 1000));
  }
  const rss = percentile(readings, 50);
  child.stdin.end();
  await new Promise((r) => child.on('close', r));
  return rss;
}

/**
 * The signing work one approve → applied does, on a real plan: the decision checks the plan's
 * seal and seals the decision; apply verifies both, and seals and checks two journal entries per
 * change. The median of 1,000 rounds.
 */
async function sealingCost(app: Awaited<ReturnType<typeof createApp>>, planId: string): Promise<number> {
  const { binding, store } = app.services;
  const rec = (await store.get(planId))!;
  const who = rec.decision!.by;
  const samples: number[] = [];
  for (let i = 0; i < 1000; i++) {
    const t = performance.now();
    const check = binding.checkDecision({ ...rec, status: 'pending' }, { action: 'approve' }, who, rec.plan.conversation, rec.plan.createdAt + 1);
    if (!check.ok) throw new Error('the bench plan does not verify');
    const decision = binding.decide(rec.plan, 'approve', who, rec.plan.createdAt + 1);
    binding.permitApply({ ...rec, decision }, { planId, hash: rec.plan.hash }, rec.plan.createdAt + 2);
    const journal = rec.plan.changes.flatMap((_, j) => [binding.journalEntry(rec.plan, j, 'intent', 1), binding.journalEntry(rec.plan, j, 'done', 2)]);
    binding.verifyJournal(rec.plan, journal);
    samples.push(performance.now() - t);
  }
  return percentile(samples, 50);
}

export const foundationScenarios: Scenario[] = [
  {
    name: 'expose/route (200 routes exposed)',
    async run(): Promise<Figure[]> {
      const runs = Number(process.env.BENCH_RUNS ?? 50);
      const dir = mkdtempSync(join(tmpdir(), 'labgate-bench-'));
      const sandbox = await startSandbox({ dir });
      const res = loadConfig({ ...process.env, ...sandbox.env });
      if (!res.ok) throw new Error(res.problems.join('\n'));
      const config = res.config;
      config.redis.prefix = `lgbench-${process.pid}`;
      config.access.defaults.selfApprove = true;
      seedRoutes(sandbox, config.domain, 200);
      const notifier = new TimingNotifier();
      const app = await createApp({ config, logger: createLogger({ level: 'warn', destination: { write: () => true } as never }), notifier, chat: true, workers: true });
      const who = { platform: 'shell' as const, id: 'alice', name: 'alice', roles: [] };
      const conv = { platform: 'shell' as const, channel: 'shell' };
      const toDiff: number[] = [];
      const toApplied: number[] = [];
      let toAppliedLastPlan = '';
      for (let i = 0; i < runs + 5; i++) {
        const text = `/expose service:jellyfin namespace:media port:8096 host:bench-${i} auth:tailscale-only`;
        const shown = notifier.waitFor((m) => m.kind === 'plan');
        let t = performance.now();
        const out = await app.dispatcher!.command({ name: 'expose', options: { service: 'jellyfin', namespace: 'media', port: '8096', host: `bench-${i}`, auth: 'tailscale-only' }, text }, who, conv);
        if (!out.planId) throw new Error(`bench command failed: ${JSON.stringify(out.replies)}`);
        const diffAt = await shown;
        const applied = notifier.waitFor((m) => m.kind === 'result' && m.planId === out.planId);
        const t2 = performance.now();
        await app.dispatcher!.decide({ action: 'approve', planId: out.planId }, who, conv);
        const appliedAt = await applied;
        toAppliedLastPlan = out.planId;
        if (i >= 5) {
          toDiff.push(diffAt - t);
          toApplied.push(appliedAt - t2);
        }
        t = 0;
      }
      const sealing = await sealingCost(app, toAppliedLastPlan);
      await app.close();
      const bull = await bullRoundTrip(200);
      const reads = await directReads(sandbox, runs);
      const configPath = join(dir, 'bench.yaml');
      writeFileSync(configPath, readFileSync(sandbox.files.config, 'utf8').replace('prefix: labgate-sandbox', `prefix: lgbench-idle-${process.pid}`));
      const rss = await idleRss(sandbox, configPath);
      await sandbox.close();
      await dropPrefix(config.redis.prefix);
      await dropPrefix(`lgbench-idle-${process.pid}`);
      const floorPlan = percentile(bull, 50) + percentile(reads.plan, 50);
      const floorApply = percentile(bull, 50) + percentile(reads.apply, 50);
      const s = 'expose (200 routes)';
      return [
        { scenario: s, metric: 'command → diff shown p50', value: round(percentile(toDiff, 50)), unit: 'ms', note: `floor ${round(floorPlan)} ms; target ≤ 50` },
        { scenario: s, metric: 'command → diff shown p95', value: round(percentile(toDiff, 95)), unit: 'ms', note: `floor ${round(percentile(bull, 95) + percentile(reads.plan, 95))} ms; target ≤ 150` },
        { scenario: s, metric: 'approve → applied p50', value: round(percentile(toApplied, 50)), unit: 'ms', note: `floor ${round(floorApply)} ms; target ≤ 80` },
        { scenario: s, metric: 'approve → applied p95', value: round(percentile(toApplied, 95)), unit: 'ms', note: `floor ${round(percentile(bull, 95) + percentile(reads.apply, 95))} ms` },
        { scenario: 'floor', metric: 'BullMQ job round trip p50', value: round(percentile(bull, 50), 2), unit: 'ms', note: `p95 ${round(percentile(bull, 95), 2)} ms, 200 jobs` },
        { scenario: 'floor', metric: 'plan reads, direct client p50', value: round(percentile(reads.plan, 50)), unit: 'ms', note: `p95 ${round(percentile(reads.plan, 95))} ms` },
        { scenario: 'floor', metric: 'apply read+SSA+read, direct client p50', value: round(percentile(reads.apply, 50)), unit: 'ms', note: `p95 ${round(percentile(reads.apply, 95))} ms` },
        { scenario: s, metric: 'signing + verifying per approval p50', value: round(sealing, 3), unit: 'ms', note: `inside approve → applied p50 ${round(percentile(toApplied, 50))} ms; target < 1` },
        { scenario: 'labgate start', metric: 'idle RSS', value: round(rss), unit: 'MB', note: 'target ≤ 150' },
      ];
    },
  },
];
