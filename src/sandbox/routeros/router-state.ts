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
  /** `read` users may print but not change anything. */
  group: 'full' | 'write' | 'read';
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
  nat: NatRule[];
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

/**
 * The router of the default homelab: users `labgate` (random password) and `admin`,
 * dst-nat rules forwarding the Tailscale port of every node but the third (node-23 in
 * the default homelab, so it stays behind hard NAT), and foreign rules labgate must not
 * touch (web ports, masquerade).
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
  return {
    version: options.version ?? DEFAULT_VERSION,
    identity: 'labgate-sandbox-router',
    boardName: 'hAP ax^3',
    users: [
      { name: 'labgate', password: randomBytes(12).toString('base64url'), group: 'full' },
      { name: 'admin', password: randomBytes(12).toString('base64url'), group: 'full' },
    ],
    interfaces: ['ether1', 'ether2', 'ether3', 'ether4', 'ether5', 'bridge', 'wlan1'],
    nat: nat.map((props, i) => ({ '.id': formatRouterId(i + 1), ...props })),
    nextId: nat.length + 1,
  };
}
