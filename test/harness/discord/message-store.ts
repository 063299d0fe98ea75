import { discordErrors, formError, mergeFormErrors } from './discord-errors.js';
import {
  nextSnowflake,
  snowflakeTimestamp,
  type DiscordHarnessState,
  type StoredAttachment,
  type StoredMessage,
} from './harness-state.js';
import { fileIndex, type UploadedFile } from './recorded-request.js';

/** The part of a message create/edit body the fake Discord understands. */
export interface MessageBody {
  content?: string | null;
  embeds?: Record<string, unknown>[] | null;
  components?: Record<string, unknown>[] | null;
  flags?: number | null;
  attachments?: { id: string | number; filename?: string; description?: string }[] | null;
  tts?: boolean;
  [extra: string]: unknown;
}

export const MESSAGE_FLAGS = { EPHEMERAL: 64, LOADING: 128, IS_COMPONENTS_V2: 1 << 15 } as const;

export interface MessageStoreContext {
  state: DiscordHarnessState;
  /** `http://127.0.0.1:PORT`, for attachment URLs the harness serves itself. */
  baseUrl: () => string;
  onChange: () => void;
}

/** Messages per channel, kept as full Discord message objects in the caller's state. */
export class MessageStore {
  constructor(private readonly ctx: MessageStoreContext) {}

  list(channelId: string): StoredMessage[] {
    return this.ctx.state.messages[channelId] ?? [];
  }

  get(channelId: string, messageId: string): StoredMessage | undefined {
    return this.list(channelId).find((m) => m.id === messageId);
  }

  /** Finds a message in any channel (buttons are clicked on a message, not a channel). */
  find(messageId: string): StoredMessage | undefined {
    for (const list of Object.values(this.ctx.state.messages)) {
      const found = list.find((m) => m.id === messageId);
      if (found) return found;
    }
    return undefined;
  }

  lastMessageId(channelId: string): string | null {
    const list = this.list(channelId);
    return list.length ? list[list.length - 1]!.id : null;
  }

  /**
   * Stores a new message; `extra` sets author, webhook and interaction fields.
   * Validates the body against the limits Discord enforces (empty message, embed and component limits).
   */
  create(
    channelId: string,
    body: MessageBody,
    files: UploadedFile[],
    extra: Partial<StoredMessage> & Pick<StoredMessage, 'author'>,
    opts: { allowEmpty?: boolean } = {},
  ): StoredMessage {
    validateMessageBody(body, files, !opts.allowEmpty);
    const id = nextSnowflake(this.ctx.state);
    const message: StoredMessage = {
      id,
      channel_id: channelId,
      type: 0,
      content: body.content ?? '',
      timestamp: snowflakeTimestamp(id),
      edited_timestamp: null,
      tts: body.tts ?? false,
      mention_everyone: false,
      mentions: [],
      mention_roles: [],
      attachments: this.attachmentsFor(channelId, body, files, []),
      embeds: normalizeEmbeds(body.embeds ?? []),
      pinned: false,
      flags: body.flags ?? 0,
      components: withComponentIds(body.components ?? []),
      ...extra,
    };
    (this.ctx.state.messages[channelId] ??= []).push(message);
    this.ctx.onChange();
    return message;
  }

  /** Applies a PATCH body: fields present replace, absent ones stay; new files are appended. */
  edit(channelId: string, messageId: string, body: MessageBody, files: UploadedFile[]): StoredMessage {
    const message = this.get(channelId, messageId);
    if (!message) throw discordErrors.unknownMessage();
    validateMessageBody(body, files, false);
    if ('content' in body) message.content = body.content ?? '';
    if ('embeds' in body) message.embeds = normalizeEmbeds(body.embeds ?? []);
    if ('components' in body) message.components = withComponentIds(body.components ?? []);
    if ('flags' in body && body.flags != null) {
      // Only SUPPRESS_EMBEDS may be toggled by an edit; ephemeral/loading/components-v2 stay as they were.
      message.flags = (message.flags & ~4) | (body.flags & 4);
    }
    if ('attachments' in body || files.length) {
      message.attachments = this.attachmentsFor(channelId, body, files, message.attachments);
    }
    message.edited_timestamp = new Date().toISOString().replace('Z', '000+00:00');
    this.ctx.onChange();
    return message;
  }

  /** Sets harness-managed fields (flags, type) that a message body may not change. */
  patchFields(message: StoredMessage, fields: Partial<StoredMessage>): StoredMessage {
    Object.assign(message, fields);
    this.ctx.onChange();
    return message;
  }

  delete(channelId: string, messageId: string): void {
    const list = this.list(channelId);
    const index = list.findIndex((m) => m.id === messageId);
    if (index < 0) throw discordErrors.unknownMessage();
    const [removed] = list.splice(index, 1);
    for (const a of removed!.attachments) delete this.ctx.state.uploads[a.id];
    this.ctx.onChange();
  }

  /** Stores bytes as an attachment not (yet) on any message: what an ATTACHMENT command option carries. */
  upload(channelId: string, filename: string, bytes: Buffer, contentType?: string): StoredAttachment {
    const id = nextSnowflake(this.ctx.state);
    this.ctx.state.uploads[id] = bytes.toString('base64');
    this.ctx.onChange();
    return this.attachment(channelId, id, filename, bytes.length, contentType);
  }

  bytes(attachmentId: string): Buffer | undefined {
    const b64 = this.ctx.state.uploads[attachmentId];
    return b64 === undefined ? undefined : Buffer.from(b64, 'base64');
  }

  private attachmentsFor(
    channelId: string,
    body: MessageBody,
    files: UploadedFile[],
    existing: StoredAttachment[],
  ): StoredAttachment[] {
    const byIndex = new Map(files.map((f, i) => [fileIndex(f, i), f]));
    const refs = body.attachments;
    if (!refs) return [...existing, ...files.map((f) => this.store(channelId, f))];
    const out: StoredAttachment[] = [];
    for (const ref of refs) {
      const kept = existing.find((a) => a.id === String(ref.id));
      if (kept) {
        out.push(kept);
        continue;
      }
      const file = byIndex.get(Number(ref.id));
      if (!file) {
        throw discordErrors.invalidFormBody(
          formError(['attachments', refs.indexOf(ref), 'id'], 'ATTACHMENT_NOT_FOUND', 'Unknown attachment or file index'),
        );
      }
      const stored = this.store(channelId, file, ref.filename);
      if (ref.description) stored.description = ref.description;
      out.push(stored);
    }
    return out;
  }

  private store(channelId: string, file: UploadedFile, filename = file.filename): StoredAttachment {
    const id = nextSnowflake(this.ctx.state);
    this.ctx.state.uploads[id] = file.bytes.toString('base64');
    return this.attachment(channelId, id, filename, file.size, file.contentType);
  }

  private attachment(
    channelId: string,
    id: string,
    filename: string,
    size: number,
    contentType?: string,
  ): StoredAttachment {
    const url = `${this.ctx.baseUrl()}/attachments/${channelId}/${id}/${encodeURIComponent(filename)}`;
    return { id, filename, size, url, proxy_url: url, ...(contentType ? { content_type: contentType } : {}) };
  }
}

/** Discord numbers components that were sent without an `id`, depth first, unique per message. */
export function withComponentIds(components: Record<string, unknown>[]): Record<string, unknown>[] {
  const copy = structuredClone(components);
  const used = new Set<number>();
  const all: Record<string, unknown>[] = [];
  const walk = (list: unknown) => {
    if (!Array.isArray(list)) return;
    for (const c of list as Record<string, unknown>[]) {
      all.push(c);
      if (typeof c.id === 'number') used.add(c.id);
      walk(c.components);
      if (c.accessory && typeof c.accessory === 'object') walk([c.accessory]);
    }
  };
  walk(copy);
  let next = 1;
  for (const c of all) {
    if (typeof c.id === 'number') continue;
    while (used.has(next)) next++;
    c.id = next;
    used.add(next);
  }
  return copy;
}

/** Every component of a message, flattened (rows, their buttons, section accessories). */
export function flattenComponents(components: Record<string, unknown>[]): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const walk = (list: unknown) => {
    if (!Array.isArray(list)) return;
    for (const c of list as Record<string, unknown>[]) {
      out.push(c);
      walk(c.components);
      if (c.accessory && typeof c.accessory === 'object') walk([c.accessory]);
    }
  };
  walk(components);
  return out;
}

function normalizeEmbeds(embeds: Record<string, unknown>[]): Record<string, unknown>[] {
  return embeds.map((e) => ({ type: 'rich', ...structuredClone(e) }));
}

const len = (v: unknown) => (typeof v === 'string' ? v.length : 0);

/** The limits Discord rejects with 50035/50006; a renderer that breaks them fails here, as it would live. */
export function validateMessageBody(body: MessageBody, files: UploadedFile[], requireSomething: boolean): void {
  const errors: Record<string, unknown>[] = [];
  const tooLong = (path: (string | number)[], max: number) =>
    errors.push(formError(path, 'BASE_TYPE_MAX_LENGTH', `Must be ${max} or fewer in length.`));

  if (len(body.content) > 2000) tooLong(['content'], 2000);

  const embeds = body.embeds ?? [];
  if (embeds.length > 10) tooLong(['embeds'], 10);
  let embedChars = 0;
  embeds.forEach((e, i) => {
    const fields = Array.isArray(e.fields) ? (e.fields as Record<string, unknown>[]) : [];
    const footer = (e.footer ?? {}) as Record<string, unknown>;
    const author = (e.author ?? {}) as Record<string, unknown>;
    if (len(e.title) > 256) tooLong(['embeds', i, 'title'], 256);
    if (len(e.description) > 4096) tooLong(['embeds', i, 'description'], 4096);
    if (fields.length > 25) tooLong(['embeds', i, 'fields'], 25);
    if (len(footer.text) > 2048) tooLong(['embeds', i, 'footer', 'text'], 2048);
    if (len(author.name) > 256) tooLong(['embeds', i, 'author', 'name'], 256);
    fields.forEach((f, j) => {
      if (len(f.name) > 256) tooLong(['embeds', i, 'fields', j, 'name'], 256);
      if (len(f.value) > 1024) tooLong(['embeds', i, 'fields', j, 'value'], 1024);
      if (!len(f.name) || !len(f.value)) {
        errors.push(formError(['embeds', i, 'fields', j], 'BASE_TYPE_REQUIRED', 'This field is required'));
      }
      embedChars += len(f.name) + len(f.value);
    });
    embedChars += len(e.title) + len(e.description) + len(footer.text) + len(author.name);
  });
  if (embedChars > 6000) {
    errors.push(formError(['embeds'], 'MAX_EMBED_SIZE_EXCEEDED', 'Embed size exceeds maximum size of 6000'));
  }

  const components = body.components ?? [];
  const v2 = ((body.flags ?? 0) & MESSAGE_FLAGS.IS_COMPONENTS_V2) !== 0;
  if (!v2 && components.length > 5) tooLong(['components'], 5);
  const customIds = new Set<string>();
  components.forEach((row, i) => {
    if (!v2 && row.type !== 1) {
      errors.push(formError(['components', i, 'type'], 'UNION_TYPE_CHOICES', 'Value must be an action row (1).'));
    }
    const children = Array.isArray(row.components) ? (row.components as Record<string, unknown>[]) : [];
    if (row.type === 1 && children.length > 5) tooLong(['components', i, 'components'], 5);
    children.forEach((c, j) => {
      if (c.type !== 2) return;
      const style = c.style as number;
      const customId = c.custom_id;
      if (style >= 1 && style <= 4) {
        if (typeof customId !== 'string' || customId.length < 1) {
          errors.push(formError(['components', i, 'components', j, 'custom_id'], 'BASE_TYPE_REQUIRED', 'This field is required'));
        } else if (customId.length > 100) {
          tooLong(['components', i, 'components', j, 'custom_id'], 100);
        } else if (customIds.has(customId)) {
          errors.push(
            formError(['components', i, 'components', j, 'custom_id'], 'COMPONENT_CUSTOM_ID_DUPLICATED', 'Component custom id cannot be duplicated'),
          );
        }
        if (typeof customId === 'string') customIds.add(customId);
      }
      if (style === 5 && typeof c.url !== 'string') {
        errors.push(formError(['components', i, 'components', j, 'url'], 'BASE_TYPE_REQUIRED', 'This field is required'));
      }
      if (len(c.label) > 80) tooLong(['components', i, 'components', j, 'label'], 80);
    });
  });

  if (errors.length) throw discordErrors.invalidFormBody(mergeFormErrors(errors));

  const hasSomething =
    len(body.content) > 0 || embeds.length > 0 || components.length > 0 || files.length > 0 || (body.attachments?.length ?? 0) > 0;
  if (requireSomething && !hasSomething && body.sticker_ids === undefined && body.poll === undefined) {
    throw discordErrors.cannotSendEmpty();
  }
}
