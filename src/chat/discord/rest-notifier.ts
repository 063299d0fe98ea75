import { REST, Routes, type RawFile } from 'discord.js';
import { AdapterError, DiscordError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { Identity } from '../../plan/model.js';
import type { ConversationRef, MessageRef, OutMessage } from '../../messages/message.js';
import type { ChatNotifier, DmResult, OutgoingFile } from '../../messages/notifier.js';
import { DiscordCode, describeDiscordError, discordCode, discordStatus } from './api-errors.js';
import { renderDiscordMessage, type DiscordFile, type DiscordPayload } from './render.js';
import { discordRestTransport } from './rest-transport.js';
import { watchDiscordRest } from '../../ops/discord-watch.js';

export interface DiscordRestOptions {
  token: string;
  /** One request, every retry included (default 8 s). */
  timeoutMs?: number;
  /** Discord's REST base (`https://discord.com/api` by default); tests pass a loopback one. */
  apiBase?: string;
}

/**
 * A REST client for labgate's Discord calls. @discordjs/rest queues per route, waits out 429s
 * (Retry-After) and retries 5xx and network errors a few times: no retry loop of our own.
 */
export function createDiscordRest(opts: DiscordRestOptions): REST {
  // @discordjs/rest's timeout is per try; the retries share what is left of the whole budget.
  const total = opts.timeoutMs ?? 8_000;
  const rest = new REST({ ...(opts.apiBase ? { api: opts.apiBase } : {}), timeout: Math.floor(total / 3), retries: 2, makeRequest: discordRestTransport }).setToken(opts.token);
  watchDiscordRest(rest);
  return rest;
}

/** The REST body of a rendered message (without the ephemeral flag: channel messages cannot be). */
export function restBody(p: DiscordPayload, opts: { withFiles: boolean }): Record<string, unknown> {
  return {
    content: p.content,
    embeds: p.embeds,
    components: p.components,
    allowed_mentions: p.allowed_mentions,
    ...(opts.withFiles && p.files.length ? { attachments: p.files.map((f, i) => ({ id: i, filename: f.name })) } : {}),
  };
}

const rawFiles = (files: DiscordFile[]): RawFile[] => files.map((f) => ({ name: f.name, data: f.data, contentType: f.contentType }));

/**
 * The Discord notifier for any process (workers included): REST only, no gateway. Posts and
 * edits channel messages; sends DMs with files as multipart uploads.
 */
export class DiscordRestNotifier implements ChatNotifier {
  // Per instance, not per module: several bots (tests) may share a process.
  private readonly dmChannels = new Map<string, string>();

  constructor(
    private readonly rest: REST,
    private readonly logger?: Logger,
  ) {}

  private fail(method: string, target: string, err: unknown): AdapterError {
    const d = describeDiscordError(err);
    return new DiscordError(method, target, discordStatus(err), `Discord ${method} ${target} failed: ${d.message}`, { cause: err });
  }

  /** `POST /channels/{channel.id}/messages` (multipart when the message carries files). */
  async post(to: ConversationRef, msg: OutMessage): Promise<MessageRef> {
    if (to.platform !== 'discord') throw new Error(`the Discord notifier cannot post to ${to.platform}`);
    const payload = renderDiscordMessage(msg);
    try {
      const res = (await this.rest.post(Routes.channelMessages(to.channelId), {
        body: restBody(payload, { withFiles: true }),
        ...(payload.files.length ? { files: rawFiles(payload.files) } : {}),
      })) as { id: string };
      return { conversation: to, messageId: res.id };
    } catch (err) {
      throw this.fail('POST', `/channels/${to.channelId}/messages`, err);
    }
  }

  /**
   * `PATCH /channels/{channel.id}/messages/{message.id}`. Attachments posted with the message
   * stay: the body leaves `attachments` out and uploads nothing again.
   */
  async edit(ref: MessageRef, msg: OutMessage): Promise<void> {
    if (ref.conversation.platform !== 'discord') throw new Error(`the Discord notifier cannot edit ${ref.conversation.platform} messages`);
    const { channelId } = ref.conversation;
    try {
      await this.rest.patch(Routes.channelMessage(channelId, ref.messageId), { body: restBody(renderDiscordMessage(msg), { withFiles: false }) });
    } catch (err) {
      throw this.fail('PATCH', `/channels/${channelId}/messages/${ref.messageId}`, err);
    }
  }

  /**
   * `POST /users/@me/channels` then `POST /channels/{dm.id}/messages`; the files go with the
   * first message. A user who does not accept DMs (50007) is an answer, not a fault.
   */
  async dm(to: Identity, msgs: OutMessage[], files: OutgoingFile[] = []): Promise<DmResult> {
    if (to.platform !== 'discord') return { delivered: false, reason: 'unknown-user', detail: `${to.name} is not a Discord user` };
    if (!msgs.length && !files.length) return { delivered: true, files: [] };
    try {
      let channelId = this.dmChannels.get(to.id);
      if (!channelId) {
        channelId = ((await this.rest.post(Routes.userChannels(), { body: { recipient_id: to.id } })) as { id: string }).id;
        this.dmChannels.set(to.id, channelId);
      }
      const list: OutMessage[] = msgs.length ? msgs : [{ kind: 'dm', text: 'Files from labgate' }];
      for (const [i, msg] of list.entries()) {
        const payload = renderDiscordMessage({ ...msg, private: false });
        const extra: DiscordFile[] = i === 0 ? files.map((f) => ({ name: f.name, data: Buffer.from(f.data), contentType: f.contentType ?? 'application/octet-stream' })) : [];
        const all = [...payload.files, ...extra];
        await this.rest.post(Routes.channelMessages(channelId), {
          body: restBody({ ...payload, files: all }, { withFiles: true }),
          ...(all.length ? { files: rawFiles(all) } : {}),
        });
      }
      return { delivered: true, files: files.map((f) => ({ name: f.name })) };
    } catch (err) {
      const code = discordCode(err);
      const d = describeDiscordError(err);
      if (code === DiscordCode.CannotSendToUser) return { delivered: false, reason: 'dms-closed', detail: `${to.name} does not accept direct messages from labgate (Discord ${code})` };
      if (code === DiscordCode.UnknownUser || (code === 50035 && Boolean(d.path?.endsWith('/users/@me/channels'))))
        return { delivered: false, reason: 'unknown-user', detail: `Discord does not know user ${to.id}` };
      this.logger?.warn({ discord: d, to: to.id }, 'direct message failed');
      return { delivered: false, reason: 'failed', detail: d.message };
    }
  }
}
