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

/**
 * `[@user] /cmd [sub] name:value …`, `[@user] approve [PLAN]`, `[@user] reject [PLAN]`.
 * `isGroup` tells whether a command name takes a subcommand word ("route" → "mode").
 */
export function parseShellLine(raw: string, isGroup: (name: string) => boolean): ShellLine {
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
  if (isGroup(word)) {
    const sub = tokens.shift();
    if (!sub || sub.includes(':')) return { kind: 'invalid', as, message: `/${word} needs a subcommand` };
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
  return { kind: 'command', as, name, options, text };
}
