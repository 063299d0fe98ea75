import { execFile, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { parseAllDocuments } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, until } from '../support/labgate-process.js';
import { BASE } from './render.js';

// components/sentinel's start script, run with sh as the init container runs it: it must follow
// whoever the other Sentinels name as master (a pod restarted after a failover must not come
// back as a second master), and the Redis settings it writes must start a real redis-server
// that asks for the password.

const run = promisify(execFile);
const SCRIPT = join(BASE, 'components', 'sentinel', 'configure.sh');
const SVC = 'redis-ha.labgate.svc.cluster.local';
const dirs: string[] = [];
/** Quotes and a backslash: the script must escape them for Redis's config syntax. */
const PASSWORD = 'pw\\-"quoted"';

/** Runs the script as pod `hostname`, with a redis-cli that answers `master` (or nothing) for every Sentinel. */
async function configure(hostname: string, master?: string): Promise<{ redis: string; sentinel: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'labgate-sentinel-'));
  dirs.push(dir);
  const cli = join(dir, 'redis-cli');
  writeFileSync(cli, `#!/bin/sh\n${master ? `printf '%s\\n6379\\n' '${master}'` : 'exit 1'}\n`);
  chmodSync(cli, 0o755);
  await run('sh', [SCRIPT], {
    env: { PATH: `${dir}:${process.env.PATH}`, HOSTNAME: hostname, REDIS_PASSWORD: PASSWORD, REDIS_SENTINEL_PASSWORD: 'spw', REDIS_RUN: dir, SENTINEL_RUN: dir },
  });
  return { redis: readFileSync(join(dir, 'auth.conf'), 'utf8'), sentinel: readFileSync(join(dir, 'sentinel.conf'), 'utf8'), dir };
}

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('components/sentinel configure.sh', () => {
  it('GIVEN a first start (no Sentinel answers) THEN redis-ha-0 is the master and the others replicate it', async () => {
    const zero = await configure('redis-ha-0');
    expect(zero.redis).not.toContain('replicaof');
    expect(zero.sentinel).toContain(`sentinel monitor labgate redis-ha-0.${SVC} 6379 2`);
    const one = await configure('redis-ha-1');
    expect(one.redis).toContain(`replicaof redis-ha-0.${SVC} 6379`);
    expect(one.redis).toContain(`replica-announce-ip redis-ha-1.${SVC}`);
  });

  it('GIVEN the Sentinels name redis-ha-2 after a failover WHEN redis-ha-0 restarts THEN it comes back as a replica of redis-ha-2', async () => {
    const zero = await configure('redis-ha-0', `redis-ha-2.${SVC}`);
    expect(zero.redis).toContain(`replicaof redis-ha-2.${SVC} 6379`);
    expect(zero.sentinel).toContain(`sentinel monitor labgate redis-ha-2.${SVC} 6379 2`);
    // Hostnames must be allowed before the monitor line names one.
    expect(zero.sentinel.indexOf('resolve-hostnames yes')).toBeLessThan(zero.sentinel.indexOf('sentinel monitor'));
  });

  it('writes settings a real redis-server starts with, and it then asks for the password', async () => {
    const { dir } = await configure('redis-ha-0');
    // The shipped redis.conf, pointed at this test's folder instead of the pod's mounts.
    const conf = readFileSync(join(BASE, 'redis.conf'), 'utf8').replace('dir /data', `dir ${dir}`).replace('/run/redis/auth.conf', join(dir, 'auth.conf'));
    writeFileSync(join(dir, 'redis.conf'), conf);
    const port = await freePort();
    const server = spawn('redis-server', [join(dir, 'redis.conf'), '--port', String(port), '--bind', '127.0.0.1', '--replica-announce-ip', '127.0.0.1'], { stdio: 'ignore' });
    const client = (password: string) => {
      const c = new Redis({ port, host: '127.0.0.1', password, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      c.on('error', () => {});
      return c;
    };
    try {
      let good = client(PASSWORD);
      await until(async () => {
        good = client(PASSWORD);
        return good.connect().then(() => true, () => (good.disconnect(), false));
      }, 'redis-server to accept the password', 10_000);
      expect(await good.ping()).toBe('PONG');
      expect(await good.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
      good.disconnect();
      const anonymous = new Redis({ port, host: '127.0.0.1', lazyConnect: true, enableReadyCheck: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
      anonymous.on('error', () => {});
      await anonymous.connect();
      await expect(anonymous.ping()).rejects.toThrow(/NOAUTH/);
      anonymous.disconnect();
    } finally {
      server.kill('SIGKILL');
    }
  });

  it("GIVEN the single Redis of the base THEN its start script escapes the password the same way", async () => {
    const sts = parseAllDocuments(readFileSync(join(BASE, 'redis.yaml'), 'utf8')).map((d) => d.toJS()).find((o) => o.kind === 'StatefulSet');
    const dir = mkdtempSync(join(tmpdir(), 'labgate-redis-'));
    dirs.push(dir);
    const script = (sts.spec.template.spec.containers[0].args[0] as string).replace('/run/redis/auth.conf', join(dir, 'auth.conf')).replace(/^exec redis-server.*$/m, '');
    await run('sh', ['-c', script], { env: { PATH: process.env.PATH, REDIS_PASSWORD: PASSWORD } });
    expect(readFileSync(join(dir, 'auth.conf'), 'utf8')).toBe('requirepass "pw\\\\-\\"quoted\\""\n');
  });
});
