import { z } from 'zod';
import { hostOption, modeOption, namespaceOption, portOption, serviceOption } from '../core/command-options.js';
import type { CommandContext, PlanDraft } from '../core/command.js';
import { clientCaSource } from '../openbao/client-ca.js';
import { UserError, UserErrorCode } from '../errors.js';
import { allowOption, resolveAllow } from '../planning/allow.js';
import { ACCESS_MODE_HELP } from '../traefik/access-modes.js';
import { checkExposureAllowed, checkHostFree, checkServicePort, desiredObjects, downgradeWarnings, exposureChanges, qualifyHost, readRouting } from '../traefik/planning.js';

export const name = 'expose';
export const description = 'Publish a Kubernetes Service through Traefik under a hostname';
export const kind = 'change';
export const examples = ['/expose service:immich namespace:media port:2283 host:photos auth:tailscale-only', '/expose service:immich namespace:media port:2283 host:photos auth:mtls-strict allow:family'];

export const options = z.object({
  service: serviceOption(),
  namespace: namespaceOption(),
  port: portOption(),
  host: hostOption('Hostname to serve it under; a name without a dot gets the configured domain', { managed: false }),
  auth: modeOption('Who may reach it'),
  allow: allowOption().optional(),
});

export async function plan(opts: z.output<typeof options>, ctx: CommandContext): Promise<PlanDraft> {
  const kube = ctx.ports.kubernetes;
  const host = qualifyHost(opts.host, ctx.config.domain);
  if (opts.allow !== undefined && opts.auth !== 'mtls-strict') throw new UserError(UserErrorCode.InvalidInput, `allow: only auth:mtls-strict checks who a device belongs to (got auth:${opts.auth})`);
  const allow = opts.auth === 'mtls-strict' ? resolveAllow(opts.allow, ctx.config, ctx.requester) : undefined;
  const exposure = { host, namespace: opts.namespace, service: opts.service, port: opts.port, mode: opts.auth, ...(allow ? { allow } : {}) };
  // Before anything is read: a denied namespace's Services are not even looked up.
  await checkExposureAllowed(kube, ctx.policy, exposure);
  const [state] = await Promise.all([readRouting(kube), checkServicePort(kube, opts.namespace, opts.service, opts.port)]);
  const leftovers = checkHostFree(state, host);
  const { objects, notes } = await desiredObjects(kube, ctx.config, state, exposure, clientCaSource(ctx));
  const changes = await exposureChanges(kube, host, leftovers, objects);
  return {
    summary: [`Expose ${opts.namespace}/${opts.service}:${opts.port} at https://${host} as ${opts.auth} (${ACCESS_MODE_HELP[opts.auth]})${allow ? `, only ${allow.text}` : ''}`, ...changes.map((c) => c.summary)],
    changes,
    notes,
    warnings: downgradeWarnings(state, exposure),
  };
}
