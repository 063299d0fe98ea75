import { z } from 'zod';
import type { OutMessage } from '../messages/message.js';
import { countOption } from '../core/command-options.js';
import type { LocalContext } from '../core/command.js';
import { iso } from '../duration.js';

export const name = 'audit';
export const description = 'Show the latest plans, decisions and results';
export const kind = 'local';
export const examples = ['/audit', '/audit count:50'];

export const options = z.object({ count: countOption(100, 'How many entries (default 10)').optional() });

// Plan entries record "<n> changes"; entries written before the count was made singular say "1 changes".
const outcomeText = (outcome: string) => outcome.replace(/^1 changes$/, '1 change');

export async function answer(opts: z.output<typeof options>, ctx: LocalContext): Promise<OutMessage> {
  const entries = await ctx.audit.latest(opts.count ?? 10);
  return {
    kind: 'report',
    text: entries.length ? `Latest ${entries.length} audit entr${entries.length === 1 ? 'y' : 'ies'}` : 'The audit log is empty',
    table: entries.length
      ? {
          columns: ['when', 'who', 'action', 'plan', 'command', 'hash', 'outcome'],
          rows: entries.map((e) => [iso(e.at), e.actor, e.action, e.planId ?? '', e.command ?? '', e.hash?.slice(0, 12) ?? '', outcomeText(e.outcome)]),
        }
      : undefined,
  };
}
