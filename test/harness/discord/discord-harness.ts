import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { FaultInjector, sleep, type FaultAction } from '../../../sandbox/faults.js';
import { CommandRegistry } from './command-registry.js';
import {
  apiBotUser,
  apiGuildCreate,
  defaultDirectory,
  type ChannelKey,
  type DirectoryUser,
  type RoleKey,
  type UserKey,
} from './directory.js';
import { DiscordHttpError, discordFaultAction, rateLimitBody, type DiscordFault } from './discord-errors.js';
import { GatewayServer, type GatewayFrame } from './gateway-server.js';
import {
  emptyDiscordHarnessState,
  nextSnowflake,
  type DiscordHarnessState,
  type RegisteredCommand,
  type StoredAttachment,
  type StoredMessage,
} from './harness-state.js';
import {
  buttonData,
  chatInputData,
  interactionEnvelope,
  resolveUser,
  type InvokeOptions,
  type OptionInput,
  type PayloadContext,
  type UserRef,
} from './interaction-payloads.js';
import { INTERACTION_TYPE, InteractionTracker, type HarnessReply, type InteractionHandle } from './interaction-tracker.js';
import { MessageStore } from './message-store.js';
import { readDiscordBody, type RecordedRequest } from './recorded-request.js';
import { DiscordRestApi } from './rest-api.js';

export type { InteractionHandle, InteractionResponse } from './interaction-tracker.js';
export type { RecordedRequest, UploadedFile } from './recorded-request.js';
export type { StoredMessage, StoredAttachment, RegisteredCommand, DiscordHarnessState } from './harness-state.js';
export type { DiscordFault } from './discord-errors.js';
export type { GatewayFrame } from './gateway-server.js';
export type { OptionInput, InvokeOptions, UserRef, ChannelRef, AttachmentInput } from './interaction-payloads.js';
export { emptyDiscordHarnessState } from './harness-state.js';

export interface DiscordHarnessOptions {
  /** Bot token the client must log in with; a random one by default. */
  token?: string;
  /** State to start from (and mutate); a fresh one by default. */
  state?: DiscordHarnessState;
  /** Called after every change to `state`. */
  onChange?: () => void;
  /** How long an interaction may wait for its first callback (Discord: 3000 ms). */
  ackWindowMs?: number;
  /** How long the interaction webhook token works (Discord: 15 min). */
  tokenLifetimeMs?: number;
  /** Sent in HELLO; discord.js beats at this interval. */
  heartbeatIntervalMs?: number;
  /** How long interaction helpers wait for a client to have identified (default 5000 ms). */
  clientWaitMs?: number;
}

export interface HarnessUser {
  id: string;
  username: string;
  /** Role ids held in the guild. */
  roles: string[];
}

/** A fake Discord on loopback that a real discord.js Client logs in to, recording everything. */
export interface DiscordHarness {
  /** Pass as `rest.api` to discord.js: `http://127.0.0.1:PORT/api`. */
  readonly apiBase: string;
  readonly gatewayUrl: string;
  readonly token: string;
  readonly applicationId: string;
  readonly botUser: { id: string; username: string };
  readonly guildId: string;
  readonly channels: Record<ChannelKey, string>;
  readonly users: Record<UserKey, HarnessUser>;
  /** Role ids by name. */
  readonly roles: Record<RoleKey, string>;
  /** Every REST request, in arrival order. */
  readonly requests: RecordedRequest[];
  /** Every gateway frame sent and received. */
  readonly gatewayFrames: GatewayFrame[];
  readonly state: DiscordHarnessState;
  /** Shared fault injector; targets are `"METHOD /path"` with the path as recorded (`POST /channels/1/messages`). */
  readonly faults: FaultInjector;

  /** Messages in a channel (`'ops'`, `'alerts'` or an id), oldest first, ephemeral ones included. */
  messages(channel: ChannelKey | (string & {})): StoredMessage[];
  /** Messages the bot sent to a user by DM, oldest first. */
  dms(user: UserRef): StoredMessage[];
  dmChannelId(user: UserRef): string | undefined;
  /** The bytes of an uploaded file. */
  attachmentBytes(attachment: StoredAttachment | string): Buffer;

  /** Resolves once a client has identified on the gateway. */
  waitForClient(timeoutMs?: number): Promise<void>;
  /** A slash command invoked by `user`; options typed from the registered definition when there is one. */
  chatInput(user: UserRef, name: string, options?: Record<string, OptionInput>, invoke?: InvokeOptions): Promise<InteractionHandle>;
  /** An autocomplete request while `user` types into option `focused`. */
  autocomplete(
    user: UserRef,
    name: string,
    options: Record<string, OptionInput>,
    focused: string,
    invoke?: InvokeOptions,
  ): Promise<InteractionHandle>;
  /** `user` clicks the button with `customId` on a stored message (object or id). */
  clickButton(user: UserRef, message: StoredMessage | { id: string } | string, customId: string): Promise<InteractionHandle>;
  /** Dispatches a hand-built interaction; id, token and the envelope are filled in when absent. */
  sendInteraction(user: UserRef, partial: Record<string, unknown> & { type: number }, channel?: InvokeOptions['channel']): Promise<InteractionHandle>;
  /** Any other gateway dispatch (`MESSAGE_CREATE`, …); returns how many sessions got it. */
  dispatch(event: string, data: unknown): number;
  interactions(): InteractionHandle[];

  /** Makes the next `times` requests matching `match` (`"METHOD /path"` or a RegExp) fail like Discord would. */
  failNext(match: RegExp | string, fault: DiscordFault, times?: number): () => void;
  /** The user's DM channel can still be opened, but sending to it fails with 50007. */
  closeDms(user: UserRef): void;
  openDms(user: UserRef): void;
  /** Closes the client sockets (4000 by default: discord.js resumes and gets missed events replayed). */
  disconnectGateway(code?: number): void;

  registeredCommands(scope?: 'guild' | 'global'): RegisteredCommand[];
  close(): Promise<void>;
}

/** Starts the fake Discord on 127.0.0.1 with a random free port. */
export async function startDiscordHarness(opts: DiscordHarnessOptions = {}): Promise<DiscordHarness> {
  const dir = defaultDirectory();
  const token = opts.token ?? `${Buffer.from(dir.applicationId).toString('base64url')}.harness.${randomBytes(18).toString('base64url')}`;
  const state = opts.state ?? emptyDiscordHarnessState();
  const onChange = opts.onChange ?? (() => undefined);
  const clientWaitMs = opts.clientWaitMs ?? 5000;
  const requests: RecordedRequest[] = [];
  const gatewayFrames: GatewayFrame[] = [];
  const faults = new FaultInjector();
  let origin = '';

  const messages = new MessageStore({ state, baseUrl: () => origin, onChange });
  const registry = new CommandRegistry({ state, applicationId: dir.applicationId, onChange });
  const tracker = new InteractionTracker({
    dir,
    messages,
    ackWindowMs: opts.ackWindowMs ?? 3000,
    tokenLifetimeMs: opts.tokenLifetimeMs ?? 15 * 60 * 1000,
  });
  const gatewayUrl = () => `${origin.replace('http://', 'ws://')}/gateway`;
  const api = new DiscordRestApi({ dir, state, token, messages, registry, interactions: tracker, gatewayUrl, onChange });

  const server = createServer((req, res) => {
    void onRequest(req, res);
  });
  const gateway = new GatewayServer(server, {
    token,
    heartbeatIntervalMs: opts.heartbeatIntervalMs ?? 41_250,
    url: gatewayUrl,
    frames: gatewayFrames,
    ready: () => ({
      ready: {
        v: 10,
        user: apiBotUser(dir),
        user_settings: {},
        guilds: [{ id: dir.guildId, unavailable: true }],
        private_channels: [],
        relationships: [],
        presences: [],
        guild_join_requests: [],
        geo_ordered_rtc_regions: [],
        application: { id: dir.applicationId, flags: 0 },
      },
      guilds: [
        apiGuildCreate(
          dir,
          Object.fromEntries(Object.values(dir.channels).map((c) => [c.id, messages.lastMessageId(c.id)])),
        ),
      ],
    }),
  });

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const arrivedAt = performance.now();
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = req.method ?? 'GET';
    if (url.pathname.startsWith('/attachments/')) return serveAttachment(url.pathname, res);
    const prefix = '/api/v10/';
    const raw = url.pathname.startsWith(prefix) ? url.pathname.slice(prefix.length) : undefined;
    let segments: string[];
    try {
      segments = (raw ?? '').split('/').filter((s) => s !== '').map(decodeURIComponent);
    } catch {
      segments = [];
    }
    const record: RecordedRequest = {
      method,
      path: raw === undefined ? url.pathname : `/${segments.join('/')}`,
      query: Object.fromEntries(url.searchParams),
      headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')])),
      bodyKind: 'none',
      at: Date.now(),
    };
    requests.push(record);
    try {
      Object.assign(record, await readDiscordBody(req));
      const fault = faults.take(`${method} ${record.path}`);
      if (fault) return await answerFault(fault, record, req, res);
      if (raw === undefined) throw new DiscordHttpError(404, 0, '404: Not Found');
      reply(record, res, api.handle(method, segments, record, arrivedAt));
    } catch (e) {
      if (e instanceof DiscordHttpError) {
        reply(record, res, { status: e.status, json: e.body });
      } else {
        reply(record, res, { status: 500, json: { message: `harness error: ${(e as Error).message}`, code: 0 } });
      }
    }
  }

  async function answerFault(fault: FaultAction, record: RecordedRequest, req: IncomingMessage, res: ServerResponse) {
    if (fault.delayMs) await sleep(fault.delayMs);
    if (fault.drop) {
      record.status = 0;
      req.socket.destroy();
      return;
    }
    if (fault.hang) return;
    const status = fault.status ?? 500;
    const retryAfter = Number(fault.headers?.['Retry-After'] ?? 1);
    const body = fault.body ?? (status === 429 ? rateLimitBody(retryAfter, false) : { message: `${status}: harness fault`, code: 0 });
    reply(record, res, { status, json: status === 204 ? undefined : body }, fault.headers);
  }

  function serveAttachment(pathname: string, res: ServerResponse): void {
    const [, , , id] = pathname.split('/');
    const bytes = id ? messages.bytes(id) : undefined;
    if (!bytes) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': bytes.length }).end(bytes);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const payloadCtx: PayloadContext = {
    dir,
    registry,
    messages,
    dmChannel: (userId) => api.dmChannel(userId),
    dmRecipient: (channelId) => api.dmRecipient(channelId),
    newId: () => nextSnowflake(state),
  };
  const channelId = (ref: string) => (dir.channels as Record<string, { id: string }>)[ref]?.id ?? ref;

  async function send(
    user: DirectoryUser,
    payload: Record<string, unknown>,
    meta: { commandName?: string; clickedMessageId?: string },
  ): Promise<InteractionHandle> {
    await gateway.waitForSession(clientWaitMs);
    const handle = tracker.track(payload, user, meta);
    gateway.dispatch('INTERACTION_CREATE', payload);
    return handle;
  }

  function envelope(user: DirectoryUser, type: number, channel: InvokeOptions['channel'], locale?: string) {
    const id = nextSnowflake(state);
    return {
      id,
      token: `${Buffer.from(`interaction:${id}`).toString('base64url')}.${randomBytes(24).toString('base64url')}`,
      type,
      ...interactionEnvelope(payloadCtx, user, channel ?? 'ops', locale),
    };
  }

  const isGuildChannel = (ref: string | undefined) =>
    ref === undefined || Object.values(dir.channels).some((c) => c.id === channelId(ref));

  const harness: DiscordHarness = {
    apiBase: `${origin}/api`,
    gatewayUrl: gatewayUrl(),
    token,
    applicationId: dir.applicationId,
    botUser: { id: dir.applicationId, username: dir.botUsername },
    guildId: dir.guildId,
    channels: { ops: dir.channels.ops.id, alerts: dir.channels.alerts.id },
    users: Object.fromEntries(
      Object.entries(dir.users).map(([k, u]) => [k, { id: u.id, username: u.username, roles: [...u.roles] }]),
    ) as Record<UserKey, HarnessUser>,
    roles: { admins: dir.roles.admins.id, operators: dir.roles.operators.id },
    requests,
    gatewayFrames,
    state,
    faults,

    messages: (channel) => messages.list(channelId(channel)),
    dms: (user) => {
      const id = state.dmChannels[resolveUser(dir, user).id];
      return id ? messages.list(id) : [];
    },
    dmChannelId: (user) => state.dmChannels[resolveUser(dir, user).id],
    attachmentBytes: (attachment) => {
      const id = typeof attachment === 'string' ? attachment : attachment.id;
      const bytes = messages.bytes(id);
      if (!bytes) throw new Error(`discord harness: no uploaded bytes for attachment ${id}`);
      return bytes;
    },

    waitForClient: (timeoutMs = clientWaitMs) => gateway.waitForSession(timeoutMs),

    async chatInput(userRef, name, options = {}, invoke = {}) {
      const user = resolveUser(dir, userRef);
      const base = envelope(user, INTERACTION_TYPE.APPLICATION_COMMAND, invoke.channel, invoke.locale);
      const data = chatInputData(payloadCtx, name, options, invoke, isGuildChannel(invoke.channel));
      return send(user, { ...base, data }, { commandName: name });
    },

    async autocomplete(userRef, name, options, focused, invoke = {}) {
      const user = resolveUser(dir, userRef);
      const base = envelope(user, INTERACTION_TYPE.AUTOCOMPLETE, invoke.channel, invoke.locale);
      const data = chatInputData(payloadCtx, name, options, invoke, isGuildChannel(invoke.channel), focused);
      return send(user, { ...base, data }, { commandName: name });
    },

    async clickButton(userRef, messageRef, customId) {
      const user = resolveUser(dir, userRef);
      const id = typeof messageRef === 'string' ? messageRef : messageRef.id;
      const stored = messages.find(id);
      if (!stored) throw new Error(`discord harness: no stored message ${id}`);
      const { data, message } = buttonData(stored, customId, user);
      const base = envelope(user, INTERACTION_TYPE.MESSAGE_COMPONENT, stored.channel_id);
      return send(user, { ...base, data, message }, { clickedMessageId: stored.id });
    },

    async sendInteraction(userRef, partial, channel) {
      const user = resolveUser(dir, userRef);
      const payload: Record<string, unknown> = { ...envelope(user, partial.type, channel), ...partial };
      const message = payload.message as { id?: string } | undefined;
      return send(user, payload, {
        commandName: (payload.data as { name?: string } | undefined)?.name,
        clickedMessageId: message?.id,
      });
    },

    dispatch: (event, data) => gateway.dispatch(event, data),
    interactions: () => tracker.all(),

    failNext: (match, fault, times = 1) => faults.add({ match, times, ...discordFaultAction(fault) }),
    closeDms: (user) => {
      const id = resolveUser(dir, user).id;
      if (!state.closedDms.includes(id)) state.closedDms.push(id);
      onChange();
    },
    openDms: (user) => {
      const id = resolveUser(dir, user).id;
      state.closedDms = state.closedDms.filter((u) => u !== id);
      onChange();
    },
    disconnectGateway: (code) => gateway.disconnectAll(code),

    registeredCommands: (scope = 'guild') => registry.list(scope === 'guild' ? dir.guildId : undefined),

    async close() {
      tracker.close();
      faults.clear();
      await gateway.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return harness;
}

function reply(record: RecordedRequest, res: ServerResponse, answer: HarnessReply, headers: Record<string, string> = {}): void {
  record.status = answer.status;
  if (res.headersSent || res.destroyed) return;
  // A 204 must carry no body and no JSON content type: discord.js would try to parse it and emit an error.
  if (answer.status === 204 || answer.json === undefined) {
    res.writeHead(answer.status, headers).end();
    return;
  }
  const text = JSON.stringify(answer.json);
  res
    .writeHead(answer.status, { ...headers, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) })
    .end(text);
}
