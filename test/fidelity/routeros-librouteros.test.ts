import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultHomelab } from '../../sandbox/homelab.js';
import { startRouterOsSandbox, type RouterOsSandbox } from '../../sandbox/routeros/routeros-sandbox.js';
import { seedRouterState, type RouterState } from '../../sandbox/routeros/router-state.js';
import { requirePythonModule, runPython } from './python-client.js';

// The sandbox router driven by an independent client, Debian's python3-librouteros (3.1), not
// by labgate's code. Each case names the RouterOS 7 behaviour it holds the sandbox to and where
// it is documented: the API manual (help.mikrotik.com/docs "API": sentences, !trap, queries),
// "NAT", "Filter" (IP > Firewall), "User" (groups and policies) and "Interface".

const SCRIPT = String.raw`
import json, ssl, sys
import librouteros
from librouteros.query import Key
from librouteros.exceptions import TrapError

inp = json.load(sys.stdin)
host, port, tls_port = inp['host'], inp['port'], inp['tls_port']
out = {}

def trap(fn):
    try:
        fn()
        return None
    except TrapError as e:
        return e.message

api = librouteros.connect(host=host, port=port, username=inp['user'], password=inp['password'])

nat = api.path('ip', 'firewall', 'nat')
rule = nat.add(chain='dstnat', action='dst-nat', protocol='udp', **{'dst-port': '41629', 'in-interface': 'ether1', 'to-addresses': '192.168.10.29', 'to-ports': '41629', 'comment': 'fidelity'})
out['nat_added'] = list(nat.select(Key('.id'), Key('chain'), Key('action'), Key('dst-port'), Key('to-addresses'), Key('disabled')).where(Key('comment') == 'fidelity'))
out['nat_bad_port'] = trap(lambda: nat.add(chain='dstnat', action='dst-nat', protocol='icmp', **{'dst-port': '1'}))
nat.update(**{'.id': rule, 'disabled': True})
out['nat_disabled'] = [r['disabled'] for r in nat if r['.id'] == rule]
nat.remove(rule)
out['nat_after_remove'] = [r['.id'] for r in nat if r['.id'] == rule]

flt = api.path('ip', 'firewall', 'filter')
rules = list(flt)
out['filter'] = [(r['chain'], r['action'], r.get('comment')) for r in rules]
out['filter_forward_drop'] = [r['comment'] for r in flt.select(Key('comment')).where(Key('chain') == 'forward', Key('action') == 'drop')]
first_forward_drop = [r['.id'] for r in rules if r['chain'] == 'forward' and r['action'] == 'drop'][0]
allowed = flt.add(chain='forward', action='accept', protocol='udp', **{'dst-port': '41629', 'connection-nat-state': 'dstnat', 'comment': 'fidelity-allow', 'place-before': first_forward_drop})
order = [r['.id'] for r in flt]
out['filter_placed'] = order.index(allowed) == order.index(first_forward_drop) - 1
out['filter_bad_state'] = trap(lambda: flt.add(chain='input', action='accept', **{'connection-state': 'sleepy'}))
flt.remove(allowed)

out['interfaces'] = [(i['name'], i['type'], i['running'], i['disabled']) for i in api.path('interface')]
out['groups'] = {g['name']: g['policy'] for g in api.path('user', 'group')}
out['users'] = sorted((u['name'], u['group']) for u in api.path('user'))
api.close()

viewer = librouteros.connect(host=host, port=port, username='viewer', password='viewer-pass')
out['viewer_prints'] = len(list(viewer.path('ip', 'firewall', 'nat'))) > 0
out['viewer_add'] = trap(lambda: viewer.path('ip', 'firewall', 'nat').add(chain='dstnat', action='dst-nat', comment='sneaky'))
out['viewer_user'] = trap(lambda: viewer.path('user').add(name='eve', group='full', password='x'))
viewer.close()

# The built-in read group may reboot; a group without the reboot policy may not.
monitor = librouteros.connect(host=host, port=port, username='monitor', password='monitor-pass')
out['monitor_reboot'] = trap(lambda: tuple(monitor('/system/reboot')))
monitor.close()

ctx = ssl.create_default_context(cafile=inp['cafile'])
tls = librouteros.connect(host=host, port=tls_port, username=inp['user'], password=inp['password'], ssl_wrapper=lambda s: ctx.wrap_socket(s, server_hostname=host))
out['tls_identity'] = list(tls.path('system', 'identity'))[0]['name']
tls.close()
print(json.dumps(out))
`;

interface Out {
  nat_added: Record<string, unknown>[];
  nat_bad_port: string;
  nat_disabled: boolean[];
  nat_after_remove: string[];
  filter: [string, string, string | null][];
  filter_forward_drop: string[];
  filter_placed: boolean;
  filter_bad_state: string;
  interfaces: [string, string, boolean, boolean][];
  groups: Record<string, string>;
  users: [string, string][];
  viewer_prints: boolean;
  viewer_add: string;
  monitor_reboot: string;
  viewer_user: string;
  tls_identity: string;
}

describe('RouterOS API through python3-librouteros', () => {
  let state: RouterState;
  let sandbox: RouterOsSandbox;
  let out: Out;
  const dir = mkdtempSync(join(tmpdir(), 'fidelity-ros-'));

  beforeAll(async () => {
    await requirePythonModule('librouteros', 'python3-librouteros');
    state = seedRouterState(defaultHomelab());
    state.users.push({ name: 'viewer', password: 'viewer-pass', group: 'read' }, { name: 'monitor', password: 'monitor-pass', group: 'monitoring' });
    state.groups!.push({ id: '*90', name: 'monitoring', policy: ['read', 'api', 'winbox'], skin: 'default' });
    sandbox = await startRouterOsSandbox({ state, tls: true });
    const cafile = join(dir, 'ca.pem');
    writeFileSync(cafile, sandbox.tlsCertificatePem!);
    out = await runPython<Out>(SCRIPT, { host: sandbox.host, port: sandbox.port, tls_port: sandbox.tlsPort, user: sandbox.user, password: sandbox.password, cafile });
  }, 180_000);
  afterAll(async () => {
    await sandbox?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('NAT (manual "NAT"; API "add" returns =ret=): a dst-nat rule is added, printed with typed values, disabled, removed', () => {
    expect(out.nat_added).toEqual([{ '.id': expect.stringMatching(/^\*[0-9A-F]+$/), chain: 'dstnat', action: 'dst-nat', 'dst-port': 41629, 'to-addresses': '192.168.10.29', disabled: false }]);
    expect(out.nat_disabled).toEqual([true]);
    expect(out.nat_after_remove).toEqual([]);
    expect(state.nat.some((r) => r.comment === 'fidelity')).toBe(false);
  });

  it('NAT refusal (manual "NAT": ports only with tcp/udp/…): a !trap reaches the client as TrapError', () => {
    expect(out.nat_bad_port).toBe('failure: ports can be set only for tcp, udp, udp-lite, sctp or dccp protocols');
  });

  it("filter (manual \"Filter\", RouterOS's default configuration): the defconf rules in order; a rule placed before the WAN drop; a bad connection-state refused", () => {
    expect(out.filter.map(([chain, action]) => `${chain}/${action}`)).toEqual([
      'input/accept', 'input/drop', 'input/accept', 'input/drop', 'forward/fasttrack-connection', 'forward/accept', 'forward/drop', 'forward/drop',
    ]);
    expect(out.filter_forward_drop).toEqual(['defconf: drop invalid', 'defconf: drop all from WAN not DSTNATed']);
    expect(out.filter_placed).toBe(true);
    expect(out.filter_bad_state).toBe('input does not match any value of connection-state');
  });

  it('interfaces, users and groups (manuals "Interface", "User"): typed booleans, passwords never printed, group policies as RouterOS 7 prints them', () => {
    expect(out.interfaces.map(([name]) => name)).toEqual(state.interfaces);
    expect(out.interfaces[0]).toEqual(['ether1', 'ether', true, false]);
    expect(out.users).toEqual([['admin', 'full'], ['labgate', 'full'], ['monitor', 'monitoring'], ['viewer', 'read']]);
    expect(out.groups.read).toBe('local,telnet,ssh,reboot,read,test,winbox,password,web,sniff,sensitive,api,romon,rest-api,!ftp,!write,!policy');
  });

  it('permissions (manual "User": write, policy and reboot policies): a read-group user prints, but add and user management are "not enough permissions (9)"; /system/reboot without the reboot policy too', () => {
    expect(out.viewer_prints).toBe(true);
    expect(out.viewer_add).toBe('not enough permissions (9)');
    expect(out.viewer_user).toBe('not enough permissions (9)');
    expect(out.monitor_reboot).toBe('not enough permissions (9)');
    expect(state.nat.some((r) => r.comment === 'sneaky')).toBe(false);
  });

  it('api-ssl (manual "API": service api-ssl): a client that verifies the certificate logs in over TLS', () => {
    expect(out.tls_identity).toBe(state.identity);
  });
});
