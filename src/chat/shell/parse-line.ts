import { didYouMean } from '../../did-you-mean.js';

/** One line typed into the shell chat, parsed. */
export type ShellLine =
  | { kind: 'empty' }
  | { kind: 'command'; as?: string; name: string; options: Record<string, string>; text: string }
  | { kind: 'decide'; as?: string; action: 'approve' | 'reject'; planId?: string; text: string }
  | { kind: 'invalid'; as?: string; message: string };

/** Splits on spaces, keeping "double quoted" or 'single quoted' parts (also inside name:"a b"). */
export function tokenize(line: string): string[] | { error: string } {
  const out: string[] = [];
  let cur = '';
  let quote: string | undefined;
  let has = false;
  for (const ch of line) {
    if (quote) {
      if (ch === quote) quote = undefined;
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      has = true;
    } else if (/\s/.test(ch)) {
      if (has || cur) out.push(cur);
      cur = '';
      has = false;
    } else {
      cur += ch;
    }
  }
  if (quote) return { error: `unclosed ${quote} quote` };
  if (has || cur) out.push(cur);
  return out;
}

/** What the parser needs to know of the commands (a CommandRegistry is one). */
export interface CommandNames {
  names(): string[];
  subcommandsOf(top: string): string[];
  get(name: string): { options: { shape: object } } | undefined;
}

/** The first words of the commands: "expose", "route", "cert", … */
export function topLevelNames(commands: CommandNames): string[] {
  return [...new Set(commands.names().map((n) => n.split(' ')[0]!))];
}

/**
 * `[@user] /cmd [sub] name:value …`, `[@user] approve [PLAN]`, `[@user] reject [PLAN]`.
 * Given the commands, a mistyped command, subcommand or option name is refused here with the
 * nearest known name; given only `isGroup` (whether a name takes a subcommand word, "route" →
 * "mode"), names are left for the dispatcher to check.
 */
export function parseShellLine(raw: string, commands: CommandNames | ((name: string) => boolean)): ShellLine {
  const catalog = typeof commands === 'function' ? undefined : commands;
  const isGroup = typeof commands === 'function' ? commands : (name: string) => commands.subcommandsOf(name).length > 0;
  const line = raw.trim();
  if (!line || line.startsWith('#')) return { kind: 'empty' };
  const tokens = tokenize(line);
  if (!Array.isArray(tokens)) return { kind: 'invalid', message: tokens.error };
  let as: string | undefined;
  if (tokens[0]?.startsWith('@')) {
    as = tokens.shift()!.slice(1);
    if (!as) return { kind: 'invalid', message: 'write @USER followed by a command' };
  }
  const text = as ? line.replace(/^@\S+\s*/, '') : line;
  const head = tokens.shift();
  if (!head) return { kind: 'invalid', as, message: 'nothing after @' + as };
  const word = head.replace(/^\//, '').toLowerCase();
  if (word === 'approve' || word === 'reject') {
    if (tokens.length > 1) return { kind: 'invalid', as, message: `${word} takes at most one plan id` };
    return { kind: 'decide', as, action: word, planId: tokens[0], text };
  }
  if (!head.startsWith('/')) return { kind: 'invalid', as, message: `commands start with / (try /help); "${head}" is not one` };
  let name = word;
  if (catalog && !isGroup(word) && !catalog.get(word)) {
    const tops = topLevelNames(catalog);
    const near = didYouMean(word, [...tops, 'approve', 'reject'], (n) => (n === 'approve' || n === 'reject' ? n : `/${n}`));
    return { kind: 'invalid', as, message: `unknown command /${word}; ${near ? `${near} ` : ''}/help lists what you may run` };
  }
  if (isGroup(word)) {
    const subs = catalog?.subcommandsOf(word) ?? [];
    const sub = tokens.shift();
    const takes = subs.length ? `: ${subs.map((s) => `/${word} ${s}`).join(', ')}` : '';
    if (!sub || sub.includes(':')) return { kind: 'invalid', as, message: `/${word} needs a subcommand${takes}` };
    if (catalog && !subs.includes(sub.toLowerCase()))
      return { kind: 'invalid', as, message: `unknown subcommand /${word} ${sub}; ${[didYouMean(sub, subs, (s) => `/${word} ${s}`), `/${word} takes ${subs.join(', ')}`].filter(Boolean).join(' ')}` };
    name = `${word} ${sub.toLowerCase()}`;
  }
  const options: Record<string, string> = {};
  for (const t of tokens) {
    const i = t.indexOf(':');
    if (i <= 0) return { kind: 'invalid', as, message: `options are written name:value; "${t}" is not` };
    const key = t.slice(0, i);
    if (key in options) return { kind: 'invalid', as, message: `option ${key} is given twice` };
    options[key] = t.slice(i + 1);
  }
  const shape = catalog?.get(name)?.options.shape;
  if (shape) {
    const known = Object.keys(shape);
    const unknown = Object.keys(options).filter((k) => !known.includes(k));
    if (unknown.length)
      return {
        kind: 'invalid',
        as,
        message: `/${name}: ${unknown.map((k) => `unknown option "${k}"${didYouMean(k, known, (n) => `${n}:`).replace(/^(.+)$/, ' ($1)')}`).join(', ')}; /${name} takes ${known.length ? known.map((k) => `${k}:`).join(' ') : 'no options'}`,
      };
  }
  return { kind: 'command', as, name, options, text };
}
