import { z } from 'zod';
import type { OutMessage } from '../src/chat/message.js';
import { optionMeta } from '../src/commands/options.js';
import type { LocalContext } from '../src/commands/types.js';

export const name = 'help';
export const description = 'What you can ask labgate to do';
export const kind = 'local';
export const examples = ['/help'];

export const options = z.object({});

export async function answer(_opts: z.output<typeof options>, ctx: LocalContext): Promise<OutMessage> {
  const lines: string[] = [];
  for (const cmd of ctx.commands) {
    if (cmd.name !== 'help' && !ctx.mayRequest(cmd.name)) continue;
    const shape = cmd.options.shape as Record<string, z.ZodType>;
    const opts = Object.entries(shape).map(([k, s]) => {
      const info = optionMeta(s);
      return info?.required ? `${k}:<${info.meta.type === 'integer' ? 'number' : k}>` : `[${k}:…]`;
    });
    lines.push(`/${cmd.name} ${opts.join(' ')}`.trimEnd() + ` — ${cmd.description}`);
    for (const ex of cmd.examples) if (ex !== `/${cmd.name}`) lines.push(`    e.g. ${ex}`);
  }
  lines.push('approve [PLAN] / reject [PLAN] — decide a plan (default: the newest pending one)');
  return { kind: 'help', text: 'labgate commands', lines };
}
