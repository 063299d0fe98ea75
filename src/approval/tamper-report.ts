import type { ConversationRef } from '../messages/message.js';
import { untrusted } from '../messages/untrusted.js';
import type { Services } from '../core/services.js';
import type { TamperError } from './binding.js';

/**
 * Where a tampered plan's conversation is, when the record names one labgate could have made:
 * Discord always means labgate's own ops channel; a shell channel must look like one.
 */
function conversationOf(s: Pick<Services, 'config'>, raw: unknown): ConversationRef | undefined {
  const c = raw as Partial<Record<string, unknown>> | undefined;
  if (c?.platform === 'discord' && s.config.discord && s.config.env.DISCORD_TOKEN) return { platform: 'discord', guildId: s.config.discord.guildId, channelId: s.config.discord.channels.ops };
  if (c?.platform === 'shell' && typeof c.channel === 'string' && /^[\w.-]{1,80}$/.test(c.channel)) return { platform: 'shell', channel: c.channel };
  return undefined;
}

/**
 * A plan, decision, journal or job that no holder of the signing key wrote: audited as tampering
 * with what was found, and said in the plan's conversation when it can be found. Nothing of it
 * is applied. Never throws: the refusal stands whether or not this could be written.
 */
export async function reportTamper(s: Pick<Services, 'audit' | 'notifier' | 'logger' | 'now' | 'config'>, err: TamperError, record?: { plan?: { conversation?: unknown; command?: { text?: unknown } } }): Promise<void> {
  s.logger.error({ planId: err.planId, found: err.found }, 'tampering: refused a plan that failed verification');
  await s.audit.append({ at: s.now(), actor: 'labgate', action: 'tamper', planId: err.planId, outcome: err.found }).catch((e) => s.logger.error({ err: e }, 'could not audit tampering'));
  const to = conversationOf(s, record?.plan?.conversation);
  if (!to) return;
  const command = typeof record?.plan?.command?.text === 'string' ? ` (${untrusted(record.plan.command.text, 200)})` : '';
  await s.notifier
    .post(to, {
      kind: 'error',
      planId: err.planId,
      text: `Refused plan ${untrusted(err.planId, 40)}${command}: it failed verification, and nothing was changed`,
      lines: [`Found: ${err.found}.`, 'Someone or something wrote to labgate\'s Redis without its signing key. The audit log has the entry; check who can reach Redis.'],
    })
    .catch((e) => s.logger.warn({ err: e }, 'could not post the tampering notice'));
}
