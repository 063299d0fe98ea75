import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../sandbox/sandbox.js';
import { freePort, LabgateProcess, RedisServer, until } from '../support/labgate-process.js';

const readyz = async (base: string) => {
  const res = await fetch(`${base}/readyz`).catch(() => undefined);
  return res ? { status: res.status, body: JSON.parse(await res.text()) as { ready: boolean; checks: Record<string, boolean> } } : undefined;
};

describe('/readyz follows Redis: a worker started while Redis is down becomes ready when it comes up, and not ready when it goes', { timeout: 120_000 }, () => {
  let sandbox: Sandbox | undefined;
  let redis: RedisServer | undefined;
  let worker: LabgateProcess | undefined;
  afterAll(async () => {
    await worker?.kill('SIGTERM');
    await redis?.stop();
    await sandbox?.close();
  });

  it('GIVEN Redis down at start THEN /healthz is 200 and /readyz 503 (redis, queues false); WHEN Redis comes up THEN 200; WHEN it stops THEN 503 again, and the worker exits 0 on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'labgate-readyz-'));
    sandbox = await startSandbox({ dir });
    redis = await RedisServer.create(mkdtempSync(join(dir, 'redis-')));
    const config = join(dir, 'labgate.yaml');
    writeFileSync(config, readFileSync(sandbox.files.config, 'utf8').replace('users: [alice, bob, mallory]', `users: [alice, bob, mallory]\n  dmFolder: ${join(dir, 'dm')}`));
    const base = `http://127.0.0.1:${await freePort()}`;
    worker = new LabgateProcess(['worker', '--http', base.slice('http://'.length)], {
      cwd: dir,
      env: { ...sandbox.env, PATH: process.env.PATH!, LABGATE_CONFIG: config, REDIS_URL: redis.url, LABGATE_LOG_FILE: join(dir, 'worker.log') },
    });
    await until(async () => (await readyz(base)) !== undefined, 'the health port');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect(await readyz(base)).toEqual({ status: 503, body: { ready: false, checks: { redis: false, queues: false } } });

    await redis.start();
    await until(async () => (await readyz(base))?.status === 200, 'ready once Redis is up', 60_000, () => worker!.stderr);
    expect((await readyz(base))?.body.checks).toEqual({ redis: true, queues: true });

    await redis.stop();
    await until(async () => (await readyz(base))?.status === 503, 'not ready once Redis is gone', 30_000);
    expect((await readyz(base))?.body.checks.redis).toBe(false);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);

    worker.proc.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
  });
});
