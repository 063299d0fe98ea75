import { z } from 'zod';
import { hostOption, modeOption } from '../core/command-options.js';
import type { CommandContext, PlanDraft } from '../core/command.js';
import { UserError, UserErrorCode } from '../errors.js';
import { isManaged } from '../kubernetes/objects.js';
import { clientCaSource } from '../openbao/client-ca.js';
import { ACCESS_MODE_HELP } from '../traefik/access-modes.js';
import { checkExposureAllowed, desiredObjects, downgradeWarnings, exposureChanges, qualifyHost, readRouting } from '../traefik/planning.js';
import { describeRoute, routeServesHost } from '../traefik/routes.js';

export const name = 'route mode';
export const description = "Switch an exposed host's access mode";
export const kind = 'change';
export const examples = ['/route mode host:photos mode:mtls-strict'];

export const options = z.object({
  host: hostOption('Host labgate serves'),
  mode: modeOption('New access mode'),
});

export async function plan(opts: z.output<typeof options>, ctx: CommandContext): Promise<PlanDraft> {
  const kube = ctx.ports.kubernetes;
  const host = qualifyHost(opts.host, ctx.config.domain);
  const state = await readRouting(kube);
  const current = state.exposures.get(host);
  if (!current) {
    const foreign = state.routes.find((r) => routeServesHost(r, host, { exactOnly: true }) && !isManaged(r));
    throw new UserError(
      UserErrorCode.NotOwned,
      foreign
        ? `${host} is served by ${describeRoute(foreign)}, which labgate does not manage; labgate will not change it`
        : `${host} is not exposed by labgate; expose it first with /expose`,
    );
  }
  if (!current.service || !current.port)
    throw new UserError(UserErrorCode.Conflict, `labgate's objects for ${host} have no IngressRoute to take the Service from; /unexpose it and expose it again`);
  if (current.mode === opts.mode) throw new UserError(UserErrorCode.NothingToDo, `${host} is already ${opts.mode}; nothing to change`);
  const exposure = { host, namespace: current.namespace, service: current.service, port: current.port, mode: opts.mode };
  await checkExposureAllowed(kube, ctx.policy, exposure);
  const { objects, notes } = await desiredObjects(kube, ctx.config, state, exposure, clientCaSource(ctx));
  const changes = await exposureChanges(kube, host, current.objects, objects);
  return {
    summary: [`Switch https://${host} from ${current.mode} to ${opts.mode} (${ACCESS_MODE_HELP[opts.mode]})`, ...changes.map((c) => c.summary)],
    changes,
    notes,
    warnings: downgradeWarnings(state, exposure, current.mode),
  };
}
