import { z } from 'zod';
import type { CommandContext, PlanDraft } from '../core/command.js';
import { deviceOption, flagOption, ownerOption, profileOption, ttlOption } from './cert-options.js';
import { planIssue } from '../planning/cert.js';

export const name = 'cert issue';
export const description = 'Get a client certificate for a device, delivered by DM as a .p12 bundle';
export const kind = 'change';
export const examples = ['/cert issue device:pixel-8', '/cert issue device:old-ipad profile:android-legacy ttl:90d', '/cert issue device:pixel-8 for:@bob replace:true'];

export const options = z.object({
  device: deviceOption(),
  profile: profileOption().optional(),
  ttl: ttlOption().optional(),
  for: ownerOption("Whose device (approvers only); default: yours").optional(),
  replace: flagOption('Replace the device’s current certificate (revoked once the new one is delivered)').optional(),
});

export async function plan(opts: z.output<typeof options>, ctx: CommandContext): Promise<PlanDraft> {
  return planIssue(opts, ctx, name);
}
