import { performance } from 'node:perf_hooks';
import { apiBotUser, apiUser, type Directory, type DirectoryUser } from './directory.js';
import { discordErrors, formError } from './discord-errors.js';
import type { StoredMessage } from './harness-state.js';
import { MESSAGE_FLAGS, type MessageBody, type MessageStore } from './message-store.js';
import type { UploadedFile } from './recorded-request.js';

export const INTERACTION_TYPE = { APPLICATION_COMMAND: 2, MESSAGE_COMPONENT: 3, AUTOCOMPLETE: 4, MODAL_SUBMIT: 5 } as const;
export const CALLBACK = { MESSAGE: 4, DEFERRED_MESSAGE: 5, DEFERRED_UPDATE: 6, UPDATE: 7, AUTOCOMPLETE_RESULT: 8, MODAL: 9 } as const;

const ALLOWED_CALLBACKS: Record<number, number[]> = {
  [INTERACTION_TYPE.APPLICATION_COMMAND]: [4, 5, 9],
  [INTERACTION_TYPE.MESSAGE_COMPONENT]: [4, 5, 6, 7, 9],
  [INTERACTION_TYPE.AUTOCOMPLETE]: [8],
  [INTERACTION_TYPE.MODAL_SUBMIT]: [4, 5, 6, 7],
};

/** The first answer the bot gave to an interaction, and how long it took from dispatch. */
export interface InteractionResponse {
  /** Callback type: 4 reply, 5 deferReply, 6 deferUpdate, 7 update, 8 autocomplete result, 9 modal. */
  type: number;
  data: Record<string, unknown> | undefined;
  files: UploadedFile[];
  /** Milliseconds from writing INTERACTION_CREATE to the socket to the callback request arriving. */
  ms: number;
}

/** A dispatched interaction as a test sees it. */
export interface InteractionHandle {
  readonly id: string;
  readonly token: string;
  /** 2 application command, 3 component, 4 autocomplete. */
  readonly type: number;
  /** The `d` of the INTERACTION_CREATE frame. */
  readonly payload: Record<string, unknown>;
  /**
   * Resolves with the first callback; rejects once the acknowledgement window (3 s by default)
   * passes without one, or when `expire()` is called.
   */
  readonly firstResponse: Promise<InteractionResponse>;
  readonly acknowledged: boolean;
  /** True after callback type 5 or 6. */
  readonly deferred: boolean;
  readonly responseType: number | undefined;
  /** Dispatch-to-first-callback time; undefined until answered. What benchmarks read. */
  readonly latencyMs: number | undefined;
  /** The message `@original` refers to: the reply, or for 6/7 the message the button was on. */
  originalMessage(): StoredMessage | undefined;
  followUps(): StoredMessage[];
  /** Makes the interaction as old as the acknowledgement window: a first callback now gets 10062. */
  expire(): void;
}

export interface TrackerContext {
  dir: Directory;
  messages: MessageStore;
  ackWindowMs: number;
  tokenLifetimeMs: number;
}

interface Live {
  handle: InteractionHandle;
  id: string;
  token: string;
  type: number;
  payload: Record<string, unknown>;
  user: DirectoryUser;
  channelId: string;
  commandName?: string;
  clickedMessageId?: string;
  createdAt: number;
  dispatchedAt: number;
  expired: boolean;
  responseType?: number;
  latencyMs?: number;
  originalMessageId?: string;
  loading: boolean;
  followUpIds: string[];
  settle?: { resolve: (r: InteractionResponse) => void; reject: (e: Error) => void };
  timer?: NodeJS.Timeout;
}

export type HarnessReply = { status: number; json?: unknown };

/** Tracks live interactions and answers their callback and webhook routes the way Discord does. */
export class InteractionTracker {
  private readonly live = new Map<string, Live>();
  private readonly byToken = new Map<string, Live>();

  constructor(private readonly ctx: TrackerContext) {}

  all(): InteractionHandle[] {
    return [...this.live.values()].map((l) => l.handle);
  }

  /** Starts tracking an interaction; call right before writing it to the gateway (latency starts here). */
  track(payload: Record<string, unknown>, user: DirectoryUser, meta: { commandName?: string; clickedMessageId?: string }): InteractionHandle {
    const id = payload.id as string;
    let settle: Live['settle'];
    const firstResponse = new Promise<InteractionResponse>((resolve, reject) => {
      settle = { resolve, reject };
    });
    // Tests that never await the promise must not see an unhandled rejection when the window passes.
    firstResponse.catch(() => undefined);
    const live: Live = {
      id,
      token: payload.token as string,
      type: payload.type as number,
      payload,
      user,
      channelId: (payload.channel as { id: string }).id,
      commandName: meta.commandName,
      clickedMessageId: meta.clickedMessageId,
      createdAt: Date.now(),
      dispatchedAt: performance.now(),
      expired: false,
      loading: false,
      followUpIds: [],
      settle,
      handle: undefined as unknown as InteractionHandle,
    };
    live.handle = this.makeHandle(live, firstResponse);
    live.timer = setTimeout(() => this.expire(live), this.ctx.ackWindowMs);
    live.timer.unref();
    this.live.set(id, live);
    this.byToken.set(live.token, live);
    return live.handle;
  }

  close(): void {
    for (const live of this.live.values()) if (live.timer) clearTimeout(live.timer);
  }

  /** `POST /interactions/{id}/{token}/callback`. */
  callback(
    id: string,
    token: string,
    body: unknown,
    files: UploadedFile[],
    withResponse: boolean,
    arrivedAt: number,
  ): HarnessReply {
    const live = this.live.get(id);
    if (!live || live.token !== token) throw discordErrors.unknownInteraction();
    if (live.responseType !== undefined) throw discordErrors.alreadyAcknowledged();
    if (live.expired || Date.now() - live.createdAt > this.ctx.ackWindowMs) {
      this.expire(live);
      throw discordErrors.unknownInteraction();
    }
    const { type, data } = (body ?? {}) as { type?: number; data?: Record<string, unknown> };
    if (typeof type !== 'number' || !ALLOWED_CALLBACKS[live.type]?.includes(type)) {
      throw discordErrors.invalidFormBody(
        formError(['type'], 'INTERACTION_RESPONSE_TYPE_INVALID', `Callback type ${String(type)} is not valid for interaction type ${live.type}`),
      );
    }

    let message: StoredMessage | undefined;
    switch (type) {
      case CALLBACK.MESSAGE:
        message = this.createResponseMessage(live, (data ?? {}) as MessageBody, files, false);
        break;
      case CALLBACK.DEFERRED_MESSAGE:
        message = this.createResponseMessage(live, { flags: (data?.flags as number | undefined) ?? 0 }, [], true);
        break;
      case CALLBACK.DEFERRED_UPDATE:
        live.originalMessageId = live.clickedMessageId;
        break;
      case CALLBACK.UPDATE:
        live.originalMessageId = live.clickedMessageId;
        message = this.ctx.messages.edit(live.channelId, live.clickedMessageId!, (data ?? {}) as MessageBody, files);
        break;
      case CALLBACK.AUTOCOMPLETE_RESULT: {
        const choices = (data?.choices ?? []) as unknown[];
        if (!Array.isArray(choices) || choices.length > 25) {
          throw discordErrors.invalidFormBody(formError(['data', 'choices'], 'BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.'));
        }
        break;
      }
    }

    live.responseType = type;
    live.latencyMs = arrivedAt - live.dispatchedAt;
    if (live.timer) clearTimeout(live.timer);
    live.settle?.resolve({ type, data, files, ms: live.latencyMs });

    if (!withResponse) return { status: 204 };
    return {
      status: 200,
      json: {
        interaction: {
          id: live.id,
          type: live.type,
          ...(message
            ? {
                response_message_id: message.id,
                response_message_loading: live.loading,
                response_message_ephemeral: (message.flags & MESSAGE_FLAGS.EPHEMERAL) !== 0,
              }
            : {}),
        },
        resource: { type, ...(message ? { message } : {}) },
      },
    };
  }

  /** `POST /webhooks/{app}/{token}`: a follow-up, or the completion of a deferred reply. */
  followUp(appId: string, token: string, body: MessageBody, files: UploadedFile[], wait: boolean): HarnessReply {
    const live = this.webhookLive(appId, token);
    let message: StoredMessage;
    if (live.loading && live.originalMessageId) {
      message = this.completeDeferred(live, body, files);
    } else {
      message = this.ctx.messages.create(live.channelId, body, files, {
        ...this.responseFields(live, 0),
        flags: (body.flags ?? 0) & ~MESSAGE_FLAGS.LOADING,
      });
      live.followUpIds.push(message.id);
    }
    return wait ? { status: 200, json: message } : { status: 204 };
  }

  /** `GET|PATCH|DELETE /webhooks/{app}/{token}/messages/{@original|id}`. */
  webhookMessage(
    method: 'GET' | 'PATCH' | 'DELETE',
    appId: string,
    token: string,
    messageRef: string,
    body: MessageBody,
    files: UploadedFile[],
  ): HarnessReply {
    const live = this.webhookLive(appId, token);
    const messageId = messageRef === '@original' ? live.originalMessageId : messageRef;
    const owned = messageId && (messageId === live.originalMessageId || live.followUpIds.includes(messageId));
    const message = owned ? this.ctx.messages.get(live.channelId, messageId) : undefined;
    if (!message) throw discordErrors.unknownMessage();
    if (method === 'GET') return { status: 200, json: message };
    if (method === 'DELETE') {
      this.ctx.messages.delete(live.channelId, message.id);
      if (message.id === live.originalMessageId) live.loading = false;
      return { status: 204 };
    }
    if (live.loading && message.id === live.originalMessageId) {
      return { status: 200, json: this.completeDeferred(live, body, files) };
    }
    return { status: 200, json: this.ctx.messages.edit(live.channelId, message.id, body, files) };
  }

  private webhookLive(appId: string, token: string): Live {
    const live = this.byToken.get(token);
    if (!live || appId !== this.ctx.dir.applicationId) throw discordErrors.unknownWebhook();
    if (Date.now() - live.createdAt > this.ctx.tokenLifetimeMs) throw discordErrors.invalidWebhookToken();
    // Before the first callback the interaction webhook does not exist yet.
    if (live.responseType === undefined) throw discordErrors.unknownWebhook();
    return live;
  }

  private completeDeferred(live: Live, body: MessageBody, files: UploadedFile[]): StoredMessage {
    const edited = this.ctx.messages.edit(live.channelId, live.originalMessageId!, body, files);
    live.loading = false;
    return this.ctx.messages.patchFields(edited, { flags: edited.flags & ~MESSAGE_FLAGS.LOADING, edited_timestamp: null });
  }

  private createResponseMessage(live: Live, body: MessageBody, files: UploadedFile[], loading: boolean): StoredMessage {
    const keepFlags = MESSAGE_FLAGS.EPHEMERAL | 4 | 4096 | MESSAGE_FLAGS.IS_COMPONENTS_V2;
    const flags = ((body.flags ?? 0) & keepFlags) | (loading ? MESSAGE_FLAGS.LOADING : 0);
    const type = live.type === INTERACTION_TYPE.APPLICATION_COMMAND ? 20 : 0;
    const message = this.ctx.messages.create(live.channelId, body, files, { ...this.responseFields(live, type), flags }, { allowEmpty: loading });
    live.originalMessageId = message.id;
    live.loading = loading;
    return message;
  }

  private responseFields(live: Live, type: number): Partial<StoredMessage> & Pick<StoredMessage, 'author'> {
    const { dir } = this.ctx;
    const isFollowUp = live.originalMessageId !== undefined;
    return {
      type,
      author: apiBotUser(dir),
      webhook_id: dir.applicationId,
      application_id: dir.applicationId,
      interaction_metadata: {
        id: live.id,
        type: live.type,
        user: apiUser(live.user),
        authorizing_integration_owners: live.payload.authorizing_integration_owners,
        ...(live.commandName ? { name: live.commandName, command_type: 1 } : {}),
        ...(isFollowUp ? { original_response_message_id: live.originalMessageId } : {}),
        ...(live.clickedMessageId ? { interacted_message_id: live.clickedMessageId } : {}),
      },
      ...(live.commandName
        ? { interaction: { id: live.id, type: live.type, name: live.commandName, user: apiUser(live.user) } }
        : {}),
    };
  }

  private expire(live: Live): void {
    live.expired = true;
    if (live.timer) clearTimeout(live.timer);
    if (live.responseType === undefined) {
      live.settle?.reject(
        new Error(`discord harness: interaction ${live.id} was not acknowledged within ${this.ctx.ackWindowMs} ms`),
      );
    }
  }

  private makeHandle(live: Live, firstResponse: Promise<InteractionResponse>): InteractionHandle {
    const tracker = this;
    return {
      id: live.id,
      token: live.token,
      type: live.type,
      payload: live.payload,
      firstResponse,
      get acknowledged() {
        return live.responseType !== undefined;
      },
      get deferred() {
        return live.responseType === CALLBACK.DEFERRED_MESSAGE || live.responseType === CALLBACK.DEFERRED_UPDATE;
      },
      get responseType() {
        return live.responseType;
      },
      get latencyMs() {
        return live.latencyMs;
      },
      originalMessage: () =>
        live.originalMessageId ? tracker.ctx.messages.get(live.channelId, live.originalMessageId) : undefined,
      followUps: () =>
        live.followUpIds
          .map((mid) => tracker.ctx.messages.get(live.channelId, mid))
          .filter((m): m is StoredMessage => m !== undefined),
      expire: () => tracker.expire(live),
    };
  }
}
