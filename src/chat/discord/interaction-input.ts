import {
  ApplicationCommandOptionType,
  type AutocompleteInteraction,
  type BaseInteraction,
  type ChatInputCommandInteraction,
  type CommandInteractionOption,
} from 'discord.js';
import type { Identity } from '../../plan/model.js';

/** Who acted: the user, with the role ids they hold in the guild (what access rules name). */
export function identityOf(i: BaseInteraction): Identity {
  const member = i.member;
  let roles: string[] = [];
  if (member && 'roles' in member) {
    const r = member.roles as unknown;
    if (Array.isArray(r)) roles = r as string[];
    else if (r && typeof r === 'object' && 'cache' in r) roles = [...(r as { cache: Map<string, unknown> }).cache.keys()];
  }
  // @everyone carries the guild's id; nobody grants access by it.
  roles = roles.filter((id) => id !== i.guildId);
  return { platform: 'discord', id: i.user.id, name: i.user.username, roles };
}

/** The command key the registry knows: "expose", "route mode". */
export function commandKeyOf(i: ChatInputCommandInteraction | AutocompleteInteraction): string {
  const group = i.options.getSubcommandGroup(false);
  const sub = i.options.getSubcommand(false);
  return [i.commandName, group, sub].filter(Boolean).join(' ');
}

function leaves(options: readonly CommandInteractionOption[]): CommandInteractionOption[] {
  return options.flatMap((o) =>
    o.type === ApplicationCommandOptionType.Subcommand || o.type === ApplicationCommandOptionType.SubcommandGroup ? leaves(o.options ?? []) : [o],
  );
}

/** Option values as Discord delivered them (typed); users as ids, attachments as their URL. */
export function optionValuesOf(i: ChatInputCommandInteraction | AutocompleteInteraction): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const o of leaves(i.options.data)) {
    if (o.type === ApplicationCommandOptionType.Attachment) out[o.name] = o.attachment?.url;
    else out[o.name] = o.value;
  }
  return out;
}

/** The command as a person would type it, for the plan header and the audit. */
export function commandTextOf(key: string, options: Record<string, unknown>): string {
  const parts = Object.entries(options).map(([k, v]) => {
    const s = String(v);
    return `${k}:${/\s/.test(s) ? JSON.stringify(s) : s}`;
  });
  return [`/${key}`, ...parts].join(' ');
}
