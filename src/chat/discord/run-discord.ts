import { redisUnreachableNotice } from '../../stores/redis.js';
import { commandModules } from '../../commands/index.js';
import { createApp, type App } from '../../app.js';
import { CommandRegistry } from '../../core/command-registry.js';
import type { Config } from '../../config/load.js';
import type { DiscordConfig } from '../../config/schema.js';
import { Autocompleter } from '../../core/autocomplete.js';
import type { Logger } from '../../log.js';
import { PlatformNotifier } from '../../messages/notifier.js';
import { describeDiscordError } from './api-errors.js';
import { discordCommandDefinitions } from './command-definitions.js';
import { startDiscordBot } from './gateway-bot.js';
import { describeRegistration, registerGuildCommands } from './register-commands.js';
import { createDiscordRest, DiscordRestNotifier } from './rest-notifier.js';

/** The Discord settings, or what is missing, said the way config problems are. */
export function discordSettings(config: Config): { discord: DiscordConfig; token: string } | { problem: string } {
  const token = config.env.DISCORD_TOKEN;
  if (!token) return { problem: 'env.DISCORD_TOKEN: not set (the bot token from the Developer Portal, Bot → Reset Token)' };
  if (!config.discord) return { problem: `discord: missing in ${config.source}; DISCORD_TOKEN is set, so labgate.yaml needs a discord block (guildId, channels.ops)` };
  return { discord: config.discord, token };
}

/** The REST-only notifier a worker posts to Discord with (no gateway connection). */
export function discordNotifier(config: Config, logger: Logger): DiscordRestNotifier | undefined {
  const token = config.env.DISCORD_TOKEN;
  return token ? new DiscordRestNotifier(createDiscordRest({ token, apiBase: config.discord?.apiBase, timeoutMs: config.discord?.timeout }), logger) : undefined;
}

// With Redis gone, closing BullMQ's event listeners never settles; shutdown must not hang on it.
// A running apply gets the configured grace; past that it went back to the queue.
async function closeWithin(app: App, graceMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([app.close(graceMs), new Promise<void>((r) => (timer = setTimeout(r, graceMs + 5_000)))]);
  clearTimeout(timer);
}

/**
 * `labgate start` / `labgate bot` with a Discord token: the gateway bot, plus the workers when
 * asked, until `until` resolves (a signal). Returns the exit status.
 */
export async function runDiscordChat(o: { config: Config; logger: Logger; logPlace?: string; workers: boolean; say: (s: string) => void; until: Promise<void> }): Promise<number> {
  const settings = discordSettings(o.config);
  if ('problem' in settings) {
    o.say(`labgate: configuration problems:\n  - ${settings.problem}\n`);
    return 2;
  }
  const { discord, token } = settings;
  const notifier = new PlatformNotifier({ discord: discordNotifier(o.config, o.logger)! });
  const app = await createApp({ config: o.config, logger: o.logger, notifier, chat: true, workers: o.workers, ...(o.logPlace ? { logPlace: o.logPlace } : {}) });
  const services = app.services;
  try {
    const bot = await startDiscordBot({
      discord,
      token,
      dispatcher: app.dispatcher!,
      services,
      autocomplete: new Autocompleter({ commands: services.commands, access: services.access, ports: services.ports, logger: o.logger, daemonSet: services.config.tailscale.daemonSet }),
    }).catch((err: unknown) => {
      o.say(`labgate: ${(err as Error).message}\n`);
      return undefined;
    });
    if (!bot) return 1;
    if (bot.registration) o.say(`${describeRegistration(bot.registration)}\n`);
    o.say(`labgate is on Discord as ${bot.client.user?.tag ?? '?'}: plans go to channel ${discord.channels.ops} of guild ${discord.guildId}${o.workers ? '; workers run here too' : ''}. Ctrl-C stops.\n`);
    if (!app.redisReady) o.say(`warning: ${redisUnreachableNotice(o.config.env.REDIS_URL, o.logPlace ?? 'standard output')}.\n`);
    await o.until;
    await bot.close();
    return 0;
  } finally {
    await closeWithin(app, o.config.shutdown.grace);
  }
}

/** `labgate discord register`: makes the guild's commands match the command modules; says what changed. */
export async function runDiscordRegister(o: { config: Config; say: (s: string) => void; out: (s: string) => void }): Promise<number> {
  const settings = discordSettings(o.config);
  if ('problem' in settings) {
    o.say(`labgate: configuration problems:\n  - ${settings.problem}\n`);
    return 2;
  }
  const { discord, token } = settings;
  try {
    const res = await registerGuildCommands(
      createDiscordRest({ token, apiBase: discord.apiBase }),
      { guildId: discord.guildId, applicationId: discord.applicationId },
      discordCommandDefinitions(new CommandRegistry(commandModules)),
    );
    o.out(`${describeRegistration(res)}\n`);
    return 0;
  } catch (err) {
    const d = describeDiscordError(err);
    const hint =
      d.status === 401
        ? ' (the token was refused: copy it again from Bot → Reset Token)'
        : d.code === 50001
          ? ` (the bot is not in guild ${discord.guildId}, or was invited without the applications.commands scope)`
          : '';
    o.say(`labgate: could not register the commands: ${d.message}${hint}\n`);
    return 1;
  }
}
