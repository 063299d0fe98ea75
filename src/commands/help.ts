import { z } from 'zod';
import type { OutMessage } from '../messages/message.js';
import { optionMeta } from '../core/command-options.js';
import type { LocalContext } from '../core/command.js';
import { AccessPolicy, principalsOf } from '../core/access.js';
import type { Identity } from '../plan/model.js';

export const name = 'help';
export const description = 'What you can ask labgate to do';
export const kind = 'local';
export const examples = ['/help'];

export const options = z.object({});

// No real requester is this one: mayApprove() then answers whether `who` approves at all.
const NOBODY: Identity = { platform: 'shell', id: '\u0000nobody', name: 'nobody', roles: [] };

/** Lists what this person may run (and approve), or, for someone with no rights, how to get them. */
export async function answer(_opts: z.output<typeof options>, ctx: LocalContext): Promise<OutMessage> {
  const lines: string[] = [];
  const mine = ctx.commands.filter((cmd) => cmd.name !== 'help' && ctx.mayRequest(cmd.name));
  for (const cmd of mine) {
    const shape = cmd.options.shape as Record<string, z.ZodType>;
    const opts = Object.entries(shape).map(([k, s]) => {
      const info = optionMeta(s);
      return info?.required ? `${k}:<${info.meta.type === 'integer' ? 'number' : k}>` : `[${k}:…]`;
    });
    lines.push(`/${cmd.name} ${opts.join(' ')}`.trimEnd() + ` — ${cmd.description}`);
    for (const ex of cmd.examples) if (ex !== `/${cmd.name}`) lines.push(`    e.g. ${ex}`);
  }
  const access = new AccessPolicy(ctx.config);
  const approves = ctx.commands.filter((cmd) => cmd.kind === 'change' && access.mayApprove(cmd.name, ctx.requester, NOBODY) === null);
  if (approves.length) lines.push(`approve [PLAN] / reject [PLAN] — decide a plan of ${approves.length === ctx.commands.filter((c) => c.kind === 'change').length ? 'any command' : approves.map((c) => `/${c.name}`).join(', ')} (default: the newest pending one)`);
  else if (mine.some((c) => c.kind === 'change')) lines.push('reject [PLAN] — withdraw a plan of yours before it is approved');
  if (!mine.length) {
    const you = principalsOf(ctx.requester).join(' or ');
    return {
      kind: 'help',
      text: 'You may not run any labgate command yet',
      lines: [`To get access, ask whoever runs labgate to add ${you} to a group in access.groups of labgate.yaml (or to a command's rule in access.commands).`, '/help — this message'],
    };
  }
  lines.push('/help — this list (only what you may run)');
  return { kind: 'help', text: 'labgate commands you may run', lines };
}
