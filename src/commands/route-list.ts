import { z } from 'zod';
import type { OutMessage } from '../messages/message.js';
import type { CommandContext } from '../core/command.js';
import { isComplete } from '../traefik/exposures.js';
import { readRouting } from '../traefik/planning.js';

export const name = 'route list';
export const description = 'List the hosts labgate serves and how';
export const kind = 'read';
export const examples = ['/route list'];

export const options = z.object({});

export async function report(_opts: z.output<typeof options>, ctx: CommandContext): Promise<OutMessage> {
  const state = await readRouting(ctx.ports.kubernetes);
  const rows = [...state.exposures.values()]
    .sort((a, b) => a.host.localeCompare(b.host))
    .map((e) => [e.host, e.mode, isComplete(e) ? `${e.namespace}/${e.service}:${e.port}` : `${e.namespace}: incomplete (no IngressRoute; /expose again finishes it)`, e.objects.map((o) => `${o.kind}/${o.metadata.name}`).join(' ')]);
  return {
    kind: 'report',
    text: rows.length ? `${rows.length} host${rows.length === 1 ? '' : 's'} exposed by labgate` : 'No hosts are exposed by labgate yet; try /expose',
    table: rows.length ? { columns: ['host', 'mode', 'backend', 'objects'], rows } : undefined,
  };
}
