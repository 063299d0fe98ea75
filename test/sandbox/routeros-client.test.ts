import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RouterOSClient } from 'routeros-client';
import { RouterOSAPI } from 'node-routeros';
import { FaultInjector } from '../../sandbox/faults.js';
import { defaultHomelab, type HomelabNode } from '../../sandbox/homelab.js';
import { startRouterOsSandbox, type RouterOsSandbox } from '../../sandbox/routeros/routeros-sandbox.js';
import { labgateRuleComment, seedRouterState, type RouterState } from '../../sandbox/routeros/router-state.js';

const homelab = defaultHomelab();
const [node21, node22, node23] = homelab.nodes as [HomelabNode, HomelabNode, HomelabNode];

/** Resolves with 'pending' if the promise has not settled within `ms`. */
function settledWithin<T>(promise: Promise<T>, ms: number): Promise<'resolved' | 'rejected' | 'pending'> {
  return Promise.race([
    promise.then(
      () => 'resolved' as const,
      () => 'rejected' as const,
    ),
    new Promise<'pending'>((resolve) => setTimeout(() => resolve('pending'), ms)),
  ]);
}

describe('RouterOS sandbox through routeros-client', () => {
  let state: RouterState;
  let faults: FaultInjector;
  let sandbox: RouterOsSandbox;
  let changes = 0;
  const clients: RouterOSClient[] = [];

  async function connect(extra: Record<string, unknown> = {}) {
    const client = new RouterOSClient({ host: sandbox.host, port: sandbox.port, user: sandbox.user, password: sandbox.password, timeout: 5, ...extra });
    client.on('error', () => {});
    clients.push(client);
    const api = await client.connect();
    return { client, nat: () => api.menu('/ip/firewall/nat'), api };
  }

  beforeAll(async () => {
    state = seedRouterState(homelab);
    faults = new FaultInjector();
    sandbox = await startRouterOsSandbox({ state, faults, onChange: () => changes++, tls: true });
  });

  afterEach(async () => {
    faults.clear();
    for (const c of clients.splice(0)) {
      if (c.isConnected()) await c.close().catch(() => {});
    }
  });

  afterAll(async () => {
    await sandbox.close();
  });

  it('GIVEN a wrong password WHEN labgate connects THEN the login is refused', async () => {
    const client = new RouterOSClient({ host: sandbox.host, port: sandbox.port, user: 'labgate', password: 'wrong', timeout: 5 });
    client.on('error', () => {});
    await expect(client.connect()).rejects.toMatchObject({ errno: 'CANTLOGIN' });
  });

  it('prints the seeded rules: labgate rules for node-21 and node-22, none for node-23, foreign rules untouched', async () => {
    const { nat } = await connect();
    const rules = await nat().get();
    const labgate = rules.filter((r: any) => String(r.comment ?? '').startsWith('labgate:'));
    expect(labgate.map((r: any) => r.comment).sort()).toEqual([labgateRuleComment(node21), labgateRuleComment(node22)]);
    expect(labgate.find((r: any) => r.comment === labgateRuleComment(node21))).toMatchObject({
      chain: 'dstnat',
      action: 'dst-nat',
      protocol: 'udp',
      dstPort: node21.tailscalePort,
      inInterface: 'ether1',
      toAddresses: node21.ip,
      toPorts: node21.tailscalePort,
      disabled: false,
      dynamic: false,
      invalid: false,
    });
    expect(rules.some((r: any) => r.toAddresses === node23.ip && r.protocol === 'udp')).toBe(false);
    expect(rules.map((r: any) => r.comment)).toEqual(expect.arrayContaining(['web-https', 'web-http', 'defconf: masquerade']));
    for (const r of rules) expect(r.id).toMatch(/^\*[0-9A-F]+$/);
  });

  it('filters with where() (?comment=...) and limits fields with select() (=.proplist=)', async () => {
    const { nat } = await connect();
    const found = await nat().where({ comment: labgateRuleComment(node22) }).get();
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ toAddresses: node22.ip, dstPort: node22.tailscalePort });

    const slim = await nat().select(['id', 'comment']).where({ comment: 'web-https' }).get();
    expect(slim).toHaveLength(1);
    expect(Object.keys(slim[0]).sort()).toEqual(['$$path', 'comment', 'id']);
  });

  it('evaluates ?#| (OR) and ?-comment (property absent) queries', async () => {
    const { nat } = await connect();
    const either = await nat().whereRaw(['?dst-port=80', '?dst-port=443', '?#|']).get();
    expect(either.map((r: any) => r.comment).sort()).toEqual(['web-http', 'web-https']);

    const added = await nat().add({ chain: 'dstnat', action: 'dst-nat', protocol: 'tcp', dstPort: '8080', toAddresses: '192.168.10.30', toPorts: '80' });
    try {
      const uncommented = await nat().whereRaw(['?-comment']).get();
      expect(uncommented.map((r: any) => r.id)).toEqual([added.id]);
      const viaHelper = await nat().whereEmpty('comment').get();
      expect(viaHelper.map((r: any) => r.id)).toEqual([added.id]);
    } finally {
      await nat().remove(added.id);
    }
  });

  it('adds, updates (=numbers=), disables and removes a rule; values are stored as given', async () => {
    const { nat } = await connect();
    const before = changes;
    const comment = labgateRuleComment(node23);
    const created = await nat().add({
      chain: 'dstnat', action: 'dst-nat', protocol: 'udp', dstPort: String(node23.tailscalePort),
      inInterface: 'ether1', toAddresses: node23.ip, toPorts: String(node23.tailscalePort), comment,
    });
    expect(created).toMatchObject({ comment, toAddresses: node23.ip, dstPort: node23.tailscalePort, disabled: false });
    expect(sandbox.rules().find((r) => r['.id'] === created.id)).toMatchObject({ 'dst-port': '41623', 'to-ports': '41623' });

    const updated = await nat().update({ toPorts: '41699' }, created.id);
    expect(updated.toPorts).toBe(41699);
    const disabled = await nat().disable(created.id);
    expect(disabled.disabled).toBe(true);
    const enabled = await nat().enable(created.id);
    expect(enabled.disabled).toBe(false);

    await nat().remove(created.id);
    const all = await nat().get();
    expect(all.some((r: any) => r.id === created.id)).toBe(false);
    expect(changes - before).toBe(5);
  });

  it('answers !trap for an unknown id and an unknown parameter, and changes nothing', async () => {
    const { nat } = await connect();
    const snapshot = sandbox.rules();
    await expect(nat().update({ comment: 'x' }, '*FFF')).rejects.toThrow('no such item');
    await expect(nat().add({ chain: 'dstnat', action: 'dst-nat', frobnicate: 'yes' })).rejects.toThrow('unknown parameter frobnicate');
    await expect(nat().add({ chain: 'dstnat', action: 'dst-nat', protocol: 'udp', dstPort: '99999' })).rejects.toThrow('invalid value for argument dst-port');
    await expect(nat().add({ chain: 'dstnat', action: 'dst-nat', toAddresses: '300.1.1.1' })).rejects.toThrow('invalid value for argument to-addresses');
    await expect(nat().add({ action: 'dst-nat' })).rejects.toThrow('missing value(s) of argument(s) chain');
    expect(sandbox.rules()).toEqual(snapshot);
  });

  it('GIVEN two concurrent commands on one connection WHEN the first is slow THEN each reply reaches its own caller by .tag', async () => {
    const { nat, api } = await connect();
    faults.add({ match: '/system/identity/print', delayMs: 300 });
    const order: string[] = [];
    const slow = api.menu('/system/identity').get().then((r: any) => {
      order.push('identity');
      return r;
    });
    const fast = nat().where({ comment: 'web-http' }).get().then((r: any) => {
      order.push('nat');
      return r;
    });
    const [identity, rules] = await Promise.all([slow, fast]);
    expect(order).toEqual(['nat', 'identity']);
    expect(identity).toEqual([expect.objectContaining({ name: state.identity })]);
    expect(rules).toEqual([expect.objectContaining({ comment: 'web-http' })]);
  });

  it('answers /system/resource/print for a health check', async () => {
    const { api } = await connect();
    const [resource] = await api.menu('/system/resource').get();
    expect(resource).toMatchObject({ platform: 'MikroTik', boardName: state.boardName, version: `${state.version} (stable)` });
    expect(resource.uptime).toMatch(/^(\d+[wdhms])+$/);
  });

  it('GIVEN a trap fault on add WHEN labgate adds THEN the call rejects with that message', async () => {
    const { nat } = await connect();
    faults.add({ match: '/ip/firewall/nat/add', trap: { message: 'failure: already have such rule', category: 4 } });
    await expect(nat().add({ chain: 'dstnat', action: 'accept' })).rejects.toThrow('failure: already have such rule');
  });

  it('GIVEN a drop fault WHEN labgate adds THEN the connection closes, the add never settles and nothing changed', async () => {
    const { client, nat } = await connect();
    const snapshot = sandbox.rules();
    faults.add({ match: '/ip/firewall/nat/add', drop: true, delayMs: 50 });
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    const add = nat().add({ chain: 'dstnat', action: 'accept', comment: 'never' });
    await closed;
    // node-routeros leaves the pending command hanging on close: the adapter must time out.
    expect(await settledWithin(add, 300)).toBe('pending');
    expect(client.isConnected()).toBe(false);
    expect(sandbox.rules()).toEqual(snapshot);
    await expect.poll(() => sandbox.connections).toBe(0);
  });

  it('connects over api-ssl with the generated certificate verified', async () => {
    const client = new RouterOSClient({
      host: sandbox.host,
      port: sandbox.tlsPort,
      user: sandbox.user,
      password: sandbox.password,
      timeout: 5,
      tls: { ca: sandbox.tlsCertificatePem },
    });
    client.on('error', () => {});
    clients.push(client);
    const api = await client.connect();
    const [identity] = await api.menu('/system/identity').get();
    expect(identity.name).toBe(state.identity);
  });

  it('round-trips words with 3- and 4-byte length prefixes through node-routeros', async () => {
    const api = new RouterOSAPI({ host: sandbox.host, port: sandbox.port, user: sandbox.user, password: sandbox.password, timeout: 10 });
    api.on('error', () => {});
    await api.connect();
    try {
      for (const size of [0x80, 0x4000, 0x200000]) {
        const comment = 'x'.repeat(size - 2) + 'ok';
        const [{ ret }] = await api.write('/ip/firewall/nat/add', ['=chain=dstnat', '=action=accept', `=comment=${comment}`]);
        const printed = await api.write('/ip/firewall/nat/print', [`?.id=${ret}`]);
        expect(printed[0].comment).toBe(comment);
        await api.write('/ip/firewall/nat/remove', [`=.id=${ret}`]);
      }
    } finally {
      await api.close();
    }
  });
});

describe('RouterOS sandbox state', () => {
  it('GIVEN a state persisted as JSON WHEN a new sandbox starts from it THEN the rules and ids carry on', async () => {
    const state = seedRouterState(homelab);
    const first = await startRouterOsSandbox({ state });
    const client = new RouterOSClient({ host: first.host, port: first.port, user: first.user, password: first.password, timeout: 5 });
    const api = await client.connect();
    const created = await api.menu('/ip/firewall/nat').add({ chain: 'dstnat', action: 'accept', comment: 'persist-me' });
    await client.close();
    await first.close();

    const restored = JSON.parse(JSON.stringify(state)) as RouterState;
    const second = await startRouterOsSandbox({ state: restored });
    try {
      expect(second.password).toBe(first.password);
      expect(second.rules()).toEqual(state.nat);
      const client2 = new RouterOSClient({ host: second.host, port: second.port, user: second.user, password: second.password, timeout: 5 });
      const api2 = await client2.connect();
      const next = await api2.menu('/ip/firewall/nat').add({ chain: 'dstnat', action: 'accept' });
      expect(parseInt(next.id.slice(1), 16)).toBe(parseInt(created.id.slice(1), 16) + 1);
      expect((await api2.menu('/ip/firewall/nat').where({ comment: 'persist-me' }).get())[0].id).toBe(created.id);
      await client2.close();
    } finally {
      await second.close();
    }
  });

  it('two sandboxes in one process keep separate state', async () => {
    const a = await startRouterOsSandbox({ state: seedRouterState(homelab) });
    const b = await startRouterOsSandbox({ state: seedRouterState(homelab) });
    try {
      expect(a.port).not.toBe(b.port);
      expect(a.password).not.toBe(b.password);
      const client = new RouterOSClient({ host: a.host, port: a.port, user: a.user, password: a.password, timeout: 5 });
      const api = await client.connect();
      await api.menu('/ip/firewall/nat').add({ chain: 'dstnat', action: 'accept', comment: 'only-in-a' });
      await client.close();
      expect(a.rules().some((r) => r.comment === 'only-in-a')).toBe(true);
      expect(b.rules().some((r) => r.comment === 'only-in-a')).toBe(false);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
