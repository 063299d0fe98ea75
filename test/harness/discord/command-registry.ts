import { discordErrors, formError, mergeFormErrors } from './discord-errors.js';
import {
  nextSnowflake,
  type CommandOptionDefinition,
  type DiscordHarnessState,
  type RegisteredCommand,
} from './harness-state.js';

export interface CommandRegistryContext {
  state: DiscordHarnessState;
  applicationId: string;
  onChange: () => void;
}

const CHAT_INPUT = 1;
const SUB_COMMAND = 1;
const SUB_COMMAND_GROUP = 2;
const CHAT_NAME = /^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u;

/**
 * Registered application commands, guild and global, with Discord's bulk-overwrite rules:
 * a command keeps its id while its name and type stay, and gets a new `version` when its
 * definition changes.
 */
export class CommandRegistry {
  constructor(private readonly ctx: CommandRegistryContext) {}

  list(guildId?: string): RegisteredCommand[] {
    return guildId ? (this.ctx.state.guildCommands[guildId] ?? []) : this.ctx.state.globalCommands;
  }

  /** The command a user would pick by name: the guild's own first, then the global one. */
  find(name: string, guildId?: string): RegisteredCommand | undefined {
    const isChat = (c: RegisteredCommand) => c.name === name && c.type === CHAT_INPUT;
    return (guildId ? this.list(guildId).find(isChat) : undefined) ?? this.list().find(isChat);
  }

  /** `PUT /applications/{app}/[guilds/{guild}/]commands`: replaces the whole set. */
  overwrite(body: unknown, guildId?: string): RegisteredCommand[] {
    if (!Array.isArray(body)) {
      throw discordErrors.invalidFormBody(formError([], 'BASE_TYPE_ARRAY', 'Must be an array.'));
    }
    const errors = body.flatMap((raw, i) => validateCommand(raw, [i]));
    const seen = new Set<string>();
    body.forEach((raw: Record<string, unknown>, i) => {
      const key = `${raw?.type ?? CHAT_INPUT}:${String(raw?.name)}`;
      if (seen.has(key)) {
        errors.push(formError([i, 'name'], 'APPLICATION_COMMANDS_DUPLICATE_NAME', `Application command names must be unique`));
      }
      seen.add(key);
    });
    if (body.filter((c: Record<string, unknown>) => (c?.type ?? CHAT_INPUT) === CHAT_INPUT).length > 100) {
      errors.push(formError([], 'BASE_TYPE_MAX_LENGTH', 'Must be 100 or fewer in length.'));
    }
    if (errors.length) throw discordErrors.invalidFormBody(mergeFormErrors(errors));

    const previous = this.list(guildId);
    const next = body.map((raw: Record<string, unknown>) => this.upsertInto(previous, raw, guildId));
    this.save(next, guildId);
    return next;
  }

  /** `POST .../commands`: creates, or updates the command with the same name and type. */
  create(body: unknown, guildId?: string): { command: RegisteredCommand; created: boolean } {
    const errors = validateCommand(body, []);
    if (errors.length) throw discordErrors.invalidFormBody(mergeFormErrors(errors));
    const raw = body as Record<string, unknown>;
    const list = [...this.list(guildId)];
    const index = list.findIndex((c) => c.name === raw.name && c.type === (raw.type ?? CHAT_INPUT));
    const command = this.upsertInto(list, raw, guildId);
    if (index >= 0) list[index] = command;
    else list.push(command);
    this.save(list, guildId);
    return { command, created: index < 0 };
  }

  get(commandId: string, guildId?: string): RegisteredCommand {
    const command = this.list(guildId).find((c) => c.id === commandId);
    if (!command) throw discordErrors.unknownCommand();
    return command;
  }

  /** `PATCH .../commands/{id}`: fields present replace the old ones; the id stays even when renamed. */
  edit(commandId: string, body: unknown, guildId?: string): RegisteredCommand {
    const current = this.get(commandId, guildId);
    const merged = { ...definition(current), ...(body as Record<string, unknown>) };
    const errors = validateCommand(merged, []);
    if (errors.length) throw discordErrors.invalidFormBody(mergeFormErrors(errors));
    const updated = this.build(current, definition(merged), guildId);
    this.save(
      this.list(guildId).map((c) => (c.id === commandId ? updated : c)),
      guildId,
    );
    return updated;
  }

  delete(commandId: string, guildId?: string): void {
    this.get(commandId, guildId);
    this.save(
      this.list(guildId).filter((c) => c.id !== commandId),
      guildId,
    );
  }

  private upsertInto(previous: RegisteredCommand[], raw: Record<string, unknown>, guildId?: string): RegisteredCommand {
    const def = definition(raw);
    return this.build(
      previous.find((c) => c.name === def.name && c.type === def.type),
      def,
      guildId,
    );
  }

  private build(old: RegisteredCommand | undefined, def: Record<string, unknown>, guildId?: string): RegisteredCommand {
    const unchanged = old !== undefined && stableJson(definition(old)) === stableJson(def);
    return {
      id: old?.id ?? nextSnowflake(this.ctx.state),
      application_id: this.ctx.applicationId,
      ...(guildId ? { guild_id: guildId } : {}),
      version: unchanged ? old.version : nextSnowflake(this.ctx.state),
      ...def,
    } as RegisteredCommand;
  }

  private save(list: RegisteredCommand[], guildId?: string): void {
    if (guildId) this.ctx.state.guildCommands[guildId] = list;
    else this.ctx.state.globalCommands = list;
    this.ctx.onChange();
  }
}

/** The user-defined part of a command, with Discord's defaults filled in (what "changed" compares). */
function definition(raw: Record<string, unknown>): Record<string, unknown> {
  const type = (raw.type as number | undefined) ?? CHAT_INPUT;
  const options = Array.isArray(raw.options) ? (raw.options as Record<string, unknown>[]).map(normalizeOption) : [];
  return dropUndefined({
    type,
    name: raw.name,
    name_localizations: raw.name_localizations ?? null,
    description: raw.description ?? '',
    description_localizations: raw.description_localizations ?? null,
    ...(options.length ? { options } : {}),
    default_member_permissions: raw.default_member_permissions ?? null,
    dm_permission: raw.dm_permission,
    nsfw: raw.nsfw ?? false,
    contexts: raw.contexts ?? null,
    integration_types: raw.integration_types ?? [0],
  });
}

function normalizeOption(raw: Record<string, unknown>): CommandOptionDefinition {
  const { required, options, ...rest } = raw;
  return dropUndefined({
    ...rest,
    ...(required ? { required: true } : {}),
    ...(Array.isArray(options) && options.length
      ? { options: (options as Record<string, unknown>[]).map(normalizeOption) }
      : {}),
  }) as CommandOptionDefinition;
}

function dropUndefined<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${stableJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

const text = (v: unknown) => (typeof v === 'string' ? v : '');

/** Discord's registration checks; a generated command definition that breaks them fails here. */
function validateCommand(raw: unknown, path: (string | number)[]): Record<string, unknown>[] {
  if (!raw || typeof raw !== 'object') return [formError(path, 'DICT_TYPE_CONVERT', 'Only dictionaries may be used in a DictType')];
  const c = raw as Record<string, unknown>;
  const errors: Record<string, unknown>[] = [];
  const type = (c.type as number | undefined) ?? CHAT_INPUT;
  const name = text(c.name);
  if (type === CHAT_INPUT) {
    if (!CHAT_NAME.test(name) || name !== name.toLowerCase()) {
      errors.push(formError([...path, 'name'], 'APPLICATION_COMMAND_INVALID_NAME', 'Command name is invalid'));
    }
    const description = text(c.description);
    if (description.length < 1 || description.length > 100) {
      errors.push(formError([...path, 'description'], 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 100 in length.'));
    }
  } else if (name.length < 1 || name.length > 32) {
    errors.push(formError([...path, 'name'], 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 32 in length.'));
  }
  if (c.options !== undefined) {
    if (type !== CHAT_INPUT) {
      errors.push(formError([...path, 'options'], 'APPLICATION_COMMAND_OPTIONS_TYPE_INVALID', 'Only chat input commands take options'));
    } else if (!Array.isArray(c.options)) {
      errors.push(formError([...path, 'options'], 'BASE_TYPE_ARRAY', 'Must be an array.'));
    } else {
      errors.push(...validateOptions(c.options as unknown[], [...path, 'options'], 0));
    }
  }
  return errors;
}

function validateOptions(options: unknown[], path: (string | number)[], depth: number): Record<string, unknown>[] {
  const errors: Record<string, unknown>[] = [];
  if (options.length > 25) errors.push(formError(path, 'BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.'));
  const names = new Set<string>();
  let sawOptional = false;
  const kinds = new Set<'sub' | 'plain'>();
  options.forEach((raw, i) => {
    const at = [...path, i];
    const o = (raw ?? {}) as Record<string, unknown>;
    const type = o.type as number;
    const name = text(o.name);
    if (!Number.isInteger(type) || type < 1 || type > 11) {
      errors.push(formError([...at, 'type'], 'BASE_TYPE_CHOICES', 'Value must be one of (1, ..., 11).'));
    }
    if (!CHAT_NAME.test(name) || name !== name.toLowerCase()) {
      errors.push(formError([...at, 'name'], 'APPLICATION_COMMAND_INVALID_NAME', 'Command name is invalid'));
    }
    if (names.has(name)) {
      errors.push(formError([...at, 'name'], 'APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS', 'Option names must be unique'));
    }
    names.add(name);
    const description = text(o.description);
    if (description.length < 1 || description.length > 100) {
      errors.push(formError([...at, 'description'], 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 100 in length.'));
    }
    const isSub = type === SUB_COMMAND || type === SUB_COMMAND_GROUP;
    kinds.add(isSub ? 'sub' : 'plain');
    if (type === SUB_COMMAND_GROUP && depth > 0) {
      errors.push(formError([...at, 'type'], 'APPLICATION_COMMAND_OPTIONS_TYPE_INVALID', 'Subcommand groups must be at the top level'));
    }
    if (type === SUB_COMMAND && depth > 1) {
      errors.push(formError([...at, 'type'], 'APPLICATION_COMMAND_OPTIONS_TYPE_INVALID', 'Subcommands cannot be nested this deep'));
    }
    if (isSub) {
      const children = Array.isArray(o.options) ? (o.options as Record<string, unknown>[]) : [];
      if (type === SUB_COMMAND_GROUP && children.some((ch) => ch?.type !== SUB_COMMAND)) {
        errors.push(formError([...at, 'options'], 'APPLICATION_COMMAND_OPTIONS_TYPE_INVALID', 'A group holds only subcommands'));
      }
      if (type === SUB_COMMAND && children.some((ch) => ch?.type === SUB_COMMAND || ch?.type === SUB_COMMAND_GROUP)) {
        errors.push(formError([...at, 'options'], 'APPLICATION_COMMAND_OPTIONS_TYPE_INVALID', 'A subcommand cannot hold subcommands'));
      }
      errors.push(...validateOptions(children, [...at, 'options'], depth + 1));
      return;
    }
    if (o.required) {
      if (sawOptional) {
        errors.push(
          formError([...at, 'required'], 'APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID', 'Required options must be placed before non-required options'),
        );
      }
    } else {
      sawOptional = true;
    }
    if (o.choices !== undefined) errors.push(...validateChoices(o, at));
  });
  if (kinds.size > 1) {
    errors.push(formError(path, 'APPLICATION_COMMAND_OPTIONS_TYPE_INVALID', 'Subcommands cannot be mixed with other options'));
  }
  return errors;
}

function validateChoices(o: Record<string, unknown>, at: (string | number)[]): Record<string, unknown>[] {
  const errors: Record<string, unknown>[] = [];
  const type = o.type as number;
  const choices = Array.isArray(o.choices) ? (o.choices as Record<string, unknown>[]) : [];
  if (![3, 4, 10].includes(type)) {
    errors.push(formError([...at, 'choices'], 'APPLICATION_COMMAND_OPTION_CHOICES_INVALID', 'Only string, integer and number options take choices'));
  }
  if (o.autocomplete && choices.length) {
    errors.push(formError([...at, 'autocomplete'], 'APPLICATION_COMMAND_AUTOCOMPLETE_INVALID', 'Autocomplete cannot be set with choices'));
  }
  if (choices.length > 25) errors.push(formError([...at, 'choices'], 'BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.'));
  choices.forEach((ch, j) => {
    const n = text(ch.name);
    if (n.length < 1 || n.length > 100) {
      errors.push(formError([...at, 'choices', j, 'name'], 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 100 in length.'));
    }
    const ok =
      type === 3 ? typeof ch.value === 'string' && ch.value.length <= 100 : type === 4 ? Number.isInteger(ch.value) : typeof ch.value === 'number';
    if (!ok) errors.push(formError([...at, 'choices', j, 'value'], 'BASE_TYPE_CHOICES', 'Choice value does not match the option type'));
  });
  return errors;
}
