import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import type { NatRule } from '../../src/router/port.js';
import { planRouterSync } from '../../src/planning/router-sync.js';
import { commentOfTarget, routerRuleTarget } from '../../src/router/nat-rules.js';
import { formulaPort, nodePorts } from '../../src/router/tailscale-forwarding.js';
import type { TraefikNode } from '../../src/tailscale/traefik-nodes.js';

const node = (name: string, ip: string): TraefikNode => ({ name, ip, pod: { namespace: 'traefik', name: `traefik-${name}`, container: 'tailscale' } });
const NODES = [node('node-21', '192.168.10.21'), node('node-22', '192.168.10.22'), node('node-23', '192.168.10.23')];

let nextId = 1;
function rule(fields: Record<string, string>): NatRule {
  return { id: `*${(nextId++).toString(16).toUpperCase()}`, fields: { disabled: 'false', log: 'false', bytes: '0', ...fields } };
}
function labgateRule(name: string, ip: string, port: number, extra: Record<string, string> = {}): NatRule {
  const p = String(port);
  return rule({ chain: 'dstnat', action: 'dst-nat', protocol: 'udp', 'dst-port': p, 'in-interface': 'ether1', 'to-addresses': ip, 'to-ports': p, comment: `labgate:tailscale:${name}`, ...extra });
}
const foreign = (fields: Record<string, string>) => rule({ chain: 'dstnat', action: 'dst-nat', protocol: 'udp', 'in-interface': 'ether1', ...fields });

const plan = (rules: NatRule[], nodes = NODES, portBase = 41600) => planRouterSync({ nodes, rules, portBase, where: { inInterface: 'ether1' } });
const refusal = (fn: () => unknown): UserError => {
  try {
    fn();
  } catch (err) {
    if (err instanceof UserError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
};

describe('router sync planning', () => {
  it('gives each node base + last octet, and flags collisions, out-of-range ports and nodes without IPv4', () => {
    expect(formulaPort('192.168.10.23', 41600)).toBe(41623);
    expect(formulaPort('fd00::1', 41600)).toBeUndefined();
    const { ports, problems } = nodePorts([...NODES, node('node-b21', '10.0.0.21'), { ...node('v6-only', ''), ip: undefined }], 41600);
    expect([...ports]).toEqual([
      ['node-22', 41622],
      ['node-23', 41623],
    ]);
    expect(problems.map((p) => [p.kind, p.nodes])).toEqual([
      ['no-address', ['v6-only']],
      ['collision', ['node-21', 'node-b21']],
    ]);
  });

  it('GIVEN rules for .21 and .22 only THEN it plans exactly one create for node-23, with the rule as strings', () => {
    const draft = plan([labgateRule('node-21', '192.168.10.21', 41621), labgateRule('node-22', '192.168.10.22', 41622)]);
    expect(draft.changes).toEqual([
      {
        system: 'router',
        action: 'create',
        target: 'router:/ip/firewall/nat/labgate:tailscale:node-23',
        before: null,
        after: { chain: 'dstnat', action: 'dst-nat', protocol: 'udp', 'dst-port': '41623', 'in-interface': 'ether1', 'to-addresses': '192.168.10.23', 'to-ports': '41623', comment: 'labgate:tailscale:node-23', disabled: 'false' },
        summary: 'add dst-nat udp 41623 → 192.168.10.23:41623 for node-23',
      },
    ]);
    expect(draft.notes).toEqual([]);
  });

  it('corrects a wrong or disabled labgate rule (unsetting what labgate does not want), removes rules of gone nodes first, and leaves foreign rules alone', () => {
    const web = foreign({ protocol: 'tcp', 'dst-port': '443', 'to-addresses': '192.168.10.21', 'to-ports': '443', comment: 'web-https' });
    const wrong = labgateRule('node-22', '192.168.10.22', 41622, { 'to-ports': '41699', 'dst-address': '203.0.113.45' });
    const disabled = labgateRule('node-21', '192.168.10.21', 41621, { disabled: 'true' });
    const gone = labgateRule('node-99', '192.168.10.99', 41699);
    const otherOwner = rule({ chain: 'dstnat', action: 'dst-nat', protocol: 'tcp', 'dst-port': '8443', 'to-addresses': '192.168.10.5', comment: 'labgate:cert:thing' });
    const draft = plan([web, wrong, disabled, gone, otherOwner]);
    expect(draft.changes.map((c) => [c.action, c.target])).toEqual([
      ['delete', 'router:/ip/firewall/nat/labgate:tailscale:node-99'],
      ['update', 'router:/ip/firewall/nat/labgate:tailscale:node-21'],
      ['update', 'router:/ip/firewall/nat/labgate:tailscale:node-22'],
      ['create', 'router:/ip/firewall/nat/labgate:tailscale:node-23'],
    ]);
    const update22 = draft.changes[2]!;
    expect(update22.before).toEqual({ chain: 'dstnat', action: 'dst-nat', protocol: 'udp', 'dst-address': '203.0.113.45', 'dst-port': '41622', 'in-interface': 'ether1', 'to-addresses': '192.168.10.22', 'to-ports': '41699', comment: 'labgate:tailscale:node-22', disabled: 'false' });
    expect(update22.summary).toBe(`correct ${wrong.id} for node-22: dst-address 203.0.113.45 → (unset), to-ports 41699 → 41622`);
    expect(draft.changes[1]!.summary).toBe(`correct ${disabled.id} for node-21: disabled true → false`);
    expect(draft.changes[0]!.summary).toBe(`remove ${gone.id} (udp 41699 → 192.168.10.99) for node-99, which no longer runs Traefik`);
    const touched = new Set(draft.changes.map((c) => commentOfTarget(c.target)));
    expect(touched.has('web-https')).toBe(false);
    expect(touched.has('labgate:cert:thing')).toBe(false);
  });

  it('GIVEN two nodes with the same last octet in different subnets THEN it refuses, naming both and the port', () => {
    const err = refusal(() => plan([], [...NODES, node('node-b23', '192.168.20.23')]));
    expect(err.code).toBe('conflict');
    expect(err.message).toBe(
      '/router sync refused, nothing planned: node-23 (192.168.10.23) and node-b23 (192.168.20.23) would all get udp port 41623: same last octet in different subnets; labgate does not pick another port silently, give one of them an address with another last octet',
    );
  });

  it('GIVEN a port base that puts ports below 1024 THEN it refuses with the range', () => {
    const err = refusal(() => plan([], NODES, 100));
    expect(err.message).toContain('node-21 (192.168.10.21) would get udp port 121, outside 1024–65535; set tailscale.portBase');
  });

  it('GIVEN a foreign rule already sends the port elsewhere THEN it refuses and names the rule; a foreign rule forwarding it correctly is left as it is', () => {
    const elsewhere = foreign({ 'dst-port': '41623', 'to-addresses': '192.168.10.50', 'to-ports': '41623', comment: 'game-server' });
    const err = refusal(() => plan([elsewhere]));
    expect(err.message).toContain(`udp port 41623 of node-23 is already forwarded by rule ${elsewhere.id} udp 41623 → 192.168.10.50:41623 (comment "game-server"), which labgate does not own and will not change`);
    const handMade = foreign({ 'dst-port': '41623,41640-41650', 'to-addresses': '192.168.10.23', comment: 'by hand' });
    const draft = plan([labgateRule('node-21', '192.168.10.21', 41621), handMade]);
    expect(draft.notes![0]).toBe(`node-23: udp 41623 is forwarded correctly by rule ${handMade.id}, which labgate does not own; left as it is`);
    expect(draft.changes.map((c) => c.target)).toEqual(['router:/ip/firewall/nat/labgate:tailscale:node-22']);
  });

  it('GIVEN two rules with one labgate comment THEN it refuses instead of guessing which to keep', () => {
    const a = labgateRule('node-23', '192.168.10.23', 41623);
    const b = labgateRule('node-23', '192.168.10.23', 41623);
    expect(refusal(() => plan([a, b])).message).toContain(`2 rules carry the comment labgate:tailscale:node-23 (${a.id}, ${b.id})`);
  });

  it('GIVEN everything forwarded THEN there is nothing to do; without an in-interface it notes that the rule takes every interface', () => {
    const all = NODES.map((n, i) => labgateRule(n.name, n.ip!, 41621 + i));
    expect(refusal(() => plan(all)).code).toBe('nothing-to-do');
    const draft = planRouterSync({ nodes: NODES, rules: [], portBase: 41600, where: {} });
    expect(draft.changes[0]!.after).not.toHaveProperty('in-interface');
    expect(draft.notes).toContain('router.inInterface (or inInterfaceList) is not set in labgate.yaml: the rules take the port on every interface, the LAN too');
  });

  it('targets only comments labgate owns', () => {
    expect(commentOfTarget(routerRuleTarget('labgate:tailscale:node-1'))).toBe('labgate:tailscale:node-1');
    expect(() => commentOfTarget('router:/ip/firewall/nat/web-https')).toThrow('labgate changes only router rules whose comment starts with labgate:');
    expect(() => commentOfTarget('kubernetes:v1/Secret/x/y')).toThrow('not a router NAT target');
  });
});
