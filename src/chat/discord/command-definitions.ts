import { clip as clipTo } from '../../messages/text.js';
import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  type APIApplicationCommandBasicOption,
  type APIApplicationCommandSubcommandOption,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord.js';
import type { z } from 'zod';
import { optionMeta, type OptionMeta } from '../../core/command-options.js';
import type { CommandRegistry } from '../../core/command-registry.js';
import type { CommandModule } from '../../core/command.js';

// Discord takes at most 100 characters for command descriptions.
const clip = (s: string) => clipTo(s, 100);

export type CommandDefinition = RESTPostAPIChatInputApplicationCommandsJSONBody;

const WIRE_TYPE: Record<OptionMeta['type'], ApplicationCommandOptionType> = {
  string: ApplicationCommandOptionType.String,
  integer: ApplicationCommandOptionType.Integer,
  boolean: ApplicationCommandOptionType.Boolean,
  user: ApplicationCommandOptionType.User,
  attachment: ApplicationCommandOptionType.Attachment,
};


/** The Discord options of one command module, from its zod options and their OptionMeta. */
function optionsOf(cmd: CommandModule): APIApplicationCommandBasicOption[] {
  const shape = cmd.options.shape as Record<string, z.ZodType>;
  const out = Object.entries(shape).map(([name, schema]) => {
    const info = optionMeta(schema);
    if (!info) throw new Error(`command /${cmd.name}: option "${name}" has no option metadata (wrap it with option() from src/core/command-options.ts)`);
    const { meta, required } = info;
    const choices = meta.choices?.length ? meta.choices.slice(0, 25).map((c) => ({ name: c, value: c })) : undefined;
    return {
      type: WIRE_TYPE[meta.type],
      name,
      description: clip(meta.description),
      ...(required ? { required: true } : {}),
      ...(choices ? { choices } : meta.autocomplete ? { autocomplete: true } : {}),
    } as APIApplicationCommandBasicOption;
  });
  // Discord refuses a required option after an optional one.
  return [...out.filter((o) => o.required), ...out.filter((o) => !o.required)];
}

function groupDescription(top: string, subs: string[]): string {
  return clip(`${top[0]!.toUpperCase()}${top.slice(1)} commands: ${subs.join(', ')}`);
}

/**
 * The guild's slash commands, generated from the same command modules the shell uses:
 * "route mode" and "route list" become /route with two subcommands. Order follows the registry.
 */
export function discordCommandDefinitions(registry: CommandRegistry): CommandDefinition[] {
  const defs: CommandDefinition[] = [];
  const groups = new Map<string, CommandDefinition>();
  for (const cmd of registry.all()) {
    const [top, sub] = cmd.name.split(' ') as [string, string | undefined];
    if (!sub) {
      const options = optionsOf(cmd);
      defs.push({ type: ApplicationCommandType.ChatInput, name: top, description: clip(cmd.description), ...(options.length ? { options } : {}) });
      continue;
    }
    let group = groups.get(top);
    if (!group) {
      group = { type: ApplicationCommandType.ChatInput, name: top, description: groupDescription(top, registry.subcommandsOf(top)), options: [] };
      groups.set(top, group);
      defs.push(group);
    }
    const options = optionsOf(cmd);
    const subcommand: APIApplicationCommandSubcommandOption = {
      type: ApplicationCommandOptionType.Subcommand,
      name: sub,
      description: clip(cmd.description),
      ...(options.length ? { options } : {}),
    };
    group.options!.push(subcommand);
  }
  return defs;
}
