import type { Client, REST } from 'discord.js';
import { metrics } from './metrics.js';
import { readiness } from './readiness.js';

/** Counts Discord's 429 answers on a REST client, by route (@discordjs/rest waits them out itself). */
export function watchDiscordRest(rest: REST): void {
  rest.on('response', (req, res) => {
    if (res.status === 429) metrics.rateLimited(req.route);
  });
}

/** The gateway's state as the `discord` readiness check and the labgate_discord_gateway_up gauge. */
export function watchGateway(client: Client): void {
  readiness.expect('discord');
  const set = (ok: boolean) => {
    readiness.set('discord', ok);
    metrics.gateway(ok);
  };
  set(false);
  client.on('clientReady', () => set(true));
  client.on('shardReady', () => set(true));
  client.on('shardResume', () => set(true));
  client.on('shardDisconnect', () => set(false));
  client.on('shardReconnecting', () => set(false));
  client.on('invalidated', () => set(false));
  watchDiscordRest(client.rest);
}

/** The gateway was closed on purpose (shutdown). */
export function gatewayClosed(): void {
  readiness.set('discord', false);
  metrics.gateway(false);
}
