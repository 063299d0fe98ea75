/**
 * Everything the fake Discord remembers that outlives one request, as a plain
 * JSON-serializable object the caller owns (so it can be persisted between runs).
 * Live interactions are not in here: their tokens expire within minutes anyway.
 */
export interface DiscordHarnessState {
  /** Feeds the low bits of generated snowflakes, so ids stay unique within one millisecond. */
  snowflakeCounter: number;
  /** Messages per channel id, oldest first, as Discord's message objects. */
  messages: Record<string, StoredMessage[]>;
  /** Bytes of uploaded files, base64, by attachment id. */
  uploads: Record<string, string>;
  /** DM channel id per user id. */
  dmChannels: Record<string, string>;
  /** User ids whose DMs are closed to the bot: DM creation works, sending fails with 50007. */
  closedDms: string[];
  /** Registered guild commands per guild id. */
  guildCommands: Record<string, RegisteredCommand[]>;
  globalCommands: RegisteredCommand[];
}

/** A message object as Discord returns it (the fields discord.js reads, plus whatever the payload set). */
export interface StoredMessage {
  id: string;
  channel_id: string;
  type: number;
  content: string;
  author: Record<string, unknown>;
  timestamp: string;
  edited_timestamp: string | null;
  tts: boolean;
  mention_everyone: boolean;
  mentions: unknown[];
  mention_roles: string[];
  attachments: StoredAttachment[];
  embeds: Record<string, unknown>[];
  pinned: boolean;
  flags: number;
  components: Record<string, unknown>[];
  webhook_id?: string;
  application_id?: string;
  interaction_metadata?: Record<string, unknown>;
  [extra: string]: unknown;
}

export interface StoredAttachment {
  id: string;
  filename: string;
  size: number;
  url: string;
  proxy_url: string;
  content_type?: string;
  description?: string;
  ephemeral?: boolean;
}

export interface RegisteredCommand {
  id: string;
  application_id: string;
  guild_id?: string;
  version: string;
  type: number;
  name: string;
  description: string;
  options?: CommandOptionDefinition[];
  default_member_permissions: string | null;
  nsfw: boolean;
  [extra: string]: unknown;
}

export interface CommandOptionDefinition {
  type: number;
  name: string;
  description: string;
  required?: boolean;
  choices?: { name: string; value: string | number }[];
  options?: CommandOptionDefinition[];
  autocomplete?: boolean;
  [extra: string]: unknown;
}

export function emptyDiscordHarnessState(): DiscordHarnessState {
  return {
    snowflakeCounter: 0,
    messages: {},
    uploads: {},
    dmChannels: {},
    closedDms: [],
    guildCommands: {},
    globalCommands: [],
  };
}

const DISCORD_EPOCH = 1420070400000n;

/** A real snowflake (timestamp in the high bits, so discord.js derives sane dates) from the state's counter. */
export function nextSnowflake(state: DiscordHarnessState, now = Date.now()): string {
  state.snowflakeCounter = (state.snowflakeCounter + 1) % 0x400000;
  return (((BigInt(now) - DISCORD_EPOCH) << 22n) | BigInt(state.snowflakeCounter)).toString();
}

/** The ISO timestamp Discord writes for a snowflake's creation time. */
export function snowflakeTimestamp(id: string): string {
  return new Date(Number((BigInt(id) >> 22n) + DISCORD_EPOCH)).toISOString().replace('Z', '000+00:00');
}
