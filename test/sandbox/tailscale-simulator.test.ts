import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RouterOSClient } from 'routeros-client';
import { defaultHomelab } from '../../sandbox/homelab.js';
import { forwardsUdpPort } from '../../sandbox/routeros/port-forwarding.js';
import { startRouterOsSandbox, type RouterOsSandbox } from '../../sandbox/routeros/routeros-sandbox.js';
import { labgateRuleComment, seedRouterState } from '../../sandbox/routeros/router-state.js';
import { GoMap, goTime, marshal, marshalIndent } from '../../sandbox/tailscale/go-json.js';
import { tailscaleExecHandler } from '../../sandbox/tailscale/tailscale-exec-handler.js';
import { TailscaleSimulator, tailscaleSimulatorForNodes } from '../../sandbox/tailscale/tailscale-simulator.js';
import { seedTailscaleState } from '../../sandbox/tailscale/tailscale-state.js';

// Key sets and orders copied from the reference samples (tailscale-status-sample.json,
// tailscale-netcheck-sample.json), which are built from the Go struct declarations.
const STATUS_KEYS = ['Version', 'TUN', 'BackendState', 'HaveNodeKey', 'AuthURL', 'TailscaleIPs', 'Self', 'Health', 'MagicDNSSuffix', 'CurrentTailnet', 'CertDomains', 'ExtraRecords', 'Peer', 'User', 'ClientVersion'];
const COMMON_HEAD = ['ID', 'NodeID', 'PublicKey', 'HostName', 'DNSName', 'OS', 'UserID', 'TailscaleIPs', 'AllowedIPs'];
const COMMON_TAIL = ['Addrs', 'CurAddr', 'Relay', 'PeerRelay', 'RxBytes', 'TxBytes', 'Created', 'LastWrite', 'LastSeen', 'LastHandshake', 'Online', 'ExitNode', 'ExitNodeOption', 'Active', 'PeerAPIURL', 'TaildropTarget', 'NoFileSharingReason'];
const SELF_KEYS = [...COMMON_HEAD, 'Tags', ...COMMON_TAIL, 'Capabilities', 'CapMap', 'InNetworkMap', 'InMagicSock', 'InEngine'];
const TAGGED_ROUTER_PEER_KEYS = [...COMMON_HEAD, 'Tags', 'PrimaryRoutes', ...COMMON_TAIL, 'InNetworkMap', 'InMagicSock', 'InEngine'];
const USER_PEER_KEYS = [...COMMON_HEAD, ...COMMON_TAIL, 'InNetworkMap', 'InMagicSock', 'InEngine', 'KeyExpiry'];
const NETCHECK_KEYS = ['Now', 'UDP', 'IPv6', 'IPv4', 'IPv6CanSend', 'IPv4CanSend', 'OSHasIPv6', 'ICMPv4', 'MappingVariesByDestIP', 'UPnP', 'PMP', 'PCP', 'PreferredDERP', 'RegionLatency', 'RegionV4Latency', 'RegionV6Latency', 'GlobalV4Counters', 'GlobalV6Counters', 'GlobalV4', 'GlobalV6', 'CaptivePortal'];
const ZERO = '0001-01-01T00:00:00Z';
const RFC3339NANO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/;

type Peer = Record<string, any>;
type Status = { Self: Peer; Peer: Record<string, Peer> | null; User: Record<string, any>; [k: string]: any };

/** The CLI's own reading of a peer (cmd/tailscale/cli/status.go). */
function pathOf(ps: Peer): string {
  if (!ps.Active) return 'idle';
  if (ps.Relay !== '' && ps.CurAddr === '' && ps.PeerRelay === '') return `derp:${ps.Relay}`;
  if (ps.CurAddr !== '') return 'direct';
  if (ps.PeerRelay !== '') return 'peer-relay';
  return 'unknown';
}

const homelab = defaultHomelab();
const FIXED_NOW = Date.UTC(2026, 7, 22, 14, 4, 10, 118);
const podToNode = (namespace: string, pod: string) => (namespace === 'traefik' && pod.startsWith('traefik-') ? pod.slice('traefik-'.length) : undefined);

function newSim(options: { forwarded?: Set<string>; onChange?: () => void } = {}) {
  const sim = new TailscaleSimulator({
    state: seedTailscaleState(homelab),
    now: () => FIXED_NOW,
    portForwarded: (node) => options.forwarded?.has(node.name) ?? false,
    onChange: options.onChange,
  });
  return { sim, exec: tailscaleExecHandler(sim, podToNode) };
}

async function statusOf(exec: ReturnType<typeof newSim>['exec'], node: string, ...flags: string[]) {
  const out = await exec({ namespace: 'traefik', pod: `traefik-${node}`, container: 'tailscale', command: ['tailscale', 'status', '--json', ...flags] });
  expect(out.exitCode).toBe(0);
  return { raw: out.stdout, status: JSON.parse(out.stdout) as Status };
}

const peerByHost = (status: Status, host: string) => Object.values(status.Peer ?? {}).find((p) => p.HostName === host)!;

describe('tailscale status --json', () => {
  it('prints the Status object with the reference key sets, 2-space indent and a trailing newline', async () => {
    const { exec } = newSim();
    const { raw, status } = await statusOf(exec, 'node-21');
    expect(raw.endsWith('}\n')).toBe(true);
    expect(raw.split('\n')[1]).toBe('  "Version": "1.102.3-t53a0d659a",');
    expect(Object.keys(status)).toEqual(STATUS_KEYS);
    expect(Object.keys(status.Self)).toEqual(SELF_KEYS);
    expect(Object.keys(peerByHost(status, 'office-router'))).toEqual(TAGGED_ROUTER_PEER_KEYS);
    expect(Object.keys(peerByHost(status, 'alice-phone'))).toEqual(USER_PEER_KEYS);
    expect(Object.keys(status.CurrentTailnet)).toEqual(['Name', 'MagicDNSSuffix', 'MagicDNSEnabled']);
    for (const u of Object.values(status.User)) expect(Object.keys(u).slice(0, 3)).toEqual(['ID', 'LoginName', 'DisplayName']);
  });

  it('encodes like Go: DNSName with trailing dot, zero times, null slices, sorted map keys, int64 ids', async () => {
    const { exec } = newSim();
    const { raw, status } = await statusOf(exec, 'node-21');
    expect(status.Self.DNSName).toBe('node-21.tail1a2b3c.ts.net.');
    expect(status.Self.LastHandshake).toBe(ZERO);
    expect(status.ExtraRecords).toBeNull();
    for (const [key, peer] of Object.entries(status.Peer!)) {
      expect(key).toMatch(/^nodekey:[0-9a-f]{64}$/);
      expect(peer.PublicKey).toBe(key);
      expect(peer.Addrs).toBeNull();
      expect(peer.DNSName).toMatch(/\.tail1a2b3c\.ts\.net\.$/);
      for (const t of ['Created', 'LastWrite', 'LastSeen', 'LastHandshake']) expect(peer[t]).toMatch(RFC3339NANO);
      expect(Number.isSafeInteger(peer.NodeID) && Number.isSafeInteger(peer.UserID)).toBe(true);
      expect(peer.ID).toMatch(/^n[A-Za-z0-9]{7}CNTRL$/);
      expect(Date.parse(peer.Created)).toBeLessThan(FIXED_NOW);
      if (peer.Active) expect(Date.parse(peer.LastHandshake)).toBeLessThan(Date.parse(peer.LastWrite));
      if (peer.KeyExpiry !== undefined) expect(Date.parse(peer.KeyExpiry)).toBeGreaterThan(FIXED_NOW);
    }
    expect(Object.keys(status.Peer!)).toEqual([...Object.keys(status.Peer!)].sort());
    // User keys are decimal ids; check the text order, since JSON.parse may reorder numeric keys.
    const userBlock = raw.slice(raw.indexOf('"User": {'));
    const userKeys = [...userBlock.matchAll(/^ {4}"(\d+)": \{$/gm)].map((m) => m[1]!);
    expect(userKeys.length).toBe(4);
    expect(userKeys).toEqual([...userKeys].sort());
    expect(status.User[String(status.Self.UserID)].LoginName).toBe('tagged-devices');
  });

  it("shows Self.Addrs with the node's real WireGuard port and Self.Relay as the home DERP", async () => {
    const { exec } = newSim();
    const { status } = await statusOf(exec, 'node-22');
    expect(status.Self.Addrs).toEqual(['203.0.113.45:41622', '192.168.10.22:41622']);
    expect(status.Self.Relay).toBe('fra');
    expect(status.Self.CurAddr).toBe('');
    expect(status.Self.Active).toBe(false);
  });

  it('GIVEN node-21 with easy NAT THEN direct, peer-relay and idle peers follow the CLI logic', async () => {
    const { exec } = newSim();
    const { status } = await statusOf(exec, 'node-21');
    const alice = peerByHost(status, 'alice-phone');
    expect(alice).toMatchObject({ CurAddr: '198.51.100.23:41641', PeerRelay: '', Relay: 'fra', Active: true, InEngine: true });
    expect(alice.LastHandshake).not.toBe(ZERO);
    expect(pathOf(alice)).toBe('direct');
    expect(pathOf(peerByHost(status, 'bob-laptop'))).toBe('direct');
    // Relay is the home DERP even on a direct path: it alone does not mean relayed.
    expect(peerByHost(status, 'bob-laptop').Relay).toBe('ams');
    const router = peerByHost(status, 'office-router');
    expect(router).toMatchObject({ CurAddr: '', PeerRelay: '198.51.100.200:7777:vni:42', Relay: 'lhr', Active: true });
    expect(pathOf(router)).toBe('peer-relay');
    const carol = peerByHost(status, 'carol-tablet');
    expect(carol).toMatchObject({ CurAddr: '', PeerRelay: '', Active: false, Online: false, LastWrite: ZERO, RxBytes: 0, TxBytes: 0 });
    expect(carol.LastSeen).not.toBe(ZERO);
    expect(pathOf(carol)).toBe('idle');
  });

  it('GIVEN node-23 behind hard NAT THEN its active peers are DERP-relayed and its public port is not the WireGuard port', async () => {
    const { exec } = newSim();
    const { status } = await statusOf(exec, 'node-23');
    expect(pathOf(peerByHost(status, 'alice-phone'))).toBe('derp:fra');
    expect(pathOf(peerByHost(status, 'bob-laptop'))).toBe('derp:ams');
    expect(pathOf(peerByHost(status, 'office-router'))).toBe('peer-relay');
    const [publicAddr, lanAddr] = status.Self.Addrs;
    expect(lanAddr).toBe('192.168.10.23:41623');
    expect(publicAddr).toMatch(/^203\.0\.113\.45:\d+$/);
    expect(publicAddr).not.toBe('203.0.113.45:41623');
  });

  it('honours --peers=false and --active', async () => {
    const { exec } = newSim();
    const noPeers = (await statusOf(exec, 'node-21', '--peers=false')).status;
    expect(noPeers.Peer).toBeNull();
    expect(Object.keys(noPeers.User)).toEqual([String(noPeers.Self.UserID)]);
    const active = (await statusOf(exec, 'node-21', '--active')).status;
    expect(Object.values(active.Peer!).map((p) => p.HostName).sort()).toEqual(['alice-phone', 'bob-laptop', 'office-router']);
  });

  it('prints the human status with the same direct / relay reading', async () => {
    const { exec } = newSim();
    const out = await exec({ namespace: 'traefik', pod: 'traefik-node-23', container: 'tailscale', command: ['tailscale', 'status'] });
    expect(out.exitCode).toBe(0);
    const lines = out.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^100\.\S+\s+node-23\s+tagged-devices\s+linux\s+-$/);
    expect(out.stdout).toMatch(/alice-phone\s+alice@\s+iOS\s+active; relay "fra", tx \d+ rx \d+/);
    expect(out.stdout).toMatch(/office-router\s+tagged-devices\s+linux\s+active; peer-relay 198\.51\.100\.200:7777:vni:42/);
    expect(out.stdout).toMatch(/carol-tablet\s+carol@\s+android\s+offline/);
  });
});

describe('tailscale netcheck --format=json', () => {
  it('prints the Report with the reference keys, TAB indent, Go map order, and the warning on stderr', async () => {
    const { exec } = newSim();
    const out = await exec({ namespace: 'traefik', pod: 'traefik-node-21', container: 'tailscale', command: ['tailscale', 'netcheck', '--format=json'] });
    expect(out.exitCode).toBe(0);
    expect(out.stderr).toBe('# Warning: this JSON format is not yet considered a stable interface\n');
    expect(out.stdout.endsWith('}\n')).toBe(true);
    expect(out.stdout.split('\n')[1]).toMatch(/^\t"Now": "2026-08-22T14:04:10\.118\d*Z",$/);
    const report = JSON.parse(out.stdout);
    expect(Object.keys(report)).toEqual(NETCHECK_KEYS);
    const regionBlock = out.stdout.slice(out.stdout.indexOf('"RegionLatency"'), out.stdout.indexOf('"RegionV4Latency"'));
    expect([...regionBlock.matchAll(/^\t\t"(\d+)":/gm)].map((m) => m[1])).toEqual(['1', '14', '18', '2', '4', '8']);
    expect(report).toMatchObject({ UDP: true, MappingVariesByDestIP: false, PreferredDERP: 4, GlobalV6: '', CaptivePortal: null, RegionV6Latency: {}, GlobalV6Counters: null });
    expect(Math.min(...(Object.values(report.RegionLatency) as number[]))).toBe(report.RegionLatency['4']);
    // netcheck probes from its own socket: the STUN-seen port is not the WireGuard port.
    expect(report.GlobalV4).toMatch(/^203\.0\.113\.45:\d+$/);
    expect(report.GlobalV4).not.toBe('203.0.113.45:41621');
    expect(Object.keys(report.GlobalV4Counters)).toEqual([report.GlobalV4]);
  });

  it('reports node-23 as hard NAT: MappingVariesByDestIP true, a different port per STUN server', async () => {
    const { exec } = newSim();
    const out = await exec({ namespace: 'traefik', pod: 'traefik-node-23', container: 'tailscale', command: ['tailscale', 'netcheck', '--format', 'json'] });
    const report = JSON.parse(out.stdout);
    expect(report.MappingVariesByDestIP).toBe(true);
    expect(Object.keys(report.GlobalV4Counters).length).toBeGreaterThan(1);
  });

  it('prints one compact line for --format=json-line and rejects an unknown format', async () => {
    const { exec } = newSim();
    const line = await exec({ namespace: 'traefik', pod: 'traefik-node-21', container: 'tailscale', command: ['tailscale', 'netcheck', '--format=json-line'] });
    expect(line.stdout.split('\n')).toHaveLength(2);
    expect(line.stdout.startsWith('{"Now":"')).toBe(true);
    const bad = await exec({ namespace: 'traefik', pod: 'traefik-node-21', container: 'tailscale', command: ['tailscale', 'netcheck', '--format=yaml'] });
    expect(bad).toMatchObject({ exitCode: 1, stderr: 'unknown output format "yaml"\n' });
  });

  it('GIVEN UDP blocked THEN netcheck says UDP false, no global address, mapping unknown', async () => {
    const { sim, exec } = newSim();
    sim.setNode('node-22', { udp: false });
    const report = JSON.parse((await exec({ namespace: 'traefik', pod: 'traefik-node-22', container: 'tailscale', command: ['tailscale', 'netcheck', '--format=json'] })).stdout);
    expect(report).toMatchObject({ UDP: false, IPv4: false, GlobalV4: '', GlobalV4Counters: null, MappingVariesByDestIP: null, RegionV4Latency: {} });
    const { status } = await statusOf(exec, 'node-22');
    expect(status.Self.Addrs).toEqual(['192.168.10.22:41622']);
    expect(pathOf(peerByHost(status, 'alice-phone'))).toBe('derp:fra');
    expect(pathOf(peerByHost(status, 'office-router'))).toBe('derp:lhr');
  });
});

describe('connectivity rules and knobs', () => {
  it('asks portForwarded only for a hard-NAT node in auto mode, and turns its paths direct when forwarded', async () => {
    const asked: string[] = [];
    const sim = new TailscaleSimulator({
      state: seedTailscaleState(homelab),
      now: () => FIXED_NOW,
      portForwarded: async (node) => {
        asked.push(node.name);
        return true;
      },
    });
    for (const n of ['node-21', 'node-22', 'node-23']) await sim.status(n);
    expect(asked).toEqual(['node-23']);
    const status = (await sim.status('node-23')) as unknown as { Self: Peer; Peer: GoMap<Peer> };
    const alice = status.Peer.entries.find(([, p]) => p.HostName === 'alice-phone')![1];
    expect(pathOf(alice)).toBe('direct');
    expect(status.Self.Addrs).toEqual(['203.0.113.45:41623', '192.168.10.23:41623']);
  });

  it('lets explicit overrides win over the auto rule', async () => {
    const { sim } = newSim({ forwarded: new Set(['node-23']) });
    sim.setNode('node-23', { connectivity: 'relayed' });
    // The last two are the other Traefik nodes: peers too, idle while no traffic flows between them.
    expect((await sim.peerPaths('node-23')).paths).toEqual(['derp', 'derp', 'derp', 'idle', 'idle', 'idle']);
    sim.setNode('node-23', { connectivity: 'direct' });
    sim.setNode('node-22', { connectivity: 'relayed' });
    expect((await sim.peerPaths('node-23')).paths).toEqual(['direct', 'direct', 'peer-relay', 'idle', 'idle', 'idle']);
    expect((await sim.peerPaths('node-22')).paths).toEqual(['derp', 'derp', 'derp', 'idle', 'idle', 'idle']);
  });

  it('GIVEN setNode over time THEN node-21 goes direct → relayed → direct, and onChange fires each time', async () => {
    let changes = 0;
    const { sim, exec } = newSim({ onChange: () => changes++ });
    const aliceOn21 = async () => pathOf(peerByHost((await statusOf(exec, 'node-21')).status, 'alice-phone'));
    expect(await aliceOn21()).toBe('direct');
    sim.setNode('node-21', { udp: false });
    expect(await aliceOn21()).toBe('derp:fra');
    sim.setNode('node-21', { udp: true });
    expect(await aliceOn21()).toBe('direct');
    sim.setNode('node-21', { hardNat: true });
    expect(await aliceOn21()).toBe('derp:fra');
    expect(changes).toBe(3);
    expect(() => sim.setNode('node-99', { udp: false })).toThrow(/node-99/);
  });

  it('delays every exec by setExecLatency and fails a node with failExec until healed', async () => {
    const { sim, exec } = newSim();
    sim.setExecLatency(120);
    const started = Date.now();
    await statusOf(exec, 'node-21');
    expect(Date.now() - started).toBeGreaterThanOrEqual(110);
    sim.setExecLatency(0);

    sim.failExec('node-22', { exitCode: 137, stderr: 'command terminated with exit code 137\n' });
    const failed = await exec({ namespace: 'traefik', pod: 'traefik-node-22', container: 'tailscale', command: ['tailscale', 'status', '--json'] });
    expect(failed).toEqual({ stdout: '', stderr: 'command terminated with exit code 137\n', exitCode: 137 });
    await statusOf(exec, 'node-21');
    sim.failExec('node-22', null);
    await statusOf(exec, 'node-22');
  });

  it('answers like the real CLI for unknown subcommands, unknown flags, other containers and unknown pods', async () => {
    const { exec } = newSim();
    const run = (command: string[], container = 'tailscale', pod = 'traefik-node-21') => exec({ namespace: 'traefik', pod, container, command });
    expect(await run(['tailscale', 'frobnicate'])).toEqual({ stdout: '', stderr: 'tailscale: unknown subcommand: frobnicate\n', exitCode: 1 });
    const badFlag = await run(['tailscale', 'status', '--jsn']);
    expect(badFlag.exitCode).toBe(2);
    expect(badFlag.stderr).toMatch(/^flag provided but not defined: -jsn\nUSAGE\n {2}tailscale status/);
    const usage = await run(['tailscale']);
    expect(usage.exitCode).toBe(0);
    expect(usage.stderr).toContain('USAGE\n  tailscale [flags] <subcommand> [command flags]');
    expect((await run(['tailscale', 'status', '--json'], 'traefik')).exitCode).toBe(127);
    expect(await run(['tailscale', 'status', '--json'], 'tailscale', 'coredns-abc')).toMatchObject({ exitCode: 1, stderr: expect.stringMatching(/failed to connect to local tailscaled/) });
    expect((await run(['/usr/local/bin/tailscale', 'ip', '-4'])).stdout).toMatch(/^100\.\d+\.\d+\.\d+\n$/);
  });

  it('answers tailscale ping: one direct pong, or DERP pongs then "direct connection not established"', async () => {
    const { exec } = newSim();
    const direct = await exec({ namespace: 'traefik', pod: 'traefik-node-21', container: 'tailscale', command: ['tailscale', 'ping', 'alice-phone'] });
    expect(direct.exitCode).toBe(0);
    expect(direct.stdout).toMatch(/^pong from alice-phone \(100\.[\d.]+\) via 198\.51\.100\.23:41641 in \d+ms\n$/);
    const relayed = await exec({ namespace: 'traefik', pod: 'traefik-node-23', container: 'tailscale', command: ['tailscale', 'ping', '-c', '3', 'alice-phone'] });
    expect(relayed).toMatchObject({ exitCode: 1, stderr: 'direct connection not established\n' });
    expect(relayed.stdout.trimEnd().split('\n')).toHaveLength(3);
    expect(relayed.stdout).toContain('via DERP(fra)');
  });

  it('is deterministic: same state and clock, same bytes', async () => {
    const a = newSim();
    const b = newSim();
    expect((await statusOf(a.exec, 'node-22')).raw).toBe((await statusOf(b.exec, 'node-22')).raw);
  });

  it('GIVEN 50 nodes THEN every node answers with its own identity and every third is behind hard NAT', async () => {
    const sim = tailscaleSimulatorForNodes(50, { now: () => FIXED_NOW });
    expect(sim.state.nodes).toHaveLength(50);
    const selves = await Promise.all(sim.state.nodes.map(async (n) => ((await sim.status(n.name)) as { Self: Peer }).Self));
    expect(new Set(selves.map((s) => s.PublicKey)).size).toBe(50);
    expect(new Set(selves.map((s) => s.TailscaleIPs[0])).size).toBe(50);
    expect(selves[49]!.HostName).toBe('node-70');
    expect(sim.state.nodes.filter((n) => n.hardNat).map((n) => n.name).slice(0, 3)).toEqual(['node-23', 'node-26', 'node-29']);
  });
});

describe('auto rule wired to the router sandbox', () => {
  let router: RouterOsSandbox;
  beforeAll(async () => {
    router = await startRouterOsSandbox({ state: seedRouterState(homelab) });
  });
  afterAll(async () => {
    await router.close();
  });

  it('GIVEN node-23 relayed WHEN labgate adds its dst-nat rule THEN its peers go direct, and back to DERP when removed', async () => {
    const sim = new TailscaleSimulator({
      state: seedTailscaleState(homelab),
      portForwarded: (node) => forwardsUdpPort(router.rules(), { ip: node.ip, port: node.tailscalePort }),
    });
    const alice = async () => pathOf((((await sim.status('node-23')) as { Peer: GoMap<Peer> }).Peer.entries.find(([, p]) => p.HostName === 'alice-phone')!)[1]);
    expect(await alice()).toBe('derp:fra');

    const node23 = homelab.nodes[2]!;
    const client = new RouterOSClient({ host: router.host, port: router.port, user: router.user, password: router.password, timeout: 5 });
    const api = await client.connect();
    const nat = () => api.menu('/ip/firewall/nat');
    try {
      const rule = await nat().add({
        chain: 'dstnat', action: 'dst-nat', protocol: 'udp', dstPort: String(node23.tailscalePort), inInterface: 'ether1',
        toAddresses: node23.ip, toPorts: String(node23.tailscalePort), comment: labgateRuleComment(node23),
      });
      expect(await alice()).toBe('direct');
      await nat().disable(rule.id);
      expect(await alice()).toBe('derp:fra');
      await nat().enable(rule.id);
      await nat().update({ toAddresses: '192.168.10.99' }, rule.id);
      expect(await alice()).toBe('derp:fra');
      await nat().remove(rule.id);
      expect(await alice()).toBe('derp:fra');
    } finally {
      await client.close();
    }
  });
});

describe('Go-style JSON', () => {
  it('sorts map keys as strings, escapes HTML characters, keeps struct order and drops undefined fields', () => {
    const value = { B: 1, A: new GoMap([['14', 1], ['2', 2], ['1', 3]]), C: '<a&b>', D: undefined, E: [], F: new GoMap([]) };
    expect(marshal(value)).toBe('{"B":1,"A":{"1":3,"14":1,"2":2},"C":"\\u003ca\\u0026b\\u003e","E":[],"F":{}}');
    expect(marshalIndent({ a: [1, { b: null }] }, '\t')).toBe('{\n\t"a": [\n\t\t1,\n\t\t{\n\t\t\t"b": null\n\t\t}\n\t]\n}');
  });
  it('formats times like RFC3339Nano: trailing zeros dropped, no fraction when whole', () => {
    expect(goTime(Date.UTC(2026, 7, 22, 14, 3, 55, 218), 376_102)).toBe('2026-08-22T14:03:55.218376102Z');
    expect(goTime(Date.UTC(2026, 7, 22, 14, 3, 55, 100))).toBe('2026-08-22T14:03:55.1Z');
    expect(goTime(Date.UTC(2027, 0, 28, 8, 41, 27))).toBe('2027-01-28T08:41:27Z');
  });
});
