import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FaultInjector } from '../../sandbox/faults.js';
import { defaultHomelab } from '../../sandbox/homelab.js';
import { RawApiClient } from '../../sandbox/routeros/raw-api-client.js';
import { startRouterOsSandbox, type RouterOsSandbox } from '../../sandbox/routeros/routeros-sandbox.js';
import { seedRouterState, type RouterState } from '../../sandbox/routeros/router-state.js';

describe('RouterOS sandbox on the wire', () => {
  let state: RouterState;
  let faults: FaultInjector;
  let sandbox: RouterOsSandbox;
  const raws: RawApiClient[] = [];

  async function raw(login = true): Promise<RawApiClient> {
    const client = await RawApiClient.connect(sandbox.host, sandbox.port);
    raws.push(client);
    if (login) await client.login(sandbox.user, sandbox.password);
    return client;
  }

  beforeAll(async () => {
    state = seedRouterState(defaultHomelab());
    state.users.push({ name: 'viewer', password: 'viewer-pass', group: 'read' });
    faults = new FaultInjector();
    sandbox = await startRouterOsSandbox({ state, faults });
  });
  afterEach(() => {
    faults.clear();
    for (const c of raws.splice(0)) c.close();
  });
  afterAll(async () => {
    await sandbox.close();
  });

  it('puts the reply word first, .tag second, then the attributes, on every reply sentence', async () => {
    const c = await raw();
    const replies = await c.talk(['/ip/firewall/nat/print', '?comment=web-http', '.tag=t1']);
    expect(replies).toHaveLength(2);
    const [re, done] = replies as [string[], string[]];
    expect(re.slice(0, 3)).toEqual(['!re', '.tag=t1', `=.id=${state.nat.find((r) => r.comment === 'web-http')!['.id']}`]);
    expect(re).toEqual(
      expect.arrayContaining(['=chain=dstnat', '=protocol=tcp', '=dst-port=80', '=disabled=false', '=dynamic=false', '=invalid=false', '=comment=web-http']),
    );
    expect(done).toEqual(['!done', '.tag=t1']);
  });

  it('omits unset properties and prints booleans as true/false', async () => {
    const c = await raw();
    const [add] = await c.talk(['/ip/firewall/nat/add', '=chain=dstnat', '=action=dst-nat', '=disabled=yes', '=to-addresses=192.168.10.40']);
    const id = add!.find((w) => w.startsWith('=ret='))!.slice(5);
    const [re] = await c.talk(['/ip/firewall/nat/print', `?.id=${id}`]);
    expect(re).not.toContainEqual(expect.stringMatching(/^=(comment|protocol|dst-port|to-ports)=/));
    expect(re).toContain('=disabled=true');
    expect(sandbox.rules().find((r) => r['.id'] === id)!.disabled).toBe('yes');
    await c.talk(['/ip/firewall/nat/remove', `=.id=${id}`]);
  });

  it('answers commands sent before /login with a !trap and !done', async () => {
    const c = await raw(false);
    expect(await c.talk(['/ip/firewall/nat/print', '.tag=a'])).toEqual([
      ['!trap', '.tag=a', '=message=not logged in'],
      ['!done', '.tag=a'],
    ]);
  });

  it('answers a failed login with the 6.43+ message and keeps the connection usable', async () => {
    const c = await raw(false);
    expect(await c.talk(['/login', '=name=labgate', '=password=nope'])).toEqual([
      ['!trap', '=message=invalid user name or password (6)'],
      ['!done'],
    ]);
    await c.login(sandbox.user, sandbox.password);
    expect((await c.talk(['/system/identity/print']))[0]).toEqual(['!re', `=name=${state.identity}`]);
  });

  it('answers an unknown command with a "no such command" !trap and !done', async () => {
    const c = await raw();
    expect(await c.talk(['/ip/firewall/natt/print', '.tag=u'])).toEqual([
      ['!trap', '.tag=u', '=message=no such command or directory (natt), no such command prefix'],
      ['!done', '.tag=u'],
    ]);
    expect(await c.talk(['/ip/firewall/nat/frobnicate', '.tag=v'])).toEqual([
      ['!trap', '.tag=v', '=message=no such command'],
      ['!done', '.tag=v'],
    ]);
  });

  it('answers a bad id with !trap no such item, and refuses unknown parameters', async () => {
    const c = await raw();
    expect(await c.talk(['/ip/firewall/nat/remove', '=.id=*ABC'])).toEqual([['!trap', '=message=no such item'], ['!done']]);
    expect(await c.talk(['/ip/firewall/nat/set', '=numbers=*1', '=bogus=1'])).toEqual([
      ['!trap', '=category=1', '=message=unknown parameter bogus'],
      ['!done'],
    ]);
  });

  it('GIVEN RouterOS 7.18+ WHEN a print matches nothing THEN it answers !empty then !done', async () => {
    const c = await raw();
    expect(await c.talk(['/ip/firewall/nat/print', '?comment=nothing', '.tag=e'])).toEqual([
      ['!empty', '.tag=e'],
      ['!done', '.tag=e'],
    ]);
  });

  it("GIVEN version '7.17' WHEN a print matches nothing THEN it answers only !done", async () => {
    const old = await startRouterOsSandbox({ state: seedRouterState(defaultHomelab(), { version: '7.17' }) });
    try {
      const c = await RawApiClient.connect(old.host, old.port);
      raws.push(c);
      await c.login(old.user, old.password);
      expect(await c.talk(['/ip/firewall/nat/print', '?comment=nothing', '.tag=e'])).toEqual([['!done', '.tag=e']]);
    } finally {
      await old.close();
    }
  });

  it('counts with =count-only= and refuses a query whose operations underflow the stack', async () => {
    const c = await raw();
    expect(await c.talk(['/ip/firewall/nat/print', '=count-only=', '?protocol=udp'])).toEqual([['!done', '=ret=2']]);
    const replies = await c.talk(['/ip/firewall/nat/print', '?#&']);
    expect(replies[0]![0]).toBe('!trap');
    expect(replies[1]).toEqual(['!done']);
  });

  it('GIVEN a hanging command WHEN /cancel names its tag THEN it ends with !trap interrupted and the cancel with !done', async () => {
    const c = await raw();
    faults.add({ match: '/ip/firewall/nat/print', hang: true });
    c.send(['/ip/firewall/nat/print', '.tag=slow']);
    await expect(c.next(200)).rejects.toThrow(/no reply/);
    c.send(['/cancel', '=tag=slow', '.tag=c']);
    expect(await c.untilDone('c')).toEqual([
      ['!trap', '.tag=slow', '=category=2', '=message=interrupted'],
      ['!done', '.tag=slow'],
      ['!done', '.tag=c'],
    ]);
  });

  it('GIVEN an "after" drop fault on add THEN the rule is made but the connection closes before the answer', async () => {
    const c = await raw();
    faults.add({ match: 'after /ip/firewall/nat/add', drop: true });
    c.send(['/ip/firewall/nat/add', '=chain=dstnat', '=action=dst-nat', '=comment=made-then-dropped', '.tag=a']);
    await expect(c.next(1000)).rejects.toThrow('connection closed');
    expect(sandbox.rules().filter((r) => r.comment === 'made-then-dropped')).toHaveLength(1);
    state.nat = state.nat.filter((r) => r.comment !== 'made-then-dropped');
  });

  it('GIVEN an "after" trap fault THEN the change is made and the answer is the trap', async () => {
    const c = await raw();
    const id = state.nat.find((r) => r.comment === 'web-http')!['.id'];
    faults.add({ match: 'after /ip/firewall/nat/set', trap: { message: 'failure: timeout', category: 4 } });
    expect(await c.talk(['/ip/firewall/nat/set', `=.id=${id}`, '=to-ports=8080', '.tag=s'])).toEqual([
      ['!trap', '.tag=s', '=category=4', '=message=failure: timeout'],
      ['!done', '.tag=s'],
    ]);
    expect(sandbox.rules().find((r) => r['.id'] === id)!['to-ports']).toBe('8080');
    await c.talk(['/ip/firewall/nat/set', `=.id=${id}`, '=to-ports=80']);
  });

  it('answers /quit with !fatal and closes the connection', async () => {
    const c = await raw();
    c.send(['/quit', '.tag=q']);
    expect(await c.next()).toEqual(['!fatal', 'session terminated on request']);
    await c.closed;
  });

  it('refuses changes from a read-only user', async () => {
    const c = await raw(false);
    await c.login('viewer', 'viewer-pass');
    expect(await c.talk(['/ip/firewall/nat/add', '=chain=dstnat'])).toEqual([['!trap', '=message=not enough permissions (9)'], ['!done']]);
    expect((await c.talk(['/ip/firewall/nat/print', '=count-only='])).at(-1)![0]).toBe('!done');
  });

  it('drops every open connection on dropConnections() and counts connections', async () => {
    const a = await raw();
    const b = await raw();
    await expect.poll(() => sandbox.connections).toBe(2);
    sandbox.dropConnections();
    await Promise.all([a.closed, b.closed]);
    await expect.poll(() => sandbox.connections).toBe(0);
  });

  it('validates ports, protocol and interface on add', async () => {
    const c = await raw();
    const trap = async (...words: string[]) => (await c.talk(['/ip/firewall/nat/add', ...words]))[0]!.find((w) => w.startsWith('=message='));
    expect(await trap('=chain=dstnat', '=protocol=udpx')).toBe('=message=input does not match any value of protocol');
    expect(await trap('=chain=dstnat', '=protocol=udp', '=dst-port=10-5')).toBe('=message=invalid value for argument dst-port');
    expect(await trap('=chain=dstnat', '=dst-port=80')).toMatch(/^=message=failure: ports can be set only/);
    expect(await trap('=chain=dstnat', '=in-interface=ether9')).toBe('=message=input does not match any value of in-interface');
    const ok = await c.talk(['/ip/firewall/nat/add', '=chain=dstnat', '=protocol=tcp', '=dst-port=80,443,8000-8100', '=dst-address=!203.0.113.0/24']);
    const id = ok[0]!.find((w) => w.startsWith('=ret='))!.slice(5);
    expect(sandbox.rules().find((r) => r['.id'] === id)!['dst-port']).toBe('80,443,8000-8100');
    await c.talk(['/ip/firewall/nat/remove', `=.id=${id}`]);
  });

  it('places a rule with place-before and moves it back with move', async () => {
    const c = await raw();
    const first = state.nat[0]!['.id'];
    const [add] = await c.talk(['/ip/firewall/nat/add', '=chain=dstnat', '=comment=top', `=place-before=${first}`]);
    const id = add!.find((w) => w.startsWith('=ret='))!.slice(5);
    expect(sandbox.rules()[0]!['.id']).toBe(id);
    await c.talk(['/ip/firewall/nat/move', `=numbers=${id}`]);
    expect(sandbox.rules().at(-1)!['.id']).toBe(id);
    await c.talk(['/ip/firewall/nat/remove', `=numbers=${id}`]);
  });

  it('unsets a property with unset =value-name=, and refuses to unset the chain', async () => {
    const c = await raw();
    const [add] = await c.talk(['/ip/firewall/nat/add', '=chain=dstnat', '=comment=temporary', '=log=yes']);
    const id = add!.find((w) => w.startsWith('=ret='))!.slice(5);
    expect(await c.talk(['/ip/firewall/nat/unset', `=numbers=${id}`, '=value-name=comment'])).toEqual([['!done']]);
    expect(sandbox.rules().find((r) => r['.id'] === id)).toEqual({ '.id': id, chain: 'dstnat', action: 'accept', log: 'yes' });
    const refused = await c.talk(['/ip/firewall/nat/unset', `=numbers=${id}`, '=value-name=chain']);
    expect(refused[0]![0]).toBe('!trap');
    await c.talk(['/ip/firewall/nat/remove', `=.id=${id}`]);
  });
});
