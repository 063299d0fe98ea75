import { randomBytes } from 'node:crypto';
import type { Config } from '../config/load.js';
import type { ConversationRef } from './message.js';

/**
 * This process's shell conversation. Each shell process is a conversation of its own: two shells
 * (or a shell and `npm start`) on one Redis never see each other's plans, results or replies,
 * and a bare `approve` only ever looks at plans asked for here.
 */
export const SHELL_CONVERSATION: { platform: 'shell'; channel: string } = { platform: 'shell', channel: `shell-${process.pid}-${randomBytes(4).toString('hex')}` };

/**
 * Makes this process's shell conversation one that outlives it: for a sandbox whose private Redis
 * only one labgate at a time may use (its folder is locked), the terminal in that folder is one
 * conversation across restarts, so a plan shown before a restart can be approved after it.
 */
export function keepShellConversation(channel: string): void {
  SHELL_CONVERSATION.channel = channel;
}

/** Shell channels every shell reads: alerts and notices that belong to no one conversation. */
export const SHELL_BROADCAST = { alerts: 'alerts' } as const;

export function isBroadcast(to: ConversationRef): boolean {
  return to.platform === 'shell' && (Object.values(SHELL_BROADCAST) as string[]).includes(to.channel);
}

/** Where alerts go: the Discord alerts channel (else ops) when Discord is configured, else every shell. */
export function alertsConversation(config: Config): ConversationRef {
  if (config.discord && config.env.DISCORD_TOKEN)
    return { platform: 'discord', guildId: config.discord.guildId, channelId: config.discord.channels.alerts ?? config.discord.channels.ops };
  return { platform: 'shell', channel: SHELL_BROADCAST.alerts };
}
