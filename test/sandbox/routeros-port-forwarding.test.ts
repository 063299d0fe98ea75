import { describe, expect, it } from 'vitest';
import { defaultHomelab, type HomelabNode } from '../../sandbox/homelab.js';
import { forwardsUdpPort } from '../../sandbox/routeros/port-forwarding.js';
import { labgateRuleComment, LABGATE_RULE_COMMENT_PREFIX, seedRouterState, type NatRule } from '../../sandbox/routeros/router-state.js';

const [node21, node22, node23] = defaultHomelab().nodes as [HomelabNode, HomelabNode, HomelabNode];
const target = (n: typeof node21) => ({ ip: n.ip, port: n.tailscalePort });
const rule = (props: Record<string, string>): NatRule => ({ '.id': '*99', chain: 'dstnat', action: 'dst-nat', protocol: 'udp', ...props }) as NatRule;

describe('seeded router and port forwarding', () => {
  it('seeds labgate rules tagged with the labgate comment prefix for node-21 and node-22 only', () => {
    const state = seedRouterState(defaultHomelab());
    expect(labgateRuleComment(node21)).toBe('labgate:tailscale:node-21');
    const ours = state.nat.filter((r) => r.comment?.startsWith(LABGATE_RULE_COMMENT_PREFIX));
    expect(ours.map((r) => r.comment)).toEqual([labgateRuleComment(node21), labgateRuleComment(node22)]);
    expect(state.users.map((u) => u.name)).toEqual(['labgate', 'admin']);
    expect(seedRouterState(defaultHomelab()).users[0]!.password).not.toBe(state.users[0]!.password);
  });

  it('says node-21 and node-22 are forwarded and node-23 is not', () => {
    const rules = seedRouterState(defaultHomelab()).nat;
    expect(forwardsUdpPort(rules, target(node21))).toBe(true);
    expect(forwardsUdpPort(rules, target(node22))).toBe(true);
    expect(forwardsUdpPort(rules, target(node23))).toBe(false);
  });

  it('needs an enabled udp dst-nat rule whose port list covers the port and whose target is the node', () => {
    const t = target(node23);
    expect(forwardsUdpPort([rule({ 'dst-port': '41600-41700', 'to-addresses': node23.ip })], t)).toBe(true);
    expect(forwardsUdpPort([rule({ 'dst-port': '80,41623', 'to-addresses': node23.ip, 'to-ports': '41623' })], t)).toBe(true);
    expect(forwardsUdpPort([rule({ 'dst-port': '41623', 'to-addresses': '192.168.10.20-192.168.10.30' })], t)).toBe(true);
    expect(forwardsUdpPort([rule({ 'dst-port': '41623', 'to-addresses': node23.ip, disabled: 'yes' })], t)).toBe(false);
    expect(forwardsUdpPort([rule({ 'dst-port': '41623', 'to-addresses': node22.ip })], t)).toBe(false);
    expect(forwardsUdpPort([rule({ 'dst-port': '41623', 'to-addresses': node23.ip, 'to-ports': '41624' })], t)).toBe(false);
    expect(forwardsUdpPort([rule({ 'dst-port': '41623', 'to-addresses': node23.ip, protocol: 'tcp' })], t)).toBe(false);
    expect(forwardsUdpPort([rule({ 'dst-port': '!41623', 'to-addresses': node23.ip })], t)).toBe(false);
  });
});
