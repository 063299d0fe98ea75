import { z } from 'zod';
import { hostOption } from '../core/command-options.js';
import type { CommandContext, PlanDraft } from '../core/command.js';
import { UserError, UserErrorCode } from '../errors.js';
import { isManaged } from '../kubernetes/objects.js';
import { describeExposure } from '../traefik/exposures.js';
import { exposureChanges, qualifyHost, readRouting } from '../traefik/planning.js';
import { describeRoute, routeServesHost } from '../traefik/routes.js';

export const name = 'unexpose';
export const description = 'Stop serving a host: remove the Traefik objects labgate created for it';
export const kind = 'change';
export const examples = ['/unexpose host:photos'];

export const options = z.object({ host: hostOption('Host labgate serves') });

export async function plan(opts: z.output<typeof options>, ctx: CommandContext): Promise<PlanDraft> {
  const host = qualifyHost(opts.host, ctx.config.domain);
  const state = await readRouting(ctx.ports.kubernetes);
  const current = state.exposures.get(host);
  if (!current) {
    const foreign = state.routes.find((r) => routeServesHost(r, host, { exactOnly: true }) && !isManaged(r));
    throw new UserError(
      UserErrorCode.NotOwned,
      foreign ? `${host} is served by ${describeRoute(foreign)}, which labgate does not manage; labgate will not remove it` : `${host} is not exposed by labgate; /route list shows what is`,
    );
  }
  const changes = await exposureChanges(ctx.ports.kubernetes, host, current.objects, []);
  return { summary: [`Stop serving https://${host} (${describeExposure(current)})`, ...changes.map((c) => c.summary)], changes };
}
