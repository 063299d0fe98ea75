import { z } from 'zod';
import type { CommandContext, PlanDraft } from '../core/command.js';
import { UserError, UserErrorCode } from '../errors.js';
import { requireOpenBao } from '../planning/cert.js';
import { clientCaDrift, deviceClientCa } from '../openbao/client-ca.js';

export const name = 'cert ca-sync';
export const description = "Bring the client-CA Secrets of mtls-strict services up to date with OpenBao's CA";
export const kind = 'change';
export const examples = ['/cert ca-sync'];

export const options = z.object({});

export async function plan(_opts: z.output<typeof options>, ctx: CommandContext): Promise<PlanDraft> {
  const chain = await deviceClientCa(requireOpenBao(ctx), ctx.config);
  const { changes, foreign, namespaces } = await clientCaDrift(ctx.ports.kubernetes, ctx.config, chain);
  if (!namespaces.length) throw new UserError(UserErrorCode.NothingToDo, 'no service is exposed mtls-strict, so there is no client-CA Secret to sync');
  const notes = foreign.map((s) => `Secret ${s} is not managed by labgate; labgate leaves it alone (its mtls-strict routes trust whatever it holds).`);
  if (!changes.length) throw new UserError(UserErrorCode.NothingToDo, `the client-CA Secrets already hold OpenBao's device CA; nothing to change${foreign.length ? ` (${foreign.length} not labgate's)` : ''}`);
  return {
    summary: [`Write OpenBao's device CA into ${changes.length} client-CA Secret${changes.length === 1 ? '' : 's'}`, ...changes.map((c) => c.summary)],
    changes,
    notes: [
      ...notes,
      'Device certificates issued by a previous CA stop passing mtls-strict once its CA leaves the Secret: re-issue them (/cert issue … replace:true).',
    ],
  };
}
