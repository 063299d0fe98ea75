import { UserError, UserErrorCode } from '../errors.js';
import { optionMeta } from './command-options.js';
import type { CommandModule } from './command.js';

function shown(v: unknown): string {
  const s = typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}…` : s;
}

/**
 * Validates raw options (strings from the shell, typed values from Discord) against the
 * command's schema. Every problem is named in one message: field, what is allowed, what was given.
 */
export function validateOptions<C extends CommandModule>(cmd: C, raw: Record<string, unknown>): Record<string, unknown> {
  const shape = cmd.options.shape as Record<string, import('zod').ZodType>;
  const known = Object.keys(shape);
  const problems: string[] = [];
  for (const key of Object.keys(raw))
    if (!known.includes(key))
      problems.push(`unknown option "${key}"; /${cmd.name} takes ${known.length ? known.join(', ') : 'no options'}`);
  for (const key of known) {
    const info = optionMeta(shape[key]!);
    if (info?.required && (raw[key] === undefined || raw[key] === '')) problems.push(`${key}: missing; must be ${info.meta.allowed}`);
  }
  if (problems.length) throw new UserError(UserErrorCode.InvalidInput, `/${cmd.name}: ${problems.join('; ')}`);
  const res = cmd.options.safeParse(raw);
  if (!res.success) {
    for (const issue of res.error.issues) {
      const key = String(issue.path[0] ?? '');
      problems.push(key ? `${key}: ${issue.message} (got ${shown(raw[key])})` : issue.message);
    }
    throw new UserError(UserErrorCode.InvalidInput, `/${cmd.name}: ${problems.join('; ')}`);
  }
  return res.data as Record<string, unknown>;
}
