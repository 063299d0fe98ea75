import { z } from 'zod';
import type { OutMessage } from '../messages/message.js';
import { hostOption } from '../core/command-options.js';
import type { CommandContext } from '../core/command.js';
import { mtlsCheck } from '../planning/mtls-check.js';

export const name = 'mtls-check';
export const description = 'Check an mtls-strict host end to end: certificate demanded, revoked one refused, gate answering';
export const kind = 'read';
export const examples = ['/mtls-check host:photos'];

export const options = z.object({
  host: hostOption('mtls-strict host to check'),
});

export async function report(opts: z.output<typeof options>, ctx: CommandContext): Promise<OutMessage> {
  return mtlsCheck(opts.host, ctx);
}
