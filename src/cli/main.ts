import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { createApp } from '../app.js';
import { PlatformNotifier } from '../chat/notifier.js';
import { ShellNotifier, ShellOutput } from '../chat/shell/shell-notifier.js';
import { ShellRelayNotifier, ShellRelayReader } from '../chat/shell/shell-relay.js';
import { createRedis, redisKeys } from '../queue/redis.js';
import { runShell } from '../chat/shell/shell.js';
import { loadConfig, redactConfig, type Config } from '../config/load.js';
import { createLogger, type Logger } from '../log.js';
import type { Sandbox } from '../sandbox/sandbox.js';
import { planOnce } from './plan-once.js';

const HELP = `labgate — plan, approve and apply homelab changes from chat

Usage: labgate <command> [options]

  start                     chat + workers in one process (Discord when configured, else the shell)
  bot                       the chat half only (workers run elsewhere on the same Redis)
  worker                    the workers only
  shell [--as USER] [--json]
                            the terminal chat; reads commands from stdin when it is not a terminal
  plan "<slash command>"    print the plan for a command against live state; changes nothing
  sandbox [--state FILE] [--env-file FILE] [--router-tls]
                            run the simulated homelab on loopback until stopped (--router-tls: api-ssl)
  config check [FILE]       validate labgate.yaml (default: $LABGATE_CONFIG) and the environment
  discord register          register the guild's slash commands (bulk overwrite; says what changed)

Configuration: labgate.yaml at $LABGATE_CONFIG, plus KUBECONFIG, REDIS_URL, LABGATE_LOG_LEVEL and
DISCORD_TOKEN (with it, start/bot run the Discord bot instead of the shell; workers post over REST).
With no LABGATE_CONFIG, start/shell/plan run against the built-in sandbox homelab.
`;

interface Resolved {
  config: Config;
  sandbox?: Sandbox;
}

async function resolveConfig(stderr: (s: string) => void, quiet = false): Promise<Resolved> {
  if (process.env.LABGATE_CONFIG) {
    const res = loadConfig(process.env);
    if (!res.ok) {
      stderr(`labgate: configuration problems:\n${res.problems.map((p) => `  - ${p}`).join('\n')}\n`);
      process.exit(2);
    }
    return { config: res.config };
  }
  // Loaded only when needed: a configured labgate never pays for the simulated homelab.
  const { startSandbox } = await import('../sandbox/sandbox.js');
  const sandbox = await startSandbox({ stateFile: '.labgate/sandbox/state.json' });
  const res = loadConfig({ ...process.env, ...sandbox.env });
  if (!res.ok) throw new Error(`sandbox configuration is invalid: ${res.problems.join('; ')}`);
  if (!quiet)
    stderr(
      `labgate: no LABGATE_CONFIG set, so this runs against the built-in sandbox homelab (simulated Kubernetes at ${sandbox.kubernetes.url}, state in ${sandbox.files.stateFile}).\n`,
    );
  return { config: res.config, sandbox };
}

function makeLogger(kind: 'chat' | 'service'): Logger {
  const file = process.env.LABGATE_LOG_FILE ?? (kind === 'chat' ? '.labgate/labgate.log' : undefined);
  if (!file || file === '-') return createLogger();
  mkdirSync(dirname(resolve(file)), { recursive: true });
  return createLogger({ destination: createWriteStream(file, { flags: 'a', mode: 0o600 }) });
}

async function shell(args: string[], opts: { workers: boolean }): Promise<number> {
  const { values } = parseArgs({ args, options: { as: { type: 'string' }, json: { type: 'boolean', default: false } }, allowPositionals: false });
  const interactive = Boolean(process.stdin.isTTY);
  const say = (s: string) => process.stderr.write(s);
  const { config, sandbox } = await resolveConfig(say, Boolean(values.json));
  const user = values.as ?? config.shell.defaultUser ?? config.shell.users[0];
  if (!user) {
    say('labgate: no shell users configured (shell.users in labgate.yaml)\n');
    return 2;
  }
  if (!config.shell.users.includes(user)) {
    say(`labgate: unknown shell user ${user}; users: ${config.shell.users.join(', ')}\n`);
    return 2;
  }
  const out = new ShellOutput((line) => process.stdout.write(line + '\n'), Boolean(values.json), Boolean(process.stdout.isTTY) && !values.json);
  const logger = makeLogger('chat');
  const notifier = new PlatformNotifier({ shell: new ShellNotifier(out, config.shell.dmFolder) });
  const app = await createApp({ config, logger, notifier, chat: true, workers: opts.workers });
  // Without workers here (labgate bot), what the workers post arrives through Redis.
  const relay = opts.workers
    ? undefined
    : await ShellRelayReader.start(createRedis(config.env.REDIS_URL, 'blocking'), app.services.redis, app.services.keys.shellOutbox, out);
  if (interactive) out.note(`labgate shell — you are ${user}; /help lists commands, "@bob /cmd …" acts as bob, Ctrl-D quits.`);
  if (!app.redisReady) out.note(`warning: Redis at ${config.env.REDIS_URL} is not reachable; commands will fail until it is.`);
  try {
    return await runShell({
      dispatcher: app.dispatcher!,
      commands: app.services.commands,
      out,
      users: config.shell.users,
      user,
      input: process.stdin,
      output: process.stdout,
      interactive,
      ...(relay ? { settled: () => relay.caughtUp() } : {}),
    });
  } finally {
    await relay?.close();
    await app.close();
    await sandbox?.close();
  }
}

async function worker(): Promise<number> {
  const { config, sandbox } = await resolveConfig((s) => process.stderr.write(s));
  const logger = makeLogger('service');
  // Shell conversations are relayed to `labgate bot` through Redis (DM texts and files stay on disk).
  const relayRedis = createRedis(config.env.REDIS_URL, 'blocking');
  const shellRelay = new ShellRelayNotifier(relayRedis, redisKeys(config.redis.prefix).shellOutbox, config.shell.dmFolder);
  // discord.js is loaded only when a token is configured: a shell-only labgate stays small.
  const discord = config.env.DISCORD_TOKEN ? (await import('../chat/discord/run-discord.js')).discordNotifier(config, logger) : undefined;
  const notifier = new PlatformNotifier({ shell: shellRelay, ...(discord ? { discord } : {}) });
  const app = await createApp({ config, logger, notifier, chat: false, workers: true });
  logger.info({ redisPrefix: config.redis.prefix }, 'labgate workers running');
  await waitForSignal();
  await app.close();
  relayRedis.disconnect();
  await sandbox?.close();
  return 0;
}

async function discordChat(opts: { workers: boolean }): Promise<number> {
  const say = (s: string) => process.stderr.write(s);
  const { config, sandbox } = await resolveConfig(say);
  try {
    const { runDiscordChat } = await import('../chat/discord/run-discord.js');
    return await runDiscordChat({ config, logger: makeLogger('service'), workers: opts.workers, say, until: waitForSignal() });
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

async function sandboxCmd(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { state: { type: 'string' }, 'env-file': { type: 'string' }, 'router-tls': { type: 'boolean' } } });
  const stateFile = values.state ?? '.labgate/sandbox/state.json';
  const envFile = values['env-file'] ?? resolve(dirname(stateFile), 'sandbox.env');
  const routerTls = values['router-tls'] ?? false;
  const { startSandbox } = await import('../sandbox/sandbox.js');
  const sb = await startSandbox({ stateFile, envFile, routerTls });
  const router = routerTls ? `  RouterOS api-ssl ${sb.router.host}:${sb.router.tlsPort} (CA ${sb.env.ROUTEROS_CA})\n` : '';
  process.stdout.write(
    `labgate sandbox running (Ctrl-C to stop)\n  Kubernetes API  ${sb.kubernetes.url}\n${router}  state           ${sb.files.stateFile}\n  env file        ${sb.files.envFile}\n\nIn another terminal:\n  set -a; . ${sb.files.envFile}; set +a; npx labgate shell\n`,
  );
  await waitForSignal();
  await sb.close();
  return 0;
}

async function configCheck(args: string[]): Promise<number> {
  const file = args[0] ?? process.env.LABGATE_CONFIG;
  const res = loadConfig(process.env, file);
  if (!res.ok) {
    process.stderr.write(`${file ?? 'configuration'}: ${res.problems.length} problem${res.problems.length === 1 ? '' : 's'}\n${res.problems.map((p) => `  - ${p}`).join('\n')}\n`);
    return 1;
  }
  const { CommandRegistry } = await import('../commands/registry.js');
  const { commandModules } = await import('../../commands/index.js');
  const known = new CommandRegistry(commandModules).names();
  const unknown = Object.keys(res.config.access.commands).filter((c) => !known.includes(c));
  if (unknown.length) {
    process.stderr.write(`${file}: access.commands names unknown commands: ${unknown.join(', ')}; commands: ${known.join(', ')}\n`);
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
  process.stdout.write(`${res.config.source}: OK\n${stringify(redactConfig(res.config))}`);
  return 0;
}

/** node:util parseArgs's complaints (unknown option, missing value, stray argument). */
function isArgError(err: unknown): err is Error {
  const code = (err as { code?: unknown } | null)?.code;
  return err instanceof Error && typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}

/** The usage line of one command, from HELP. */
function usageOf(cmd: string): string {
  const line = HELP.split('\n').find((l) => l.trimStart().startsWith(`${cmd} `) || l.trim() === cmd);
  return line ? `usage: labgate ${line.trim().replace(/\s{2,}.*$/, '')}` : 'labgate --help lists the commands';
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd && (rest[0] === '--help' || rest[0] === '-h')) {
    process.stdout.write(HELP);
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
      process.stdout.write(HELP);
      return cmd === undefined ? 2 : 0;
    case 'start':
    case 'bot':
      if (process.env.DISCORD_TOKEN) return await discordChat({ workers: cmd === 'start' });
      return await shell(cmd === 'start' ? [] : rest, { workers: cmd === 'start' });
    case 'shell':
      return await shell(rest, { workers: true });
    case 'discord':
      if (rest[0] === 'register') {
        if (!process.env.LABGATE_CONFIG) {
          process.stderr.write('labgate: discord register needs LABGATE_CONFIG (a labgate.yaml with a discord block)\n');
          return 2;
        }
        const { runDiscordRegister } = await import('../chat/discord/run-discord.js');
        return await runDiscordRegister({ config: (await resolveConfig((s) => process.stderr.write(s))).config, say: (s) => process.stderr.write(s), out: (s) => process.stdout.write(s) });
      }
      process.stderr.write('usage: labgate discord register\n');
      return 2;
    case 'worker':
      return await worker();
    case 'plan': {
      const { config, sandbox } = await resolveConfig((s) => process.stderr.write(s), true);
      try {
        return await planOnce(config, rest.join(' '), (s) => process.stdout.write(s), Boolean(process.stdout.isTTY));
      } finally {
        await sandbox?.close();
      }
    }
    case 'sandbox':
      return await sandboxCmd(rest);
    case 'config':
      if (rest[0] === 'check') return await configCheck(rest.slice(1));
      process.stderr.write('usage: labgate config check [FILE]\n');
      return 2;
    default:
      process.stderr.write(`labgate: unknown command "${cmd}"\n\n${HELP}`);
      return 2;
  }
}
