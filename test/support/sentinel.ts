import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { redisAnswers } from '../../src/cli/private-redis.js';
import { freePort, until } from './labgate-process.js';

export const MASTER_NAME = 'labgate';

/**
 * Three redis-servers (a primary and two replicas) and three redis-sentinels on free loopback
 * ports, started by the test from Debian's binaries, with a password on Redis and another on the
 * sentinels, as deploy/ runs them. Sentinels declare the primary down after 1 s.
 */
export class SentinelLab {
  readonly servers: { port: number; proc: ChildProcess }[] = [];
  readonly sentinels: { port: number; proc: ChildProcess }[] = [];
  private constructor(
    private readonly dir: string,
    readonly password: string,
    readonly sentinelPassword: string,
  ) {}

  static async start(dir: string, opts: { downAfterMs?: number } = {}): Promise<SentinelLab> {
    const lab = new SentinelLab(dir, `redis-${Math.random().toString(36).slice(2)}`, `sentinel-${Math.random().toString(36).slice(2)}`);
    const ports = [await freePort(), await freePort(), await freePort()];
    for (const [i, port] of ports.entries()) {
      const d = join(dir, `redis-${i}`);
      mkdirSync(d, { recursive: true });
      const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', d, '--save', '', '--appendonly', 'no', '--requirepass', lab.password, '--masterauth', lab.password];
      if (i > 0) args.push('--replicaof', '127.0.0.1', String(ports[0]));
      lab.servers.push({ port, proc: spawn('redis-server', args, { stdio: 'ignore' }) });
    }
    for (const s of lab.servers) await until(() => redisAnswers({ host: '127.0.0.1', port: s.port }), `redis-server on ${s.port}`, 10_000);
    await lab.untilReplicasInSync();
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const file = join(dir, `sentinel-${i}.conf`);
      writeFileSync(
        file,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `requirepass ${lab.sentinelPassword}`,
          `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${ports[0]} 2`,
          `sentinel auth-pass ${MASTER_NAME} ${lab.password}`,
          `sentinel down-after-milliseconds ${MASTER_NAME} ${opts.downAfterMs ?? 1000}`,
          `sentinel failover-timeout ${MASTER_NAME} 10000`,
          `sentinel parallel-syncs ${MASTER_NAME} 2`,
          '',
        ].join('\n'),
      );
      lab.sentinels.push({ port, proc: spawn('redis-sentinel', [file], { stdio: 'ignore' }) });
    }
    // Every sentinel knows the primary, both replicas and the other two sentinels.
    await until(async () => {
      const views = await Promise.all(lab.sentinels.map((s) => lab.askSentinel(s.port, ['SENTINEL', 'MASTER', MASTER_NAME]).catch(() => undefined)));
      return views.every((v) => {
        if (!Array.isArray(v)) return false;
        const m = Object.fromEntries(v.reduce<[string, string][]>((acc, x, j) => (j % 2 ? acc : [...acc, [String(x), String(v[j + 1])]]), []));
        return m['num-slaves'] === '2' && m['num-other-sentinels'] === '2';
      });
    }, 'the sentinels to see each other and both replicas', 30_000);
    return lab;
  }

  /** REDIS_SENTINELS as labgate reads it. */
  get list(): string {
    return this.sentinels.map((s) => `127.0.0.1:${s.port}`).join(',');
  }

  env(): Record<string, string> {
    return { REDIS_SENTINELS: this.list, REDIS_MASTER_NAME: MASTER_NAME, REDIS_PASSWORD: this.password, REDIS_SENTINEL_PASSWORD: this.sentinelPassword };
  }

  async askSentinel(port: number, cmd: string[]): Promise<unknown> {
    const r = new Redis({ host: '127.0.0.1', port, password: this.sentinelPassword, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    r.on('error', () => {});
    try {
      await r.connect();
      return await r.call(cmd[0]!, ...cmd.slice(1));
    } finally {
      r.disconnect();
    }
  }

  /** The primary's port as a majority of sentinels names it. */
  async masterPort(): Promise<number | undefined> {
    const answers = await Promise.all(this.sentinels.map((s) => this.askSentinel(s.port, ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME]).catch(() => undefined)));
    const ports = answers.filter(Array.isArray).map((a) => Number((a as string[])[1]));
    const counts = new Map<number, number>();
    for (const p of ports) counts.set(p, (counts.get(p) ?? 0) + 1);
    return [...counts].find(([, n]) => n >= 2)?.[0];
  }

  /** A plain connection to one server (the test's own view, not labgate's). */
  connect(port: number): Redis {
    const r = new Redis({ host: '127.0.0.1', port, password: this.password, maxRetriesPerRequest: 1, retryStrategy: () => null });
    r.on('error', () => {});
    return r;
  }

  /** Until both replicas have everything the primary has written (the test's precondition, not labgate's). */
  async untilReplicasInSync(): Promise<void> {
    const port = (await this.masterPort().catch(() => undefined)) ?? this.servers[0]!.port;
    const r = this.connect(port);
    try {
      await until(async () => {
        const replicas = Number(/connected_slaves:(\d+)/.exec(await r.info('replication'))?.[1] ?? 0);
        return replicas > 0 && Number(await r.call('WAIT', String(replicas), '1000').catch(() => 0)) >= replicas;
      }, 'the replicas to catch up', 20_000);
    } finally {
      r.disconnect();
    }
  }

  /** Until every sentinel names the same primary and none is in a failover (a new one would be refused with INPROG). */
  async untilSettled(timeoutMs = 60_000): Promise<void> {
    await until(async () => {
      const views = await Promise.all(this.sentinels.map((s) => this.askSentinel(s.port, ['SENTINEL', 'MASTER', MASTER_NAME]).catch(() => undefined)));
      const fields = views.map((v) => (Array.isArray(v) ? Object.fromEntries(v.flatMap((x, j) => (j % 2 ? [] : [[String(x), String(v[j + 1])]]))) : undefined));
      return fields.every((f) => f && f.flags === 'master' && f.port === fields[0]!.port);
    }, 'the sentinels to settle on one primary', timeoutMs);
  }

  /** SIGKILLs the primary; returns its port. */
  async killMaster(): Promise<number> {
    const port = (await this.masterPort())!;
    const s = this.servers.find((x) => x.port === port)!;
    const gone = new Promise((r) => s.proc.once('exit', r));
    s.proc.kill('SIGKILL');
    await gone;
    return port;
  }

  /** SENTINEL FAILOVER (the planned kind: the primary is demoted after its replicas caught up). */
  async failover(): Promise<void> {
    // A sentinel refuses while the last failover is still settling (INPROG) or no replica is fit yet (NOGOODSLAVE).
    await until(
      () => this.askSentinel(this.sentinels[0]!.port, ['SENTINEL', 'FAILOVER', MASTER_NAME]).then(() => true, (err: Error) => (/INPROG|NOGOODSLAVE/.test(err.message) ? false : Promise.reject(err))),
      'a sentinel to take SENTINEL FAILOVER',
      60_000,
    );
  }

  /** Until a majority of sentinels name a primary other than `old`, and it answers as one. */
  async untilNewMaster(old: number, timeoutMs = 30_000): Promise<number> {
    let now: number | undefined;
    await until(async () => {
      now = await this.masterPort();
      if (!now || now === old) return false;
      const r = this.connect(now);
      try {
        return String(await r.call('ROLE').then((x) => (x as unknown[])[0])) === 'master';
      } catch {
        return false;
      } finally {
        r.disconnect();
      }
    }, `a new primary instead of ${old}`, timeoutMs);
    return now!;
  }

  async close(): Promise<void> {
    await Promise.all(
      [...this.sentinels, ...this.servers].map(async ({ proc }) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return;
        const gone = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGKILL');
        await gone;
      }),
    );
  }
}
