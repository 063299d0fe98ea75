import { z } from 'zod';
import { hostOption } from '../core/command-options.js';
import type { CommandContext, PlanDraft } from '../core/command.js';
import { planModeChange } from '../planning/route-mode.js';

export const name = 'route upgrade';
export const description = "Bring a host up to date with its mode (adds the gate to an older mtls-strict route)";
export const kind = 'change';
export const examples = ['/route upgrade host:photos'];

export const options = z.object({
  host: hostOption('Host labgate serves'),
});

export async function plan(opts: z.output<typeof options>, ctx: CommandContext): Promise<PlanDraft> {
  return planModeChange({ host: opts.host }, ctx);
}
