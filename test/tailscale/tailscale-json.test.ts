import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultHomelab } from '../../sandbox/homelab.js';
import { TailscaleSimulator } from '../../sandbox/tailscale/tailscale-simulator.js';
import { seedTailscaleState } from '../../sandbox/tailscale/tailscale-state.js';
import { NetcheckReport } from '../../src/tailscale/netcheck-schema.js';
import { listeningPort, peerPath, peerPaths } from '../../src/tailscale/peer-paths.js';
import { PeerStatus, TailscaleStatus } from '../../src/tailscale/status-schema.js';

// Copies of the reference samples (constructed from the Go structs of tailscale 1.102).
const sample = (name: string) => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));

const peer = (over: Record<string, unknown>) =>
  PeerStatus.parse({ HostName: 'p', DNSName: 'p.tail.ts.net.', Relay: 'fra', CurAddr: '', PeerRelay: '', Active: true, Addrs: null, ...over });

describe('tailscale status --json and netcheck --format=json, as labgate reads them', () => {
  it('parses the status sample and reads each peer as the CLI does: edge-router-1 direct, alice-laptop relayed by DERP nyc', () => {
    const st = TailscaleStatus.parse(sample('tailscale-status-sample.json'));
    expect(st.BackendState).toBe('Running');
    expect(st.Self?.Relay).toBe('fra');
    expect(peerPaths(st)).toEqual([
      { host: 'alice-laptop', kind: 'derp', via: 'nyc' },
      { host: 'edge-router-1', kind: 'direct', via: '198.51.100.23:41641' },
    ]);
    expect(listeningPort(st, '10.42.0.17')).toBe(41641);
  });

  it('does not take Relay alone for relayed: an inactive peer is idle, CurAddr is direct, PeerRelay is a peer relay', () => {
    expect(peerPath(peer({ Active: false, Relay: 'fra', CurAddr: '' }))).toEqual({ host: 'p', kind: 'idle', via: '' });
    expect(peerPath(peer({ Active: false, CurAddr: '198.51.100.1:41641' })).kind).toBe('idle');
    expect(peerPath(peer({ CurAddr: '198.51.100.1:41641' }))).toEqual({ host: 'p', kind: 'direct', via: '198.51.100.1:41641' });
    expect(peerPath(peer({ PeerRelay: '198.51.100.200:7777:vni:42' }))).toEqual({ host: 'p', kind: 'peer-relay', via: '198.51.100.200:7777:vni:42' });
    expect(peerPath(peer({ Relay: '' }))).toEqual({ host: 'p', kind: 'derp', via: '' });
  });

  it('GIVEN a peer that names itself with markdown and newlines THEN its name reaches tables and alerts as inert text on one line', () => {
    const p = peerPath(peer({ HostName: 'x)\n**Safe**\n[ok](https://evil.example) <@1250000000000000004>', Relay: 'fra' }));
    expect(p.kind).toBe('derp');
    expect(p.host).toBe('x\\) \\*\\*Safe\\*\\* \\[ok\\]\\(https://evil.example\\) \\<@1250000000000000004\\>');
    // And bounded: a name cannot fill a message.
    expect([...peerPath(peer({ HostName: 'n'.repeat(500), Relay: 'fra' })).host]).toHaveLength(64);
    // An ordinary name is unchanged.
    expect(peerPath(peer({ HostName: 'alice-phone.tail-1', Relay: 'fra' })).host).toBe('alice-phone.tail-1');
  });

  it('accepts what older or narrower outputs send: no PeerRelay field (before 1.86), no Peer map (--peers=false), null slices', () => {
    const old = PeerStatus.parse({ HostName: 'old', CurAddr: '', Relay: 'ams', Active: true, TailscaleIPs: null });
    expect(old.PeerRelay).toBe('');
    expect(peerPath(old)).toEqual({ host: 'old', kind: 'derp', via: 'ams' });
    const { Peer: _peer, ...selfOnly } = sample('tailscale-status-sample.json');
    expect(TailscaleStatus.parse(selfOnly).Peer).toEqual({});
    expect(TailscaleStatus.parse({ ...selfOnly, Peer: null, Health: null }).Health).toEqual([]);
  });

  it('parses the netcheck sample: UDP, easy NAT, preferred DERP 4, latencies in nanoseconds; opt.Bool null stays null', () => {
    const n = NetcheckReport.parse(sample('tailscale-netcheck-sample.json'));
    expect(n).toMatchObject({ UDP: true, MappingVariesByDestIP: false, PreferredDERP: 4, GlobalV4: '203.0.113.45:41641', CaptivePortal: null });
    expect(n.RegionLatency['4']).toBe(11873002);
    expect(NetcheckReport.parse({ UDP: false, MappingVariesByDestIP: null, GlobalV4Counters: null }).MappingVariesByDestIP).toBeNull();
    expect(NetcheckReport.safeParse({ UDP: 'yes' }).success).toBe(false);
  });

  it("reads the sandbox's node-23 like a real one: hard NAT, WireGuard port 41623, two peers on DERP", async () => {
    const sim = new TailscaleSimulator({ state: seedTailscaleState(defaultHomelab()) });
    const st = TailscaleStatus.parse(JSON.parse((await sim.exec('node-23', ['tailscale', 'status', '--json'])).stdout));
    const nc = NetcheckReport.parse(JSON.parse((await sim.exec('node-23', ['tailscale', 'netcheck', '--format=json'])).stdout));
    expect(listeningPort(st, '192.168.10.23')).toBe(41623);
    expect(nc.MappingVariesByDestIP).toBe(true);
    // node-21 and node-22 are the other Traefik nodes: peers too, idle while no traffic flows.
    expect(peerPaths(st).map((p) => `${p.host}:${p.kind}`)).toEqual(['alice-phone:derp', 'bob-laptop:derp', 'carol-tablet:idle', 'node-21:idle', 'node-22:idle', 'office-router:peer-relay']);
  });
});
