import type { Identity } from '../../plan/model.js';
import type { ConversationRef, OutMessage } from '../message.js';
import type { ChatNotifier, DmResult, OutgoingFile } from '../notifier.js';

type DmFailure = Extract<DmResult, { delivered: false }>;

/** What the person is told when a DM to them failed. It names no secret: it only says where to look. */
export function dmFailureNotice(to: Identity, failure: DmFailure, what = 'a direct message'): OutMessage {
  const why =
    failure.reason === 'dms-closed'
      ? "your privacy settings do not let this server's members (or its apps) message you directly. Allow direct messages for this server (server name → Privacy Settings → Direct Messages) and ask again."
      : failure.reason === 'unknown-user'
        ? 'Discord does not know your account as a recipient.'
        : 'Discord refused the message; try again in a moment.';
  return { kind: 'refusal', text: `I could not send you ${what}: ${why}`, mentions: to.platform === 'discord' ? [to.id] : [], private: true };
}

/**
 * Sends a DM and, when it cannot be delivered, tells the person in the conversation the
 * request came from (by mention: a message posted outside an interaction cannot be ephemeral).
 * The caller learns the outcome from the result.
 */
export async function deliverDm(
  notifier: ChatNotifier,
  req: { to: Identity; conversation: ConversationRef; msgs: OutMessage[]; files?: OutgoingFile[]; what?: string },
): Promise<DmResult> {
  const result = await notifier.dm(req.to, req.msgs, req.files);
  if (!result.delivered) await notifier.post(req.conversation, dmFailureNotice(req.to, result, req.what));
  return result;
}
