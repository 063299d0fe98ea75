import { z } from 'zod';
import { option } from '../core/command-options.js';
import type { Config } from '../config/load.js';
import { UserError, UserErrorCode } from '../errors.js';
import type { Identity } from '../plan/model.js';

const ALLOWED = 'a comma-separated list of people (@alice, a Discord mention) and groups from access.groups (family), or "everyone"';

/** `allow:` of /expose and /route mode: who may use an mtls-strict host. */
export const allowOption = () =>
  option(
    z.preprocess(
      (v) => (typeof v === 'string' ? v.trim() : v),
      z
        .string({ error: `must be ${ALLOWED}` })
        .min(1, { error: `must be ${ALLOWED}` })
        .max(500, { error: 'must be at most 500 characters' })
        .regex(/^[a-z0-9@<>!:,._\s-]+$/i, { error: `must be ${ALLOWED}` }),
    ),
    { description: 'mtls-strict: whose devices get in (@user, group); default every valid device certificate', type: 'string', allowed: ALLOWED },
  );

/**
 * Resolves `allow:` into device owners as the gate sees them (`shell:alice`, `discord:<id>`),
 * groups expanded now: the plan shows, and its signature covers, exactly who gets in.
 * Undefined for "everyone".
 */
export function resolveAllow(text: string | undefined, config: Config, requester: Identity): { text: string; owners: string[] } | undefined {
  if (text === undefined || text.trim().toLowerCase() === 'everyone') return undefined;
  const bad = (why: string) => new UserError(UserErrorCode.InvalidInput, `allow: ${why}; allow must be ${ALLOWED}`);
  const groups = config.access.groups;
  const owners = new Set<string>();
  const shown: string[] = [];
  const fromPrincipal = (p: string, where: string) => {
    if (p.startsWith('shell:')) return owners.add(`shell:${p.slice(6).toLowerCase()}`);
    const user = /^discord:user:(\d{17,20})$/.exec(p);
    if (user) return owners.add(`discord:${user[1]}`);
    throw bad(`${where} holds ${p}, which a device certificate cannot show (certificates name a person, not a role or "*")`);
  };
  for (const raw of text.split(',').map((t) => t.trim()).filter(Boolean)) {
    const mention = /^<@!?(\d{17,20})>$/.exec(raw) ?? /^@?(\d{17,20})$/.exec(raw);
    if (mention) {
      owners.add(`discord:${mention[1]}`);
      shown.push(`<@${mention[1]}>`);
    } else if (raw.startsWith('@')) {
      const name = raw.slice(1).toLowerCase();
      if (requester.platform === 'discord') throw bad(`${raw} is not a Discord mention; pick the person from the list so it becomes <@id>`);
      if (!config.shell.users.map((u) => u.toLowerCase()).includes(name)) throw bad(`${raw} is not a shell user (shell.users: ${config.shell.users.join(', ') || 'none'})`);
      owners.add(`shell:${name}`);
      shown.push(`@${name}`);
    } else if (raw.includes(':')) {
      fromPrincipal(raw, raw);
      shown.push(raw);
    } else if (groups[raw]) {
      for (const m of groups[raw]!) fromPrincipal(m, `group ${raw}`);
      shown.push(raw);
    } else throw bad(`"${raw}" is neither a person (@name) nor a group (groups: ${Object.keys(groups).join(', ') || 'none'})`);
  }
  if (!owners.size) throw bad('it names nobody');
  return { text: shown.join(', '), owners: [...owners].sort() };
}
