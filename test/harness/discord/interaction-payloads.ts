import type { CommandRegistry } from './command-registry.js';
import {
  APP_PERMISSIONS,
  apiGuildChannel,
  apiMember,
  apiRoles,
  apiUser,
  memberPermissions,
  type ChannelKey,
  type Directory,
  type DirectoryUser,
  type UserKey,
} from './directory.js';
import type { CommandOptionDefinition, StoredAttachment, StoredMessage } from './harness-state.js';
import { flattenComponents, MESSAGE_FLAGS, type MessageStore } from './message-store.js';

/** A person, by directory key (`'alice'`) or by user id. */
export type UserRef = UserKey | (string & {});

/** Where an interaction happens: a guild channel by key or id, or `'dm'` (the invoker's DM with the bot). */
export type ChannelRef = ChannelKey | 'dm' | (string & {});

export interface AttachmentInput {
  filename: string;
  bytes?: Buffer | string;
  contentType?: string;
}

/**
 * An option value as a test writes it. Plain values are typed from the registered command
 * definition when there is one (so `3` for a NUMBER option is sent as a NUMBER), else inferred.
 */
export type OptionInput =
  | string
  | number
  | boolean
  | { user: UserRef }
  | { channel: ChannelKey | (string & {}) }
  | { role: string }
  | { attachment: AttachmentInput }
  | { type: number; value: string | number | boolean };

export interface InvokeOptions {
  subcommand?: string;
  group?: string;
  /** Default: `ops`. */
  channel?: ChannelRef;
  locale?: string;
}

export interface PayloadContext {
  dir: Directory;
  registry: CommandRegistry;
  messages: MessageStore;
  /** The DM channel object for a user, created if needed. */
  dmChannel: (userId: string) => Record<string, unknown>;
  /** The user whose DM channel this is, if it is one. */
  dmRecipient: (channelId: string) => string | undefined;
  newId: () => string;
}

const T = { SUB_COMMAND: 1, SUB_COMMAND_GROUP: 2, STRING: 3, INTEGER: 4, BOOLEAN: 5, USER: 6, CHANNEL: 7, ROLE: 8, MENTIONABLE: 9, NUMBER: 10, ATTACHMENT: 11 };

export function resolveUser(dir: Directory, ref: UserRef): DirectoryUser {
  const user = (dir.users as Record<string, DirectoryUser>)[ref] ?? Object.values(dir.users).find((u) => u.id === ref);
  if (!user) throw new Error(`discord harness: unknown user ${JSON.stringify(ref)} (known: ${Object.keys(dir.users).join(', ')})`);
  return user;
}

function guildChannelById(dir: Directory, ref: string) {
  return (dir.channels as Record<string, Directory['channels']['ops']>)[ref] ?? Object.values(dir.channels).find((c) => c.id === ref);
}

/**
 * The fields every interaction carries that say who and where (member or user, channel object,
 * context, authorizing_integration_owners, entitlements): what discord.js 14.27+ requires.
 */
export function interactionEnvelope(
  ctx: PayloadContext,
  user: DirectoryUser,
  channelRef: ChannelRef,
  locale = 'en-US',
): Record<string, unknown> {
  const { dir } = ctx;
  const common = {
    application_id: dir.applicationId,
    version: 1,
    app_permissions: APP_PERMISSIONS,
    locale,
    entitlements: [],
    attachment_size_limit: 10 * 1024 * 1024,
  };
  const guildChannel = channelRef === 'dm' ? undefined : guildChannelById(dir, channelRef);
  if (guildChannel) {
    const permissions = memberPermissions(dir, user.id);
    return {
      ...common,
      guild_id: dir.guildId,
      guild: { id: dir.guildId, locale: 'en-US', features: [] },
      guild_locale: 'en-US',
      channel_id: guildChannel.id,
      channel: { ...apiGuildChannel(dir, guildChannel, ctx.messages.lastMessageId(guildChannel.id)), permissions },
      member: { ...apiMember(user), permissions },
      authorizing_integration_owners: { '0': dir.guildId },
      context: 0,
    };
  }
  const dmChannel = channelRef === 'dm' ? ctx.dmChannel(user.id) : undefined;
  const recipient = channelRef === 'dm' ? user.id : ctx.dmRecipient(channelRef);
  if (!recipient) throw new Error(`discord harness: unknown channel ${JSON.stringify(channelRef)}`);
  if (recipient !== user.id) {
    throw new Error(`discord harness: ${user.username} cannot act in another user's DM channel ${channelRef}`);
  }
  const channel = dmChannel ?? ctx.dmChannel(recipient);
  return {
    ...common,
    channel_id: channel.id,
    channel: { ...channel, last_message_id: ctx.messages.lastMessageId(channel.id as string) },
    user: apiUser(user),
    authorizing_integration_owners: { '0': '0' },
    context: 1,
  };
}

/**
 * `data` of a chat-input (or autocomplete) interaction: the command id, options nested under
 * the subcommand (and group), and `resolved` for users, members, channels, roles, attachments.
 */
export function chatInputData(
  ctx: PayloadContext,
  name: string,
  options: Record<string, OptionInput>,
  invoke: InvokeOptions,
  inGuild: boolean,
  focused?: string,
): Record<string, unknown> {
  const { dir } = ctx;
  const command = ctx.registry.find(name, inGuild ? dir.guildId : undefined);
  if (!command && ctx.registry.find(name, dir.guildId)) {
    throw new Error(`discord harness: /${name} is registered for the guild only; it cannot be used in a DM`);
  }
  let declared: CommandOptionDefinition[] | undefined = command ? (command.options ?? []) : undefined;
  const path: string[] = [];
  if (invoke.group) {
    declared = pick(declared, invoke.group, T.SUB_COMMAND_GROUP, `/${name}`);
    path.push(invoke.group);
  }
  if (invoke.subcommand) {
    declared = pick(declared, invoke.subcommand, T.SUB_COMMAND, `/${[name, ...path].join(' ')}`);
  } else if (declared?.some((o) => o.type === T.SUB_COMMAND || o.type === T.SUB_COMMAND_GROUP)) {
    throw new Error(`discord harness: /${name} has subcommands; pass { subcommand }`);
  }

  const resolved: Record<string, Record<string, unknown>> = {};
  const leaf: Record<string, unknown>[] = [];
  const entries = Object.entries(options);
  if (focused !== undefined && !entries.some(([k]) => k === focused)) entries.push([focused, '']);
  for (const [optName, input] of entries) {
    const decl = declared?.find((o) => o.name === optName);
    if (declared && !decl) {
      throw new Error(`discord harness: /${name} has no option "${optName}" (declared: ${declared.map((o) => o.name).join(', ') || 'none'})`);
    }
    const isFocused = optName === focused;
    const type = decl?.type ?? inferType(input);
    const value = isFocused ? focusedValue(input) : toValue(ctx, input, type, optName, resolved, inGuild);
    if (decl && !isFocused && focused === undefined) checkConstraints(decl, value, `/${name} ${optName}`);
    leaf.push({ type, name: optName, value, ...(isFocused ? { focused: true } : {}) });
  }
  if (declared && focused === undefined) {
    const missing = declared.filter((o) => o.required && !(o.name in options)).map((o) => o.name);
    if (missing.length) throw new Error(`discord harness: /${name} is missing required option(s) ${missing.join(', ')}`);
  }

  let top: Record<string, unknown>[] = leaf;
  if (invoke.subcommand) top = [{ type: T.SUB_COMMAND, name: invoke.subcommand, options: leaf }];
  if (invoke.group) top = [{ type: T.SUB_COMMAND_GROUP, name: invoke.group, options: top }];
  return {
    // An unregistered command still needs an id; a fresh one per call is what a stale client would show.
    id: command?.id ?? ctx.newId(),
    name,
    type: 1,
    ...(command?.guild_id ? { guild_id: command.guild_id } : {}),
    ...(top.length ? { options: top } : {}),
    ...(Object.keys(resolved).length && focused === undefined ? { resolved } : {}),
  };
}

/** `data` and `message` of a button click, after checking the button exists and may be clicked. */
export function buttonData(
  message: StoredMessage,
  customId: string,
  clicker: DirectoryUser,
): { data: Record<string, unknown>; message: StoredMessage } {
  const components = flattenComponents(message.components);
  const button = components.find((c) => c.type === 2 && c.custom_id === customId);
  if (!button) {
    const ids = components.filter((c) => typeof c.custom_id === 'string').map((c) => c.custom_id);
    throw new Error(`discord harness: message ${message.id} has no component "${customId}" (has: ${ids.join(', ') || 'none'})`);
  }
  if (button.disabled) throw new Error(`discord harness: button "${customId}" on message ${message.id} is disabled`);
  const meta = message.interaction_metadata as { user?: { id?: string } } | undefined;
  if (message.flags & MESSAGE_FLAGS.EPHEMERAL && meta?.user?.id && meta.user.id !== clicker.id) {
    throw new Error(`discord harness: message ${message.id} is ephemeral; only its invoker can see it`);
  }
  return {
    data: { custom_id: customId, component_type: 2, ...(typeof button.id === 'number' ? { id: button.id } : {}) },
    message: structuredClone(message),
  };
}

function pick(
  declared: CommandOptionDefinition[] | undefined,
  name: string,
  type: number,
  where: string,
): CommandOptionDefinition[] | undefined {
  if (!declared) return undefined;
  const found = declared.find((o) => o.name === name && o.type === type);
  if (!found) throw new Error(`discord harness: ${where} has no ${type === T.SUB_COMMAND ? 'subcommand' : 'group'} "${name}"`);
  return found.options ?? [];
}

function inferType(input: OptionInput): number {
  if (typeof input === 'string') return T.STRING;
  if (typeof input === 'boolean') return T.BOOLEAN;
  if (typeof input === 'number') return Number.isInteger(input) ? T.INTEGER : T.NUMBER;
  if ('type' in input) return input.type;
  if ('user' in input) return T.USER;
  if ('channel' in input) return T.CHANNEL;
  if ('role' in input) return T.ROLE;
  return T.ATTACHMENT;
}

function focusedValue(input: OptionInput): string | number {
  if (typeof input === 'string' || typeof input === 'number') return input;
  if (typeof input === 'boolean') return String(input);
  if ('value' in input && typeof input.value !== 'boolean') return input.value;
  throw new Error('discord harness: a focused autocomplete option is what the user typed: a string or number');
}

function toValue(
  ctx: PayloadContext,
  input: OptionInput,
  type: number,
  name: string,
  resolved: Record<string, Record<string, unknown>>,
  inGuild: boolean,
): string | number | boolean {
  const { dir } = ctx;
  const bad = () => new Error(`discord harness: option "${name}" cannot be ${JSON.stringify(input)} (type ${type})`);
  if (typeof input === 'object' && 'type' in input && 'value' in input) return input.value;
  switch (type) {
    case T.STRING:
      if (typeof input === 'object') throw bad();
      return String(input);
    case T.INTEGER:
    case T.NUMBER: {
      const n = typeof input === 'string' && input.trim() !== '' ? Number(input) : input;
      if (typeof n !== 'number' || Number.isNaN(n) || (type === T.INTEGER && !Number.isInteger(n))) throw bad();
      return n;
    }
    case T.BOOLEAN:
      if (typeof input === 'boolean') return input;
      if (input === 'true' || input === 'false') return input === 'true';
      throw bad();
    case T.USER:
    case T.MENTIONABLE: {
      const ref = typeof input === 'string' ? input : typeof input === 'object' && 'user' in input ? input.user : undefined;
      const roleRef = typeof input === 'object' && 'role' in input ? input.role : undefined;
      if (type === T.MENTIONABLE && (roleRef || (ref && !isUser(dir, ref)))) return addRole(dir, roleRef ?? ref!, resolved, bad);
      if (!ref) throw bad();
      const user = resolveUser(dir, ref);
      (resolved.users ??= {})[user.id] = apiUser(user);
      if (inGuild) {
        (resolved.members ??= {})[user.id] = {
          roles: [...user.roles],
          nick: null,
          avatar: null,
          joined_at: '2026-01-10T12:00:00.000000+00:00',
          premium_since: null,
          pending: false,
          flags: 0,
          communication_disabled_until: null,
          permissions: memberPermissions(dir, user.id),
        };
      }
      return user.id;
    }
    case T.CHANNEL: {
      const ref = typeof input === 'string' ? input : typeof input === 'object' && 'channel' in input ? input.channel : undefined;
      const channel = ref ? guildChannelById(dir, ref) : undefined;
      if (!channel) throw bad();
      (resolved.channels ??= {})[channel.id] = {
        id: channel.id,
        name: channel.name,
        type: 0,
        parent_id: null,
        nsfw: false,
        flags: 0,
        permissions: APP_PERMISSIONS,
      };
      return channel.id;
    }
    case T.ROLE: {
      const ref = typeof input === 'string' ? input : typeof input === 'object' && 'role' in input ? input.role : undefined;
      if (!ref) throw bad();
      return addRole(dir, ref, resolved, bad);
    }
    case T.ATTACHMENT: {
      const spec = typeof input === 'object' && 'attachment' in input ? input.attachment : (input as unknown as AttachmentInput);
      if (!spec || typeof spec !== 'object' || typeof spec.filename !== 'string') throw bad();
      const bytes = Buffer.isBuffer(spec.bytes) ? spec.bytes : Buffer.from(spec.bytes ?? '');
      const att: StoredAttachment = ctx.messages.upload('ephemeral-attachments', spec.filename, bytes, spec.contentType);
      (resolved.attachments ??= {})[att.id] = { ...att, ephemeral: true };
      return att.id;
    }
    default:
      throw bad();
  }
}

function isUser(dir: Directory, ref: string): boolean {
  return ref in dir.users || Object.values(dir.users).some((u) => u.id === ref);
}

function addRole(dir: Directory, ref: string, resolved: Record<string, Record<string, unknown>>, bad: () => Error): string {
  const role = apiRoles(dir).find((r) => r.id === ref || r.name === ref);
  if (!role) throw bad();
  (resolved.roles ??= {})[role.id as string] = role;
  return role.id as string;
}

function checkConstraints(decl: CommandOptionDefinition, value: unknown, where: string): void {
  const fail = (why: string) => new Error(`discord harness: Discord would not send ${where}=${JSON.stringify(value)}: ${why}`);
  if (decl.choices?.length && !decl.choices.some((c) => c.value === value)) {
    throw fail(`not one of the choices ${decl.choices.map((c) => JSON.stringify(c.value)).join(', ')}`);
  }
  const min = decl.min_value as number | undefined;
  const max = decl.max_value as number | undefined;
  if (typeof value === 'number' && ((min !== undefined && value < min) || (max !== undefined && value > max))) {
    throw fail(`outside [${min ?? '-∞'}, ${max ?? '∞'}]`);
  }
  const minLen = decl.min_length as number | undefined;
  const maxLen = decl.max_length as number | undefined;
  if (typeof value === 'string' && ((minLen !== undefined && value.length < minLen) || (maxLen !== undefined && value.length > maxLen))) {
    throw fail(`length outside [${minLen ?? 0}, ${maxLen ?? 6000}]`);
  }
}
