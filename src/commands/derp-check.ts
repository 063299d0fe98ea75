import { z } from 'zod';
import type { OutMessage } from '../messages/message.js';
import { option } from '../core/command-options.js';
import type { CommandContext } from '../core/command.js';
import { UserError, UserErrorCode } from '../errors.js';
import { runDerpCheck } from '../planning/derp-check.js';
import { derpReport } from '../messages/derp-report.js';

export const name = 'derp-check';
export const description = 'Are the Traefik nodes reachable over Tailscale directly, and if not, why?';
export const kind = 'read';
export const examples = ['/derp-check', '/derp-check node:node-23'];

const NODE_ALLOWED = 'a Kubernetes node name (lowercase letters, digits, - and .)';

export const options = z.object({
  node: option(
    z.preprocess((v) => (typeof v === 'string' ? v.trim().toLowerCase() : v), z.string({ error: `must be ${NODE_ALLOWED}` }).regex(/^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/, { error: `must be ${NODE_ALLOWED}` })),
    { description: 'Only this node', type: 'string', allowed: NODE_ALLOWED, autocomplete: 'traefik-nodes' },
  ).optional(),
});

export async function report(opts: z.output<typeof options>, ctx: CommandContext): Promise<OutMessage> {
  const { tailscale, kubernetes, router } = ctx.ports;
  if (!tailscale) throw new UserError(UserErrorCode.Unavailable, 'Tailscale inspection is not available in this worker');
  const check = await runDerpCheck(
    { kube: kubernetes, tailscale, router },
    {
      daemonSet: ctx.config.tailscale.daemonSet,
      portBase: ctx.config.tailscale.portBase,
      concurrency: ctx.config.tailscale.concurrency,
      where: ctx.config.router ?? {},
      node: opts.node,
      ...(ctx.progress ? { onNodeDone: (done: number, total: number) => ctx.progress!(`asking ${total} node${total === 1 ? '' : 's'}: ${done} done`) } : {}),
    },
  );
  if (opts.node && !check.nodes.length) throw new UserError(UserErrorCode.NotFound, check.notes.at(-1) ?? `${opts.node} does not run Traefik`);
  const button = check.fixable && ctx.suggest ? await ctx.suggest('Fix: /router sync', { name: 'router sync', options: {}, text: '/router sync' }) : undefined;
  return derpReport(check, button);
}
