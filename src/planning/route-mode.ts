import type { CommandContext, PlanDraft } from '../core/command.js';
import { UserError, UserErrorCode } from '../errors.js';
import { isManaged } from '../kubernetes/objects.js';
import { clientCaSource } from '../openbao/client-ca.js';
import { ACCESS_MODE_HELP, type AccessMode } from '../traefik/access-modes.js';
import { resolveAllow } from './allow.js';
import { checkExposureAllowed, desiredObjects, downgradeWarnings, exposureChanges, qualifyHost, readRouting } from '../traefik/planning.js';
import { describeRoute, hasGate, liveAllow, routeServesHost } from '../traefik/routes.js';

/**
 * /route mode and /route upgrade: the plan that makes a host's objects what its mode (and
 * allow list) calls for now. Same mode: only what changed (the gate an older mtls-strict lacks,
 * a new allow list); nothing changed is "nothing to do", never an empty plan.
 */
export async function planModeChange(input: { host: string; mode?: AccessMode; allow?: string }, ctx: CommandContext): Promise<PlanDraft> {
  const kube = ctx.ports.kubernetes;
  const host = qualifyHost(input.host, ctx.config.domain);
  const state = await readRouting(kube);
  const current = state.exposures.get(host);
  if (!current) {
    const foreign = state.routes.find((r) => routeServesHost(r, host, { exactOnly: true }) && !isManaged(r));
    throw new UserError(
      UserErrorCode.NotOwned,
      foreign ? `${host} is served by ${describeRoute(foreign)}, which labgate does not manage; labgate will not change it` : `${host} is not exposed by labgate; expose it first with /expose`,
    );
  }
  if (!current.service || !current.port)
    throw new UserError(UserErrorCode.Conflict, `labgate's objects for ${host} have no IngressRoute to take the Service from; /unexpose it and expose it again`);
  if (current.mode === 'unknown' && !input.mode) throw new UserError(UserErrorCode.Conflict, `${host} has no access mode labgate knows; use /route mode to set one`);
  const mode = input.mode ?? (current.mode as AccessMode);
  if (input.allow !== undefined && mode !== 'mtls-strict') throw new UserError(UserErrorCode.InvalidInput, `allow: only mtls-strict hosts check who a device belongs to; ${host} would be ${mode}`);
  const allow = mode !== 'mtls-strict' ? undefined : input.allow !== undefined ? resolveAllow(input.allow, ctx.config, ctx.requester) : liveAllow(current.objects);
  const exposure = { host, namespace: current.namespace, service: current.service, port: current.port, mode, ...(allow ? { allow } : {}) };
  await checkExposureAllowed(kube, ctx.policy, exposure);
  const { objects, notes } = await desiredObjects(kube, ctx.config, state, exposure, clientCaSource(ctx));
  const changes = await exposureChanges(kube, host, current.objects, objects);
  if (!changes.length) throw new UserError(UserErrorCode.NothingToDo, `${host} is already ${mode}${allow ? ` for ${allow.text}` : ''} and has every object that mode needs; nothing to change`);
  const headline =
    current.mode === mode
      ? mode === 'mtls-strict' && !hasGate(current.objects)
        ? `Upgrade https://${host} (mtls-strict): add labgate's gate, so revoked device certificates are refused at the edge`
        : `Update https://${host} (${mode})${allow ? `: only ${allow.text}` : input.allow !== undefined ? ': every valid device certificate' : ''}`
      : `Switch https://${host} from ${current.mode} to ${mode} (${ACCESS_MODE_HELP[mode]})${allow ? `, only ${allow.text}` : ''}`;
  return { summary: [headline, ...changes.map((c) => c.summary)], changes, notes, warnings: downgradeWarnings(state, exposure, current.mode) };
}
