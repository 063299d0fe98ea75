import { z } from 'zod';
import type { CommandContext, PlanDraft } from '../core/command.js';
import { csrOption, deviceOption, flagOption, ownerOption, ttlOption } from './cert-options.js';
import { planSign } from '../planning/cert.js';

export const name = 'cert sign';
export const description = 'Sign a CSR made on the device (its key never leaves it); certificate by DM';
export const kind = 'change';
export const examples = ['/cert sign device:work-laptop csr:<attach work-laptop.csr>', '/cert sign device:work-laptop csr:./work-laptop.csr (shell)'];

export const options = z.object({
  device: deviceOption(),
  csr: csrOption(),
  ttl: ttlOption().optional(),
  for: ownerOption("Whose device (approvers only); default: yours").optional(),
  replace: flagOption('Replace the device’s current certificate (revoked once the new one is delivered)').optional(),
});

export async function plan(opts: z.output<typeof options>, ctx: CommandContext): Promise<PlanDraft> {
  return planSign(opts, ctx, name);
}
