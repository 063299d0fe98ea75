import { parseArgs } from 'node:util';
import { createApp } from '../app.js';
import { PlatformNotifier } from '../messages/notifier.js';
import { useColour, terminalWidth } from '../chat/shell/colour.js';
import { complete } from '../chat/shell/completer.js';
import { HISTORY_FILE } from '../chat/shell/history.js';
import { ShellNotifier, ShellOutput } from '../chat/shell/shell-notifier.js';
import { SHELL_CONVERSATION } from '../messages/conversations.js';
import { ShellRelay, ShellRelayReader } from '../chat/shell/shell-relay.js';
import { runShell, shellIdentity } from '../chat/shell/shell.js';
import { ShellTerminal } from '../chat/shell/terminal.js';
import type { Config } from '../config/load.js';
import { Autocompleter } from '../core/autocomplete.js';
import type { Logger } from '../log.js';
import { createRedis, redisKeys, redisUnreachableNotice } from '../stores/redis.js';
import { readiness } from '../ops/readiness.js';
import type { Sandbox } from '../../sandbox/sandbox.js';

export interface ShellDeps {
  resolveConfig: (say: (s: string) => void, quiet?: boolean) => Promise<{ config: Config; sandbox?: Sandbox; redis?: { close(): Promise<void> } }>;
  makeLogger: (kind: 'chat' | 'service') => Logger;
  /** Where the log of this kind of process goes, for messages that send a person there. */
  logPlace: (kind: 'chat' | 'service') => string;
}

/** `labgate shell` / `labgate bot` without Discord: the terminal chat, interactive on a terminal, line by line on a pipe. */
export async function shellCommand(args: string[], opts: { workers: boolean }, deps: ShellDeps): Promise<number> {
  const { values } = parseArgs({ args, options: { as: { type: 'string' }, json: { type: 'boolean', default: false } }, allowPositionals: false });
  const interactive = Boolean(process.stdin.isTTY);
  const say = (s: string) => process.stderr.write(s);
  const { config, sandbox, redis } = await deps.resolveConfig(say, Boolean(values.json));
  const user = values.as ?? config.shell.defaultUser ?? config.shell.users[0];
  if (!user) {
    say('labgate: no shell users configured (shell.users in labgate.yaml)\n');
    return 2;
  }
  if (!config.shell.users.includes(user)) {
    say(`labgate: unknown shell user ${user}; users: ${config.shell.users.join(', ')}\n`);
    return 2;
  }
  const json = Boolean(values.json);
  const colour = !json && useColour(process.stdout);
  // A terminal on both sides gets the prompt, completion, history and the status line; --json never does.
  const onTerminal = interactive && Boolean(process.stdout.isTTY) && !json;
  let terminal: ShellTerminal | undefined;
  const write = (line: string) => (terminal ? terminal.print(line) : process.stdout.write(line + '\n'));
  const out = new ShellOutput(write, json, colour, () => (json ? undefined : terminalWidth(process.stdout)));
  const logger = deps.makeLogger('chat');
  // This process's conversation: what workers elsewhere do for it, and alerts, arrive through
  // Redis; what this process's workers do for other shells goes back the same way.
  const keys = redisKeys(config.redis.prefix);
  const relayRedis = createRedis(config.env, 'blocking');
  const channel = SHELL_CONVERSATION.channel;
  const notifier = new PlatformNotifier({ shell: new ShellNotifier(out, config.shell.dmFolder, { channel, relay: new ShellRelay(relayRedis, keys.shellOutbox, config.shell.dmFolder, channel) }) });
  const app = await createApp({ config, logger, notifier, chat: true, workers: opts.workers, logPlace: deps.logPlace('chat') });
  const { services } = app;
  if (onTerminal) {
    const autocomplete = new Autocompleter({ commands: services.commands, access: services.access, ports: services.ports, logger, daemonSet: config.tailscale.daemonSet });
    terminal = new ShellTerminal({
      input: process.stdin,
      output: process.stdout,
      prompt: `${user}> `,
      colour,
      historyFile: HISTORY_FILE,
      completer: (line) =>
        complete(line, {
          commands: services.commands,
          access: services.access,
          autocomplete,
          users: config.shell.users,
          user,
          identity: shellIdentity,
          pendingPlans: async () => {
            const ids = await services.store.pending(50);
            const recs = await Promise.all(ids.map((id) => services.store.get(id)));
            return recs.filter((r) => r?.status === 'pending' && r.plan.expiresAt > services.now()).map((r) => r!.plan.id);
          },
        }),
    });
  }
  const relay = await ShellRelayReader.start(createRedis(config.env, 'blocking'), services.redis, { channel, streamOf: keys.shellOutbox, out });
  readiness.set('chat', true);
  if (interactive)
    out.note(`labgate shell — you are ${user}; /help lists commands, Tab completes, "@bob /cmd …" acts as bob, Ctrl-D quits. ✗ = refused (nothing changed), ! = a fault.`);
  if (!app.redisReady)
    out.note(`warning: ${redisUnreachableNotice(config.env.REDIS_URL, deps.logPlace('chat'))}.${sandbox ? '' : ' LABGATE_CONFIG names your homelab, so labgate starts no Redis of its own: start yours, or set REDIS_URL.'}`);
  // SIGTERM (and SIGINT on a pipe): no new lines; a running apply gets shutdown.grace to finish
  // (then it goes back to the queue), locks are released, and the exit status is 0.
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    logger.info({ graceMs: config.shutdown.grace }, 'stopping: no new lines; running applies get the grace to finish');
    process.stdin.destroy();
    terminal?.close();
    await relay.close();
    await Promise.race([app.close(), new Promise<void>((r) => setTimeout(r, config.shutdown.grace + 5_000).unref())]);
    relayRedis.disconnect();
    await sandbox?.close();
    await redis?.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  if (!onTerminal) process.once('SIGINT', () => void stop());
  try {
    return await runShell({
      dispatcher: app.dispatcher!,
      commands: services.commands,
      out,
      users: config.shell.users,
      user,
      input: process.stdin,
      output: process.stdout,
      interactive,
      ...(terminal ? { terminal } : {}),
      ...(app.producer ? { progress: (l: (step: string) => void) => app.producer!.onProgress(l) } : {}),
      settled: () => relay.caughtUp(),
    });
  } finally {
    terminal?.close();
    await relay.close();
    await app.close();
    relayRedis.disconnect();
    await sandbox?.close();
    await redis?.close();
  }
}
