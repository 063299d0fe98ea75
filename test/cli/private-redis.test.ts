import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../sandbox/sandbox.js';
import { freePort, isAlive, LabgateProcess, until } from '../support/labgate-process.js';

const EXPOSE = '/expose service:immich namespace:media port:2283 host:photos auth:tailscale-only';

/**
 * `labgate shell` with no REDIS_URL and no LABGATE_CONFIG, where nothing answers at the address
 * labgate looks at by default (moved to a free port: the machine's own Redis keeps running on
 * 6379). Each test runs in its own folder, as a person runs labgate in a fresh clone.
 */
describe('the sandbox brings its own Redis when none answers', { timeout: 90_000 }, () => {
  let probe: string;
  beforeAll(async () => {
    probe = `127.0.0.1:${await freePort()}`;
  });
  const folder = () => mkdtempSync(join(tmpdir(), 'labgate-private-redis-'));
  const envFor = (extra: Record<string, string> = {}) => ({ PATH: process.env.PATH!, LABGATE_TEST_REDIS_PROBE: probe, ...extra });
  const redisDir = (cwd: string) => join(cwd, '.labgate', 'redis');
  const serverPid = (cwd: string) => Number(readFileSync(join(redisDir(cwd), 'redis.pid'), 'utf8'));

  async function started(cwd: string, env = envFor()): Promise<LabgateProcess> {
    const lg = new LabgateProcess(['shell'], { cwd, env });
    await lg.waitFor(/started a private one/, 'stderr');
    return lg;
  }

  it('GIVEN nothing on the default address WHEN labgate shell runs /expose and approve THEN a private Redis on a socket serves it, says so first, and is gone with its socket after exit', async () => {
    const cwd = folder();
    const lg = await started(cwd);
    expect(lg.stderr.split('\n')[0]).toBe(
      `labgate: no Redis on ${probe}; started a private one for the sandbox in .labgate/redis (it stops when labgate exits and keeps its data; set REDIS_URL to use another).`,
    );
    const socket = join(redisDir(cwd), 'redis.sock');
    const pid = serverPid(cwd);
    expect(isAlive(pid)).toBe(true);

    // A Unix socket only, append-only persistence, and no eviction (BullMQ's requirement).
    const r = new Redis({ path: socket });
    expect(await r.config('GET', 'port')).toEqual(['port', '0']);
    expect(await r.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    expect(await r.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
    expect(await r.config('GET', 'dir')).toEqual(['dir', redisDir(cwd)]);

    lg.send(EXPOSE);
    lg.send('approve');
    await lg.waitFor(/✓ Applied p-\w+: 1 change/);
    // The plan went through this Redis, and the change reached the sandbox.
    expect((await r.keys('labgate-sandbox:plan:*')).length).toBe(1);
    r.disconnect();
    expect(await lg.end()).toBe(0);
    expect(readFileSync(join(cwd, '.labgate', 'sandbox', 'state.json'), 'utf8')).toContain('photos-ts');

    expect(isAlive(pid)).toBe(false);
    expect(existsSync(socket)).toBe(false);
    expect(existsSync(join(redisDir(cwd), 'owner.json'))).toBe(false);
  });

  it('GIVEN a plan left pending WHEN labgate starts again THEN a new private Redis has it from its append-only file and it can be approved', async () => {
    const cwd = folder();
    const first = await started(cwd);
    first.send(EXPOSE.replace('host:photos', 'host:kept'));
    await first.waitFor(/Plan (p-\w+): \/expose/);
    const planId = /Plan (p-\w+): \/expose/.exec(first.stdout)![1]!;
    const firstPid = serverPid(cwd);
    expect(await first.end()).toBe(0);
    expect(isAlive(firstPid)).toBe(false);

    const second = await started(cwd);
    expect(serverPid(cwd)).not.toBe(firstPid);
    second.send(`approve ${planId}`);
    await second.waitFor(new RegExp(`✓ Applied ${planId}: 1 change`));
    expect(await second.end()).toBe(0);
    expect(existsSync(join(redisDir(cwd), 'appendonlydir'))).toBe(true);
  });

  it('GIVEN labgate is killed with SIGKILL THEN its private Redis stops within seconds, and the next start runs with the same data', async () => {
    const cwd = folder();
    const lg = await started(cwd);
    lg.send(EXPOSE.replace('host:photos', 'host:survivor'));
    await lg.waitFor(/Plan (p-\w+): \/expose/);
    const planId = /Plan (p-\w+): \/expose/.exec(lg.stdout)![1]!;
    const pid = serverPid(cwd);
    await lg.kill('SIGKILL');
    await until(() => !isAlive(pid), `redis-server ${pid} to stop after labgate was killed`, 10_000);

    const next = await started(cwd);
    next.send(`approve ${planId}`);
    await next.waitFor(new RegExp(`✓ Applied ${planId}: 1 change`));
    expect(await next.end()).toBe(0);
  });

  it.each(['SIGINT', 'SIGTERM'] as const)('GIVEN labgate receives %s THEN its private Redis stops with it', async (signal) => {
    const cwd = folder();
    const lg = await started(cwd);
    const pid = serverPid(cwd);
    await lg.kill(signal);
    await until(() => !isAlive(pid), `redis-server ${pid} to stop after labgate got ${signal}`, 10_000);
    expect(existsSync(join(redisDir(cwd), 'redis.sock'))).toBe(false);
  });

  it('GIVEN a labgate running the sandbox with its private Redis WHEN a second one starts in the same folder THEN the second refuses, naming the first, and the first runs on', async () => {
    const cwd = folder();
    const first = await started(cwd);
    const pid = serverPid(cwd);
    const second = new LabgateProcess(['shell'], { cwd, env: envFor() });
    second.send('/route list');
    expect(await second.end()).toBe(1);
    expect(second.stderr).toContain(`labgate: another labgate (pid ${first.proc.pid}) runs the sandbox in this folder, with its private Redis in .labgate/redis; use that one, or stop it first.`);
    expect(second.stdout).toBe('');
    expect(isAlive(pid)).toBe(true);
    first.send('/route list');
    await first.waitFor(/No hosts are exposed by labgate yet/);
    expect(await first.end()).toBe(0);
    expect(isAlive(pid)).toBe(false);
  });

  it('GIVEN a private Redis orphaned by a labgate that died with its watchdog WHEN labgate starts THEN it stops the orphan and starts its own', async () => {
    const cwd = folder();
    const dir = redisDir(cwd);
    mkdirSync(dir, { recursive: true });
    const socket = join(dir, 'redis.sock');
    const orphan = spawn('redis-server', ['--port', '0', '--unixsocket', socket, '--dir', dir, '--pidfile', join(dir, 'redis.pid'), '--save', '', '--appendonly', 'yes'], { stdio: 'ignore' });
    await until(() => existsSync(socket) && existsSync(join(dir, 'redis.pid')), 'the orphan to listen', 10_000);
    // Its owner: a process that has ended.
    const gone = spawn(process.execPath, ['-e', '']);
    await new Promise((r) => gone.on('exit', r));
    writeFileSync(join(dir, 'owner.json'), JSON.stringify({ pid: gone.pid, redisPid: orphan.pid }));

    const lg = await started(cwd);
    expect(isAlive(orphan.pid!)).toBe(false);
    expect(serverPid(cwd)).not.toBe(orphan.pid);
    lg.send('/route list');
    await lg.waitFor(/No hosts are exposed by labgate yet|exposed by labgate/);
    expect(await lg.end()).toBe(0);
  });

  it('GIVEN redis-server is not on the PATH THEN labgate says how to install one or where to point REDIS_URL, and starts nothing', async () => {
    const cwd = folder();
    const emptyPath = mkdtempSync(join(tmpdir(), 'labgate-no-redis-path-'));
    const lg = new LabgateProcess(['shell'], { cwd, env: envFor({ PATH: emptyPath }) });
    lg.send('/route list');
    expect(await lg.end()).toBe(2);
    expect(lg.stderr).toContain(`labgate: no Redis answers on ${probe}, and redis-server is not on the PATH to start a private one for the sandbox.`);
    expect(lg.stderr).toContain('Debian/Ubuntu:  sudo apt install redis-server');
    expect(lg.stderr).toContain('macOS:          brew install redis');
    expect(lg.stderr).toContain('docker run -d --name labgate-redis -p 127.0.0.1:6379:6379 redis:7');
    expect(lg.stderr).toContain('REDIS_URL=redis://HOST:6379 npx labgate shell');
    expect(lg.stdout).toBe('');
    expect(existsSync(redisDir(cwd))).toBe(false);
  });

  describe('with a configuration that names a real homelab', () => {
    let sandbox: Sandbox;
    const dir = mkdtempSync(join(tmpdir(), 'labgate-configured-'));
    beforeAll(async () => {
      sandbox = await startSandbox({ dir });
    });
    afterAll(async () => {
      await sandbox.close();
    });

    it('GIVEN no Redis answers WHEN labgate shell runs THEN it starts none, and the warning and the reply name the address tried and the log', async () => {
      const cwd = folder();
      const log = join(cwd, 'labgate.log');
      const lg = new LabgateProcess(['shell'], { cwd, env: envFor({ ...sandbox.env, LABGATE_CONFIG: sandbox.files.config, LABGATE_LOG_FILE: log }) });
      lg.send('/route list');
      expect(await lg.end()).toBe(1);
      expect(lg.stdout).toContain(
        `warning: Redis at redis://${probe} is not reachable; labgate keeps trying, and commands will say so until it is (log: ${log}). LABGATE_CONFIG names your homelab, so labgate starts no Redis of its own: start yours, or set REDIS_URL.`,
      );
      expect(lg.stdout).toContain(`Redis at redis://${probe} is unreachable; nothing was queued or changed. Try again when it is back (log: ${log}).`);
      expect(existsSync(join(cwd, '.labgate', 'redis'))).toBe(false);
      expect(lg.stderr).not.toContain('private');
    });
  });
});
