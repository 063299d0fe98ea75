import { z } from 'zod';
import type { CommandContext, PlanDraft } from '../core/command.js';
import { UserError, UserErrorCode } from '../errors.js';
import { planRouterSync } from '../planning/router-sync.js';
import { readTraefikNodes } from '../tailscale/traefik-nodes.js';

export const name = 'router sync';
export const description = "Forward each Traefik node's Tailscale UDP port on the router (one dst-nat rule per node)";
export const kind = 'change';
export const examples = ['/router sync'];

export const options = z.object({});

export async function plan(_opts: z.output<typeof options>, ctx: CommandContext): Promise<PlanDraft> {
  const router = ctx.ports.router;
  if (!router) throw new UserError(UserErrorCode.Unavailable, 'no router is configured: set ROUTEROS_HOST, ROUTEROS_USER and ROUTEROS_PASSWORD (see the README)');
  const [nodes, rules] = await Promise.all([readTraefikNodes(ctx.ports.kubernetes, ctx.config.tailscale.daemonSet), router.dstNatRules()]);
  if (!nodes.length) throw new UserError(UserErrorCode.NotFound, `no node runs ${ctx.config.tailscale.daemonSet.namespace}/${ctx.config.tailscale.daemonSet.name}; nothing to forward`);
  return planRouterSync({ nodes, rules, portBase: ctx.config.tailscale.portBase, where: ctx.config.router ?? {} });
}
