import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { delimiter, join, relative, resolve } from 'node:path';

/**
 * The sandbox's own Redis: when nothing answers where labgate looks by default and the person
 * runs the built-in sandbox, labgate starts `redis-server` on a Unix socket under
 * `.labgate/redis/` and stops it when it exits, so `npm start` needs nothing running.
 */

/** The address labgate looks at when REDIS_URL is not set. */
export const DEFAULT_REDIS_ADDRESS = '127.0.0.1:6379';

/**
 * LABGATE_TEST_REDIS_PROBE (tests only) moves that address, so a test can show what happens when
 * nothing answers there while the machine's own Redis keeps running on 6379.
 */
export function defaultRedisAddress(env: NodeJS.ProcessEnv): { host: string; port: number; text: string; url: string } {
  const text = env.LABGATE_TEST_REDIS_PROBE || DEFAULT_REDIS_ADDRESS;
  const m = /^(.+):(\d+)$/.exec(text);
  if (!m) throw new Error(`LABGATE_TEST_REDIS_PROBE: must be HOST:PORT (got "${text}")`);
  return { host: m[1]!, port: Number(m[2]), text, url: `redis://${text}` };
}

/** True when a Redis answers PING there (any Redis reply counts: one that wants a password answers too). */
export function redisAnswers(target: { host: string; port: number } | { path: string }, timeoutMs = 500): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect(target as never);
    const finish = (yes: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      done(yes);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => finish(d[0] === 0x2b /* + */ || d[0] === 0x2d /* - */));
    socket.on('error', () => finish(false));
    socket.on('close', () => finish(false));
  });
}

/** redis-server is not installed: how to get one, or how to use another. */
export class RedisServerMissing extends Error {
  override readonly name = 'RedisServerMissing';
  constructor(address: string, runAgain: string) {
    super(
      [
        `no Redis answers on ${address}, and redis-server is not on the PATH to start a private one for the sandbox. Any one of these fixes it:`,
        `  - install Redis; labgate then starts and stops its own in .labgate/redis:`,
        `      Debian/Ubuntu:  sudo apt install redis-server`,
        `      macOS:          brew install redis`,
        `  - or run one in a container:  docker run -d --name labgate-redis -p 127.0.0.1:6379:6379 redis:7`,
        `  - or point labgate at one you have:  REDIS_URL=redis://HOST:6379 ${runAgain}`,
      ].join('\n'),
    );
  }
}

export class PrivateRedisFailed extends Error {
  override readonly name = 'PrivateRedisFailed';
}

export interface PrivateRedis {
  /** unix:///…/.labgate/redis/redis.sock */
  url: string;
  /** The folder, as the person sees it (relative to where labgate runs). */
  shownDir: string;
  /** The redis-server process, when this labgate started it. */
  pid?: number;
  /** Stops it (when this labgate started it) and waits until it is gone. */
  close(): Promise<void>;
}

interface Owner {
  pid: number;
  redisPid: number;
}

/**
 * Runs redis-server and stops it when this shell's standard input ends. labgate holds the
 * other end of that pipe, so however labgate ends (exit, signal, crash, SIGKILL), the kernel
 * closes it and the server is stopped: no orphan.
 */
const WATCHDOG = [
  'server="$1"; shift',
  '"$server" "$@" </dev/null >>redis.log 2>&1 &',
  'pid=$!',
  'echo "$pid"',
  'while read -r _; do :; done',
  'kill -TERM "$pid" 2>/dev/null',
  'wait "$pid"',
].join('\n');

/** Linux's sun_path holds 108 bytes, macOS's 104; beyond that bind() fails. */
const SOCKET_PATH_MAX = 100;

/**
 * Checks that this folder's private Redis may be started (and stops an orphan of it); resolves
 * with the function that starts it, so the caller can start the sandbox meanwhile.
 */
export async function preparePrivateRedis(opts: { dir: string; env: NodeJS.ProcessEnv; address: string; runAgain: string; startTimeoutMs?: number }): Promise<() => Promise<PrivateRedis>> {
  const dir = resolve(opts.dir);
  const shownDir = relative(process.cwd(), dir) || '.';
  const socket = join(dir, 'redis.sock');
  const url = `unix://${socket}`;
  if (Buffer.byteLength(socket) > SOCKET_PATH_MAX)
    throw new PrivateRedisFailed(`the private Redis's socket path ${socket} is longer than a Unix socket allows (${SOCKET_PATH_MAX} bytes); run labgate from a shorter folder, or set REDIS_URL`);

  const owner = readOwner(dir);
  // Its Redis would serve this one too, but its workers would take this one's jobs and print
  // their answers in its terminal, and both would run the sandbox on one state file.
  if (owner && owner.pid !== process.pid && isLabgate(owner.pid) && (await redisAnswers({ path: socket })))
    throw new PrivateRedisFailed(
      `another labgate (pid ${owner.pid}) runs the sandbox in this folder, with its private Redis in ${shownDir}; use that one, or stop it first. To run several labgates on one Redis, start one (redis-server) and set REDIS_URL.`,
    );
  // Left behind by a labgate that could not stop it (its watchdog was killed too): stop it first.
  await reapOrphan(dir, socket);

  const server = findOnPath('redis-server', opts.env.PATH);
  if (!server) throw new RedisServerMissing(opts.address, opts.runAgain);
  return () => launch({ dir, shownDir, socket, url, server, startTimeoutMs: opts.startTimeoutMs ?? 10_000 });
}

async function launch(o: { dir: string; shownDir: string; socket: string; url: string; server: string; startTimeoutMs: number }): Promise<PrivateRedis> {
  const { dir, shownDir, socket, url, server } = o;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const args = [
    server,
    '--port', '0',
    '--unixsocket', socket,
    '--unixsocketperm', '700',
    '--dir', dir,
    '--pidfile', join(dir, 'redis.pid'),
    '--logfile', join(dir, 'redis.log'),
    '--daemonize', 'no',
    // Plans, approvals and the audit log survive a restart; BullMQ needs keys never evicted.
    '--appendonly', 'yes',
    '--save', '',
    '--maxmemory-policy', 'noeviction',
  ];
  // Its own process group: a Ctrl-C in the terminal reaches labgate, which stops Redis after it.
  const watchdog = spawn('/bin/sh', ['-c', WATCHDOG, 'labgate-redis', ...args], { cwd: dir, detached: true, stdio: ['pipe', 'pipe', 'ignore'] });
  const pid = await firstLine(watchdog).then(Number);
  const deadline = Date.now() + o.startTimeoutMs;
  while (!(await redisAnswers({ path: socket }, 200))) {
    if (!isAlive(pid) || Date.now() > deadline) {
      await stop(watchdog, pid);
      throw new PrivateRedisFailed(`the private Redis in ${shownDir} did not start; the end of ${join(shownDir, 'redis.log')}:\n${tail(join(dir, 'redis.log'), 8)}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  // Running, it must not keep labgate's event loop alive on its own.
  watchdog.unref();
  (watchdog.stdin as unknown as { unref?: () => void }).unref?.();
  writeFileSync(join(dir, 'owner.json'), JSON.stringify({ pid: process.pid, redisPid: pid } satisfies Owner) + '\n', { mode: 0o600 });
  let closing: Promise<void> | undefined;
  return {
    url,
    shownDir,
    pid,
    close: () =>
      (closing ??= stop(watchdog, pid).then(() => {
        if (readOwner(dir)?.pid === process.pid) rmSync(join(dir, 'owner.json'), { force: true });
      })),
  };
}

/** Ends the watchdog's input (it stops the server, which writes its AOF), and waits for both. */
async function stop(watchdog: ChildProcess, pid: number): Promise<void> {
  const exited = watchdog.exitCode !== null || watchdog.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => watchdog.once('exit', () => r()));
  // Held again while it stops: labgate exits only once Redis has written its AOF and gone.
  watchdog.ref();
  watchdog.stdin?.end();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 10_000)))]);
  clearTimeout(timer);
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
}

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString('utf8');
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      child.stdout!.off('data', onData);
      child.stdout!.destroy();
      resolve(buf.slice(0, nl).trim());
    };
    child.stdout!.on('data', onData);
    child.once('error', (err) => reject(new PrivateRedisFailed(`could not run /bin/sh to start the private Redis: ${err.message}`)));
  });
}

async function reapOrphan(dir: string, socket: string): Promise<void> {
  const pid = Number(readText(join(dir, 'redis.pid'))?.trim());
  if (!pid || !isAlive(pid) || !commandOf(pid).includes('redis-server') || !commandOf(pid).includes(socket)) return;
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 100 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 50));
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
}

function readOwner(dir: string): Owner | undefined {
  try {
    const o = JSON.parse(readText(join(dir, 'owner.json')) ?? '') as Owner;
    return Number.isInteger(o.pid) ? o : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether a pid is still a labgate (and not a recycled pid): its command line names labgate. */
function isLabgate(pid: number): boolean {
  return isAlive(pid) && /labgate/.test(commandOf(pid));
}

/** A process's command line: /proc on Linux, ps elsewhere; '' when it cannot be read. */
function commandOf(pid: number): string {
  const proc = readText(`/proc/${pid}/cmdline`);
  if (proc !== undefined) return proc.replace(/\0/g, ' ');
  try {
    return execFileSync('ps', ['-o', 'command=', '-p', String(pid)], { encoding: 'utf8' });
  } catch {
    return '';
  }
}

function findOnPath(name: string, path = ''): string | undefined {
  for (const d of path.split(delimiter).filter(Boolean)) {
    const f = join(d, name);
    try {
      accessSync(f, constants.X_OK);
      return f;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function tail(file: string, lines: number): string {
  return (readText(file) ?? '(no log written)').trimEnd().split('\n').slice(-lines).map((l) => `  ${l}`).join('\n');
}

/**
 * The Redis for the default sandbox: REDIS_URL when set; else whatever answers on the default
 * address; else a private one: `launch` starts it (and says so on `say`). Throws
 * RedisServerMissing or PrivateRedisFailed when there can be none; see exitOnStartProblem.
 */
export async function sandboxRedis(env: NodeJS.ProcessEnv, say: (s: string) => void, dir = '.labgate/redis'): Promise<{ url?: string; launch?: () => Promise<PrivateRedis> }> {
  if (env.REDIS_URL) return {};
  const address = defaultRedisAddress(env);
  if (await redisAnswers(address)) return { url: address.url };
  const runAgain = env.npm_lifecycle_event === 'start' ? 'npm start' : `npx labgate ${process.argv.slice(2).join(' ')}`.trim();
  const start = await preparePrivateRedis({ dir, env, address: address.text, runAgain });
  return {
    launch: async () => {
      const redis = await start();
      say(`labgate: no Redis on ${address.text}; started a private one for the sandbox in ${redis.shownDir} (it stops when labgate exits and keeps its data; set REDIS_URL to use another).\n`);
      return redis;
    },
  };
}

/** A private Redis that cannot be had ends labgate with its message (2: nothing to run it with); anything else is rethrown. */
export function exitOnStartProblem(err: unknown, stderr: (s: string) => void): never {
  if (!(err instanceof RedisServerMissing || err instanceof PrivateRedisFailed)) throw err;
  stderr(`labgate: ${err.message}\n`);
  process.exit(err instanceof RedisServerMissing ? 2 : 1);
}
