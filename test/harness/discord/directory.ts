/**
 * The fake Discord's fixed world: one application (whose bot user shares its id), one guild
 * with the channels `ops` and `alerts`, the roles `admins` and `operators`, and three people.
 * Ids are fixed so several harnesses in one process, golden files and logs all agree.
 */

export type UserKey = 'alice' | 'bob' | 'mallory';
export type RoleKey = 'admins' | 'operators';
export type ChannelKey = 'ops' | 'alerts';

export interface DirectoryUser {
  id: string;
  username: string;
  globalName: string;
  /** Role ids this person holds in the guild. */
  roles: string[];
}

export interface DirectoryRole {
  id: string;
  name: string;
  /** Permission bit set, as Discord sends it (decimal string). */
  permissions: string;
  position: number;
}

export interface DirectoryChannel {
  id: string;
  name: string;
  position: number;
}

export interface Directory {
  applicationId: string;
  botUsername: string;
  guildId: string;
  guildName: string;
  ownerId: string;
  users: Record<UserKey, DirectoryUser>;
  roles: Record<RoleKey, DirectoryRole>;
  channels: Record<ChannelKey, DirectoryChannel>;
}

const P = {
  ADMINISTRATOR: 1n << 3n,
  ADD_REACTIONS: 1n << 6n,
  VIEW_CHANNEL: 1n << 10n,
  SEND_MESSAGES: 1n << 11n,
  MANAGE_MESSAGES: 1n << 13n,
  EMBED_LINKS: 1n << 14n,
  ATTACH_FILES: 1n << 15n,
  READ_MESSAGE_HISTORY: 1n << 16n,
  USE_APPLICATION_COMMANDS: 1n << 31n,
};

/** Every permission Discord currently defines (what an administrator or the owner gets). */
export const ALL_PERMISSIONS = ((1n << 51n) - 1n).toString();

const EVERYONE_PERMISSIONS =
  P.ADD_REACTIONS |
  P.VIEW_CHANNEL |
  P.SEND_MESSAGES |
  P.EMBED_LINKS |
  P.ATTACH_FILES |
  P.READ_MESSAGE_HISTORY |
  P.USE_APPLICATION_COMMANDS;

/** What the bot may do in the guild's channels (sent as `app_permissions`). */
export const APP_PERMISSIONS = (EVERYONE_PERMISSIONS | P.MANAGE_MESSAGES).toString();

export function defaultDirectory(): Directory {
  return {
    applicationId: '1270000000000000001',
    botUsername: 'labgate',
    guildId: '1260000000000000002',
    guildName: 'homelab',
    ownerId: '1250000000000000004',
    users: {
      alice: { id: '1250000000000000004', username: 'alice', globalName: 'Alice', roles: ['1263000000000000001', '1263000000000000002'] },
      bob: { id: '1250000000000000005', username: 'bob', globalName: 'Bob', roles: ['1263000000000000002'] },
      mallory: { id: '1250000000000000006', username: 'mallory', globalName: 'Mallory', roles: [] },
    },
    roles: {
      admins: { id: '1263000000000000001', name: 'admins', permissions: P.ADMINISTRATOR.toString(), position: 2 },
      operators: {
        id: '1263000000000000002',
        name: 'operators',
        permissions: (EVERYONE_PERMISSIONS | P.MANAGE_MESSAGES).toString(),
        position: 1,
      },
    },
    channels: {
      ops: { id: '1261000000000000003', name: 'ops', position: 0 },
      alerts: { id: '1261000000000000004', name: 'alerts', position: 1 },
    },
  };
}

/** A user object as Discord sends it. */
export function apiUser(u: DirectoryUser): Record<string, unknown> {
  return { id: u.id, username: u.username, discriminator: '0', global_name: u.globalName, avatar: null, public_flags: 0 };
}

export function apiBotUser(dir: Directory): Record<string, unknown> {
  return {
    id: dir.applicationId,
    username: dir.botUsername,
    discriminator: '0000',
    global_name: null,
    avatar: null,
    bot: true,
    public_flags: 0,
    flags: 0,
  };
}

export function apiRoles(dir: Directory): Record<string, unknown>[] {
  const everyone = { id: dir.guildId, name: '@everyone', permissions: EVERYONE_PERMISSIONS.toString(), position: 0 };
  return [everyone, ...Object.values(dir.roles)].map((r) => ({
    id: r.id,
    name: r.name,
    color: 0,
    colors: { primary_color: 0, secondary_color: null, tertiary_color: null },
    hoist: false,
    icon: null,
    unicode_emoji: null,
    position: r.position,
    permissions: r.permissions,
    managed: false,
    mentionable: false,
    flags: 0,
  }));
}

/** Effective guild permissions of a member: @everyone plus their roles; admins and the owner get all. */
export function memberPermissions(dir: Directory, userId: string): string {
  if (userId === dir.ownerId) return ALL_PERMISSIONS;
  const user = Object.values(dir.users).find((u) => u.id === userId);
  let bits = EVERYONE_PERMISSIONS;
  for (const roleId of user?.roles ?? []) {
    const role = Object.values(dir.roles).find((r) => r.id === roleId);
    if (role) bits |= BigInt(role.permissions);
  }
  return bits & P.ADMINISTRATOR ? ALL_PERMISSIONS : bits.toString();
}

const JOINED_AT = '2026-01-10T12:00:00.000000+00:00';

/** A guild member object (with `user`, as in GUILD_CREATE and REST). */
export function apiMember(u: DirectoryUser): Record<string, unknown> {
  return memberOf(apiUser(u), [...u.roles]);
}

function memberOf(user: Record<string, unknown>, roles: string[]): Record<string, unknown> {
  return {
    user,
    roles,
    nick: null,
    avatar: null,
    banner: null,
    joined_at: JOINED_AT,
    premium_since: null,
    deaf: false,
    mute: false,
    pending: false,
    flags: 0,
    communication_disabled_until: null,
  };
}

export function apiBotMember(dir: Directory): Record<string, unknown> {
  return memberOf(apiBotUser(dir), []);
}

/** A guild text channel object; `guild_id` is left out inside GUILD_CREATE, as Discord does. */
export function apiGuildChannel(
  dir: Directory,
  c: DirectoryChannel,
  lastMessageId: string | null,
  withGuildId = true,
): Record<string, unknown> {
  return {
    id: c.id,
    type: 0,
    ...(withGuildId ? { guild_id: dir.guildId } : {}),
    name: c.name,
    position: c.position,
    parent_id: null,
    topic: null,
    nsfw: false,
    last_message_id: lastMessageId,
    rate_limit_per_user: 0,
    permission_overwrites: [],
    flags: 0,
  };
}

export function apiGuild(dir: Directory): Record<string, unknown> {
  return {
    id: dir.guildId,
    name: dir.guildName,
    icon: null,
    splash: null,
    discovery_splash: null,
    owner_id: dir.ownerId,
    afk_channel_id: null,
    afk_timeout: 300,
    verification_level: 0,
    default_message_notifications: 1,
    explicit_content_filter: 0,
    roles: apiRoles(dir),
    emojis: [],
    stickers: [],
    features: [],
    mfa_level: 0,
    application_id: null,
    system_channel_id: null,
    system_channel_flags: 0,
    rules_channel_id: null,
    public_updates_channel_id: null,
    safety_alerts_channel_id: null,
    vanity_url_code: null,
    description: null,
    banner: null,
    premium_tier: 0,
    premium_subscription_count: 0,
    preferred_locale: 'en-US',
    nsfw_level: 0,
    premium_progress_bar_enabled: false,
  };
}

/** The GUILD_CREATE payload: the guild plus its channels, members and the empty lists discord.js reads. */
export function apiGuildCreate(dir: Directory, lastMessageIds: Record<string, string | null>): Record<string, unknown> {
  const members = [...Object.values(dir.users).map((u) => apiMember(u)), apiBotMember(dir)];
  return {
    ...apiGuild(dir),
    unavailable: false,
    joined_at: JOINED_AT,
    large: false,
    member_count: members.length,
    members,
    channels: Object.values(dir.channels).map((c) => apiGuildChannel(dir, c, lastMessageIds[c.id] ?? null, false)),
    threads: [],
    presences: [],
    voice_states: [],
    stage_instances: [],
    guild_scheduled_events: [],
    soundboard_sounds: [],
  };
}
