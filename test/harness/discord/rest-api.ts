import type { CommandRegistry } from './command-registry.js';
import {
  apiBotMember,
  apiBotUser,
  apiGuild,
  apiGuildChannel,
  apiMember,
  apiRoles,
  apiUser,
  type Directory,
} from './directory.js';
import { discordErrors } from './discord-errors.js';
import { nextSnowflake, type DiscordHarnessState, type StoredMessage } from './harness-state.js';
import type { HarnessReply, InteractionTracker } from './interaction-tracker.js';
import { MESSAGE_FLAGS, type MessageBody, type MessageStore } from './message-store.js';
import type { RecordedRequest } from './recorded-request.js';

export interface RestApiContext {
  dir: Directory;
  state: DiscordHarnessState;
  token: string;
  messages: MessageStore;
  registry: CommandRegistry;
  interactions: InteractionTracker;
  gatewayUrl: () => string;
  onChange: () => void;
}

type Handler = (p: Record<string, string>, req: RecordedRequest, arrivedAt: number) => HarnessReply;

interface Route {
  method: string;
  pattern: string[];
  /** Interaction callbacks and interaction webhooks are called without `Authorization`. */
  auth: boolean;
  handler: Handler;
}

const ok = (json: unknown): HarnessReply => ({ status: 200, json });
const noContent: HarnessReply = { status: 204 };

/** The REST routes discord.js calls, under `/api/v10`, answered from the harness's state. */
export class DiscordRestApi {
  private readonly routes: Route[];

  constructor(private readonly ctx: RestApiContext) {
    const r = (method: string, path: string, auth: boolean, handler: Handler): Route => ({
      method,
      pattern: path.split('/').filter(Boolean),
      auth,
      handler,
    });
    const app = (p: Record<string, string>) => this.checkApp(p.app!);
    const guild = (p: Record<string, string>) => this.checkGuild(p.guild!);
    const { registry } = ctx;
    this.routes = [
      r('GET', 'gateway', false, () => ok({ url: ctx.gatewayUrl() })),
      r('GET', 'gateway/bot', true, () =>
        ok({
          url: ctx.gatewayUrl(),
          shards: 1,
          session_start_limit: { total: 1000, remaining: 999, reset_after: 14_400_000, max_concurrency: 1 },
        }),
      ),

      r('POST', 'interactions/:id/:token/callback', false, (p, req, arrivedAt) =>
        ctx.interactions.callback(p.id!, p.token!, req.json, req.files ?? [], req.query.with_response === 'true', arrivedAt),
      ),
      r('POST', 'webhooks/:app/:token', false, (p, req) =>
        ctx.interactions.followUp(p.app!, p.token!, body(req), req.files ?? [], req.query.wait === 'true'),
      ),
      ...(['GET', 'PATCH', 'DELETE'] as const).map((m) =>
        r(m, 'webhooks/:app/:token/messages/:message', false, (p, req) =>
          ctx.interactions.webhookMessage(m, p.app!, p.token!, p.message!, body(req), req.files ?? []),
        ),
      ),

      r('GET', 'channels/:channel', true, (p) => ok(this.channel(p.channel!))),
      r('GET', 'channels/:channel/messages', true, (p, req) => ok(this.listMessages(p.channel!, Number(req.query.limit ?? 50)))),
      r('POST', 'channels/:channel/messages', true, (p, req) => ok(this.postMessage(p.channel!, req))),
      r('GET', 'channels/:channel/messages/:message', true, (p) => ok(this.visibleMessage(p.channel!, p.message!))),
      r('PATCH', 'channels/:channel/messages/:message', true, (p, req) => {
        this.ownMessage(p.channel!, p.message!);
        return ok(ctx.messages.edit(p.channel!, p.message!, body(req), req.files ?? []));
      }),
      r('DELETE', 'channels/:channel/messages/:message', true, (p) => {
        this.visibleMessage(p.channel!, p.message!);
        ctx.messages.delete(p.channel!, p.message!);
        return noContent;
      }),
      r('POST', 'channels/:channel/typing', true, (p) => {
        this.channel(p.channel!);
        return noContent;
      }),

      r('GET', 'users/@me', true, () => ok(apiBotUser(ctx.dir))),
      r('POST', 'users/@me/channels', true, (_p, req) => ok(this.createDm(req))),
      r('GET', 'users/:user', true, (p) => ok(this.user(p.user!))),

      r('GET', 'applications/@me', true, () => ok(this.application())),
      r('GET', 'oauth2/applications/@me', true, () => ok(this.application())),
      r('GET', 'applications/:app/commands', true, (p) => (app(p), ok(registry.list()))),
      r('PUT', 'applications/:app/commands', true, (p, req) => (app(p), ok(registry.overwrite(req.json)))),
      r('POST', 'applications/:app/commands', true, (p, req) => (app(p), created(registry.create(req.json)))),
      r('GET', 'applications/:app/commands/:command', true, (p) => (app(p), ok(registry.get(p.command!)))),
      r('PATCH', 'applications/:app/commands/:command', true, (p, req) => (app(p), ok(registry.edit(p.command!, req.json)))),
      r('DELETE', 'applications/:app/commands/:command', true, (p) => (app(p), registry.delete(p.command!), noContent)),
      r('GET', 'applications/:app/guilds/:guild/commands', true, (p) => (app(p), guild(p), ok(registry.list(p.guild)))),
      r('PUT', 'applications/:app/guilds/:guild/commands', true, (p, req) =>
        (app(p), guild(p), ok(registry.overwrite(req.json, p.guild))),
      ),
      r('POST', 'applications/:app/guilds/:guild/commands', true, (p, req) =>
        (app(p), guild(p), created(registry.create(req.json, p.guild))),
      ),
      r('GET', 'applications/:app/guilds/:guild/commands/:command', true, (p) =>
        (app(p), guild(p), ok(registry.get(p.command!, p.guild))),
      ),
      r('PATCH', 'applications/:app/guilds/:guild/commands/:command', true, (p, req) =>
        (app(p), guild(p), ok(registry.edit(p.command!, req.json, p.guild))),
      ),
      r('DELETE', 'applications/:app/guilds/:guild/commands/:command', true, (p) =>
        (app(p), guild(p), registry.delete(p.command!, p.guild), noContent),
      ),

      r('GET', 'guilds/:guild', true, (p) => (guild(p), ok(apiGuild(ctx.dir)))),
      r('GET', 'guilds/:guild/channels', true, (p) =>
        (guild(p), ok(Object.values(ctx.dir.channels).map((c) => apiGuildChannel(ctx.dir, c, ctx.messages.lastMessageId(c.id))))),
      ),
      r('GET', 'guilds/:guild/roles', true, (p) => (guild(p), ok(apiRoles(ctx.dir)))),
      r('GET', 'guilds/:guild/members', true, (p) => (guild(p), ok(this.members()))),
      r('GET', 'guilds/:guild/members/:user', true, (p) => (guild(p), ok(this.member(p.user!)))),
    ];
  }

  /** Answers one request; throws `DiscordHttpError` for Discord's error answers. */
  handle(method: string, segments: string[], req: RecordedRequest, arrivedAt: number): HarnessReply {
    let pathMatched = false;
    for (const route of this.routes) {
      const params = match(route.pattern, segments);
      if (!params) continue;
      pathMatched = true;
      if (route.method !== method) continue;
      if (route.auth && req.headers.authorization !== `Bot ${this.ctx.token}`) throw discordErrors.unauthorized();
      return route.handler(params, req, arrivedAt);
    }
    throw pathMatched ? discordErrors.methodNotAllowed() : discordErrors.notFound();
  }

  /** The user id a DM channel belongs to. */
  dmRecipient(channelId: string): string | undefined {
    return Object.entries(this.ctx.state.dmChannels).find(([, id]) => id === channelId)?.[0];
  }

  /** The DM channel object with a user, created on first use. */
  dmChannel(userId: string): Record<string, unknown> {
    const { state } = this.ctx;
    let id = state.dmChannels[userId];
    if (!id) {
      id = nextSnowflake(state);
      state.dmChannels[userId] = id;
      this.ctx.onChange();
    }
    return {
      id,
      type: 1,
      last_message_id: this.ctx.messages.lastMessageId(id),
      flags: 0,
      recipients: [this.user(userId)],
    };
  }

  private channel(channelId: string): Record<string, unknown> {
    const { dir } = this.ctx;
    const guildChannel = Object.values(dir.channels).find((c) => c.id === channelId);
    if (guildChannel) return apiGuildChannel(dir, guildChannel, this.ctx.messages.lastMessageId(channelId));
    const recipient = this.dmRecipient(channelId);
    if (recipient) return this.dmChannel(recipient);
    throw discordErrors.unknownChannel();
  }

  private postMessage(channelId: string, req: RecordedRequest): StoredMessage {
    this.channel(channelId);
    const recipient = this.dmRecipient(channelId);
    if (recipient && this.ctx.state.closedDms.includes(recipient)) throw discordErrors.cannotSendToUser();
    const b = body(req);
    // Channel messages cannot be ephemeral or loading; Discord silently ignores those bits.
    const flags = (b.flags ?? 0) & ~(MESSAGE_FLAGS.EPHEMERAL | MESSAGE_FLAGS.LOADING);
    return this.ctx.messages.create(channelId, { ...b, flags }, req.files ?? [], {
      author: apiBotUser(this.ctx.dir),
      ...(b.message_reference ? { message_reference: { ...(b.message_reference as object), channel_id: channelId } } : {}),
      ...(b.nonce !== undefined ? { nonce: b.nonce } : {}),
    });
  }

  private listMessages(channelId: string, limit: number): StoredMessage[] {
    this.channel(channelId);
    return this.ctx.messages
      .list(channelId)
      .filter((m) => !(m.flags & MESSAGE_FLAGS.EPHEMERAL))
      .slice(-Math.min(Math.max(limit, 1), 100))
      .reverse();
  }

  /** Ephemeral messages exist only for their invoker: the bot cannot fetch them through the channel. */
  private visibleMessage(channelId: string, messageId: string): StoredMessage {
    this.channel(channelId);
    const message = this.ctx.messages.get(channelId, messageId);
    if (!message || message.flags & MESSAGE_FLAGS.EPHEMERAL) throw discordErrors.unknownMessage();
    return message;
  }

  private ownMessage(channelId: string, messageId: string): StoredMessage {
    const message = this.visibleMessage(channelId, messageId);
    if ((message.author as { id?: string }).id !== this.ctx.dir.applicationId) throw discordErrors.cannotEditOthersMessage();
    return message;
  }

  private createDm(req: RecordedRequest): Record<string, unknown> {
    const recipientId = (req.json as { recipient_id?: unknown } | undefined)?.recipient_id;
    if (typeof recipientId !== 'string' || !this.knownUser(recipientId)) {
      throw discordErrors.invalidFormBody({ recipient_id: { _errors: [{ code: 'NUMBER_TYPE_COERCE', message: 'Unknown user' }] } });
    }
    return this.dmChannel(recipientId);
  }

  private knownUser(userId: string): boolean {
    return userId === this.ctx.dir.applicationId || Object.values(this.ctx.dir.users).some((u) => u.id === userId);
  }

  private user(userId: string): Record<string, unknown> {
    const { dir } = this.ctx;
    if (userId === dir.applicationId) return apiBotUser(dir);
    const user = Object.values(dir.users).find((u) => u.id === userId);
    if (!user) throw discordErrors.unknownUser();
    return { ...apiUser(user), banner: null, accent_color: null, avatar_decoration_data: null, flags: 0 };
  }

  private members(): Record<string, unknown>[] {
    return [...Object.values(this.ctx.dir.users).map((u) => apiMember(u)), apiBotMember(this.ctx.dir)];
  }

  private member(userId: string): Record<string, unknown> {
    const found = this.members().find((m) => (m.user as { id: string }).id === userId);
    if (!found) throw discordErrors.unknownMember();
    return found;
  }

  private application(): Record<string, unknown> {
    const { dir } = this.ctx;
    return {
      id: dir.applicationId,
      name: dir.botUsername,
      icon: null,
      description: 'labgate (discord harness)',
      summary: '',
      type: null,
      bot: apiBotUser(dir),
      bot_public: false,
      bot_require_code_grant: false,
      verify_key: '0'.repeat(64),
      flags: 0,
      owner: apiUser(dir.users.alice),
      team: null,
      guild_id: dir.guildId,
      approximate_guild_count: 1,
      integration_types_config: { '0': {} },
    };
  }

  private checkApp(appId: string): void {
    if (appId !== this.ctx.dir.applicationId && appId !== '@me') throw discordErrors.unknownApplication();
  }

  private checkGuild(guildId: string): void {
    if (guildId !== this.ctx.dir.guildId) throw discordErrors.unknownGuild();
  }
}

function body(req: RecordedRequest): MessageBody {
  return req.json && typeof req.json === 'object' ? (req.json as MessageBody) : {};
}

function created(result: { command: unknown; created: boolean }): HarnessReply {
  return { status: result.created ? 201 : 200, json: result.command };
}

function match(pattern: string[], segments: string[]): Record<string, string> | undefined {
  if (pattern.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const want = pattern[i]!;
    const got = segments[i]!;
    if (want.startsWith(':')) params[want.slice(1)] = got;
    else if (want !== got) return undefined;
  }
  return params;
}
