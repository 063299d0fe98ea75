import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/stores/audit.js';
import { redisKeys } from '../../src/stores/redis.js';
import { startSandbox, type Sandbox } from '../../sandbox/sandbox.js';
import { freePort, LabgateProcess, until } from '../support/labgate-process.js';
import { SentinelLab } from '../support/sentinel.js';

interface Line {
  kind: string;
  text: string;
  planId?: string;
  edit?: boolean;
  result?: { status: string };
}

const ROUTES = /^PATCH \/apis\/traefik\.io\/v1alpha1\/namespaces\/media\/ingressroutes\//;

describe('Redis Sentinel: the primary fails over while plans are pending and while one applies', { timeout: 240_000 }, () => {
  let sandbox: Sandbox;
  let lab: SentinelLab;
  let worker: LabgateProcess;
  let bot: LabgateProcess;
  let workerHttp: string;
  let botHttp: string;
  const prefix = `lgtest-sentinel-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'labgate-sentinel-'));
  const lines = () => bot.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line);
  const plans = () => lines().filter((l) => l.kind === 'plan' && !l.edit);
  const results = (planId: string) => lines().filter((l) => l.kind === 'result' && l.planId === planId);
  const ready = async (url: string) => (await fetch(`${url}/readyz`).catch(() => undefined))?.status === 200;

  /** Asks the bot for a plan; resolves with its id. */
  async function plan(command: string): Promise<string> {
    const before = plans().length;
    bot.send(command);
    await until(() => plans().length > before, `the plan of ${command}`, 60_000, () => bot.stdout + bot.stderr);
    return plans()[before]!.planId!;
  }

  /** What Redis now holds of a plan and its audit, read from the current primary. */
  async function recorded(planId: string) {
    const r = lab.connect((await lab.masterPort())!);
    try {
      const status = await r.hget(redisKeys(prefix).plan(planId), 'status');
      const audit = (await new AuditLog(r, redisKeys(prefix)).latest(500)).filter((e) => e.planId === planId).map((e) => e.action);
      return { status, audit };
    } finally {
      r.disconnect();
    }
  }

  beforeAll(async () => {
    [sandbox, lab] = await Promise.all([startSandbox({ dir }), SentinelLab.start(dir)]);
    const config = join(dir, 'labgate.yaml');
    writeFileSync(config, readFileSync(sandbox.files.config, 'utf8').replace('prefix: labgate-sandbox', `prefix: ${prefix}`).replace('users: [alice, bob, mallory]', `users: [alice, bob, mallory]\n  dmFolder: ${join(dir, 'dm')}`));
    // No REDIS_URL: only the sentinels, and the passwords, as the manifests pass them.
    const env = { ...sandbox.env, PATH: process.env.PATH!, LABGATE_CONFIG: config, ...lab.env() };
    delete (env as Record<string, string>).REDIS_URL;
    const [wp, bp] = [await freePort(), await freePort()];
    workerHttp = `http://127.0.0.1:${wp}`;
    botHttp = `http://127.0.0.1:${bp}`;
    worker = new LabgateProcess(['worker', '--http', `127.0.0.1:${wp}`], { cwd: dir, env: { ...env, LABGATE_LOG_FILE: join(dir, 'worker.log') } });
    bot = new LabgateProcess(['bot', '--json', '--http', `127.0.0.1:${bp}`], { cwd: dir, env: { ...env, LABGATE_LOG_FILE: join(dir, 'bot.log') } });
    await until(async () => (await ready(workerHttp)) && (await ready(botHttp)), 'the bot and the worker to be ready', 60_000, () => worker.stderr + bot.stderr);
  });

  afterAll(async () => {
    await bot?.kill('SIGTERM');
    await worker?.kill('SIGTERM');
    await sandbox?.close();
    await lab?.close();
  });

  for (const how of ['SIGKILL', 'SENTINEL FAILOVER'] as const) {
    it(`GIVEN a pending plan and an approved plan mid-write WHEN the primary goes (${how}) THEN the apply ends once, Applied, the pending plan is still approved and applied, and neither process restarts`, async () => {
      const tag = how === 'SIGKILL' ? 'k' : 'f';
      const [botPid, workerPid] = [bot.proc.pid, worker.proc.pid];
      // The previous failover is over everywhere: this one starts at once when asked.
      await lab.untilSettled();
      const pending = await plan(`/expose service:grafana namespace:monitoring port:3000 host:dash${tag} auth:tailscale-only`);
      const applying = await plan(`/expose service:immich namespace:media port:2283 host:pics${tag} auth:tailscale-only`);
      // The route's write takes 5 s: the primary goes (and, planned, has switched) while the apply is in the middle of it.
      sandbox.faults.kubernetes.add({ match: ROUTES, delayMs: 5_000, times: 1 });
      const patchesBefore = sandbox.kubernetes.requests.length;
      bot.send(`approve ${applying}`);
      await until(() => sandbox.faults.kubernetes.list().length === 0, 'the apply to reach its delayed write', 30_000, () => bot.stdout + bot.stderr);
      // What was written before (the plans, the approval) has reached the replicas; then the primary goes.
      await lab.untilReplicasInSync();
      const old = (await lab.masterPort())!;
      if (how === 'SIGKILL') await lab.killMaster();
      else await lab.failover();
      const startedAt = Date.now();
      // The premise: the apply was still writing when the primary went.
      expect(results(applying)).toEqual([]);
      const now = await lab.untilNewMaster(old);
      const failoverMs = Date.now() - startedAt;
      expect(now).not.toBe(old);

      // The approved plan ends with one result, Applied, which live state bears out.
      await until(() => results(applying).length > 0, `the result of ${applying}`, 90_000, () => `${bot.stdout}\n${bot.stderr}\n${readFileSync(join(dir, 'worker.log'), 'utf8').slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 2_000)); // room for a second, contradicting result if one were coming
      const resultMs = Date.now() - startedAt - 2_000;
      expect(results(applying).map((r) => r.result?.status)).toEqual(['applied']);
      const writes = sandbox.kubernetes.requests.slice(patchesBefore).filter((r) => r.method === 'PATCH' && r.status < 300 && /ingressroutes/.test(r.path)).map((r) => r.path);
      expect(writes.length).toBeGreaterThan(0);
      expect(new Set(writes).size).toBe(writes.length);
      const a = await recorded(applying);
      expect(a.status).toBe('applied');
      expect(a.audit.filter((x) => ['apply', 'fail', 'refuse'].includes(x))).toEqual(['apply']);

      // The plan that was pending through the failover is approved and applied as usual.
      bot.send(`approve ${pending}`);
      await until(() => results(pending).length > 0, `the result of ${pending}`, 60_000, () => bot.stdout + bot.stderr);
      expect(results(pending).map((r) => r.result?.status)).toEqual(['applied']);
      expect((await recorded(pending)).status).toBe('applied');

      // Same processes, ready again on the new primary.
      expect([bot.proc.pid, worker.proc.pid]).toEqual([botPid, workerPid]);
      expect(bot.proc.exitCode).toBeNull();
      expect(worker.proc.exitCode).toBeNull();
      await until(async () => (await ready(workerHttp)) && (await ready(botHttp)), 'both ready again', 30_000);
      // For docs/deploying-redis.md: the failover as the test saw it.
      process.stderr.write(`sentinel ${how}: new primary named ${failoverMs} ms after; the interrupted apply's result ${resultMs} ms after\n`);
    });
  }
});
