import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutMessage } from '../../src/messages/message.js';
import { lastPlan, startLab, type Lab } from '../support/lab.js';

const COLUMNS = ['node', 'IP', 'formula port', 'actual port', 'router rule', 'netcheck', 'peers', 'verdict'];

/** The report printed for the last /derp-check, with its rows by node name. */
async function derpCheck(lab: Lab, line = '/derp-check') {
  const before = lab.printed.length;
  const out = await lab.run(line);
  expect(out.replies, JSON.stringify(out.replies)).toEqual([]);
  const report = lab.printed.slice(before).find((m) => m.kind === 'report') as OutMessage;
  expect(report, 'a report was printed').toBeDefined();
  expect(report.table?.columns).toEqual(COLUMNS);
  const rows = new Map(report.table!.rows.map((r) => [r[0]!, Object.fromEntries(COLUMNS.map((c, i) => [c, r[i]!]))]));
  return { report, rows };
}

describe('/derp-check on the seeded sandbox, then /router sync', () => {
  // The seeded lab is shared by tests that leave it as they found it.
  let lab: Lab;

  beforeAll(async () => {
    lab = await startLab();
  });
  afterAll(async () => {
    await lab?.close();
  });

  it('GIVEN the seeded homelab THEN node-21 and node-22 are direct-capable, node-23 misconfigured (no rule) and relayed, with a fix button', async () => {
    const { report, rows } = await derpCheck(lab);
    expect(report.text).toBe('Tailscale paths of 3 Traefik nodes: 2 direct-capable, 1 misconfigured');
    expect(rows.get('node-21')).toMatchObject({
      IP: '192.168.10.21',
      'formula port': '41621',
      'actual port': '41621',
      'router rule': expect.stringMatching(/^ok \*[0-9A-F]+$/),
      netcheck: 'UDP yes, easy NAT, DERP 4 (home fra)',
      peers: '2 direct, 1 peer-relay, 0 DERP',
      verdict: 'direct-capable',
    });
    expect(rows.get('node-22')).toMatchObject({ 'formula port': '41622', 'actual port': '41622', verdict: 'direct-capable' });
    expect(rows.get('node-23')).toMatchObject({
      IP: '192.168.10.23',
      'formula port': '41623',
      'actual port': '41623',
      'router rule': 'missing',
      netcheck: 'UDP yes, hard NAT, DERP 4 (home fra)',
      peers: '0 direct, 1 peer-relay, 2 DERP (alice-phone@fra, bob-laptop@ams)',
      verdict: 'misconfigured (fix: /router sync)',
    });
    const why = report.lines!.find((l) => l.startsWith('node-23:'))!;
    expect(why).toContain('no enabled dst-nat rule forwards udp 41623 to 192.168.10.23:41623');
    expect(why).toContain('2 active peers relayed by DERP: alice-phone via fra, bob-laptop via ams');
    expect(report.buttons).toEqual([expect.objectContaining({ label: 'Fix: /router sync', command: '/router sync', id: expect.stringMatching(/^run:s-[0-9a-f]{16}$/) })]);
    const suggested = await lab.app.services.suggestions.get(report.buttons![0]!.id);
    expect(suggested).toEqual({ name: 'router sync', options: {}, text: '/router sync' });
  });

  it('GIVEN node:node-22 THEN only that node is checked; an unknown node is refused by name', async () => {
    const { rows } = await derpCheck(lab, '/derp-check node:node-22');
    expect([...rows.keys()]).toEqual(['node-22']);
    const out = await lab.run('/derp-check node:node-77');
    expect(out.replies[0]).toMatchObject({ kind: 'refusal', text: expect.stringContaining('node-77 does not run traefik/traefik; nodes that do: node-21, node-22, node-23') });
  });

  it('GIVEN the router-sync plan is approved THEN the rule exists and a second /derp-check shows node-23 forwarded and direct', async () => {
    // This test changes the router, so it starts its own lab; the others share the seeded one.
    const lab = await startLab();
    try {
      const out = await lab.run('/router sync');
      expect(out.planId).toBeDefined();
      const plan = lastPlan(lab);
      expect(plan.lines).toContain('• add dst-nat udp 41623 → 192.168.10.23:41623 for node-23');
      expect(plan.diff).toContain('+++ b//ip/firewall/nat/labgate:tailscale:node-23');
      expect(plan.diff).toContain('+dst-port: "41623"');
      const decided = await lab.run(`approve ${out.planId}`);
      expect(decided.replies).toEqual([]);
      expect(lab.printed.find((m) => m.kind === 'result' && m.planId === out.planId)).toMatchObject({ result: { status: 'applied' } });
      const rules = lab.sandbox.router.rules().filter((r) => r.comment === 'labgate:tailscale:node-23');
      expect(rules).toHaveLength(1);
      expect(rules[0]).toMatchObject({ chain: 'dstnat', action: 'dst-nat', protocol: 'udp', 'dst-port': '41623', 'in-interface': 'ether1', 'to-addresses': '192.168.10.23', 'to-ports': '41623', disabled: 'false' });

      const { report, rows } = await derpCheck(lab);
      expect(rows.get('node-23')).toMatchObject({ 'router rule': `ok ${rules[0]!['.id']}`, peers: '2 direct, 1 peer-relay, 0 DERP', verdict: 'direct-capable' });
      expect(report.buttons).toBeUndefined();
      const again = await lab.run('/router sync');
      expect(again.replies[0]).toMatchObject({ kind: 'refusal', text: expect.stringContaining('nothing to change') });
    } finally {
      await lab.close();
    }
  });

  it("GIVEN one node's tailscale exec fails THEN that node's row says so and the others are checked", async () => {
    lab.sandbox.tailscale.failExec('node-22', { exitCode: 1, stderr: "failed to connect to local tailscaled; it doesn't appear to be running\n" });
    try {
      const { rows, report } = await derpCheck(lab);
      expect(rows.get('node-22')).toMatchObject({ 'actual port': '?', netcheck: 'failed', peers: 'failed', verdict: 'unknown' });
      expect(report.lines!.find((l) => l.startsWith('node-22:'))).toContain("exited 1: failed to connect to local tailscaled; it doesn't appear to be running");
      expect(rows.get('node-21')!.verdict).toBe('direct-capable');
      expect(rows.get('node-23')!.verdict).toBe('misconfigured (fix: /router sync)');
    } finally {
      lab.sandbox.tailscale.failExec('node-22', null);
    }
  });
});
