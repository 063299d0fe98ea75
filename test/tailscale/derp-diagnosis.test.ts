import { describe, expect, it } from 'vitest';
import type { KubernetesPort } from '../../src/kubernetes/port.js';
import type { NatRule as PortRule, RouterPort } from '../../src/router/port.js';
import { defaultHomelab } from '../../sandbox/homelab.js';
import { ObjectStore } from '../../sandbox/kubernetes/object-store.js';
import { addHomelabNodes, seedKubernetesState } from '../../sandbox/kubernetes/seed-kubernetes-state.js';
import { printedRule } from '../../sandbox/routeros/nat-rule-fields.js';
import { forwardsUdpPort } from '../../sandbox/routeros/port-forwarding.js';
import { seedRouterState, type NatRule } from '../../sandbox/routeros/router-state.js';
import { tailscaleExecHandler } from '../../sandbox/tailscale/tailscale-exec-handler.js';
import { TailscaleSimulator } from '../../sandbox/tailscale/tailscale-simulator.js';
import { seedTailscaleState, seedTailscaleStateForNodes } from '../../sandbox/tailscale/tailscale-state.js';
import { runDerpCheck, type DerpCheck } from '../../src/planning/derp-check.js';
import { PodExecTailscale } from '../../src/tailscale/pod-exec-tailscale.js';

/**
 * The diagnosis over the sandbox's own state objects, without the loopback servers: the
 * Kubernetes objects through an in-memory port, tailscale through the simulator's exec handler,
 * the router's rules printed as the sandbox router prints them.
 */
function homelabParts(extraNodes = 0) {
  const homelab = defaultHomelab();
  const kstate = seedKubernetesState(homelab);
  const store = new ObjectStore(kstate);
  const added = addHomelabNodes(kstate, homelab, extraNodes);
  const router = seedRouterState(homelab);
  const tsState = extraNodes ? seedTailscaleStateForNodes(3 + extraNodes) : seedTailscaleState(homelab);
  const sim = new TailscaleSimulator({ state: tsState, portForwarded: (n) => forwardsUdpPort(router.nat, { ip: n.ip, port: n.tailscalePort }) });
  const podNode = (ns: string, pod: string) => (store.get({ apiVersion: 'v1', kind: 'Pod', namespace: ns, name: pod })?.spec as { nodeName?: string } | undefined)?.nodeName;
  const exec = tailscaleExecHandler(sim, podNode);
  let inFlight = 0;
  let maxInFlight = 0;
  const kube: KubernetesPort = {
    get: async (ref) => store.get(ref) ?? null,
    list: async (apiVersion, kind, opts) => store.list(apiVersion, kind, opts?.namespace),
    apply: async () => {
      throw new Error('read only');
    },
    delete: async () => {
      throw new Error('read only');
    },
    exec: async (req) => {
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      try {
        const r = await exec(req);
        return { stdout: r.stdout, stderr: r.stderr ?? '', exitCode: r.exitCode };
      } finally {
        inFlight--;
      }
    },
  };
  let routerDown = false;
  const rules = (): PortRule[] =>
    router.nat.filter((r) => r.chain === 'dstnat').map((r) => {
      const { '.id': id, ...fields } = printedRule(r, router.interfaces);
      return { id: id!, fields };
    });
  const routerPort = {
    dstNatRules: async () => {
      if (routerDown) throw new Error('RouterOS at 127.0.0.1:8728 is unreachable: ECONNREFUSED');
      return rules();
    },
    natRulesByComment: async (c: string) => rules().filter((r) => r.fields.comment === c),
  } as unknown as RouterPort;
  const check = (opts: { router?: boolean; concurrency?: number } = {}) =>
    runDerpCheck(
      { kube, tailscale: new PodExecTailscale(kube, 5000), router: opts.router === false ? undefined : routerPort },
      { daemonSet: { namespace: 'traefik', name: 'traefik', container: 'tailscale' }, portBase: 41600, concurrency: opts.concurrency ?? 8, where: { inInterface: 'ether1' } },
    );
  return { router, sim, check, added, maxInFlight: () => maxInFlight, setRouterDown: (down: boolean) => (routerDown = down) };
}

const byNode = (c: DerpCheck) => new Map(c.nodes.map((n) => [n.node.name, n]));

describe('derp-check diagnosis', () => {
  it('GIVEN tailscaled listens on another port than the formula THEN the node is misconfigured and /router sync is not offered for it', async () => {
    const h = homelabParts();
    h.sim.setNode('node-21', { tailscalePort: 41700 });
    const n21 = byNode(await h.check()).get('node-21')!;
    expect(n21).toMatchObject({ formulaPort: 41621, actualPort: 41700, verdict: 'misconfigured', fixable: false });
    expect(n21.reasons[0]).toBe('tailscaled listens on 41700, not the formula\'s 41621: the forwarded port does not reach it (set --port=41621 in TS_TAILSCALED_EXTRA_ARGS)');
  });

  it('GIVEN UDP is blocked on node-22 THEN it is relayed (not misconfigured): its rule is fine, DERP is all it has', async () => {
    const h = homelabParts();
    h.sim.setNode('node-22', { udp: false });
    const n22 = byNode(await h.check()).get('node-22')!;
    expect(n22.verdict).toBe('relayed');
    expect(n22.rule.kind).toBe('ok');
    expect(n22.reasons).toEqual(['UDP is blocked (netcheck UDP false): only DERP works', '3 active peers relayed by DERP: alice-phone via fra, bob-laptop via ams, office-router via lhr']);
  });

  it('GIVEN a disabled labgate rule THEN the node is misconfigured and fixable; GIVEN a foreign rule sending the port elsewhere THEN it is misconfigured, not fixable, and the refusal is noted', async () => {
    const h = homelabParts();
    h.router.nat.find((r) => r.comment === 'labgate:tailscale:node-22')!.disabled = 'true';
    const first = byNode(await h.check());
    expect(first.get('node-22')).toMatchObject({ verdict: 'misconfigured', fixable: true, rule: { kind: 'disabled' } });
    h.router.nat.push({ '.id': '*50', chain: 'dstnat', action: 'dst-nat', protocol: 'udp', 'dst-port': '41623', 'to-addresses': '192.168.10.50', comment: 'game' } as NatRule);
    const second = await h.check();
    expect(byNode(second).get('node-23')).toMatchObject({ verdict: 'misconfigured', fixable: false, rule: { kind: 'wrong' } });
    expect(second.fixable).toBe(false);
    expect(second.notes[0]).toContain('/router sync refused, nothing planned: udp port 41623 of node-23 is already forwarded by rule *50');
  });

  it('GIVEN the router cannot be read THEN the rule column is not checked, the report says why, and the Tailscale side is still judged', async () => {
    const h = homelabParts();
    h.setRouterDown(true);
    const c = await h.check();
    expect(c.notes).toEqual(["The router's rules could not be read: RouterOS at 127.0.0.1:8728 is unreachable: ECONNREFUSED"]);
    const n23 = byNode(c).get('node-23')!;
    expect(n23.rule).toEqual({ kind: 'not-checked', reason: 'router unreachable' });
    expect(n23.verdict).toBe('relayed');
    const none = await h.check({ router: false });
    expect(none.notes).toEqual(['No router is configured (ROUTEROS_HOST): the rule column is not checked.']);
  });

  it('asks at most `concurrency` nodes at once (two execs each) and keeps the node order', async () => {
    const h = homelabParts(17);
    h.sim.setExecLatency(5);
    const c = await h.check({ concurrency: 3 });
    expect(c.nodes).toHaveLength(20);
    expect(h.maxInFlight()).toBe(6);
    expect(c.nodes.map((n) => n.node.name).slice(0, 4)).toEqual(['node-21', 'node-22', 'node-23', 'node-24']);
  });
});
