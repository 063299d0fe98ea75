import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../sandbox/sandbox.js';
import { dropPrefix, REDIS_URL } from '../support/lab.js';
import { freePort, LabgateProcess, until } from '../support/labgate-process.js';
import { samples, scrape, total } from '../support/prometheus.js';

const get = async (url: string) => {
  const res = await fetch(url);
  return { status: res.status, body: await res.text() };
};

describe('labgate bot and labgate worker --http: /healthz, /readyz and /metrics over HTTP, read by prometheus_client', { timeout: 120_000 }, () => {
  let sandbox: Sandbox;
  let env: Record<string, string>;
  let worker: LabgateProcess;
  let bot: LabgateProcess;
  let workerUrl: string;
  let botUrl: string;
  const prefix = `lgtest-ops-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'labgate-ops-'));

  beforeAll(async () => {
    sandbox = await startSandbox({ dir });
    const config = join(dir, 'labgate.yaml');
    writeFileSync(
      config,
      readFileSync(sandbox.files.config, 'utf8')
        .replace('prefix: labgate-sandbox', `prefix: ${prefix}`)
        // The expiry scan (and so the certificate gauges) every 2 s, not every hour.
        .replace('scanEvery: 1h', 'scanEvery: 2s')
        .replace('users: [alice, bob, mallory]', `users: [alice, bob, mallory]\n  dmFolder: ${join(dir, 'dm')}`),
    );
    env = { ...sandbox.env, PATH: process.env.PATH!, LABGATE_CONFIG: config, REDIS_URL };
    const [wp, bp] = [await freePort(), await freePort()];
    workerUrl = `http://127.0.0.1:${wp}`;
    botUrl = `http://127.0.0.1:${bp}`;
    worker = new LabgateProcess(['worker', '--http', `127.0.0.1:${wp}`], { cwd: dir, env: { ...env, LABGATE_LOG_FILE: join(dir, 'worker.log') } });
    // The port from the environment (as the manifests may set it): the same as --http.
    bot = new LabgateProcess(['bot', '--json'], { cwd: dir, env: { ...env, LABGATE_HTTP: `127.0.0.1:${bp}`, LABGATE_LOG_FILE: join(dir, 'bot.log') } });
    await worker.waitFor(/health and metrics on http:\/\/127\.0\.0\.1:\d+/, 'stderr');
    await bot.waitFor(/health and metrics on http:\/\/127\.0\.0\.1:\d+/, 'stderr');
  });

  afterAll(async () => {
    await bot?.kill('SIGTERM');
    await worker?.kill('SIGTERM');
    await sandbox?.close();
    await dropPrefix(prefix);
  });

  it('GIVEN both processes on Redis THEN /healthz is 200, and /readyz is 200 once Redis and the queues (worker) or the chat (bot) are up', async () => {
    expect(await get(`${workerUrl}/healthz`)).toEqual({ status: 200, body: 'ok\n' });
    expect((await get(`${botUrl}/healthz`)).status).toBe(200);
    await until(async () => (await get(`${workerUrl}/readyz`)).status === 200, 'the worker to be ready');
    await until(async () => (await get(`${botUrl}/readyz`)).status === 200, 'the bot to be ready');
    expect(JSON.parse((await get(`${workerUrl}/readyz`)).body)).toEqual({ ready: true, checks: { redis: true, queues: true } });
    expect(JSON.parse((await get(`${botUrl}/readyz`)).body)).toEqual({ ready: true, checks: { redis: true, chat: true } });
    expect((await get(`${botUrl}/nope`)).status).toBe(404);
  });

  it('GIVEN commands planned, refused, denied and applied THEN the bot counts commands by outcome and the worker counts plans, latency, queues, certificates and Tailscale paths', async () => {
    bot.send('/expose service:grafana namespace:monitoring port:3000 host:grafana auth:tailscale-only');
    bot.send('approve');
    bot.send('/expose service:grafana namespace:monitoring port:abc host:grafana2 auth:tailscale-only');
    bot.send('@mallory /expose service:grafana namespace:monitoring port:3000 host:grafana3 auth:tailscale-only');
    bot.send('/cert issue device:tablet profile:modern');
    bot.send('approve');
    await until(() => bot.count(/"kind":"result"/) >= 2, 'two results', 60_000, () => bot.stdout + bot.stderr);

    const b = await scrape(botUrl);
    expect(total(b, 'labgate_commands_total', { command: 'expose', outcome: 'planned' })).toBe(1);
    expect(total(b, 'labgate_commands_total', { command: 'cert issue', outcome: 'planned' })).toBe(1);
    expect(total(b, 'labgate_commands_total', { command: 'expose', outcome: 'refused', reason: 'invalid-input' })).toBe(1);
    expect(total(b, 'labgate_commands_total', { command: 'expose', outcome: 'denied', reason: 'access.request' })).toBe(1);
    // Process defaults are there too, and the bot's readiness as a gauge.
    expect(samples(b, 'process_resident_memory_bytes').length).toBe(1);
    expect(total(b, 'labgate_ready', { check: 'chat' })).toBe(1);

    // The certificate gauge comes from the expiry scan (every 2 s here): wait for the tablet's.
    let w = await scrape(workerUrl);
    await until(async () => {
      w = await scrape(workerUrl);
      return samples(w, 'labgate_device_certificate_expiry_seconds', { device: 'tablet' }).length > 0;
    }, 'the tablet certificate in the worker metrics', 30_000);
    expect(total(w, 'labgate_plans_finished_total', { status: 'applied' })).toBe(2);
    expect(total(w, 'labgate_approve_to_applied_seconds_count')).toBe(2);
    expect(total(w, 'labgate_approve_to_applied_seconds_sum')).toBeGreaterThan(0);
    const cert = samples(w, 'labgate_device_certificate_expiry_seconds', { device: 'tablet' })[0]!;
    expect(cert.labels.owner).toBe('shell:alice');
    expect(cert.labels.serial).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2})+$/i);
    // Issued for 365 days (deviceTtl), so between 364 and 366 days from now, whatever the date.
    expect(Number(cert.value)).toBeGreaterThan(364 * 86_400);
    expect(Number(cert.value)).toBeLessThan(366 * 86_400);
    // One gauge per Traefik node of the sandbox, 1 (direct) or 0 (relayed).
    const paths = samples(w, 'labgate_tailscale_path_direct');
    expect(paths.length).toBeGreaterThan(0);
    for (const p of paths) expect([0, 1]).toContain(Number(p.value));
    // Queue depth per queue and state, read from Redis at the scrape: nothing waits now.
    expect(samples(w, 'labgate_queue_jobs', { queue: 'apply', state: 'waiting' })).toEqual([expect.objectContaining({ value: 0 })]);
    expect(total(w, 'labgate_queue_jobs', { queue: 'apply', state: 'completed' })).toBeGreaterThanOrEqual(2);
  });

  it('GIVEN a bad --http THEN labgate says which flag and what it takes, and exits 2', async () => {
    const p = new LabgateProcess(['worker', '--http', 'localhost'], { cwd: dir, env });
    expect(await p.exited).toBe(2);
    expect(p.stderr).toContain('--http: must be HOST:PORT or :PORT with a port from 0 to 65535, like 0.0.0.0:9464 or :9464 (got "localhost")');
  });
});
