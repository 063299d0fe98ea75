import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { OutMessage } from '../../src/messages/message.js';
import type { NatRule } from '../../sandbox/routeros/router-state.js';
import { lastPlan, startLab, type Lab } from '../support/lab.js';

/** A Traefik node added to the sandbox cluster by copying node-23 with a new name and address. */
function addNodeLike23(lab: Lab, name: string, ip: string): void {
  const store = lab.sandbox.kubernetes.objects;
  const node = store.get({ apiVersion: 'v1', kind: 'Node', name: 'node-23' })!;
  const nodeCopy = structuredClone(node);
  nodeCopy.metadata = { name, labels: { ...node.metadata.labels, 'kubernetes.io/hostname': name } };
  (nodeCopy.status as { addresses: { type: string; address: string }[] }).addresses = [
    { type: 'InternalIP', address: ip },
    { type: 'Hostname', address: name },
  ];
  store.put(nodeCopy);
  const pod = store.list('v1', 'Pod', 'traefik').find((p) => (p.spec as { nodeName?: string }).nodeName === 'node-23')!;
  const podCopy = structuredClone(pod);
  podCopy.metadata = { ...pod.metadata, name: `traefik-${name}`, uid: undefined, resourceVersion: undefined };
  (podCopy.spec as { nodeName: string }).nodeName = name;
  (podCopy.status as { hostIP: string }).hostIP = ip;
  store.put(podCopy);
}

function removeNode(lab: Lab, name: string): void {
  const store = lab.sandbox.kubernetes.objects;
  store.delete({ apiVersion: 'v1', kind: 'Node', name });
  store.delete({ apiVersion: 'v1', kind: 'Pod', namespace: 'traefik', name: `traefik-${name}` });
}

const foreignRules = (rules: NatRule[]) => rules.filter((r) => !String(r.comment ?? '').startsWith('labgate:'));

describe('/router sync against the sandbox router', () => {
  let lab: Lab;
  let seededNat: NatRule[];
  let seededNextId: number;

  beforeAll(async () => {
    lab = await startLab({
      configure: (c) => {
        c.apply.backoff = 50;
        c.router = { ...(c.router ?? { timeout: 2000 }), timeout: 2000 };
      },
    });
    seededNat = structuredClone(lab.sandbox.state.router.nat);
    seededNextId = lab.sandbox.state.router.nextId;
  });
  afterEach(() => {
    lab.sandbox.faults.router.clear();
    lab.sandbox.state.router.nat = structuredClone(seededNat);
    lab.sandbox.state.router.nextId = seededNextId;
    lab.config.tailscale.portBase = 41600;
  });
  afterAll(async () => {
    await lab?.close();
  });

  const refusalOf = async (line = '/router sync') => {
    const out = await lab.run(line);
    expect(out.planId).toBeUndefined();
    expect(out.replies).toHaveLength(1);
    expect(out.replies[0]!.kind).toBe('refusal');
    return out.replies[0]!.text;
  };

  it('GIVEN two nodes with the same last octet in different subnets WHEN /router sync runs THEN it refuses, naming both nodes and the port', async () => {
    addNodeLike23(lab, 'node-b23', '192.168.20.23');
    try {
      expect(await refusalOf()).toBe(
        '/router sync refused, nothing planned: node-23 (192.168.10.23) and node-b23 (192.168.20.23) would all get udp port 41623: same last octet in different subnets; labgate does not pick another port silently, give one of them an address with another last octet',
      );
    } finally {
      removeNode(lab, 'node-b23');
    }
    expect(lab.sandbox.router.rules()).toEqual(seededNat);
  });

  it('GIVEN a port base that puts the ports below 1024 THEN it refuses with the allowed range', async () => {
    lab.config.tailscale.portBase = 100;
    expect(await refusalOf()).toContain('node-21 (192.168.10.21) would get udp port 121, outside 1024–65535');
  });

  it('GIVEN a rule labgate does not own already forwards 41623 elsewhere THEN it refuses and leaves that rule alone', async () => {
    lab.sandbox.state.router.nat.push({ '.id': '*7F', chain: 'dstnat', action: 'dst-nat', protocol: 'udp', 'dst-port': '41623', 'to-addresses': '192.168.10.50', 'to-ports': '41623', comment: 'game-server' });
    expect(await refusalOf()).toContain('udp port 41623 of node-23 is already forwarded by rule *7F udp 41623 → 192.168.10.50:41623 (comment "game-server"), which labgate does not own and will not change');
    expect(lab.sandbox.router.rules().find((r) => r['.id'] === '*7F')).toMatchObject({ 'to-addresses': '192.168.10.50' });
  });

  it("GIVEN a labgate rule for a node that is gone, a wrong one and a missing one WHEN the connection drops after the router made the add THEN the retried apply completes with no duplicate, and foreign rules are untouched", async () => {
    const nat = lab.sandbox.state.router.nat;
    nat.push({ '.id': '*70', chain: 'dstnat', action: 'dst-nat', protocol: 'udp', 'dst-port': '41699', 'in-interface': 'ether1', 'to-addresses': '192.168.10.99', 'to-ports': '41699', comment: 'labgate:tailscale:node-99' });
    nat.find((r) => r.comment === 'labgate:tailscale:node-22')!['to-ports'] = '41699';
    const foreignBefore = foreignRules(lab.sandbox.router.rules());

    const out = await lab.run('/router sync');
    expect(out.planId).toBeDefined();
    const plan = lastPlan(lab);
    expect(plan.lines?.slice(1, 4)).toEqual([
      '• remove *70 (udp 41699 → 192.168.10.99) for node-99, which no longer runs Traefik',
      expect.stringMatching(/^• correct \*[0-9A-F]+ for node-22: to-ports 41699 → 41622$/),
      '• add dst-nat udp 41623 → 192.168.10.23:41623 for node-23',
    ]);
    expect(plan.diff).toContain('--- a//ip/firewall/nat/labgate:tailscale:node-99\n+++ /dev/null');
    expect(plan.diff).toContain('-to-ports: "41699"\n+to-ports: "41622"');

    // The router makes the rule, then the connection drops before its answer.
    lab.sandbox.faults.router.add({ match: 'after /ip/firewall/nat/add', drop: true });
    await lab.run(`approve ${out.planId}`);
    const result = lab.printed.find((m) => m.kind === 'result' && m.planId === out.planId) as OutMessage;
    expect(result).toMatchObject({ result: { status: 'applied' }, text: `Applied ${out.planId}: 3 changes` });
    expect(lab.logs.text).toMatch(/"msg":"apply attempt failed; it is retried"/);
    expect(lab.logs.text).toContain('connection to the router lost');

    const rules = lab.sandbox.router.rules();
    expect(rules.filter((r) => r.comment === 'labgate:tailscale:node-23')).toHaveLength(1);
    expect(rules.some((r) => r.comment === 'labgate:tailscale:node-99')).toBe(false);
    expect(rules.find((r) => r.comment === 'labgate:tailscale:node-22')!['to-ports']).toBe('41622');
    expect(foreignRules(rules)).toEqual(foreignBefore);
  });

  it('GIVEN the router traps the add THEN the apply fails once with the trap category and message, and nothing is half-done', async () => {
    const out = await lab.run('/router sync');
    lab.sandbox.faults.router.add({ match: '/ip/firewall/nat/add', trap: { message: 'failure: out of memory', category: 4 } });
    await lab.run(`approve ${out.planId}`);
    const result = lab.printed.find((m) => m.kind === 'result' && m.planId === out.planId) as OutMessage;
    expect(result.result?.status).toBe('failed');
    expect(result.text).toMatch(/^Not applied p-\w+ after 1 attempt: RouterOS \/ip\/firewall\/nat\/add labgate:tailscale:node-23 refused: category 4 \(general failure\): failure: out of memory\. 0 of 1 change in place/);
    expect(result.ref).toMatch(/^ref-/);
    expect(lab.sandbox.router.rules()).toEqual(seededNat);
  });

  it('GIVEN someone edits the rule between plan and approval THEN the apply is refused as stale and the edit stays', async () => {
    const out = await lab.run('/router sync');
    lab.sandbox.state.router.nat.push({ '.id': '*71', chain: 'dstnat', action: 'dst-nat', protocol: 'udp', 'dst-port': '41623', 'to-addresses': '192.168.10.23', comment: 'labgate:tailscale:node-23' });
    await lab.run(`approve ${out.planId}`);
    const result = lab.printed.find((m) => m.kind === 'result' && m.planId === out.planId) as OutMessage;
    expect(result).toMatchObject({ result: { status: 'refused' } });
    expect(result.text).toContain('state changed since the plan');
    expect(lab.sandbox.router.rules().filter((r) => r.comment === 'labgate:tailscale:node-23')).toEqual([expect.objectContaining({ '.id': '*71' })]);
  });
});
