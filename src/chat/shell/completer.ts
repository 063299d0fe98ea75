import type { z } from 'zod';
import { optionMeta } from '../../core/command-options.js';
import type { CommandRegistry } from '../../core/command-registry.js';
import type { AccessPolicy } from '../../core/access.js';
import type { Autocompleter } from '../../core/autocomplete.js';
import type { Identity } from '../../plan/model.js';
import { topLevelNames } from './parse-line.js';

export interface CompletionSources {
  commands: CommandRegistry;
  access: AccessPolicy;
  /** Live values (namespaces, Services, ports, hosts, nodes): the same source as Discord's autocomplete. */
  autocomplete?: Autocompleter;
  /** Plan ids still pending, for approve/reject. */
  pendingPlans?: () => Promise<string[]>;
  users: string[];
  /** Who is typing when the line has no @USER. */
  user: string;
  identity: (name: string) => Identity;
  /** How long a completion may wait for live values before offering none (ms). */
  budgetMs?: number;
}

/** readline's answer: the candidates, and the part of the line they replace. */
export type Completion = [string[], string];

const startsWith = (typed: string) => (c: string) => c.toLowerCase().startsWith(typed.toLowerCase());

/** One candidate gets a trailing space (unless it ends a name awaiting its value), so the next word can follow at once. */
const finish = (candidates: string[], typed: string): Completion => [candidates.length === 1 && !candidates[0]!.endsWith(':') ? [`${candidates[0]} `] : candidates, typed];

function withBudget<T>(p: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p.catch(() => fallback), new Promise<T>((r) => (timer = setTimeout(() => r(fallback), ms)))]).finally(() => clearTimeout(timer));
}

/**
 * Completes the word under the cursor of a shell line: `@user`, commands and their
 * subcommands, option names not given yet (`service:`), and option values: choices, true/false,
 * shell users for `for:`, live cluster values through the Autocompleter (which offers nothing to
 * someone who may not run the command), and pending plan ids after approve/reject.
 */
export async function complete(lineToCursor: string, s: CompletionSources): Promise<Completion> {
  const words = lineToCursor.replace(/^\s+/, '').split(/\s+/);
  const typed = words.pop() ?? '';
  let who = s.user;
  if (!words.length && typed.startsWith('@')) return finish(s.users.map((u) => `@${u}`).filter(startsWith(typed)), typed);
  if (words[0]?.startsWith('@')) who = words.shift()!.slice(1);
  const identity = s.identity(who);
  const head = words[0];

  if (!head) {
    const mayRun = topLevelNames(s.commands).filter((top) => s.commands.names().some((n) => (n === top || n.startsWith(`${top} `)) && !s.access.mayRequest(n, identity)));
    return finish([...mayRun.map((n) => `/${n}`), 'approve', 'reject'].filter(startsWith(typed)), typed);
  }
  const word = head.replace(/^\//, '').toLowerCase();
  if (word === 'approve' || word === 'reject') {
    if (words.length > 1) return [[], typed];
    const ids = s.pendingPlans ? await withBudget(s.pendingPlans(), s.budgetMs ?? 2000, []) : [];
    return finish(ids.filter(startsWith(typed)), typed);
  }
  const subs = s.commands.subcommandsOf(word);
  if (subs.length && words.length === 1) return finish(subs.filter((sub) => !s.access.mayRequest(`${word} ${sub}`, identity)).filter(startsWith(typed)), typed);
  const name = subs.length ? `${word} ${words[1]?.toLowerCase()}` : word;
  const cmd = s.commands.get(name);
  if (!cmd) return [[], typed];
  const shape = cmd.options.shape as Record<string, z.ZodType>;
  const given: Record<string, string> = {};
  for (const w of words.slice(subs.length ? 2 : 1)) {
    const i = w.indexOf(':');
    if (i > 0) given[w.slice(0, i)] = w.slice(i + 1);
  }

  const colon = typed.indexOf(':');
  if (colon < 0) return finish(Object.keys(shape).filter((k) => !(k in given)).map((k) => `${k}:`).filter(startsWith(typed)), typed);
  const option = typed.slice(0, colon);
  const value = typed.slice(colon + 1);
  const meta = shape[option] ? optionMeta(shape[option])?.meta : undefined;
  if (!meta) return [[], value];
  let values: string[] = [];
  if (meta.choices) values = [...meta.choices];
  else if (meta.type === 'boolean') values = ['true', 'false'];
  else if (meta.type === 'user') values = s.users;
  else if (meta.autocomplete && s.autocomplete) {
    const found = await withBudget(s.autocomplete.suggest({ command: name, option, typed: value, options: given, who: identity }), s.budgetMs ?? 2000, []);
    // The Autocompleter ranks prefix matches first, then names containing what was typed.
    return finish(found.map((f) => String(f.value)), value);
  }
  return finish(values.filter(startsWith(value)), value);
}
