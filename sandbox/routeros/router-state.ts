import { randomBytes } from 'node:crypto';
import type { Homelab, HomelabNode } from '../homelab.js';

/**
 * A NAT rule as the router keeps it: `.id` plus every property that was set, values as
 * strings exactly as given (`disabled` may read `yes`, `no`, `true` or `false`).
 */
export type NatRule = { '.id': string } & Record<string, string>;

export interface RouterUser {
  name: string;
  password: string;
  /** A group in `groups`: what the user may do comes from its policies. */
  group: string;
  disabled?: boolean;
  comment?: string;
  /** Where the user may log in from (empty: anywhere). */
  address?: string;
  /** Unix ms of the last login. */
  lastLoggedIn?: number;
  /** Internal id; users seeded before ids were kept get one on start. */
  id?: string;
}

/** A `/user group`: the policies its users have (those not listed are denied). */
export interface RouterGroup {
  id: string;
  name: string;
  policy: string[];
  skin: string;
  comment?: string;
}

/** An `/ip address` entry, as stored. */
export interface RouterAddress {
  '.id': string;
  address: string;
  interface: string;
  disabled: boolean;
  comment?: string;
}

/** What `/interface set` changed on an interface (the rest is derived from its name). */
export interface InterfaceSettings {
  disabled?: boolean;
  comment?: string;
  mtu?: number;
}

/** Everything the sandbox router remembers; plain JSON so the orchestrator can persist it. */
export interface RouterState {
  /**
   * RouterOS version the sandbox claims. From 7.18 on an empty print answers `!empty`
   * before `!done`; set `'7.17'` to get the older behaviour.
   */
  version: string;
  identity: string;
  boardName: string;
  users: RouterUser[];
  /** Interface names rules may refer to (`in-interface`, `out-interface`). */
  interfaces: string[];
  /** `/interface set` changes, by interface name. */
  interfaceSettings?: Record<string, InterfaceSettings>;
  /** `/user group`; absent in older state files (the three built-in groups are then assumed). */
  groups?: RouterGroup[];
  /** `/ip address`. */
  addresses?: RouterAddress[];
  nat: NatRule[];
  /** `/ip/firewall/filter`, same shape as NAT rules. */
  filter?: NatRule[];
  /** The next internal id to hand out, printed as `*` + uppercase hex. */
  nextId: number;
}

/** Every rule labgate owns carries a comment starting with this. */
export const LABGATE_RULE_COMMENT_PREFIX = 'labgate:';

/** The comment labgate puts on the dst-nat rule that forwards a node's Tailscale port. */
export function labgateRuleComment(node: Pick<HomelabNode, 'name'>): string {
  return `${LABGATE_RULE_COMMENT_PREFIX}tailscale:${node.name}`;
}

/** `*` + uppercase hex, the way RouterOS prints internal ids. */
export function formatRouterId(n: number): string {
  return `*${n.toString(16).toUpperCase()}`;
}

const DEFAULT_VERSION = '7.18.2';

/** Every policy a RouterOS 7 group can have, in the order `print` lists them. */
export const ALL_POLICIES = ['local', 'telnet', 'ssh', 'ftp', 'reboot', 'read', 'write', 'policy', 'test', 'winbox', 'password', 'web', 'sniff', 'sensitive', 'api', 'romon', 'rest-api'];

/** RouterOS 7's built-in groups (read and write lack ftp and policy; read lacks write). */
export function builtInGroups(): RouterGroup[] {
  const all = ALL_POLICIES;
  return [
    { id: '*1', name: 'read', policy: all.filter((p) => !['ftp', 'write', 'policy'].includes(p)), skin: 'default' },
    { id: '*2', name: 'write', policy: all.filter((p) => !['ftp', 'policy'].includes(p)), skin: 'default' },
    { id: '*3', name: 'full', policy: [...all], skin: 'default' },
  ];
}

/** A home router's addresses: the public one on the WAN port, the homelab's gateway on the bridge. */
function seedAddresses(homelab: Homelab): RouterAddress[] {
  const lan = (homelab.nodes[0]?.ip ?? '192.168.10.21').split('.').slice(0, 3).join('.');
  return [
    { '.id': '*1', address: `${lan}.1/24`, interface: 'bridge', disabled: false, comment: 'defconf' },
    { '.id': '*2', address: `${homelab.publicIp}/24`, interface: 'ether1', disabled: false },
  ];
}

/** RouterOS 7's default firewall, with ether1 as the WAN side. */
function seedFilter(): Record<string, string>[] {
  return [
    { chain: 'input', action: 'accept', 'connection-state': 'established,related,untracked', comment: 'defconf: accept established,related,untracked' },
    { chain: 'input', action: 'drop', 'connection-state': 'invalid', comment: 'defconf: drop invalid' },
    { chain: 'input', action: 'accept', protocol: 'icmp', comment: 'defconf: accept ICMP' },
    { chain: 'input', action: 'drop', 'in-interface': 'ether1', comment: 'defconf: drop all not coming from LAN' },
    { chain: 'forward', action: 'fasttrack-connection', 'connection-state': 'established,related', 'hw-offload': 'yes', comment: 'defconf: fasttrack' },
    { chain: 'forward', action: 'accept', 'connection-state': 'established,related,untracked', comment: 'defconf: accept established,related, untracked' },
    { chain: 'forward', action: 'drop', 'connection-state': 'invalid', comment: 'defconf: drop invalid' },
    { chain: 'forward', action: 'drop', 'connection-state': 'new', 'connection-nat-state': '!dstnat', 'in-interface': 'ether1', comment: 'defconf: drop all from WAN not DSTNATed' },
  ];
}

/**
 * Fills in what older state files lack (groups, addresses, filter rules, user ids), so a
 * sandbox started from one keeps working. The id counter moves past every id handed out.
 */
export function upgradeRouterState(state: RouterState, homelab?: Homelab): void {
  state.groups ??= builtInGroups();
  state.interfaceSettings ??= {};
  if (!state.addresses) state.addresses = homelab ? seedAddresses(homelab) : [];
  if (!state.filter) {
    state.filter = seedFilter().map((props) => ({ '.id': formatRouterId(state.nextId++), ...props }) as NatRule);
  }
  state.users.forEach((u, i) => (u.id ??= `*${(i + 1).toString(16).toUpperCase()}`));
}

/**
 * The router of the default homelab: users `labgate` (random password) and `admin` in the
 * built-in `full` group, the built-in groups, the WAN and LAN addresses, RouterOS's default
 * firewall filter, dst-nat rules forwarding the Tailscale port of every node but the third
 * (node-23 in the default homelab, so it stays behind hard NAT), and foreign rules labgate
 * must not touch (web ports, masquerade).
 */
export function seedRouterState(homelab: Homelab, options: { version?: string; unforwardedNodes?: string[] } = {}): RouterState {
  const unforwarded = new Set(options.unforwardedNodes ?? homelab.nodes.filter((_, i) => i === 2).map((n) => n.name));
  const nat: Array<Record<string, string>> = [
    { chain: 'srcnat', action: 'masquerade', 'out-interface': 'ether1', comment: 'defconf: masquerade' },
  ];
  const web = homelab.nodes[0];
  if (web) {
    nat.push(
      { chain: 'dstnat', action: 'dst-nat', protocol: 'tcp', 'dst-port': '443', 'in-interface': 'ether1', 'to-addresses': web.ip, 'to-ports': '443', comment: 'web-https' },
      { chain: 'dstnat', action: 'dst-nat', protocol: 'tcp', 'dst-port': '80', 'in-interface': 'ether1', 'to-addresses': web.ip, 'to-ports': '80', comment: 'web-http' },
    );
  }
  for (const node of homelab.nodes) {
    if (unforwarded.has(node.name)) continue;
    const port = String(node.tailscalePort);
    nat.push({
      chain: 'dstnat',
      action: 'dst-nat',
      protocol: 'udp',
      'dst-port': port,
      'in-interface': 'ether1',
      'to-addresses': node.ip,
      'to-ports': port,
      comment: labgateRuleComment(node),
    });
  }
  const state: RouterState = {
    version: options.version ?? DEFAULT_VERSION,
    identity: 'labgate-sandbox-router',
    boardName: 'hAP ax^3',
    users: [
      { id: '*1', name: 'labgate', password: randomBytes(12).toString('base64url'), group: 'full' },
      { id: '*2', name: 'admin', password: randomBytes(12).toString('base64url'), group: 'full' },
    ],
    interfaces: ['ether1', 'ether2', 'ether3', 'ether4', 'ether5', 'bridge', 'wlan1'],
    nat: nat.map((props, i) => ({ '.id': formatRouterId(i + 1), ...props })),
    nextId: nat.length + 1,
  };
  upgradeRouterState(state, homelab);
  return state;
}
