import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ActionRowBuilder,
  ApplicationCommandOptionType,
  ButtonBuilder,
  ButtonStyle,
  Client,
  DiscordAPIError,
  Events,
  GatewayIntentBits,
  MessageFlags,
  REST,
  Routes,
  type ApplicationCommandDataResolvable,
  type Interaction,
  type TextChannel,
} from 'discord.js';
import { startDiscordHarness, type DiscordHarness } from './discord/discord-harness.js';

/** A discord.js Client pointed at the harness, logged in and ready; errors collected, never thrown. */
async function connectClient(harness: DiscordHarness, errors: unknown[]) {
  const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: harness.apiBase } });
  client.on(Events.Error, (e) => errors.push(e));
  const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
  await client.login(harness.token);
  await ready;
  return client;
}

/**
 * Routes interactions to whatever the current test installed. `next(fn)` handles exactly the
 * next interaction with `fn` and resolves with its result (or rejects with its error).
 */
function interactionRouter(client: Client) {
  let pending: ((i: Interaction) => void) | undefined;
  client.on(Events.InteractionCreate, (i) => {
    const take = pending;
    pending = undefined;
    take?.(i);
  });
  return {
    next<T>(fn: (i: Interaction) => Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        pending = (i) => void fn(i).then(resolve, reject);
      });
    },
  };
}

const COMMANDS: ApplicationCommandDataResolvable[] = [
  {
    name: 'expose',
    description: 'Publish a service through Traefik',
    options: [
      {
        type: ApplicationCommandOptionType.Subcommand,
        name: 'add',
        description: 'Expose a service',
        options: [
          { type: ApplicationCommandOptionType.String, name: 'service', description: 'Service', required: true, autocomplete: true },
          { type: ApplicationCommandOptionType.Integer, name: 'port', description: 'Port', required: true },
          { type: ApplicationCommandOptionType.Boolean, name: 'mtls', description: 'Require client certs' },
          { type: ApplicationCommandOptionType.User, name: 'owner', description: 'Who owns it' },
          { type: ApplicationCommandOptionType.Number, name: 'weight', description: 'Traffic weight' },
          { type: ApplicationCommandOptionType.Attachment, name: 'manifest', description: 'Extra manifest' },
        ],
      },
      { type: ApplicationCommandOptionType.Subcommand, name: 'list', description: 'List exposed services' },
    ],
  },
  { name: 'derp-check', description: 'Check whether Tailscale connections are direct' },
];

describe('discord harness through the real discord.js client', () => {
  let harness: DiscordHarness;
  let client: Client;
  let router: ReturnType<typeof interactionRouter>;
  const clientErrors: unknown[] = [];

  beforeAll(async () => {
    harness = await startDiscordHarness();
    client = await connectClient(harness, clientErrors);
    router = interactionRouter(client);
    await client.application!.commands.set(COMMANDS, harness.guildId);
  });

  afterAll(async () => {
    await client?.destroy();
    await harness?.close();
  });

  afterEach(() => {
    // An unparsable or mis-typed answer (e.g. a 204 with a JSON content type) surfaces here.
    expect(clientErrors).toEqual([]);
  });

  it('GIVEN the bot token WHEN the client logs in THEN it identifies without compression and is ready with the guild', async () => {
    expect(client.isReady()).toBe(true);
    expect(client.user!.id).toBe(harness.applicationId);
    expect(client.application!.id).toBe(harness.applicationId);

    const guild = client.guilds.cache.get(harness.guildId)!;
    expect(guild.available).toBe(true);
    expect(guild.channels.cache.map((c) => c.name).sort()).toEqual(['alerts', 'ops']);
    expect(guild.roles.cache.map((r) => r.name).sort()).toEqual(['@everyone', 'admins', 'operators']);
    expect(guild.members.cache.get(harness.users.alice.id)!.roles.cache.has(harness.roles.admins)).toBe(true);

    const gatewayBot = harness.requests.find((r) => r.path === '/gateway/bot')!;
    expect(gatewayBot.headers.authorization).toBe(`Bot ${harness.token}`);
    const identify = harness.gatewayFrames.find((f) => f.direction === 'in' && f.op === 2)!;
    expect(identify.d).toMatchObject({ token: harness.token, compress: false, intents: GatewayIntentBits.Guilds });
    const dispatched = harness.gatewayFrames.filter((f) => f.direction === 'out' && f.op === 0);
    expect(dispatched.slice(0, 2).map((f) => [f.t, f.s])).toEqual([
      ['READY', 1],
      ['GUILD_CREATE', 2],
    ]);
  });

  it('GIVEN a wrong token WHEN logging in THEN GET /gateway/bot answers 401 and login fails with TokenInvalid', async () => {
    const stranger = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: harness.apiBase } });
    stranger.on(Events.Error, () => undefined);
    await expect(stranger.login('not-the-token')).rejects.toMatchObject({ code: 'TokenInvalid' });
    await stranger.destroy();
    expect(harness.requests.at(-1)).toMatchObject({ method: 'GET', path: '/gateway/bot', status: 401 });
  });

  it('GIVEN registered commands WHEN alice runs /expose add THEN interactionCreate sees the subcommand and typed, resolved options', async () => {
    const seen = router.next(async (i) => {
      if (!i.isChatInputCommand()) throw new Error(`unexpected ${i.type}`);
      const o = i.options;
      const result = {
        command: i.commandName,
        commandId: i.commandId,
        sub: o.getSubcommand(),
        service: o.getString('service'),
        port: o.getInteger('port'),
        mtls: o.getBoolean('mtls'),
        weight: o.getNumber('weight'),
        owner: o.getUser('owner')?.username,
        manifest: o.getAttachment('manifest')?.name,
        user: i.user.username,
        isAdmin: i.inCachedGuild() ? i.member.roles.cache.has(harness.roles.admins) : false,
        channel: i.channel?.id,
      };
      await i.reply({ content: 'planned' });
      return result;
    });
    const handle = await harness.chatInput(
      'alice',
      'expose',
      { service: 'grafana', port: 3000, mtls: true, owner: 'bob', weight: 2, manifest: { attachment: { filename: 'extra.yaml', bytes: 'a: 1\n' } } },
      { subcommand: 'add' },
    );
    const registered = harness.registeredCommands().find((c) => c.name === 'expose')!;
    await expect(seen).resolves.toEqual({
      command: 'expose',
      commandId: registered.id,
      sub: 'add',
      service: 'grafana',
      port: 3000,
      mtls: true,
      // Declared NUMBER, so 2 travels as type 10 and getNumber accepts it.
      weight: 2,
      owner: 'bob',
      manifest: 'extra.yaml',
      user: 'alice',
      isAdmin: true,
      channel: harness.channels.ops,
    });
    const first = await handle.firstResponse;
    expect(first).toMatchObject({ type: 4, data: { content: 'planned' } });
    expect(handle.latencyMs).toBe(first.ms);
    expect(handle.originalMessage()).toMatchObject({
      content: 'planned',
      type: 20,
      webhook_id: harness.applicationId,
      interaction_metadata: { id: handle.id, user: { id: harness.users.alice.id } },
    });
  });

  it('GIVEN a command WHEN an option the command does not declare is sent THEN the harness refuses, as Discord would never send it', async () => {
    await expect(harness.chatInput('alice', 'expose', { service: 'x', port: 1, colour: 'red' }, { subcommand: 'add' })).rejects.toThrow(
      /no option "colour"/,
    );
    await expect(harness.chatInput('alice', 'expose', { service: 'x' }, { subcommand: 'add' })).rejects.toThrow(/missing required option\(s\) port/);
  });

  it('GIVEN deferReply WHEN the bot edits and follows up THEN the loading message is completed and the follow-up recorded', async () => {
    const done = router.next(async (i) => {
      if (!i.isChatInputCommand()) throw new Error('expected a command');
      await i.deferReply({ flags: MessageFlags.Ephemeral });
      await i.editReply('plan ready');
      await i.followUp({ content: 'diff attached', files: [{ attachment: Buffer.from('+ route\n'), name: 'plan.diff' }] });
    });
    const handle = await harness.chatInput('bob', 'derp-check');
    await done;

    expect((await handle.firstResponse).type).toBe(5);
    expect(handle.deferred).toBe(true);
    const original = handle.originalMessage()!;
    expect(original.content).toBe('plan ready');
    expect(original.flags).toBe(MessageFlags.Ephemeral);
    const [followUp] = handle.followUps();
    expect(followUp).toMatchObject({ content: 'diff attached', attachments: [{ filename: 'plan.diff', size: 8 }] });
    expect(harness.attachmentBytes(followUp!.attachments[0]!).toString()).toBe('+ route\n');

    const mine = harness.requests.filter((r) => r.path.includes(handle.token) || r.path.includes(handle.id));
    expect(mine.map((r) => `${r.method} ${r.path.replace(handle.token, '{token}')} ${r.status}`)).toEqual([
      `POST /interactions/${handle.id}/{token}/callback 204`,
      `PATCH /webhooks/${harness.applicationId}/{token}/messages/@original 200`,
      `POST /webhooks/${harness.applicationId}/{token} 200`,
    ]);
    expect(mine[0]!.query).toEqual({ with_response: 'false' });
    expect(mine[0]!.headers.authorization).toBeUndefined();
    expect(mine[2]).toMatchObject({ query: { wait: 'true' }, bodyKind: 'multipart' });
  });

  it('GIVEN a deferred reply never edited WHEN the bot follows up THEN the follow-up completes the original loading message', async () => {
    const done = router.next(async (i) => {
      if (!i.isChatInputCommand()) throw new Error('expected a command');
      await i.deferReply();
      return (await i.followUp('all direct')).id;
    });
    const handle = await harness.chatInput('alice', 'derp-check');
    const messageId = await done;
    expect(handle.originalMessage()).toMatchObject({ id: messageId, content: 'all direct', flags: 0 });
    expect(handle.followUps()).toEqual([]);
  });

  it('GIVEN reply with withResponse WHEN answered THEN the callback returns 200 with the created message', async () => {
    const done = router.next(async (i) => {
      if (!i.isChatInputCommand()) throw new Error('expected a command');
      const response = await i.reply({ content: 'with body', withResponse: true });
      return { messageId: response.resource?.message?.id, content: response.resource?.message?.content };
    });
    const handle = await harness.chatInput('alice', 'derp-check');
    const answer = await done;
    expect(answer).toEqual({ messageId: handle.originalMessage()!.id, content: 'with body' });
    expect(harness.requests.find((r) => r.path.includes(handle.id))).toMatchObject({ query: { with_response: 'true' }, status: 200 });
  });

  it('GIVEN a posted message with buttons WHEN bob clicks one THEN a ButtonInteraction carries the customId and message, and update() edits it', async () => {
    const ops = client.channels.cache.get(harness.channels.ops) as TextChannel;
    const row = new ActionRowBuilder<ButtonBuilder>().addComponents(
      new ButtonBuilder().setCustomId('approve:plan-7').setLabel('Approve').setStyle(ButtonStyle.Success),
      new ButtonBuilder().setCustomId('reject:plan-7').setLabel('Reject').setStyle(ButtonStyle.Danger),
    );
    const posted = await ops.send({ content: 'Plan plan-7: expose grafana', components: [row] });
    const stored = harness.messages('ops').find((m) => m.id === posted.id)!;
    expect(stored.components).toMatchObject([{ type: 1, id: 1, components: [{ id: 2, custom_id: 'approve:plan-7' }, { id: 3 }] }]);

    const seen = router.next(async (i) => {
      if (!i.isButton()) throw new Error('expected a button');
      const result = { customId: i.customId, messageId: i.message.id, content: i.message.content, user: i.user.username };
      await i.update({ content: 'Plan plan-7: approved by bob', components: [] });
      return result;
    });
    const handle = await harness.clickButton('bob', stored, 'approve:plan-7');
    await expect(seen).resolves.toEqual({
      customId: 'approve:plan-7',
      messageId: posted.id,
      content: 'Plan plan-7: expose grafana',
      user: 'bob',
    });
    expect((await handle.firstResponse).type).toBe(7);
    expect(handle.originalMessage()!.id).toBe(posted.id);
    expect(harness.messages('ops').find((m) => m.id === posted.id)).toMatchObject({
      content: 'Plan plan-7: approved by bob',
      components: [],
    });
    await expect(harness.clickButton('bob', posted.id, 'approve:plan-7')).rejects.toThrow(/no component/);
  });

  it('GIVEN the user types in an autocomplete option WHEN the bot responds THEN the choices arrive as callback type 8', async () => {
    const seen = router.next(async (i) => {
      if (!i.isAutocomplete()) throw new Error('expected autocomplete');
      const focused = i.options.getFocused(true);
      await i.respond([
        { name: 'grafana (monitoring)', value: 'monitoring/grafana' },
        { name: 'prometheus (monitoring)', value: 'monitoring/prometheus' },
      ]);
      return { name: focused.name, value: focused.value, sub: i.options.getSubcommand() };
    });
    const handle = await harness.autocomplete('alice', 'expose', { service: 'gr', port: 3000 }, 'service', { subcommand: 'add' });
    await expect(seen).resolves.toEqual({ name: 'service', value: 'gr', sub: 'add' });
    await expect(handle.firstResponse).resolves.toMatchObject({
      type: 8,
      data: { choices: [{ value: 'monitoring/grafana' }, { value: 'monitoring/prometheus' }] },
    });
  });

  it('GIVEN a file WHEN the bot sends it to a channel THEN it arrives as multipart, the bytes are kept and served at the attachment url', async () => {
    const ops = client.channels.cache.get(harness.channels.ops) as TextChannel;
    const bytes = Buffer.from([0x00, 0x01, 0xfe, 0xff, 0x42]);
    const sent = await ops.send({ content: 'report', files: [{ attachment: bytes, name: 'report.bin' }] });

    const request = harness.requests.filter((r) => r.method === 'POST' && r.path === `/channels/${harness.channels.ops}/messages`).at(-1)!;
    expect(request.bodyKind).toBe('multipart');
    expect(request.json).toMatchObject({ content: 'report', attachments: [{ id: '0' }] });
    expect(request.files!.map((f) => [f.field, f.filename, f.bytes.equals(bytes)])).toEqual([['files[0]', 'report.bin', true]]);

    const stored = harness.messages('ops').at(-1)!;
    expect(stored).toMatchObject({ id: sent.id, attachments: [{ filename: 'report.bin', size: 5 }] });
    expect(harness.attachmentBytes(stored.attachments[0]!).equals(bytes)).toBe(true);
    const served = Buffer.from(await (await fetch(sent.attachments.first()!.url)).arrayBuffer());
    expect(served.equals(bytes)).toBe(true);
  });

  it('GIVEN a user WHEN the bot DMs them a file THEN a DM channel is created and the message with its bytes lands there', async () => {
    const alice = await client.users.fetch(harness.users.alice.id);
    const bundle = Buffer.from('fake-pkcs12-bytes');
    await alice.send({ content: 'Your device certificate', files: [{ attachment: bundle, name: 'alice-phone.p12' }] });

    // discord.js opens a DM channel once per user and caches it: another test may have opened alice's.
    const createDm = harness.requests.filter((r) => r.path === '/users/@me/channels').find((r) => (r.json as { recipient_id?: string }).recipient_id === harness.users.alice.id);
    expect(createDm).toMatchObject({ method: 'POST', status: 200 });
    const dm = harness.dms('alice').at(-1);
    expect(dm).toMatchObject({ channel_id: harness.dmChannelId('alice'), content: 'Your device certificate' });
    expect(harness.attachmentBytes(dm!.attachments[0]!).equals(bundle)).toBe(true);
  });

  it('GIVEN a DM with a button WHEN its recipient clicks it THEN the ButtonInteraction comes from the DM, with a user and no member', async () => {
    const alice = await client.users.fetch(harness.users.alice.id);
    const row = new ActionRowBuilder<ButtonBuilder>().addComponents(
      new ButtonBuilder().setCustomId('install:cert-9').setLabel('Installed').setStyle(ButtonStyle.Primary),
    );
    const dm = await alice.send({ content: 'Did the certificate import?', components: [row] });
    await expect(harness.clickButton('bob', dm.id, 'install:cert-9')).rejects.toThrow(/another user's DM/);

    const seen = router.next(async (i) => {
      if (!i.isButton()) throw new Error('expected a button');
      await i.deferUpdate();
      return { inGuild: i.inGuild(), channelId: i.channelId, user: i.user.username, member: i.member, messageId: i.message.id };
    });
    const handle = await harness.clickButton('alice', dm.id, 'install:cert-9');
    await expect(seen).resolves.toEqual({
      inGuild: false,
      channelId: harness.dmChannelId('alice'),
      user: 'alice',
      member: null,
      messageId: dm.id,
    });
    expect(handle.payload).toMatchObject({ context: 1, authorizing_integration_owners: { '0': '0' } });
    expect(handle.responseType).toBe(6);
  });

  it('GIVEN bob closed his DMs WHEN the bot DMs him THEN the send rejects with DiscordAPIError 50007', async () => {
    harness.closeDms('bob');
    const bob = await client.users.fetch(harness.users.bob.id);
    const error = await bob.send('Your device certificate').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DiscordAPIError);
    expect(error).toMatchObject({ code: 50007, status: 403 });
    expect(harness.dmChannelId('bob')).toBeDefined();
    expect(harness.dms('bob')).toEqual([]);
    harness.openDms('bob');
  });

  it('GIVEN an acknowledged interaction WHEN it is acknowledged again THEN Discord answers 400 with code 40060', async () => {
    const second = router.next(async (i) => {
      if (!i.isChatInputCommand()) throw new Error('expected a command');
      await i.reply('first');
      // discord.js refuses locally, so go around it the way a second process would.
      return client.rest
        .post(Routes.interactionCallback(i.id, i.token), { body: { type: 4, data: { content: 'second' } }, auth: false })
        .catch((e: unknown) => e);
    });
    const handle = await harness.chatInput('alice', 'derp-check');
    const error = await second;
    expect(error).toBeInstanceOf(DiscordAPIError);
    expect(error).toMatchObject({ code: 40060, status: 400 });
    expect((await handle.firstResponse).data).toMatchObject({ content: 'first' });
  });

  it('GIVEN an interaction past its acknowledgement window WHEN the bot defers THEN Discord answers 404 with code 10062', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const late = router.next(async (i) => {
      if (!i.isChatInputCommand()) throw new Error('expected a command');
      await gate;
      return i.deferReply().catch((e: unknown) => e);
    });
    const handle = await harness.chatInput('alice', 'derp-check');
    handle.expire();
    release();
    const error = await late;
    expect(error).toBeInstanceOf(DiscordAPIError);
    expect(error).toMatchObject({ code: 10062, status: 404 });
    await expect(handle.firstResponse).rejects.toThrow(/not acknowledged/);
    expect(handle.acknowledged).toBe(false);
  });

  it('GIVEN a callback answered 204 THEN it has no body and no content type, and an unknown token gets 10062', async () => {
    const ignored = router.next(async () => undefined);
    const handle = await harness.chatInput('alice', 'derp-check');
    await ignored;
    const url = `${harness.apiBase}/v10/interactions/${handle.id}/${handle.token}/callback`;
    const init = { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 5 }) };
    const res = await fetch(url, init);
    expect(res.status).toBe(204);
    expect(res.headers.get('content-type')).toBeNull();
    expect(await res.text()).toBe('');
    const again = await fetch(url, init);
    expect(again.status).toBe(400);
    expect(again.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await again.json()).toMatchObject({ code: 40060 });
    const unknown = await fetch(url.replace(handle.token, 'forged'), init);
    expect(await unknown.json()).toMatchObject({ code: 10062 });
  });

  it('GIVEN a 429 with Retry-After WHEN the bot sends THEN @discordjs/rest waits, retries, and the message is stored once', async () => {
    const path = `/channels/${harness.channels.alerts}/messages`;
    harness.failNext(`POST ${path}`, { kind: 'rate-limited', retryAfterSeconds: 0.05 });
    const alerts = client.channels.cache.get(harness.channels.alerts) as TextChannel;
    const before = harness.messages('alerts').length;
    await alerts.send('node-22 fell back to DERP');

    const attempts = harness.requests.filter((r) => r.method === 'POST' && r.path === path);
    const [limited, retried] = attempts.slice(-2);
    expect([limited!.status, retried!.status]).toEqual([429, 200]);
    // A lower bound only: the client must have waited out Retry-After (50 ms) before retrying.
    expect(retried!.at - limited!.at).toBeGreaterThanOrEqual(50);
    expect(harness.messages('alerts').length).toBe(before + 1);
  });

  it('GIVEN a 500 WHEN the bot sends THEN @discordjs/rest retries and succeeds', async () => {
    const path = `/channels/${harness.channels.alerts}/messages`;
    harness.failNext(`POST ${path}`, { kind: 'server-error' });
    await (client.channels.cache.get(harness.channels.alerts) as TextChannel).send('retry me');
    expect(
      harness.requests
        .filter((r) => r.path === path)
        .map((r) => r.status)
        .slice(-2),
    ).toEqual([500, 200]);
  });

  it('GIVEN guild commands WHEN overwritten twice THEN ids stay stable and only the changed command gets a new version', async () => {
    // discord.js patches cached command objects in place, so keep plain copies of the first state.
    const before = (await client.application!.commands.fetch({ guildId: harness.guildId })).map((c) => ({
      name: c.name,
      id: c.id,
      version: c.version,
    }));
    const changed = COMMANDS.map((c) =>
      'name' in c && c.name === 'derp-check' ? { ...c, description: 'Check Tailscale paths (direct vs DERP)' } : c,
    );
    const after = (await client.application!.commands.set(changed, harness.guildId)).map((c) => ({
      name: c.name,
      id: c.id,
      version: c.version,
    }));

    const idOf = (list: { name: string; id: string; version: string }[], name: string) => list.find((c) => c.name === name)!;
    expect(idOf(after, 'expose').id).toBe(idOf(before, 'expose').id);
    expect(idOf(after, 'derp-check').id).toBe(idOf(before, 'derp-check').id);
    expect(idOf(after, 'expose').version).toBe(idOf(before, 'expose').version);
    expect(idOf(after, 'derp-check').version).not.toBe(idOf(before, 'derp-check').version);
    expect(harness.registeredCommands().find((c) => c.name === 'derp-check')!.description).toBe(
      'Check Tailscale paths (direct vs DERP)',
    );
    expect(harness.registeredCommands('global')).toEqual([]);
    await client.application!.commands.set(COMMANDS, harness.guildId);
  });

  it('GIVEN a command with a required option after an optional one WHEN registered THEN Discord refuses it with 50035', async () => {
    const bad: ApplicationCommandDataResolvable[] = [
      {
        name: 'cert',
        description: 'Issue a device certificate',
        options: [
          { type: ApplicationCommandOptionType.String, name: 'profile', description: 'PKCS#12 profile' },
          { type: ApplicationCommandOptionType.String, name: 'device', description: 'Device name', required: true },
        ],
      },
    ];
    const error = await client.application!.commands.set(bad, harness.guildId).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DiscordAPIError);
    expect(error).toMatchObject({ code: 50035, status: 400 });
    expect(JSON.stringify((error as DiscordAPIError).rawError)).toContain('APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID');
    expect(harness.registeredCommands().map((c) => c.name)).toEqual(['expose', 'derp-check']);
  });

  it('GIVEN a message whose button custom_id is over 100 characters WHEN sent THEN it is refused with 50035', async () => {
    const ops = client.channels.cache.get(harness.channels.ops) as TextChannel;
    const row = new ActionRowBuilder<ButtonBuilder>().addComponents(
      new ButtonBuilder().setCustomId('x'.repeat(100)).setLabel('ok').setStyle(ButtonStyle.Primary),
    );
    const raw = row.toJSON();
    (raw.components[0] as { custom_id: string }).custom_id = 'x'.repeat(101);
    const error = await ops.send({ content: 'too long', components: [raw] }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 50035 });
  });

  it('GIVEN the gateway drops WHEN discord.js resumes THEN interactions still arrive', async () => {
    const resumed = new Promise<void>((resolve) => client.once(Events.ShardResume, () => resolve()));
    harness.disconnectGateway(4000);
    await resumed;
    expect(harness.gatewayFrames.some((f) => f.direction === 'in' && f.op === 6)).toBe(true);

    const seen = router.next(async (i) => {
      if (!i.isChatInputCommand()) throw new Error('expected a command');
      await i.reply('still here');
      return i.commandName;
    });
    await harness.chatInput('alice', 'derp-check');
    await expect(seen).resolves.toBe('derp-check');
  });
});

describe('discord harness state', () => {
  it('GIVEN state saved as JSON WHEN a new harness starts from it THEN messages, uploads and commands are still there', async () => {
    let changes = 0;
    const first = await startDiscordHarness({ onChange: () => changes++ });
    const rest1 = new REST({ api: first.apiBase }).setToken(first.token);
    await rest1.put(Routes.applicationGuildCommands(first.applicationId, first.guildId), {
      body: [{ name: 'derp-check', description: 'Check paths' }],
    });
    const posted = (await rest1.post(Routes.channelMessages(first.channels.alerts), {
      body: { content: 'cert expires in 7 days' },
      files: [{ name: 'chain.pem', data: Buffer.from('-----BEGIN CERTIFICATE-----\n') }],
    })) as { id: string };
    await first.close();
    expect(changes).toBeGreaterThan(0);

    const second = await startDiscordHarness({ state: JSON.parse(JSON.stringify(first.state)), token: 'other-token' });
    try {
      const rest2 = new REST({ api: second.apiBase }).setToken('other-token');
      const fetched = (await rest2.get(Routes.channelMessage(second.channels.alerts, posted.id))) as {
        content: string;
        attachments: { id: string }[];
      };
      expect(fetched.content).toBe('cert expires in 7 days');
      expect(second.attachmentBytes(fetched.attachments[0]!.id).toString()).toBe('-----BEGIN CERTIFICATE-----\n');
      expect(second.registeredCommands().map((c) => c.name)).toEqual(['derp-check']);
    } finally {
      await second.close();
    }
  });
});

describe('discord harness acknowledgement window', () => {
  it('GIVEN a 1 ms window WHEN the bot answers later THEN the first callback gets 10062', async () => {
    const harness = await startDiscordHarness({ ackWindowMs: 1 });
    const errors: unknown[] = [];
    const client = await connectClient(harness, errors);
    try {
      const router = interactionRouter(client);
      const late = router.next(async (i) => {
        if (!i.isChatInputCommand()) throw new Error('expected a command');
        await new Promise((r) => setTimeout(r, 20));
        return i.reply('too late').catch((e: unknown) => e);
      });
      const handle = await harness.chatInput('alice', 'anything');
      expect(await late).toMatchObject({ code: 10062 });
      await expect(handle.firstResponse).rejects.toThrow(/not acknowledged within 1 ms/);
      expect(errors).toEqual([]);
    } finally {
      await client.destroy();
      await harness.close();
    }
  });
});
