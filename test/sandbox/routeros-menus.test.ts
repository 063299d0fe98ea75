import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultHomelab } from '../../sandbox/homelab.js';
import { RawApiClient } from '../../sandbox/routeros/raw-api-client.js';
import { startRouterOsSandbox, type RouterOsSandbox } from '../../sandbox/routeros/routeros-sandbox.js';
import { seedRouterState, type RouterState } from '../../sandbox/routeros/router-state.js';

// The menus besides NAT that a router owner (or labgate) touches, as RouterOS 7 answers them
// (manual pages /interface, /ip/address, /ip/firewall/filter, /user, /user/group, /system).

describe('RouterOS sandbox menus and permissions', () => {
  let state: RouterState;
  let sandbox: RouterOsSandbox;
  const clients: RawApiClient[] = [];

  async function as(name: string, password: string): Promise<RawApiClient> {
    const client = await RawApiClient.connect(sandbox.host, sandbox.port);
    clients.push(client);
    await client.login(name, password);
    return client;
  }
  const admin = () => as(sandbox.user, sandbox.password);
  /** Replies as objects: `{ reply, attrs }`. */
  const talk = async (c: RawApiClient, words: string[]) =>
    (await c.talk(words)).map(([reply, ...rest]) => ({ reply, attrs: Object.fromEntries(rest.filter((w) => w.startsWith('=')).map((w) => [w.slice(1, w.indexOf('=', 1)), w.slice(w.indexOf('=', 1) + 1)])) }));
  const rows = async (c: RawApiClient, words: string[]) => (await talk(c, words)).filter((r) => r.reply === '!re').map((r) => r.attrs);

  // A freshly seeded router per test: the tests add users, groups, addresses and rules.
  beforeEach(async () => {
    state = seedRouterState(defaultHomelab());
    state.users.push({ name: 'viewer', password: 'viewer-pass', group: 'read' }, { name: 'operator', password: 'operator-pass', group: 'write' });
    sandbox = await startRouterOsSandbox({ state });
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await sandbox.close();
  });

  it('GIVEN /interface/print THEN every interface is listed with type, MTU, MAC and running; set disabled by name works and shows', async () => {
    const c = await admin();
    const list = await rows(c, ['/interface/print']);
    expect(list.map((i) => i.name)).toEqual(state.interfaces);
    expect(list[0]).toMatchObject({ '.id': '*1', name: 'ether1', 'default-name': 'ether1', type: 'ether', mtu: '1500', running: 'true', disabled: 'false', 'mac-address': expect.stringMatching(/^([0-9A-F]{2}:){5}[0-9A-F]{2}$/) });
    expect(list.find((i) => i.name === 'bridge')).toMatchObject({ type: 'bridge' });
    expect(await talk(c, ['/interface/set', '=numbers=ether5', '=disabled=yes', '=comment=spare'])).toEqual([{ reply: '!done', attrs: {} }]);
    expect((await rows(c, ['/interface/print', '?name=ether5']))[0]).toMatchObject({ disabled: 'true', running: 'false', comment: 'spare' });
    expect((await talk(c, ['/interface/add', '=name=x']))[0]).toEqual({ reply: '!trap', attrs: { message: 'no such command' } });
    expect((await talk(c, ['/interface/set', '=numbers=ether9', '=disabled=yes']))[0]!.attrs.message).toBe('no such item');
  });

  it('GIVEN /ip/address THEN the WAN and LAN addresses print with their network; add validates address and interface; remove takes it away', async () => {
    const c = await admin();
    const list = await rows(c, ['/ip/address/print']);
    expect(list).toEqual([
      expect.objectContaining({ address: '192.168.10.1/24', network: '192.168.10.0', interface: 'bridge', 'actual-interface': 'bridge', dynamic: 'false', disabled: 'false', comment: 'defconf' }),
      expect.objectContaining({ address: '203.0.113.45/24', network: '203.0.113.0', interface: 'ether1' }),
    ]);
    expect((await talk(c, ['/ip/address/add', '=address=10.9.8.7/33', '=interface=ether2']))[0]!.attrs).toEqual({ category: '1', message: 'invalid value for argument address' });
    expect((await talk(c, ['/ip/address/add', '=address=10.9.8.7/16', '=interface=ether9']))[0]!.attrs).toEqual({ category: '1', message: 'input does not match any value of interface' });
    expect((await talk(c, ['/ip/address/add', '=interface=ether2']))[0]!.attrs.message).toBe('missing value(s) of argument(s) address');
    const [added] = await talk(c, ['/ip/address/add', '=address=10.9.8.7/16', '=interface=ether2']);
    const id = added!.attrs.ret!;
    expect((await rows(c, ['/ip/address/print', `?.id=${id}`]))[0]).toMatchObject({ network: '10.9.0.0' });
    await talk(c, ['/ip/address/remove', `=.id=${id}`]);
    expect(await rows(c, ['/ip/address/print', `?.id=${id}`])).toEqual([]);
  });

  it("GIVEN /ip/firewall/filter THEN RouterOS's default rules print in order; add with place-before, a bad action and a bad connection-state are refused", async () => {
    const c = await admin();
    const list = await rows(c, ['/ip/firewall/filter/print', '=.proplist=.id,chain,action,connection-state,comment']);
    expect(list.map((r) => `${r.chain} ${r.action}`)).toEqual([
      'input accept', 'input drop', 'input accept', 'input drop', 'forward fasttrack-connection', 'forward accept', 'forward drop', 'forward drop',
    ]);
    expect(list[0]).toMatchObject({ 'connection-state': 'established,related,untracked', comment: 'defconf: accept established,related,untracked' });
    const [added] = await talk(c, ['/ip/firewall/filter/add', '=chain=forward', '=action=accept', '=protocol=udp', '=dst-port=41621', '=in-interface=ether1', '=comment=from-test', `=place-before=${list[6]!['.id']}`]);
    const order = (await rows(c, ['/ip/firewall/filter/print'])).map((r) => r['.id']);
    expect(order.indexOf(added!.attrs.ret!)).toBe(6);
    expect((await talk(c, ['/ip/firewall/filter/add', '=chain=forward', '=action=dst-nat']))[0]!.attrs.message).toBe('input does not match any value of action');
    expect((await talk(c, ['/ip/firewall/filter/add', '=chain=forward', '=connection-state=sleepy']))[0]!.attrs.message).toBe('input does not match any value of connection-state');
    expect((await talk(c, ['/ip/firewall/filter/add', '=chain=forward', '=action=jump']))[0]!.attrs.message).toBe('missing value(s) of argument(s) jump-target');
    await talk(c, ['/ip/firewall/filter/remove', `=.id=${added!.attrs.ret}`]);
    expect((await rows(c, ['/ip/firewall/filter/print'])).map((r) => r['.id'])).toEqual(list.map((r) => r['.id']));
  });

  it('GIVEN /user and /user/group THEN users print without passwords and groups print their policies as RouterOS 7 does', async () => {
    const c = await admin();
    const users = await rows(c, ['/user/print']);
    expect(users.map((u) => [u.name, u.group])).toEqual([['labgate', 'full'], ['admin', 'full'], ['viewer', 'read'], ['operator', 'write']]);
    expect(users.every((u) => !('password' in u))).toBe(true);
    const groups = await rows(c, ['/user/group/print']);
    expect(groups.find((g) => g.name === 'read')!.policy).toBe('local,telnet,ssh,reboot,read,test,winbox,password,web,sniff,sensitive,api,romon,rest-api,!ftp,!write,!policy');
    expect(groups.find((g) => g.name === 'write')!.policy).toBe('local,telnet,ssh,reboot,read,write,test,winbox,password,web,sniff,sensitive,api,romon,rest-api,!ftp,!policy');

    const [made] = await talk(c, ['/user/group/add', '=name=no-reboot', '=policy=read,write,api,!reboot']);
    expect(made!.reply).toBe('!done');
    expect((await talk(c, ['/user/add', '=name=rebooter', '=group=nosuch', '=password=x']))[0]!.attrs.message).toBe('input does not match any value of group');
    expect((await talk(c, ['/user/add', '=name=tech', '=group=no-reboot', '=password=tech-pass']))[0]!.reply).toBe('!done');
    expect((await talk(c, ['/user/add', '=name=tech', '=group=read']))[0]!.attrs.message).toBe('failure: user with the same name already exists');
    expect((await talk(c, ['/user/group/remove', '=numbers=read']))[0]!.attrs.message).toBe('failure: builtin group cannot be removed');
  });

  it('GIVEN a user whose group lacks write THEN every change answers "not enough permissions (9)" and nothing changes; print still works', async () => {
    const viewer = await as('viewer', 'viewer-pass');
    const before = structuredClone(state);
    for (const words of [
      ['/ip/firewall/filter/add', '=chain=input', '=action=drop'],
      ['/ip/address/add', '=address=10.0.0.1/24', '=interface=ether2'],
      ['/interface/disable', '=numbers=ether2'],
      ['/system/identity/set', '=name=pwned'],
      ['/user/add', '=name=eve', '=group=full', '=password=x'],
    ]) {
      expect(await viewer.talk(words)).toEqual([['!trap', '=message=not enough permissions (9)'], ['!done']]);
    }
    expect(state.filter).toEqual(before.filter);
    expect(state.addresses).toEqual(before.addresses);
    expect(state.users).toEqual(before.users);
    expect(state.identity).toBe(before.identity);
    expect((await rows(viewer, ['/ip/firewall/filter/print'])).length).toBe(before.filter!.length);
  });

  it('GIVEN a write user without the policy policy THEN user management is refused while other changes work', async () => {
    const operator = await as('operator', 'operator-pass');
    expect(await operator.talk(['/user/set', '=numbers=viewer', '=group=full'])).toEqual([['!trap', '=message=not enough permissions (9)'], ['!done']]);
    expect(state.users.find((u) => u.name === 'viewer')!.group).toBe('read');
    const [added] = await operator.talk(['/ip/address/add', '=address=10.1.1.1/24', '=interface=ether3']);
    expect(added![0]).toBe('!done');
  });

  it('GIVEN /system/reboot from a group without the reboot policy THEN "not enough permissions (9)"; with it the router answers and then drops every connection', async () => {
    // tech and its group are made here, not left by the /user test.
    const setup = await admin();
    expect((await talk(setup, ['/user/group/add', '=name=no-reboot', '=policy=read,write,api,!reboot']))[0]!.reply).toBe('!done');
    expect((await talk(setup, ['/user/add', '=name=tech', '=group=no-reboot', '=password=tech-pass']))[0]!.reply).toBe('!done');
    const tech = await as('tech', 'tech-pass');
    expect(await tech.talk(['/system/reboot'])).toEqual([['!trap', '=message=not enough permissions (9)'], ['!done']]);
    const bystander = await admin();
    const c = await admin();
    expect(await c.talk(['/system/reboot'])).toEqual([['!done']]);
    await Promise.all([c.closed, bystander.closed]);
    const again = await admin();
    expect((await rows(again, ['/system/identity/print']))[0]!.name).toBe(state.identity);
  });
});
