import type { Identity } from '../plan/model.js';
import type { ConversationRef, MessageRef, OutMessage } from './message.js';

/** A file handed to a DM; lives only in memory of the process that sends it. */
export interface OutgoingFile {
  name: string;
  data: Uint8Array;
  contentType?: string;
}

export type DmResult = { delivered: true; files: { name: string; path?: string }[] } | { delivered: false; reason: 'dms-closed' | 'unknown-user' | 'failed'; detail: string };

/**
 * How workers and the dispatcher talk to people after the first reply: post into a
 * conversation, edit a message posted earlier, send a direct message. Usable from any process
 * (Discord over REST), so workers scale apart from the chat gateway.
 */
export interface ChatNotifier {
  post(to: ConversationRef, msg: OutMessage): Promise<MessageRef>;
  edit(ref: MessageRef, msg: OutMessage): Promise<void>;
  /** `via`: the conversation the DM belongs to (a plan's); a shell uses it to reach the right terminal. */
  dm(to: Identity, msgs: OutMessage[], files?: OutgoingFile[], via?: ConversationRef): Promise<DmResult>;
}

/** Sends each message to the notifier of its conversation's platform. */
export class PlatformNotifier implements ChatNotifier {
  constructor(private readonly byPlatform: Partial<Record<ConversationRef['platform'], ChatNotifier>>) {}

  private pick(platform: ConversationRef['platform']): ChatNotifier {
    const n = this.byPlatform[platform];
    if (!n) throw new Error(`no ${platform} chat is configured in this process`);
    return n;
  }

  post(to: ConversationRef, msg: OutMessage) {
    return this.pick(to.platform).post(to, msg);
  }
  edit(ref: MessageRef, msg: OutMessage) {
    return this.pick(ref.conversation.platform).edit(ref, msg);
  }
  dm(to: Identity, msgs: OutMessage[], files?: OutgoingFile[], via?: ConversationRef) {
    return this.pick(to.platform).dm(to, msgs, files, via);
  }
}
