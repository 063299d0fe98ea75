import { z } from 'zod';
import type { OutMessage } from '../messages/message.js';
import type { CommandContext } from '../core/command.js';
import { isComplete } from '../traefik/exposures.js';
import { readRouting } from '../traefik/planning.js';
import { hasGate, liveAllow } from '../traefik/routes.js';
import type { LiveExposure } from '../traefik/exposures.js';

/** Who gets in, for mtls-strict: the allow list, and a warning when the gate is missing (no revocation check). */
function accessOf(e: LiveExposure): string {
  if (e.mode !== 'mtls-strict') return '-';
  const who = liveAllow(e.objects)?.text ?? 'every device certificate';
  return hasGate(e.objects) ? who : `${who}; NO GATE: revoked certificates still get in (/route upgrade host:${e.host})`;
}

export const name = 'route list';
export const description = 'List the hosts labgate serves and how';
export const kind = 'read';
export const examples = ['/route list'];

export const options = z.object({});

export async function report(_opts: z.output<typeof options>, ctx: CommandContext): Promise<OutMessage> {
  const state = await readRouting(ctx.ports.kubernetes);
  const exposures = [...state.exposures.values()].sort((a, b) => a.host.localeCompare(b.host));
  // The access column only when some host is mtls-strict: who may use it, or that its gate is missing.
  const withAccess = exposures.some((e) => e.mode === 'mtls-strict');
  const rows = exposures.map((e) => [
    e.host,
    e.mode,
    ...(withAccess ? [accessOf(e)] : []),
    isComplete(e) ? `${e.namespace}/${e.service}:${e.port}` : `${e.namespace}: incomplete (no IngressRoute; /expose again finishes it)`,
    e.objects.map((o) => `${o.kind}/${o.metadata.name}`).join(' '),
  ]);
  return {
    kind: 'report',
    text: rows.length ? `${rows.length} host${rows.length === 1 ? '' : 's'} exposed by labgate` : 'No hosts are exposed by labgate yet; try /expose',
    table: rows.length ? { columns: ['host', 'mode', ...(withAccess ? ['access'] : []), 'backend', 'objects'], rows } : undefined,
  };
}
