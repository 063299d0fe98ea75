import { z } from 'zod';
import type { CommandContext, PlanDraft } from '../core/command.js';
import { deviceOption, ownerOption, serialOption } from './cert-options.js';
import { planRevoke } from '../planning/cert.js';

export const name = 'cert revoke';
export const description = "Revoke a device's certificate (by device or serial) and publish the CRL";
export const kind = 'change';
export const examples = ['/cert revoke device:pixel-8', '/cert revoke serial:39:dd:2e:…', '/cert revoke device:pixel-8 for:@bob'];

export const options = z.object({
  device: deviceOption('Device whose certificate to revoke').optional(),
  serial: serialOption().optional(),
  for: ownerOption("Whose device (approvers only); default: yours").optional(),
});

export async function plan(opts: z.output<typeof options>, ctx: CommandContext): Promise<PlanDraft> {
  return planRevoke(opts, ctx, name);
}
