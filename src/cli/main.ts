import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { createApp } from '../app.js';
import { PlatformNotifier } from '../messages/notifier.js';
import { useColour } from '../chat/shell/colour.js';
import { keepShellConversation } from '../messages/conversations.js';
import { ShellRelay, ShellRelayNotifier } from '../chat/shell/shell-relay.js';
import { createRedis, redisKeys, redisUnreachableNotice } from '../stores/redis.js';
import { loadConfig, type Config, type ConfigResult } from '../config/load.js';
import { signingKeyProblem } from '../config/schema.js';
import { printableConfig } from '../config/print.js';
import { createLogger, type Logger } from '../log.js';
import type { Sandbox } from '../../sandbox/sandbox.js';
import { planOnce } from './plan-once.js';
import { openOps, takeHttpFlag } from '../ops/http-flag.js';
import { defaultRedisAddress, exitOnStartProblem, sandboxRedis, type PrivateRedis } from './private-redis.js';
import { shellCommand } from './shell-command.js';
import { COMMAND_HELP, HELP, unknownCommand, usageOf, version } from './usage.js';

/** A real homelab's configuration also needs the signing key; its absence is one more problem, listed with the rest. */
function withSigningKey(res: ConfigResult): ConfigResult {
  const problem = signingKeyProblem(process.env);
  if (!problem) return res;
  return { ok: false, problems: [...(res.ok ? [] : res.problems), problem] };
}

interface Resolved {
  config: Config;
  sandbox?: Sandbox;
  /** The sandbox's private Redis, when labgate started one (close it last). */
  redis?: PrivateRedis;
}

/** `ownRedis`: this mode runs the workers too, so it may start a private Redis for the sandbox. */
async function resolveConfig(stderr: (s: string) => void, quiet = false, opts: { ownRedis?: boolean } = {}): Promise<Resolved> {
  // Only a test moves the default address (LABGATE_TEST_REDIS_PROBE); REDIS_URL always wins.
  const env = process.env.REDIS_URL || !process.env.LABGATE_TEST_REDIS_PROBE ? process.env : { ...process.env, REDIS_URL: defaultRedisAddress(process.env).url };
  if (process.env.LABGATE_CONFIG) {
    // A configuration names a real homelab: labgate never starts a Redis for it.
    const res = withSigningKey(loadConfig(env));
    if (!res.ok) {
      stderr(`labgate: configuration problems:\n${res.problems.map((p) => `  - ${p}`).join('\n')}\n`);
      process.exit(2);
    }
    return { config: res.config };
  }
  // Loaded only when needed: a configured labgate never pays for the simulated homelab.
  const loading = import('../../sandbox/sandbox.js');
  // Checked before the sandbox reads its state: a folder whose sandbox another labgate runs is refused.
  const own = opts.ownRedis ? await sandboxRedis(process.env, quiet ? () => {} : stderr).catch((err: unknown) => exitOnStartProblem(err, stderr)) : {};
  const { startSandbox } = await loading;
  const [started, launched] = await Promise.allSettled([startSandbox({ stateFile: '.labgate/sandbox/state.json' }), own.launch?.()]);
  if (launched.status === 'rejected') {
    if (started.status === 'fulfilled') await started.value.close();
    exitOnStartProblem(launched.reason, stderr);
  }
  if (started.status === 'rejected') {
    await launched.value?.close();
    throw started.reason;
  }
  const sandbox = started.value;
  const redis = launched.value;
  const url = redis?.url ?? own.url;
  const res = loadConfig({ ...env, ...sandbox.env, ...(url ? { REDIS_URL: url } : {}) });
  if (!res.ok) throw new Error(`sandbox configuration is invalid: ${res.problems.join('; ')}`);
  // This sandbox lives in this process only: on a Redis others use too, its queues must never be
  // shared with another process's sandbox (a worker there would apply to the wrong cluster). A
  // private Redis is this folder's alone, so there the prefix stays and state survives restarts.
  if (!redis) res.config.redis.prefix = `${res.config.redis.prefix}-${process.pid}-${Date.now().toString(36)}`;
  else keepShellConversation('shell-sandbox');
  // start/shell run the whole homelab, the mTLS gate behind the sandbox edge included.
  if (opts.ownRedis) await (await import('./sandbox-gate.js')).withSandboxGate(res.config, sandbox, makeLogger('chat'));
  if (!quiet)
    stderr(
      `labgate: no LABGATE_CONFIG set, so this runs against the built-in sandbox homelab (simulated Kubernetes at ${sandbox.kubernetes.url}, state in ${sandbox.files.stateFile}).\n`,
    );
  return { config: res.config, sandbox, ...(redis ? { redis } : {}) };
}

const logFileOf = (kind: 'chat' | 'service') => process.env.LABGATE_LOG_FILE ?? (kind === 'chat' ? '.labgate/labgate.log' : undefined);

/** Where makeLogger(kind) writes, as messages name it. */
function logPlace(kind: 'chat' | 'service'): string {
  const file = logFileOf(kind);
  return file && file !== '-' ? file : 'standard output';
}

function makeLogger(kind: 'chat' | 'service'): Logger {
  const file = logFileOf(kind);
  if (!file || file === '-') return createLogger();
  mkdirSync(dirname(resolve(file)), { recursive: true });
  return createLogger({ destination: createWriteStream(file, { flags: 'a', mode: 0o600 }) });
}

function shell(args: string[], opts: { workers: boolean }): Promise<number> {
  const resolve = async (say: (s: string) => void, quiet?: boolean) => {
    const r = await resolveConfig(say, quiet, { ownRedis: opts.workers });
    await openOps(r.config, say);
    return r;
  };
  return shellCommand(args, opts, { resolveConfig: resolve, makeLogger, logPlace });
}

async function worker(): Promise<number> {
  const { config, sandbox } = await resolveConfig((s) => process.stderr.write(s));
  const ops = await openOps(config, (s) => process.stderr.write(s));
  const logger = makeLogger('service');
  // Shell conversations are relayed to `labgate bot` through Redis (DM texts and files stay on disk).
  const relayRedis = createRedis(config.env, 'blocking');
  const shellRelay = new ShellRelayNotifier(new ShellRelay(relayRedis, redisKeys(config.redis.prefix).shellOutbox, config.shell.dmFolder));
  // discord.js is loaded only when a token is configured: a shell-only labgate stays small.
  const discord = config.env.DISCORD_TOKEN ? (await import('../chat/discord/run-discord.js')).discordNotifier(config, logger) : undefined;
  const notifier = new PlatformNotifier({ shell: shellRelay, ...(discord ? { discord } : {}) });
  const app = await createApp({ config, logger, notifier, chat: false, workers: true, logPlace: logPlace('service') });
  if (!app.redisReady) process.stderr.write(`labgate worker: ${redisUnreachableNotice(config.env.REDIS_URL, logPlace('service'))}; the workers attach when it is.\n`);
  logger.info({ redisPrefix: config.redis.prefix }, 'labgate workers running');
  await waitForSignal();
  // Stop taking work; an apply still running after shutdown.grace goes back to the queue. Bounded
  // when Redis is down too.
  logger.info({ graceMs: config.shutdown.grace }, 'stopping: no new work; running applies get the grace to finish');
  await Promise.race([app.close(), new Promise<void>((r) => setTimeout(r, config.shutdown.grace + 5_000).unref())]);
  relayRedis.disconnect();
  await ops?.close();
  await sandbox?.close();
  return 0;
}

async function discordChat(opts: { workers: boolean }): Promise<number> {
  const say = (s: string) => process.stderr.write(s);
  const { config, sandbox } = await resolveConfig(say);
  await openOps(config, say);
  try {
    const { runDiscordChat } = await import('../chat/discord/run-discord.js');
    return await runDiscordChat({ config, logger: makeLogger('service'), logPlace: logPlace('service'), workers: opts.workers, say, until: waitForSignal() });
  } finally {
    await sandbox?.close();
  }
}

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

async function configCheck(args: string[]): Promise<number> {
  const { positionals } = parseArgs({ args, options: {}, allowPositionals: true });
  if (positionals.length > 1) throw Object.assign(new Error(`give one file (got ${positionals.length})`), { code: 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL' });
  const file = positionals[0] ?? process.env.LABGATE_CONFIG;
  const { CommandRegistry } = await import('../core/command-registry.js');
  const { commandModules } = await import('../commands/index.js');
  // access.commands is checked with the rest, so every problem is listed at once.
  // Checked with the environment it will run with: outside the sandbox, a signing key is required.
  const res = withSigningKey(loadConfig(process.env, file, { commands: new CommandRegistry(commandModules).names() }));
  if (!res.ok) {
    process.stderr.write(`${file ?? 'configuration'}: ${res.problems.length} problem${res.problems.length === 1 ? '' : 's'}\n${res.problems.map((p) => `  - ${p}`).join('\n')}\n`);
    return 1;
  }
  if (res.config.env.DISCORD_TOKEN) {
    // start/bot/worker would refuse this combination; say so here, before a deploy does.
    const { discordSettings } = await import('../chat/discord/run-discord.js');
    const discord = discordSettings(res.config);
    if ('problem' in discord) {
      process.stderr.write(`${file}: 1 problem\n  - ${discord.problem}\n`);
      return 1;
    }
  }
  process.stdout.write(`${res.config.source}: OK\n${stringify(printableConfig(res.config, res.doc))}`);
  return 0;
}

/** node:util parseArgs's complaints (unknown option, missing value, stray argument). */
function isArgError(err: unknown): err is Error {
  const code = (err as { code?: unknown } | null)?.code;
  return err instanceof Error && typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}

/** `--help`/`-h` anywhere among a command's arguments (before a `--`). */
function asksHelp(args: string[]): boolean {
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === '--version' || cmd === '-V' || cmd === 'version') {
    process.stdout.write(`labgate ${version()}\n`);
    return 0;
  }
  if (cmd && COMMAND_HELP[cmd] && asksHelp(rest)) {
    process.stdout.write(COMMAND_HELP[cmd]);
    return 0;
  }
  try {
    return await run(cmd, rest);
  } catch (err) {
    if (!isArgError(err)) throw err;
    process.stderr.write(`labgate ${cmd}: ${err.message}\n${usageOf(cmd!)}\n`);
    return 2;
  }
}

async function run(cmd: string | undefined, rest: string[]): Promise<number> {
  switch (cmd) {
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write((rest[0] && COMMAND_HELP[rest[0]]) || HELP);
      return cmd === undefined ? 2 : 0;
    case 'start':
    case 'bot':
      rest = takeHttpFlag(rest);
      if (process.env.DISCORD_TOKEN) return await discordChat({ workers: cmd === 'start' });
      return await shell(cmd === 'start' ? [] : rest, { workers: cmd === 'start' });
    case 'shell':
      return await shell(rest, { workers: true });
    case 'discord':
      if (rest[0] === 'register' && rest.length === 1) {
        if (!process.env.LABGATE_CONFIG) {
          process.stderr.write('labgate: discord register needs LABGATE_CONFIG (a labgate.yaml with a discord block)\n');
          return 2;
        }
        const { runDiscordRegister } = await import('../chat/discord/run-discord.js');
        return await runDiscordRegister({ config: (await resolveConfig((s) => process.stderr.write(s))).config, say: (s) => process.stderr.write(s), out: (s) => process.stdout.write(s) });
      }
      process.stderr.write(`${rest.length ? `labgate discord: unknown subcommand "${rest.join(' ')}"\n` : ''}${usageOf('discord')}\n`);
      return 2;
    case 'worker':
      takeHttpFlag(rest);
      return await worker();
    case 'plan': {
      if (!rest.join('').trim()) {
        process.stderr.write(`labgate plan: give the slash command to plan, in quotes\n${usageOf('plan')}\n`);
        return 2;
      }
      const { config, sandbox } = await resolveConfig((s) => process.stderr.write(s), true);
      try {
        return await planOnce(config, rest.join(' '), (s) => process.stdout.write(s), useColour(process.stdout));
      } finally {
        await sandbox?.close();
      }
    }
    case 'sandbox':
      return await (await import('./sandbox-command.js')).sandboxCommand(rest, { makeLogger, waitForSignal });
    case 'deploy':
      return await (await import('./deploy-command.js')).deployCommand(rest, { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s), usage: usageOf('deploy') });
    case 'gate':
      return await (await import('./gate-command.js')).gateCommand(rest, { makeLogger, waitForSignal });
    case 'config':
      if (rest[0] === 'check') return await configCheck(rest.slice(1));
      process.stderr.write(`${rest.length ? `labgate config: unknown subcommand "${rest[0]}"\n` : ''}${usageOf('config')}\n`);
      return 2;
    default:
      process.stderr.write(unknownCommand(cmd));
      return 2;
  }
}
