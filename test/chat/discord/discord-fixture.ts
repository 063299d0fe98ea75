import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DestinationStream } from 'pino';
import { createApp, type App } from '../../../src/app.js';
import { discordCommandDefinitions } from '../../../src/chat/discord/command-definitions.js';
import { startDiscordBot, type DiscordBot } from '../../../src/chat/discord/gateway-bot.js';
import { registerGuildCommands } from '../../../src/chat/discord/register-commands.js';
import { createDiscordRest, DiscordRestNotifier } from '../../../src/chat/discord/rest-notifier.js';
import { PlatformNotifier } from '../../../src/messages/notifier.js';
import { loadConfig, type Config } from '../../../src/config/load.js';
import { Autocompleter } from '../../../src/core/autocomplete.js';
import { createLogger } from '../../../src/log.js';
import { dropPrefix } from '../../../src/stores/redis.js';
import { startSandbox, type Sandbox } from '../../../sandbox/sandbox.js';
import { startDiscordHarness, type DiscordHarness, type DiscordHarnessOptions } from '../../harness/discord/discord-harness.js';

export interface DiscordFixture {
  harness: DiscordHarness;
  sandbox: Sandbox;
  config: Config;
  app: App;
  bot: DiscordBot;
  notifier: DiscordRestNotifier;
  /** Every log line written, as JSON text. */
  logs: string[];
  close(): Promise<void>;
}

/**
 * Access for the harness's people: alice is an admin (approver) and operator, bob an operator
 * (may request), mallory nobody. Self-approval stays off, as in a real labgate.yaml.
 */
export function harnessAccess(h: DiscordHarness): Config['access'] {
  return {
    groups: { approvers: [`discord:role:${h.roles.admins}`], operators: [`discord:role:${h.roles.operators}`] },
    defaults: { request: ['operators'], approve: ['approvers'] },
    commands: {},
  };
}

/**
 * The whole Discord side of labgate against loopback: the fake Discord, the sandbox Kubernetes,
 * real Redis under a fresh prefix, createApp with chat and workers, the registered commands and
 * the gateway bot logged in.
 */
export async function startDiscordFixture(
  opts: { harness?: DiscordHarnessOptions; access?: (h: DiscordHarness) => Config['access']; redisUrl?: string; workers?: boolean } = {},
): Promise<DiscordFixture> {
  const harness = await startDiscordHarness(opts.harness);
  const dir = mkdtempSync(join(tmpdir(), 'labgate-discord-'));
  const sandbox = await startSandbox({ dir });
  const loaded = loadConfig({ ...process.env, ...sandbox.env, ...(opts.redisUrl ? { REDIS_URL: opts.redisUrl } : {}) });
  if (!loaded.ok) throw new Error(loaded.problems.join('; '));
  const prefix = `labgate-test-discord-${randomBytes(4).toString('hex')}`;
  const config: Config = {
    ...loaded.config,
    env: { ...loaded.config.env, DISCORD_TOKEN: harness.token },
    redis: { prefix },
    access: (opts.access ?? harnessAccess)(harness),
    discord: { guildId: harness.guildId, channels: { ops: harness.channels.ops, alerts: harness.channels.alerts }, registerOnStart: false, timeout: 8_000, apiBase: harness.apiBase },
  };
  const logs: string[] = [];
  const destination = { write: (s: string) => void logs.push(s) } as unknown as DestinationStream;
  const logger = createLogger({ level: 'debug', destination });
  const rest = createDiscordRest({ token: harness.token, apiBase: harness.apiBase });
  const notifier = new DiscordRestNotifier(rest, logger);
  const app = await createApp({ config, logger, notifier: new PlatformNotifier({ discord: notifier }), chat: true, workers: opts.workers ?? true });
  await registerGuildCommands(rest, { guildId: harness.guildId }, discordCommandDefinitions(app.services.commands));
  const autocomplete = new Autocompleter({ commands: app.services.commands, access: app.services.access, ports: app.services.ports, logger, daemonSet: app.services.config.tailscale.daemonSet });
  const bot = await startDiscordBot({ discord: config.discord!, token: harness.token, dispatcher: app.dispatcher!, services: app.services, autocomplete });
  return {
    harness,
    sandbox,
    config,
    app,
    bot,
    notifier,
    logs,
    close: async () => {
      // The client leaves the gateway before the harness goes, or discord.js keeps reconnecting.
      await bot.close();
      // With Redis unreachable, closing BullMQ's QueueEvents never settles; do not wait for it.
      if (app.redisReady) await app.close();
      else void app.close();
      if (app.redisReady) await dropPrefix(config.env.REDIS_URL, prefix);
      await harness.close();
      await sandbox.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls until `check` returns something truthy; fails with `what` after the timeout. */
export async function waitFor<T>(check: () => T | Promise<T>, what: string, timeoutMs = 10_000): Promise<NonNullable<T>> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
