import { REST, Routes } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as audit from '../../../src/commands/audit.js';
import * as expose from '../../../src/commands/expose.js';
import * as help from '../../../src/commands/help.js';
import { commandModules } from '../../../src/commands/index.js';
import * as routeList from '../../../src/commands/route-list.js';
import * as routeMode from '../../../src/commands/route-mode.js';
import * as unexpose from '../../../src/commands/unexpose.js';
import { discordCommandDefinitions } from '../../../src/chat/discord/command-definitions.js';
import { registerGuildCommands } from '../../../src/chat/discord/register-commands.js';
import { createDiscordRest } from '../../../src/chat/discord/rest-notifier.js';
import { runDiscordRegister } from '../../../src/chat/discord/run-discord.js';
import { CommandRegistry } from '../../../src/core/command-registry.js';
import { parseConfig, type Config } from '../../../src/config/load.js';
import { startDiscordHarness, type DiscordHarness } from '../../harness/discord/discord-harness.js';
import { expectGolden } from './golden.js';

/** Every command labgate has: what `labgate discord register` sends. */
const defs = () => discordCommandDefinitions(new CommandRegistry(commandModules));
// The golden file pins the generator on a fixed set of modules, so new commands do not move it.
const issueCommands = () => discordCommandDefinitions(new CommandRegistry([expose, unexpose, routeMode, routeList, audit, help]));
const slash = (names: string[]) => names.map((n) => `/${n}`).join(', ');

describe('Discord command definitions', () => {
  it('GIVEN the command modules WHEN generating the guild commands THEN the payload matches golden/commands.json', () => {
    expectGolden('commands', issueCommands());
  });

  it('GIVEN every command module THEN each appears once in the definitions, as a command or a subcommand', () => {
    const registry = new CommandRegistry(commandModules);
    const generated = defs().flatMap((c) => (c.options?.some((o) => o.type === 1) ? c.options.filter((o) => o.type === 1).map((o) => `${c.name} ${o.name}`) : [c.name]));
    expect(generated.sort()).toEqual(registry.names().sort());
  });

  it('GIVEN /route mode and /route list THEN they become one /route with two subcommands, with types, choices and autocomplete from the zod options', () => {
    const all = issueCommands();
    expect(all.map((c) => c.name)).toEqual(['expose', 'unexpose', 'route', 'audit', 'help']);
    const route = all.find((c) => c.name === 'route')!;
    expect(route.options!.map((o) => [o.type, o.name])).toEqual([
      [1, 'mode'],
      [1, 'list'],
    ]);
    const expose = all.find((c) => c.name === 'expose')!;
    expect(expose.options).toContainEqual(expect.objectContaining({ name: 'port', type: 4, required: true, autocomplete: true }));
    expect(expose.options).toContainEqual(
      expect.objectContaining({ name: 'auth', type: 3, choices: ['tailscale-only', 'tailscale-bypass', 'mtls-strict'].map((m) => ({ name: m, value: m })) }),
    );
    expect(all.find((c) => c.name === 'audit')!.options).toEqual([{ type: 4, name: 'count', description: 'How many entries (default 10)' }]);
  });
});

describe('labgate discord register', () => {
  let harness: DiscordHarness;
  let config: Config;
  let out: string[];
  let err: string[];

  beforeAll(async () => {
    harness = await startDiscordHarness();
    const parsed = parseConfig(
      { domain: 'home.example.com', discord: { guildId: harness.guildId, channels: { ops: harness.channels.ops }, apiBase: harness.apiBase } },
      { DISCORD_TOKEN: harness.token },
      'labgate.yaml',
    );
    if (!parsed.ok) throw new Error(parsed.problems.join('; '));
    config = parsed.config;
  });

  afterAll(async () => {
    await harness?.close();
  });

  const run = async () => {
    out = [];
    err = [];
    return runDiscordRegister({ config, say: (s) => err.push(s), out: (s) => out.push(s) });
  };
  /** GIVEN the commands are registered: the guild holds exactly the generated commands. */
  const registered = async () => {
    await registerGuildCommands(createDiscordRest({ token: harness.token, apiBase: harness.apiBase }), { guildId: harness.guildId }, defs());
    expect(harness.registeredCommands()).toHaveLength(defs().length);
  };
  const snapshot = () => harness.registeredCommands().map((c) => ({ name: c.name, id: c.id, version: c.version }));

  it('GIVEN a stale command in the guild WHEN registering THEN the guild holds exactly the generated commands and the output says what changed', async () => {
    await new REST({ api: harness.apiBase }).setToken(harness.token).put(Routes.applicationGuildCommands(harness.applicationId, harness.guildId), {
      body: [{ name: 'retired-command', description: 'A command labgate no longer has' }],
    });
    expect(await run()).toBe(0);
    const names = defs().map((d) => d.name);
    expect(out.join('')).toBe(`Registered ${names.length} commands in guild ${harness.guildId}:\n  added: ${slash(names)}\n  removed: /retired-command\n`);
    expect(harness.registeredCommands()).toMatchObject(defs());
    expect(harness.registeredCommands()).toHaveLength(names.length);
  });

  it('GIVEN the commands are registered WHEN registering again THEN nothing is written and ids and versions stay', async () => {
    await registered();
    const before = snapshot();
    const puts = harness.requests.filter((r) => r.method === 'PUT').length;
    expect(await run()).toBe(0);
    expect(out.join('')).toBe(`All ${defs().length} commands are already registered in guild ${harness.guildId} as defined; nothing changed.\n`);
    expect(harness.requests.filter((r) => r.method === 'PUT')).toHaveLength(puts);
    expect(snapshot()).toEqual(before);
  });

  it('GIVEN one definition changed WHEN registering THEN only that command is reported changed and gets a new version', async () => {
    await registered();
    const before = snapshot();
    const changed = defs().map((d) => (d.name === 'help' ? { ...d, description: 'What labgate can do for you' } : d));
    const res = await registerGuildCommands(createDiscordRest({ token: harness.token, apiBase: harness.apiBase }), { guildId: harness.guildId }, changed);
    expect(res).toMatchObject({ added: [], removed: [], changed: ['help'], wrote: true });
    const after = snapshot();
    expect(after.map((c) => c.id)).toEqual(before.map((c) => c.id));
    expect(after.filter((c, i) => c.version !== before[i]!.version).map((c) => c.name)).toEqual(['help']);
    expect(await run()).toBe(0);
    expect(out.join('')).toContain('changed: /help');
  });

  it('GIVEN no discord block WHEN registering THEN it says what is missing and exits 2', async () => {
    const parsed = parseConfig({ domain: 'home.example.com' }, { DISCORD_TOKEN: harness.token }, 'labgate.yaml');
    if (!parsed.ok) throw new Error(parsed.problems.join('; '));
    const errors: string[] = [];
    expect(await runDiscordRegister({ config: parsed.config, say: (s) => errors.push(s), out: () => undefined })).toBe(2);
    expect(errors.join('')).toContain('discord: missing in labgate.yaml; DISCORD_TOKEN is set, so labgate.yaml needs a discord block (guildId, channels.ops)');
  });

  it('GIVEN a wrong token WHEN registering THEN it says the token was refused and exits 1', async () => {
    const errors: string[] = [];
    const wrong = { ...config, env: { ...config.env, DISCORD_TOKEN: 'not-the-token-at-all-xxxxxxxx' } };
    expect(await runDiscordRegister({ config: wrong, say: (s) => errors.push(s), out: () => undefined })).toBe(1);
    expect(errors.join('')).toMatch(/could not register the commands: .*\(the token was refused/);
    expect(errors.join('')).not.toContain('not-the-token-at-all');
  });
});
