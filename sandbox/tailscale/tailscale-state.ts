import { homelabNodes, type Homelab } from '../homelab.js';

/**
 * What the Tailscale simulator knows: one entry per Traefik node (the `tailscale`
 * container of its pod) and the tailnet devices each of them talks to. Plain JSON, so the
 * sandbox orchestrator can persist it with the rest.
 */

/**
 * The path a peer would use when our side allows it: `direct` (UDP hole punched),
 * `peer-relay` (UDP through another tailnet node), `derp` (relayed by a DERP server even
 * at best, e.g. the peer is behind a hard NAT itself) or `idle` (no traffic yet).
 */
export type PeerPath = 'direct' | 'peer-relay' | 'derp' | 'idle';

/**
 * `auto`: direct paths when UDP works and the NAT is easy, or when the node is behind a
 * hard NAT but its WireGuard port is forwarded. `direct` / `relayed` force the outcome.
 */
export type Connectivity = 'auto' | 'direct' | 'relayed';

export interface DerpRegion {
  id: number;
  code: string;
  name: string;
}

/** The DERP regions the simulated DERP map serves (ids and codes of the real map). */
export const DERP_REGIONS: readonly DerpRegion[] = [
  { id: 1, code: 'nyc', name: 'New York City' },
  { id: 2, code: 'sfo', name: 'San Francisco' },
  { id: 4, code: 'fra', name: 'Frankfurt' },
  { id: 8, code: 'lhr', name: 'London' },
  { id: 14, code: 'ams', name: 'Amsterdam' },
  { id: 18, code: 'par', name: 'Paris' },
];

export interface TailnetUser {
  loginName: string;
  displayName: string;
  profilePicUrl?: string;
}

export interface TailnetPeer {
  hostName: string;
  /** Another Traefik node on the same LAN: reached direct at `endpoint` once there is traffic. */
  lan?: boolean;
  os: string;
  /** Login name of the owner; absent for tagged devices. */
  owner?: string;
  tags?: string[];
  /** Subnet routes the peer serves (PrimaryRoutes). */
  routes?: string[];
  path: PeerPath;
  /** Region code of the peer's home DERP (Relay is always set to it). */
  homeDerp: string;
  /** The peer's public `ip:port`, the CurAddr of a direct path. */
  endpoint: string;
  /** The relay server's `ip:port` and VNI, for the `peer-relay` path. */
  peerRelay?: { endpoint: string; vni: number };
  online: boolean;
}

export interface TailscaleNodeState {
  /** Kubernetes node name; also the device's Tailscale hostname. */
  name: string;
  /** LAN address (the pod uses the host network). */
  ip: string;
  /** WireGuard UDP port tailscaled listens on. */
  tailscalePort: number;
  /** False when outbound UDP is blocked: only DERP works. */
  udp: boolean;
  /** Endpoint-dependent ("hard") NAT: netcheck's MappingVariesByDestIP. */
  hardNat: boolean;
  /** Home DERP region id. */
  preferredDerp: number;
  connectivity: Connectivity;
  peers: TailnetPeer[];
}

export interface TailscaleState {
  version: string;
  /** CurrentTailnet.Name. */
  tailnet: string;
  magicDnsSuffix: string;
  /** The router's public IPv4, which STUN reports. */
  publicIp: string;
  users: TailnetUser[];
  nodes: TailscaleNodeState[];
}

/**
 * The release the Traefik pods' tailscale container runs: the image tag in the DaemonSet and
 * what `tailscale version` and `status --json` report (the JSON shape is v1.102's; see
 * tailscale.md in the reference notes). One place, so image and simulator cannot drift.
 */
export const TAILSCALE_RELEASE = {
  image: 'ghcr.io/tailscale/tailscale:v1.102.3',
  /** version.Long() of a build from the open-source tree alone: short version and commit, no "-g" other commit. */
  version: '1.102.3-t53a0d659a',
  commit: '53a0d659afa51835dd7a9283873cca44261454f8',
  goVersion: 'go1.25.5',
} as const;

/** The other Traefik nodes as one node sees them: tagged tag:k8s, online, idle until traffic flows. */
function siblingPeers(nodes: readonly { name: string; ip: string; tailscalePort: number }[], self: string): TailnetPeer[] {
  return nodes
    .filter((n) => n.name !== self)
    .map((n) => ({ hostName: n.name, lan: true, os: 'linux', tags: ['tag:k8s'], path: 'idle' as PeerPath, homeDerp: 'fra', endpoint: `${n.ip}:${n.tailscalePort}`, online: true }));
}

/** The tailnet devices every Traefik node sees: two direct, one via a peer relay, one idle. */
export function defaultPeers(): TailnetPeer[] {
  return [
    { hostName: 'alice-phone', os: 'iOS', owner: 'alice@example.org', path: 'direct', homeDerp: 'fra', endpoint: '198.51.100.23:41641', online: true },
    { hostName: 'bob-laptop', os: 'macOS', owner: 'bob@example.org', path: 'direct', homeDerp: 'ams', endpoint: '198.51.100.77:53211', online: true },
    {
      hostName: 'office-router',
      os: 'linux',
      tags: ['tag:router'],
      routes: ['192.168.88.0/24'],
      path: 'peer-relay',
      homeDerp: 'lhr',
      endpoint: '192.0.2.10:41641',
      peerRelay: { endpoint: '198.51.100.200:7777', vni: 42 },
      online: true,
    },
    { hostName: 'carol-tablet', os: 'android', owner: 'carol@example.org', path: 'idle', homeDerp: 'par', endpoint: '198.51.100.9:41641', online: false },
  ];
}

const DEFAULT_USERS: TailnetUser[] = [
  { loginName: 'alice@example.org', displayName: 'Alice Example', profilePicUrl: 'https://avatars.example.org/alice.png' },
  { loginName: 'bob@example.org', displayName: 'Bob Example' },
  { loginName: 'carol@example.org', displayName: 'Carol Example' },
];

export interface SeedTailscaleOptions {
  /** Which nodes sit behind a hard NAT; default: the third (node-23 in the default homelab). */
  hardNat?: (nodeName: string, index: number) => boolean;
}

/**
 * The Tailscale side of the homelab: every node with UDP and the default peers; the third
 * node (and every third after it) behind a hard NAT, so its peers stay on DERP until its
 * WireGuard port is forwarded.
 */
export function seedTailscaleState(homelab: Pick<Homelab, 'nodes' | 'publicIp'>, options: SeedTailscaleOptions = {}): TailscaleState {
  const hardNat = options.hardNat ?? ((_name: string, index: number) => index % 3 === 2);
  return {
    version: TAILSCALE_RELEASE.version,
    tailnet: 'example.org',
    magicDnsSuffix: 'tail1a2b3c.ts.net',
    publicIp: homelab.publicIp,
    users: DEFAULT_USERS.map((u) => ({ ...u })),
    nodes: homelab.nodes.map((node, index) => ({
      name: node.name,
      ip: node.ip,
      tailscalePort: node.tailscalePort,
      udp: true,
      hardNat: hardNat(node.name, index),
      preferredDerp: 4,
      connectivity: 'auto' as Connectivity,
      peers: [...defaultPeers(), ...siblingPeers(homelab.nodes, node.name)],
    })),
  };
}

/** Seed state for `count` nodes (192.168.10.21 upward), e.g. the 50-node benchmark. */
export function seedTailscaleStateForNodes(count: number, publicIp = '203.0.113.45', options: SeedTailscaleOptions = {}): TailscaleState {
  return seedTailscaleState({ nodes: homelabNodes(count), publicIp }, options);
}
