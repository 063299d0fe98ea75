import { z } from 'zod';
import type { OutMessage } from '../messages/message.js';
import type { CommandContext } from '../core/command.js';
import { UserError, UserErrorCode } from '../errors.js';
import { flagOption, ownerOption } from './cert-options.js';
import { isApprover, requireOpenBao, resolveOwner } from '../planning/cert.js';
import { iso } from '../duration.js';
import { displayOwner, sameOwner } from '../openbao/device-identity.js';
import { DeviceInventory } from '../openbao/device-inventory.js';

export const name = 'cert list';
export const description = 'List device certificates: yours, or (approvers) anyone’s';
export const kind = 'read';
export const examples = ['/cert list', '/cert list all:true', '/cert list for:@bob', '/cert list everyone:true'];

export const options = z.object({
  for: ownerOption("Whose devices (approvers only); default: yours").optional(),
  everyone: flagOption("Everyone's devices (approvers only)").optional(),
  all: flagOption('Include revoked and expired certificates').optional(),
});

export async function report(opts: z.output<typeof options>, ctx: CommandContext): Promise<OutMessage> {
  const bao = requireOpenBao(ctx);
  // Approvers of certificates may see anyone's devices; others their own.
  const approver = isApprover(ctx.config, 'cert issue', ctx.requester);
  if (opts.everyone && !approver) throw new UserError(UserErrorCode.Denied, 'only approvers of /cert issue may list everyone’s devices; leave everyone: out to see yours');
  if (opts.everyone && opts.for) throw new UserError(UserErrorCode.InvalidInput, '/cert list: give for: or everyone:, not both');
  const owner = opts.everyone ? undefined : resolveOwner(ctx, 'cert issue', opts.for, 'cert list').owner;
  const certs = (await new DeviceInventory(bao, ctx.now).read())
    .filter((c) => !owner || sameOwner(c.owner, owner))
    .filter((c) => opts.all || c.status === 'valid')
    .sort((a, b) => a.owner.id.localeCompare(b.owner.id) || a.device.localeCompare(b.device) || b.notAfter - a.notAfter);
  const whose = owner ? `${displayOwner(owner)}'s` : "everyone's";
  // Whose devices someone has is for them (and approvers) alone: the answer is private (ephemeral on Discord).
  if (!certs.length) {
    return { kind: 'report', private: true, text: `No ${opts.all ? '' : 'valid '}device certificates for ${whose} devices; /cert issue device:<name> gets one` };
  }
  const columns = [...(owner ? [] : ['owner']), 'device', 'serial', 'profile', 'expires', ...(opts.all ? ['status'] : [])];
  const rows = certs.map((c) => [...(owner ? [] : [displayOwner(c.owner)]), c.device, c.serial, c.profile ?? '?', iso(c.notAfter), ...(opts.all ? [c.status] : [])]);
  return {
    kind: 'report',
    private: true,
    text: `${certs.length} ${opts.all ? '' : 'valid '}device certificate${certs.length === 1 ? '' : 's'} for ${whose} devices`,
    table: { columns, rows },
  };
}
