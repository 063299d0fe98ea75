import { GO_ZERO_TIME, GoMap, goTime } from './go-json.js';
import { derivedInt, int64Id, nodeKey, stableNodeId, tailscaleAddresses } from './tailnet-identity.js';
import { DERP_REGIONS, type PeerPath, type TailnetPeer, type TailscaleNodeState, type TailscaleState } from './tailscale-state.js';

/**
 * The ipnstate.Status object `tailscale status --json` prints for one node, fields in Go
 * declaration order (undefined = omitempty left out), maps as GoMap so keys sort like Go.
 */

export interface StatusView {
  /** Effective path per peer, same order as `node.peers`. */
  paths: readonly PeerPath[];
  /** Whether the node's own NAT lets it take direct paths (decides its public endpoint). */
  direct: boolean;
  now: number;
  /** `--peers=false` leaves out peers and their users. */
  peers?: boolean;
  /** `--active` leaves out inactive peers. */
  active?: boolean;
}

const TAGGED_DEVICES = 'tagged-devices';
const DAY = 86_400_000;

export const userId = (loginName: string) => int64Id('user', loginName);

/** Region code of a DERP region id; `""` when the region is unknown (home DERP not found yet). */
export function derpCode(regionId: number): string {
  return DERP_REGIONS.find((r) => r.id === regionId)?.code ?? '';
}

/** When the device joined: 30 to 330 days before today, so it never lies in the future. */
function createdMs(name: string, now: number): number {
  return Math.floor(now / DAY) * DAY - (30 + derivedInt('created', name, 300)) * DAY + derivedInt('created-ms', name, DAY);
}

/** The created time as Go prints it, with nanoseconds like a real clock reading. */
function createdAt(name: string, now: number): string {
  return goTime(createdMs(name, now), derivedInt('created-ns', name, 1_000_000));
}

/** Node keys of user devices expire; keep the expiry 20 to 80 days ahead, whole seconds. */
function keyExpiry(name: string, now: number): string {
  return goTime(Math.floor(now / DAY) * DAY + (20 + derivedInt('key-expiry', name, 60)) * DAY + derivedInt('key-expiry-s', name, 86_400) * 1000);
}

function peerApiUrls(name: string): string[] {
  const { v4, v6 } = tailscaleAddresses(name);
  const port = 30000 + derivedInt('peerapi', name, 30000);
  return [`http://${v4}:${port}`, `http://[${v6}]:${port}`];
}

/** A port a hard NAT would map our WireGuard socket to for the STUN server: anything but ours. */
export function mappedPort(name: string, salt: string, avoid: number): number {
  const port = 1024 + derivedInt(`mapped-port/${salt}`, name, 64000);
  return port === avoid ? port + 1 : port;
}

/** Our own endpoints: the public one STUN found (when UDP works) and the LAN one, both with the real port where the NAT keeps it. */
export function selfAddrs(state: TailscaleState, node: TailscaleNodeState, direct: boolean): string[] {
  const lan = `${node.ip}:${node.tailscalePort}`;
  if (!node.udp) return [lan];
  const publicPort = node.hardNat && !direct ? mappedPort(node.name, 'wireguard', node.tailscalePort) : node.tailscalePort;
  return [`${state.publicIp}:${publicPort}`, lan];
}

/** The keys that name a node in a status entry (its own or a peer's), first and in tailscale's order. */
function nodeIdentity(state: TailscaleState, hostName: string): Record<string, unknown> {
  return {
    ID: stableNodeId(hostName),
    NodeID: int64Id('node', hostName),
    PublicKey: nodeKey(hostName),
    HostName: hostName,
    DNSName: `${hostName}.${state.magicDnsSuffix}.`,
  };
}

function selfStatus(state: TailscaleState, node: TailscaleNodeState, view: StatusView): Record<string, unknown> {
  const { v4, v6 } = tailscaleAddresses(node.name);
  return {
    ...nodeIdentity(state, node.name),
    OS: 'linux',
    UserID: userId(TAGGED_DEVICES),
    TailscaleIPs: [v4, v6],
    AllowedIPs: [`${v4}/32`, `${v6}/128`],
    Tags: ['tag:k8s'],
    Addrs: selfAddrs(state, node, view.direct),
    CurAddr: '',
    Relay: derpCode(node.preferredDerp),
    PeerRelay: '',
    RxBytes: 0,
    TxBytes: 0,
    Created: createdAt(node.name, view.now),
    LastWrite: GO_ZERO_TIME,
    LastSeen: GO_ZERO_TIME,
    LastHandshake: GO_ZERO_TIME,
    Online: true,
    ExitNode: false,
    ExitNodeOption: false,
    Active: false,
    PeerAPIURL: peerApiUrls(node.name),
    TaildropTarget: 0,
    NoFileSharingReason: '',
    Capabilities: [
      'HTTPS://TAILSCALE.COM/s/DEPRECATED-NODE-CAPS#see-https://github.com/tailscale/tailscale/issues/11508',
      'https://tailscale.com/cap/file-sharing',
      'https://tailscale.com/cap/ssh',
    ],
    CapMap: new GoMap([
      ['https://tailscale.com/cap/file-sharing', null],
      ['https://tailscale.com/cap/ssh', null],
    ]),
    InNetworkMap: true,
    InMagicSock: false,
    InEngine: false,
  };
}

function peerStatus(state: TailscaleState, node: TailscaleNodeState, peer: TailnetPeer, path: PeerPath, now: number): Record<string, unknown> {
  const { v4, v6 } = tailscaleAddresses(peer.hostName);
  const pair = `${node.name}/${peer.hostName}`;
  const active = peer.online && path !== 'idle';
  const tagged = peer.tags !== undefined && peer.tags.length > 0;
  const traffic = active ? 40_000 + derivedInt('traffic', pair, 2_000_000) : 0;
  return {
    ...nodeIdentity(state, peer.hostName),
    OS: peer.os,
    UserID: userId(tagged || !peer.owner ? TAGGED_DEVICES : peer.owner),
    TailscaleIPs: [v4, v6],
    AllowedIPs: [`${v4}/32`, `${v6}/128`, ...(peer.routes ?? [])],
    Tags: tagged ? peer.tags : undefined,
    PrimaryRoutes: peer.routes?.length ? peer.routes : undefined,
    Addrs: null,
    CurAddr: active && path === 'direct' ? peer.endpoint : '',
    Relay: peer.homeDerp,
    PeerRelay: active && path === 'peer-relay' && peer.peerRelay ? `${peer.peerRelay.endpoint}:vni:${peer.peerRelay.vni}` : '',
    RxBytes: traffic,
    TxBytes: active ? Math.round(traffic * 0.6) : 0,
    Created: createdAt(peer.hostName, now),
    LastWrite: active ? goTime(now - 1000 - derivedInt('last-write', pair, 3000), derivedInt('last-write-ns', pair, 1_000_000)) : GO_ZERO_TIME,
    LastSeen: peer.online ? GO_ZERO_TIME : goTime(now - 3 * DAY - derivedInt('last-seen', pair, DAY)),
    LastHandshake: active ? goTime(now - 20_000 - derivedInt('handshake', pair, 90_000), derivedInt('handshake-ns', pair, 1_000_000)) : GO_ZERO_TIME,
    Online: peer.online,
    ExitNode: false,
    ExitNodeOption: false,
    Active: active,
    PeerAPIURL: peerApiUrls(peer.hostName),
    TaildropTarget: 9,
    NoFileSharingReason: '',
    InNetworkMap: true,
    InMagicSock: true,
    InEngine: active,
    KeyExpiry: tagged ? undefined : keyExpiry(peer.hostName, now),
  };
}

function userProfile(state: TailscaleState, loginName: string): Record<string, unknown> {
  if (loginName === TAGGED_DEVICES) return { ID: userId(loginName), LoginName: loginName, DisplayName: 'Tagged Devices' };
  const user = state.users.find((u) => u.loginName === loginName);
  return {
    ID: userId(loginName),
    LoginName: loginName,
    DisplayName: user?.displayName ?? loginName.split('@')[0],
    ProfilePicURL: user?.profilePicUrl,
  };
}

/** The whole `tailscale status --json` object for one node. */
export function buildStatus(state: TailscaleState, node: TailscaleNodeState, view: StatusView): Record<string, unknown> {
  const { v4, v6 } = tailscaleAddresses(node.name);
  const logins = new Set([TAGGED_DEVICES]);
  let peerMap: GoMap | null = null;
  if (view.peers !== false) {
    const entries: [string, unknown][] = [];
    node.peers.forEach((peer, i) => {
      const ps = peerStatus(state, node, peer, view.paths[i] ?? 'idle', view.now);
      if (view.active && !ps.Active) return;
      entries.push([nodeKey(peer.hostName), ps]);
      logins.add(peer.tags?.length || !peer.owner ? TAGGED_DEVICES : peer.owner);
    });
    peerMap = new GoMap(entries);
  }
  return {
    Version: state.version,
    TUN: false,
    BackendState: 'Running',
    HaveNodeKey: true,
    AuthURL: '',
    TailscaleIPs: [v4, v6],
    Self: selfStatus(state, node, view),
    Health: [],
    MagicDNSSuffix: state.magicDnsSuffix,
    CurrentTailnet: { Name: state.tailnet, MagicDNSSuffix: state.magicDnsSuffix, MagicDNSEnabled: true },
    CertDomains: [`${node.name}.${state.magicDnsSuffix}`],
    ExtraRecords: null,
    Peer: peerMap,
    User: new GoMap([...logins].map((login) => [String(userId(login)), userProfile(state, login)] as const)),
    ClientVersion: { RunningLatest: true },
  };
}
