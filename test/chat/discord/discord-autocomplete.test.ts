import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InteractionHandle, OptionInput, UserRef } from '../../harness/discord/discord-harness.js';
import { startDiscordFixture, waitFor, type DiscordFixture } from './discord-fixture.js';
import { commandReads, requestExpose } from './plan-helpers.js';

describe('Discord: autocomplete from the live cluster', () => {
  let f: DiscordFixture;

  beforeAll(async () => {
    f = await startDiscordFixture();
  }, 30_000);

  afterAll(async () => {
    await f?.close();
  });

  async function choices(user: UserRef, command: string, options: Record<string, OptionInput>, focused: string, subcommand?: string) {
    const handle: InteractionHandle = await f.harness.autocomplete(user, command, options, focused, subcommand ? { subcommand } : {});
    const res = await handle.firstResponse;
    expect(res.type).toBe(8);
    return (res.data as { choices: { name: string; value: string | number }[] }).choices;
  }

  it('GIVEN an operator typing a namespace WHEN autocomplete asks THEN the cluster namespaces matching what was typed are offered', async () => {
    expect((await choices('bob', 'expose', { namespace: 'mon' }, 'namespace')).map((c) => c.value)).toEqual(['monitoring']);
    // Prefix matches first, then names that merely contain it.
    expect((await choices('bob', 'expose', { namespace: 'm' }, 'namespace')).map((c) => c.value)).toEqual(['media', 'monitoring', 'kube-system']);
    expect((await choices('bob', 'expose', { namespace: '' }, 'namespace')).map((c) => c.value)).toEqual(['argocd', 'auth', 'default', 'kube-node-lease', 'kube-public', 'kube-system', 'media', 'monitoring', 'traefik']);
  });

  it('GIVEN a namespace is chosen WHEN typing the Service and then the port THEN only that namespace\'s Services, then that Service\'s ports, are offered', async () => {
    expect(await choices('bob', 'expose', { namespace: 'media', service: '' }, 'service')).toEqual([
      { name: 'immich', value: 'immich' },
      { name: 'jellyfin', value: 'jellyfin' },
    ]);
    expect(await choices('bob', 'expose', { namespace: 'media', service: 'jel' }, 'service')).toEqual([{ name: 'jellyfin', value: 'jellyfin' }]);
    // Without a namespace yet, every Service, each with its namespace.
    expect(await choices('bob', 'expose', { service: 'graf' }, 'service')).toEqual([{ name: 'grafana (monitoring)', value: 'grafana' }]);
    expect(await choices('bob', 'expose', { namespace: 'argocd', service: 'argocd-server', port: '' }, 'port')).toEqual([
      { name: '80 (http, TCP)', value: 80 },
      { name: '443 (https, TCP)', value: 443 },
    ]);
    expect(await choices('bob', 'expose', { namespace: 'argocd', service: 'argocd-server', port: '44' }, 'port')).toEqual([{ name: '443 (https, TCP)', value: 443 }]);
  });

  it('GIVEN a host labgate exposes WHEN typing a host for /unexpose or /route mode THEN labgate\'s hosts are offered, and not hosts others serve', async () => {
    const plan = await requestExpose(f, 'bob', { service: 'immich', namespace: 'media', port: 2283, host: 'photos' });
    await f.harness.clickButton('alice', plan.message, plan.approve);
    await waitFor(async () => (await f.app.services.store.get(plan.planId))?.status === 'applied', 'the apply');

    expect(await choices('bob', 'unexpose', { host: 'pho' }, 'host')).toEqual([{ name: 'photos.home.example.com (tailscale-only)', value: 'photos.home.example.com' }]);
    expect(await choices('bob', 'route', { host: '' }, 'host', 'mode')).toEqual([{ name: 'photos.home.example.com (tailscale-only)', value: 'photos.home.example.com' }]);
    // argocd.home.example.com is served by a route labgate does not own.
    expect(await choices('bob', 'unexpose', { host: 'argo' }, 'host')).toEqual([]);
  });

  it('GIVEN nodes running the Traefik DaemonSet WHEN typing /derp-check node: THEN those nodes are offered with their IPs', async () => {
    expect(await choices('bob', 'derp-check', { node: '' }, 'node')).toEqual([
      { name: 'node-21 (192.168.10.21)', value: 'node-21' },
      { name: 'node-22 (192.168.10.22)', value: 'node-22' },
      { name: 'node-23 (192.168.10.23)', value: 'node-23' },
    ]);
    expect((await choices('bob', 'derp-check', { node: '23' }, 'node')).map((c) => c.value)).toEqual(['node-23']);
    // The registered definition asks Discord to autocomplete the option.
    const definition = f.harness.registeredCommands().find((c) => c.name === 'derp-check');
    expect(definition?.options?.[0]).toMatchObject({ name: 'node', autocomplete: true });
  });

  it('GIVEN a person who may not run /expose WHEN they type into its options THEN nothing is offered and the cluster is not even asked', async () => {
    const before = commandReads(f);
    expect(await choices('mallory', 'expose', { namespace: '' }, 'namespace')).toEqual([]);
    expect(await choices('mallory', 'expose', { namespace: 'media', service: '' }, 'service')).toEqual([]);
    expect(await choices('mallory', 'unexpose', { host: '' }, 'host')).toEqual([]);
    expect(commandReads(f)).toBe(before);
    // The same questions from an operator do reach the cluster: the count above can move.
    await choices('bob', 'expose', { namespace: '' }, 'namespace');
    expect(commandReads(f)).toBeGreaterThan(before);
  });

  it('GIVEN the cluster fails WHEN autocomplete asks THEN an empty list is offered in time, not an error', async () => {
    f.sandbox.faults.kubernetes.add({ match: /^GET \/api\/v1\/namespaces$/, status: 500, times: 10 });
    try {
      expect(await choices('bob', 'expose', { namespace: '' }, 'namespace')).toEqual([]);
    } finally {
      f.sandbox.faults.kubernetes.clear();
    }
  });
});
