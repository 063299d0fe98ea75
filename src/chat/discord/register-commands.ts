import { Routes, type REST } from 'discord.js';
import type { CommandDefinition } from './command-definitions.js';

export interface RegistrationResult {
  applicationId: string;
  guildId: string;
  added: string[];
  changed: string[];
  removed: string[];
  unchanged: string[];
  /** Whether the bulk overwrite was sent (only when something differs). */
  wrote: boolean;
}

const OPTION_KEYS = ['type', 'name', 'description', 'required', 'choices', 'autocomplete', 'options', 'min_value', 'max_value', 'min_length', 'max_length', 'channel_types'];

/** The part of a command that its definition decides, with Discord's defaults dropped. */
function comparable(v: unknown, keys: string[]): unknown {
  if (Array.isArray(v)) return v.map((x) => comparable(x, OPTION_KEYS));
  if (!v || typeof v !== 'object') return v;
  const o = v as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    const x = o[k];
    if (x === undefined || x === null || x === false || (Array.isArray(x) && x.length === 0)) continue;
    out[k] = k === 'options' || k === 'choices' ? comparable(x, k === 'choices' ? ['name', 'value'] : OPTION_KEYS) : x;
  }
  return out;
}

const key = (c: { name: string; type?: number }) => `${c.type ?? 1}:${c.name}`;
const same = (a: unknown, b: unknown) =>
  JSON.stringify(comparable(a, ['type', 'name', 'description', 'options', 'default_member_permissions', 'nsfw'])) ===
  JSON.stringify(comparable(b, ['type', 'name', 'description', 'options', 'default_member_permissions', 'nsfw']));

/**
 * Makes the guild's commands exactly `defs`: reads what is registered
 * (`GET /applications/{app}/guilds/{guild}/commands`) and, only when something differs, bulk
 * overwrites them (`PUT` same path). Running it twice changes nothing the second time.
 */
export async function registerGuildCommands(rest: REST, target: { guildId: string; applicationId?: string }, defs: CommandDefinition[]): Promise<RegistrationResult> {
  const applicationId = target.applicationId ?? ((await rest.get(Routes.currentApplication())) as { id: string }).id;
  const route = Routes.applicationGuildCommands(applicationId, target.guildId);
  const current = (await rest.get(route)) as { name: string; type?: number }[];
  const byKey = new Map(current.map((c) => [key(c), c]));
  const wanted = new Set(defs.map((d) => key(d)));
  const res: RegistrationResult = { applicationId, guildId: target.guildId, added: [], changed: [], removed: [], unchanged: [], wrote: false };
  for (const d of defs) {
    const had = byKey.get(key(d));
    (had === undefined ? res.added : same(had, d) ? res.unchanged : res.changed).push(d.name);
  }
  res.removed = current.filter((c) => !wanted.has(key(c))).map((c) => c.name);
  if (res.added.length || res.changed.length || res.removed.length) {
    await rest.put(route, { body: defs });
    res.wrote = true;
  }
  return res;
}

/** One paragraph for the person who ran `labgate discord register`. */
export function describeRegistration(r: RegistrationResult): string {
  const total = r.added.length + r.changed.length + r.unchanged.length;
  if (!r.wrote) return `All ${total} commands are already registered in guild ${r.guildId} as defined; nothing changed.`;
  const part = (label: string, names: string[]) => (names.length ? `  ${label}: ${names.map((n) => `/${n}`).join(', ')}` : undefined);
  return [
    `Registered ${total} commands in guild ${r.guildId}:`,
    part('added', r.added),
    part('changed', r.changed),
    part('removed', r.removed),
    part('unchanged', r.unchanged),
  ]
    .filter(Boolean)
    .join('\n');
}
