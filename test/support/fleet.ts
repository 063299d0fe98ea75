import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Job, Queue } from 'bullmq';
import { createApp, type App } from '../../src/app.js';
import { SHELL_CONVERSATION } from '../../src/messages/conversations.js';
import type { OutMessage } from '../../src/messages/message.js';
import { PlatformNotifier } from '../../src/messages/notifier.js';
import { ShellNotifier, ShellOutput } from '../../src/chat/shell/shell-notifier.js';
import { ShellRelay, ShellRelayReader } from '../../src/chat/shell/shell-relay.js';
import { shellIdentity } from '../../src/chat/shell/shell.js';
import { loadConfig, type Config } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import { createRedis, dropPrefix, redisKeys } from '../../src/stores/redis.js';
import { applyJobId } from '../../src/queue/jobs.js';
import { startSandbox, type Sandbox } from '../../sandbox/sandbox.js';
import { LabgateProcess, until } from './labgate-process.js';
import { REDIS_URL } from './lab.js';

export type Printed = OutMessage & { messageId?: string; edit?: boolean; to?: string };

export interface FleetOptions {
  redisUrl?: string;
  /** Extra lines for labgate.yaml (appended; keys must not repeat the sandbox's). */
  yaml?: string;
  /** Edits the chat side's config (in memory). */
  configure?: (c: Config) => void;
  /** Enforce deploy/kubernetes/rbac.yaml: workers run with labgate-worker's token, the chat side with labgate-bot's (and no router or OpenBao credentials). */
  rbac?: boolean;
}

/**
 * labgate as the deploy runs it, on loopback: the sandbox homelab in this process, `labgate worker`
 * child processes (real processes, real signals), and a chat side in this process (chat only, no
 * workers) whose shell conversation receives what the workers post through Redis.
 */
export class Fleet {
  readonly workers: LabgateProcess[] = [];
  private constructor(
    /** Every message posted to the fleet's shell conversation (and its alerts), by any process. */
    readonly printed: Printed[],
    readonly sandbox: Sandbox,
    readonly config: Config,
    readonly chat: App,
    private readonly reader: ShellRelayReader,
    private readonly relayRedis: ReturnType<typeof createRedis>,
    readonly env: Record<string, string>,
    readonly dir: string,
  ) {}

  static async start(opts: FleetOptions = {}): Promise<Fleet> {
    const dir = mkdtempSync(join(tmpdir(), 'labgate-fleet-'));
    const sandbox = await startSandbox({ dir, rbac: opts.rbac });
    const [workerEnv, chatEnv] = opts.rbac ? [sandbox.accounts!.worker.env, sandbox.accounts!.bot.env] : [sandbox.env, sandbox.env];
    const redisUrl = opts.redisUrl ?? REDIS_URL;
    const prefix = `lgfleet-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    const yaml = join(dir, 'fleet.yaml');
    writeFileSync(yaml, readFileSync(sandbox.files.config, 'utf8').replace('prefix: labgate-sandbox', `prefix: ${prefix}`).replace('users: [alice, bob, mallory]', `users: [alice, bob, mallory]\n  dmFolder: ${join(dir, 'dm')}`) + (opts.yaml ?? ''));
    const env: Record<string, string> = { ...workerEnv, PATH: process.env.PATH!, LABGATE_CONFIG: yaml, REDIS_URL: redisUrl };
    const res = loadConfig({ ...chatEnv, LABGATE_CONFIG: yaml, REDIS_URL: redisUrl });
    if (!res.ok) throw new Error(res.problems.join('\n'));
    const config = res.config;
    opts.configure?.(config);
    const fleetPrinted: Printed[] = [];
    const out = new ShellOutput((line) => fleetPrinted.push(JSON.parse(line)), true, false);
    const keys = redisKeys(prefix);
    const relayRedis = createRedis(redisUrl, 'blocking');
    const channel = SHELL_CONVERSATION.channel;
    const notifier = new PlatformNotifier({ shell: new ShellNotifier(out, join(dir, 'dm'), { channel, relay: new ShellRelay(relayRedis, keys.shellOutbox, join(dir, 'dm'), channel) }) });
    const chat = await createApp({ config, logger: createLogger({ level: 'silent' }), notifier, chat: true, workers: false });
    const reader = await ShellRelayReader.start(createRedis(redisUrl, 'blocking'), chat.services.redis, { channel, streamOf: keys.shellOutbox, out });
    return new Fleet(fleetPrinted, sandbox, config, chat, reader, relayRedis, env, dir);
  }

  /** Starts one more `labgate worker` process; resolves once it has attached to its queues. */
  async spawnWorker(name = `w${this.workers.length + 1}`): Promise<LabgateProcess> {
    const log = join(this.dir, `${name}.log`);
    const w = new LabgateProcess(['worker'], { cwd: this.dir, env: { ...this.env, LABGATE_LOG_FILE: log, LABGATE_LOG_LEVEL: 'debug' } });
    this.workers.push(w);
    const started = () => existsSync(log) && readFileSync(log, 'utf8').includes('labgate workers running');
    await until(started, `worker ${name} to start`, 30_000, () => w.stderr).catch(async (err) => {
      await w.kill('SIGKILL');
      throw err;
    });
    return w;
  }

  /** Runs a command as `as` in the fleet's shell conversation; resolves with the plan id (no waiting for an apply). */
  async plan(line: string, as = 'bob'): Promise<string> {
    const [, name, rest] = /^\/(\S+(?: (?:mode|list|issue|sign|revoke|sync|ca-sync))?)\s*(.*)$/.exec(line)!;
    const options = Object.fromEntries([...rest!.matchAll(/(\w+):(\S+)/g)].map((m) => [m[1]!, m[2]!]));
    const out = await this.chat.dispatcher!.command({ name: name!, options, text: line }, shellIdentity(as), SHELL_CONVERSATION);
    if (!out.planId) throw new Error(`no plan for ${line}: ${JSON.stringify(out.replies)}`);
    return out.planId;
  }

  async approve(planId: string, as = 'alice'): Promise<void> {
    const out = await this.chat.dispatcher!.decide({ action: 'approve', planId }, shellIdentity(as), SHELL_CONVERSATION);
    if (out.replies.length) throw new Error(`approve ${planId}: ${JSON.stringify(out.replies)}`);
  }

  /** Every worker's log, for a failure message. */
  workerLogs(): string {
    return this.workers.map((_, i) => `--- worker w${i + 1}\n${existsSync(join(this.dir, `w${i + 1}.log`)) ? readFileSync(join(this.dir, `w${i + 1}.log`), 'utf8').split('\n').filter((l) => /apply|plan|lock|stall|reconcil/i.test(l)).slice(-15).join('\n') : ''}`).join('\n');
  }

  results(planId: string): Printed[] {
    return this.printed.filter((m) => m.kind === 'result' && m.planId === planId);
  }

  /** Waits until the plan's result has been posted here; returns it. */
  async result(planId: string, timeoutMs = 60_000): Promise<Printed> {
    await until(() => this.results(planId).length > 0, `the result of ${planId}`, timeoutMs, () => this.workers.map((w, i) => `worker ${i + 1}: ${w.stderr}`).join('\n'));
    return this.results(planId)[0]!;
  }

  /** Which worker process is applying the plan right now (BullMQ records the worker's name on the job); not `except`. */
  async applyingWorker(planId: string, except?: LabgateProcess): Promise<LabgateProcess> {
    const rec = (await this.chat.services.store.get(planId))!;
    const queue = new Queue('apply', { connection: this.chat.services.redis.duplicate(), prefix: this.chat.services.keys.bullPrefix });
    try {
      let name: string | undefined;
      await until(async () => {
        const job = await Job.fromId(queue, applyJobId(planId, rec.plan.hash));
        name = job && (await job.getState()) === 'active' ? job.processedBy : undefined;
        return Boolean(name) && name !== `labgate-${except?.proc.pid}`;
      }, `a worker to take the apply of ${planId}`, 30_000);
      const pid = Number(/labgate-(\d+)/.exec(name!)![1]);
      const w = this.workers.find((x) => x.proc.pid === pid);
      if (!w) throw new Error(`no fleet worker has pid ${pid}`);
      return w;
    } finally {
      await queue.close();
    }
  }

  /** The audit entries of one plan, oldest first. */
  async audit(planId: string) {
    return (await this.chat.services.audit.latest(200)).filter((e) => e.planId === planId).reverse();
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.kill('SIGKILL')));
    await this.reader.close();
    await this.chat.close(0);
    this.relayRedis.disconnect();
    await this.sandbox.close();
    await dropPrefix(this.config.env.REDIS_URL, this.config.redis.prefix).catch(() => {});
  }
}
