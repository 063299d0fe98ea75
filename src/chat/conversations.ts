import type { Config } from '../config/load.js';
import type { ConversationRef } from './message.js';

export const SHELL_CONVERSATION: ConversationRef = { platform: 'shell', channel: 'shell' };

/** Where plans and results go: the Discord ops channel when Discord is configured, else the shell. */
export function opsConversation(config: Config): ConversationRef {
  if (config.discord && config.env.DISCORD_TOKEN) return { platform: 'discord', guildId: config.discord.guildId, channelId: config.discord.channels.ops };
  return SHELL_CONVERSATION;
}

/** Where alerts go: the Discord alerts channel (else ops) when Discord is configured, else the shell. */
export function alertsConversation(config: Config): ConversationRef {
  if (config.discord && config.env.DISCORD_TOKEN)
    return { platform: 'discord', guildId: config.discord.guildId, channelId: config.discord.channels.alerts ?? config.discord.channels.ops };
  return SHELL_CONVERSATION;
}
