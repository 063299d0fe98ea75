import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { redisAnswers } from '../../src/cli/private-redis.js';

/** The checkout's root, from the sources (vitest) or from dist/ (the benchmark). */
function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
}

export const BIN = join(projectRoot(), 'bin', 'labgate.js');

/** A port nothing listens on (taken from the kernel, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Polls `check` every 50 ms until it holds; throws with `what` (and its detail) after `timeoutMs`. */
export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000, detail: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${detail() ? `\n${detail()}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** `node bin/labgate.js ARGS` as a person runs it, with its standard input held open for lines. */
export class LabgateProcess {
  readonly proc: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(args: string[], opts: { cwd: string; env: Record<string, string>; nodeArgs?: string[] }) {
    this.proc = spawn(process.execPath, [...(opts.nodeArgs ?? []), BIN, ...args], { cwd: opts.cwd, env: opts.env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stdout!.on('data', (d) => (this.stdout += d));
    this.proc.stderr!.on('data', (d) => (this.stderr += d));
    this.proc.stdin!.on('error', () => {});
    this.exited = new Promise((resolve) => this.proc.on('close', (code) => resolve(code)));
  }

  send(line: string): void {
    this.proc.stdin!.write(line + '\n');
  }

  end(): Promise<number | null> {
    this.proc.stdin!.end();
    return this.exited;
  }

  /** How often `pattern` occurs in standard output so far. */
  count(pattern: RegExp): number {
    return (this.stdout.match(new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : pattern.flags + 'g')) ?? []).length;
  }

  waitFor(pattern: RegExp, stream: 'stdout' | 'stderr' = 'stdout', timeoutMs = 30_000): Promise<void> {
    return until(() => pattern.test(this[stream]), `${pattern} on ${stream}`, timeoutMs, () => `stdout:\n${this.stdout}\nstderr:\n${this.stderr}`);
  }

  /** Kills it (if still running) and waits. */
  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal);
    await this.exited;
  }
}

/** A real redis-server on a free loopback port, which a test stops and starts again. */
export class RedisServer {
  private proc?: ChildProcess;

  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly persist: boolean,
  ) {}

  static async create(dir: string, opts: { persist?: boolean } = {}): Promise<RedisServer> {
    return new RedisServer(await freePort(), dir, opts.persist ?? false);
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', '--appendonly', this.persist ? 'yes' : 'no', '--daemonize', 'no'];
    const proc = spawn('redis-server', args, { stdio: 'ignore' });
    this.proc = proc;
    await until(async () => proc.exitCode === null && (await redisAnswers({ host: '127.0.0.1', port: this.port })), `redis-server on port ${this.port}`, 10_000);
  }

  async stop(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await gone;
  }
}
