import { z } from 'zod';
import { hostOption, modeOption } from '../core/command-options.js';
import type { CommandContext, PlanDraft } from '../core/command.js';
import { allowOption } from '../planning/allow.js';
import { planModeChange } from '../planning/route-mode.js';

export const name = 'route mode';
export const description = "Switch an exposed host's access mode";
export const kind = 'change';
export const examples = ['/route mode host:photos mode:mtls-strict', '/route mode host:photos mode:mtls-strict allow:@alice,family'];

export const options = z.object({
  host: hostOption('Host labgate serves'),
  mode: modeOption('New access mode'),
  allow: allowOption().optional(),
});

export async function plan(opts: z.output<typeof options>, ctx: CommandContext): Promise<PlanDraft> {
  return planModeChange(opts, ctx);
}
