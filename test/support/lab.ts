import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';
import { createApp, type App } from '../../src/app.js';
import type { OutMessage } from '../../src/messages/message.js';
import { PlatformNotifier } from '../../src/messages/notifier.js';
import { ShellNotifier, ShellOutput } from '../../src/chat/shell/shell-notifier.js';
import { SHELL_CONVERSATION, shellIdentity } from '../../src/chat/shell/shell.js';
import { parseShellLine } from '../../src/chat/shell/parse-line.js';
import { loadConfig, type Config } from '../../src/config/load.js';
import type { Outcome } from '../../src/core/dispatcher.js';
import { createLogger } from '../../src/log.js';
import { dropPrefix as dropRedisPrefix } from '../../src/stores/redis.js';
import { startSandbox, type Sandbox } from '../../sandbox/sandbox.js';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Every key under a prefix, removed: each test's Redis footprint goes away with it. */
export const dropPrefix = (prefix: string, url = REDIS_URL) => dropRedisPrefix(url, prefix);

/** Captures log lines (to scan them for secrets and causes). */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    cb();
  }
  get text(): string {
    return this.lines.join('\n');
  }
}

export interface LabOptions {
  /** Edits the sandbox's config before the app starts. */
  configure?: (c: Config) => void;
  now?: () => number;
  workers?: boolean;
  sandbox?: Sandbox;
  redisUrl?: string;
}

export interface Lab {
  sandbox: Sandbox;
  config: Config;
  app: App;
  logs: LogCapture;
  /** Every message the shell chat printed, in order (posts, edits, DMs). */
  printed: (OutMessage & { messageId?: string; edit?: boolean; to?: string; reply?: boolean })[];
  /** Runs one shell line as `as` (default alice); returns the dispatcher's outcome. */
  run(line: string, as?: string): Promise<Outcome>;
  /** The client-node object API on the sandbox, for reading back independently of labgate. */
  kube: KubernetesObjectApi;
  /** Kubernetes write requests (POST/PUT/PATCH/DELETE) the sandbox has seen. */
  kubeWrites(): { method: string; path: string }[];
  close(): Promise<void>;
}

let counter = 0;
let arrivals = 0;
const arrival = new WeakMap<object, number>();

/**
 * The order in which a message was printed across every lab in this test process. Labs sharing
 * a Redis prefix each print what their own worker posted, so concatenating their `printed`
 * arrays says nothing about which came first; sort by this instead.
 */
export function printedOrder(m: object): number {
  const n = arrival.get(m);
  if (n === undefined) throw new Error('not a message printed by a lab');
  return n;
}

/** The sandbox homelab + a labgate app (chat + workers) on a fresh Redis prefix. */
export async function startLab(opts: LabOptions = {}): Promise<Lab> {
  const sandbox = opts.sandbox ?? (await startSandbox({ dir: `/tmp/labgate-test-${process.pid}-${counter}` }));
  const res = loadConfig({ ...process.env, REDIS_URL: opts.redisUrl ?? REDIS_URL, ...sandbox.env, LABGATE_LOG_LEVEL: 'debug' });
  if (!res.ok) throw new Error(res.problems.join('\n'));
  const config = res.config;
  config.redis.prefix = `lgtest-${process.pid}-${Date.now().toString(36)}-${counter++}`;
  opts.configure?.(config);
  const logs = new LogCapture();
  const printed: Lab['printed'] = [];
  const out = new ShellOutput((line) => {
    const m = JSON.parse(line);
    arrival.set(m, ++arrivals);
    printed.push(m);
  }, true, false);
  const app = await createApp({
    config,
    logger: createLogger({ destination: logs, level: 'debug' }),
    notifier: new PlatformNotifier({ shell: new ShellNotifier(out, `/tmp/labgate-test-dm-${process.pid}`) }),
    chat: true,
    workers: opts.workers ?? true,
    now: opts.now,
  });
  const kc = new KubeConfig();
  kc.loadFromString(sandbox.kubernetes.kubeconfig());
  const isGroup = (n: string) => app.services.commands.subcommandsOf(n).length > 0;
  return {
    sandbox,
    config,
    app,
    logs,
    printed,
    kube: KubernetesObjectApi.makeApiClient(kc),
    kubeWrites: () => sandbox.kubernetes.requests.filter((r) => r.method !== 'GET').map((r) => ({ method: r.method, path: r.path })),
    run: async (line, as = 'alice') => {
      const parsed = parseShellLine(line, isGroup);
      const who = shellIdentity(parsed.kind !== 'empty' && parsed.as ? parsed.as : as);
      let outcome: Outcome;
      if (parsed.kind === 'command') outcome = await app.dispatcher!.command({ name: parsed.name, options: parsed.options, text: parsed.text }, who, SHELL_CONVERSATION, { waitForApply: true });
      else if (parsed.kind === 'decide') outcome = await app.dispatcher!.decide({ action: parsed.action, planId: parsed.planId }, who, SHELL_CONVERSATION, { waitForApply: true });
      else throw new Error(`not a command: ${line}`);
      // The shell prints the replies after what the line's jobs posted; so does this.
      for (const r of outcome.replies) out.message(r, { reply: true });
      return outcome;
    },
    close: async () => {
      await app.close();
      await dropPrefix(config.redis.prefix);
      if (!opts.sandbox) await sandbox.close();
    },
  };
}

/** The last plan message printed, with its id. */
export function lastPlan(lab: Lab): OutMessage {
  const plan = [...lab.printed].reverse().find((m) => m.kind === 'plan' && !m.edit);
  if (!plan) throw new Error(`no plan was printed; printed: ${JSON.stringify(lab.printed.map((m) => m.text))}`);
  return plan;
}

/** Jobs in the lab's queues and labgate's plan records: what "nothing was queued" is checked against. */
export async function queueState(lab: Lab): Promise<{ applyJobs: number; planJobsOpen: number; planRecords: number; pending: number }> {
  const { Queue } = await import('bullmq');
  const r = new Redis(lab.config.env.REDIS_URL);
  const prefix = lab.app.services.keys.bullPrefix;
  const apply = new Queue('apply', { connection: r, prefix });
  const plan = new Queue('plan', { connection: r, prefix });
  try {
    const a = await apply.getJobCounts();
    const p = await plan.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    const planKeys = await r.keys(`${lab.config.redis.prefix}:plan:*`);
    return {
      applyJobs: Object.values(a).reduce((x, y) => x + y, 0),
      planJobsOpen: Object.values(p).reduce((x, y) => x + y, 0),
      planRecords: planKeys.length,
      pending: await r.zcard(lab.app.services.keys.pending),
    };
  } finally {
    await apply.close();
    await plan.close();
    r.disconnect();
  }
}
