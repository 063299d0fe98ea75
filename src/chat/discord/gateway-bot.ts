import { Client, Events, GatewayIntentBits, type Interaction } from 'discord.js';
import type { DiscordConfig } from '../../config/schema.js';
import type { Autocompleter } from '../../core/autocomplete.js';
import type { Dispatcher } from '../../core/dispatcher.js';
import type { Services } from '../../core/services.js';
import { describeDiscordError } from './api-errors.js';
import { discordCommandDefinitions } from './command-definitions.js';
import { DiscordInteractionHandler } from './interaction-handler.js';
import { describeRegistration, registerGuildCommands, type RegistrationResult } from './register-commands.js';
import { discordRestTransport } from './rest-transport.js';
import { gatewayClosed, watchGateway } from '../../ops/discord-watch.js';

export interface DiscordBotOptions {
  discord: DiscordConfig;
  token: string;
  dispatcher: Dispatcher;
  services: Pick<Services, 'access' | 'audit' | 'commands' | 'logger' | 'now'>;
  autocomplete: Autocompleter;
  /** How long close() waits for interactions in progress (default 10 s). */
  drainMs?: number;
}

export interface DiscordBot {
  readonly client: Client;
  /** Set when registerOnStart ran. */
  readonly registration?: RegistrationResult;
  /** Resolves once every interaction received so far has been handled. */
  idle(): Promise<void>;
  /** Stops taking interactions, lets those in progress finish, then leaves the gateway. */
  close(): Promise<void>;
}

/**
 * The one gateway connection: logs in with the Guilds intent only (interactions need no
 * privileged intent, and no message content is read), answers interactions, and registers the
 * guild's commands on start when configured.
 */
export async function startDiscordBot(opts: DiscordBotOptions): Promise<DiscordBot> {
  const { logger } = opts.services;
  const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { ...(opts.discord.apiBase ? { api: opts.discord.apiBase } : {}), makeRequest: discordRestTransport } });
  const handler = new DiscordInteractionHandler({ discord: opts.discord, dispatcher: opts.dispatcher, services: opts.services, autocomplete: opts.autocomplete });
  const inflight = new Set<Promise<void>>();
  let closing = false;

  // An unhandled 'error' event would end the process; gateway trouble is logged and discord.js reconnects.
  client.on(Events.Error, (err) => logger.error({ err: describeDiscordError(err) }, 'discord client error'));
  client.on(Events.ShardError, (err, shard) => logger.warn({ err: describeDiscordError(err), shard }, 'discord gateway error'));
  client.on(Events.Warn, (message) => logger.warn({ message }, 'discord warning'));
  watchGateway(client);
  client.on(Events.InteractionCreate, (i: Interaction) => {
    if (closing) return;
    const p = handler.handle(i).finally(() => inflight.delete(p));
    inflight.add(p);
  });

  const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
  try {
    await client.login(opts.token);
    await ready;
  } catch (err) {
    await client.destroy().catch(() => {});
    throw new Error(`could not log in to Discord: ${describeDiscordError(err).message}`);
  }
  logger.info({ user: client.user?.tag, guild: opts.discord.guildId }, 'discord gateway connected');

  let registration: RegistrationResult | undefined;
  if (opts.discord.registerOnStart) {
    registration = await registerGuildCommands(
      client.rest,
      { guildId: opts.discord.guildId, applicationId: opts.discord.applicationId ?? client.application?.id },
      discordCommandDefinitions(opts.services.commands),
    );
    logger.info({ added: registration.added, changed: registration.changed, removed: registration.removed }, describeRegistration(registration));
  }

  const idle = async () => {
    while (inflight.size) await Promise.allSettled([...inflight]);
  };
  return {
    client,
    registration,
    idle,
    close: async () => {
      closing = true;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([idle(), new Promise<void>((r) => (timer = setTimeout(r, opts.drainMs ?? 10_000)))]);
      clearTimeout(timer);
      await client.destroy();
      gatewayClosed();
    },
  };
}
