import { isUserError } from '../errors.js';
import type { KubernetesPort } from '../kubernetes/port.js';
import { describeRule, forwardsUdpTo, catchesUdpPort, isEnabled, tailscaleRuleComment, tailscaleRuleNode } from '../router/nat-rules.js';
import type { NatRule, RouterPort } from '../router/port.js';
import { planRouterSync } from './router-sync.js';
import { nodePorts, type PortProblem, type RuleInterface } from '../router/tailscale-forwarding.js';
import { mapBounded } from '../concurrency.js';
import type { NetcheckReport } from '../tailscale/netcheck-schema.js';
import { listeningPort, peerPaths, type PeerPath } from '../tailscale/peer-paths.js';
import type { TailscalePort } from '../tailscale/port.js';
import { readTraefikNodes, type DaemonSetRef, type TraefikNode } from '../tailscale/traefik-nodes.js';

export type Verdict = 'direct-capable' | 'relayed' | 'misconfigured' | 'unknown';

export type RuleFinding =
  | { kind: 'ok'; rule: NatRule; owned: boolean }
  | { kind: 'missing' }
  | { kind: 'disabled'; rule: NatRule }
  | { kind: 'wrong'; rule: NatRule }
  | { kind: 'not-checked'; reason: string };

export interface NodeCheck {
  node: TraefikNode;
  formulaPort?: number;
  portProblems: PortProblem[];
  /** The port tailscaled listens on, from Self.Addrs. */
  actualPort?: number;
  rule: RuleFinding;
  netcheck?: NetcheckReport;
  /** Region code of the node's home DERP (Self.Relay). */
  homeDerp?: string;
  peers?: PeerPath[];
  /** What could not be asked (exec failures), one line each. */
  errors: string[];
  verdict: Verdict;
  /** Why, one short sentence each, for people. */
  reasons: string[];
  /** /router sync would plan a change that fixes this node's rule. */
  fixable: boolean;
}

export interface DerpCheck {
  nodes: NodeCheck[];
  notes: string[];
  /** Some node's rule can be fixed by /router sync. */
  fixable: boolean;
}

export interface DerpCheckDeps {
  kube: KubernetesPort;
  tailscale: TailscalePort;
  router?: RouterPort;
}

export interface DerpCheckOptions {
  daemonSet: DaemonSetRef;
  portBase: number;
  /** How many nodes are asked at once. */
  concurrency: number;
  where: RuleInterface;
  /** Only this node. */
  node?: string;
  /** Told each time a node has been asked, so a chat can show how far the check is. */
  onNodeDone?: (done: number, total: number) => void;
}

const message = (err: unknown) => (err as Error)?.message ?? String(err);

function findRule(rules: readonly NatRule[], node: TraefikNode, port: number): RuleFinding {
  const target = { ip: node.ip!, port };
  const forwarding = rules.filter((r) => forwardsUdpTo(r, target));
  const own = forwarding.find((r) => tailscaleRuleNode(r) === node.name);
  if (own || forwarding[0]) return { kind: 'ok', rule: (own ?? forwarding[0])!, owned: own !== undefined };
  const mine = rules.filter((r) => r.fields.comment === tailscaleRuleComment(node.name));
  if (mine[0]) return isEnabled(mine[0]) ? { kind: 'wrong', rule: mine[0] } : { kind: 'disabled', rule: mine[0] };
  const taking = rules.find((r) => catchesUdpPort(r, port));
  if (taking) return { kind: 'wrong', rule: taking };
  const off = rules.find((r) => forwardsUdpTo({ ...r, fields: { ...r.fields, disabled: 'false' } }, target));
  return off ? { kind: 'disabled', rule: off } : { kind: 'missing' };
}

function judge(c: Omit<NodeCheck, 'verdict' | 'reasons'>): Pick<NodeCheck, 'verdict' | 'reasons'> {
  const config: string[] = [];
  const path: string[] = [];
  for (const p of c.portProblems) config.push(p.message);
  const port = c.formulaPort;
  switch (c.rule.kind) {
    case 'missing':
      config.push(`no enabled dst-nat rule forwards udp ${port} to ${c.node.ip}:${port}`);
      break;
    case 'disabled':
      config.push(`the rule for udp ${port} is disabled (${describeRule(c.rule.rule)})`);
      break;
    case 'wrong':
      config.push(`udp ${port} goes elsewhere: ${describeRule(c.rule.rule)}`);
      break;
  }
  if (c.actualPort !== undefined && port !== undefined && c.actualPort !== port)
    config.push(`tailscaled listens on ${c.actualPort}, not the formula's ${port}: the forwarded port does not reach it (set --port=${port} in TS_TAILSCALED_EXTRA_ARGS)`);
  const nc = c.netcheck;
  if (nc && !nc.UDP) path.push('UDP is blocked (netcheck UDP false): only DERP works');
  if (nc?.MappingVariesByDestIP === true && c.rule.kind !== 'ok') path.push('hard NAT (MappingVariesByDestIP): direct paths need the forwarded port');
  const derp = (c.peers ?? []).filter((p) => p.kind === 'derp');
  if (derp.length) path.push(`${derp.length} active peer${derp.length === 1 ? '' : 's'} relayed by DERP: ${derp.map((p) => `${p.host} via ${p.via || '?'}`).join(', ')}`);
  if (config.length) return { verdict: 'misconfigured', reasons: [...config, ...path, ...c.errors] };
  if (c.errors.length && (!nc || !c.peers)) return { verdict: 'unknown', reasons: [...path, ...c.errors] };
  if (path.length) return { verdict: 'relayed', reasons: [...path, ...c.errors] };
  return { verdict: 'direct-capable', reasons: c.errors };
}

/**
 * `/derp-check` and the monitor: for every node running the Traefik DaemonSet (or one), the
 * formula port, what the router forwards, and what the node's tailscaled says (status and
 * netcheck over pod exec), nodes asked in parallel with a bound. A node that cannot be asked
 * gets a row saying so; a router that cannot be read leaves the rule column unchecked.
 */
export async function runDerpCheck(deps: DerpCheckDeps, opts: DerpCheckOptions): Promise<DerpCheck> {
  const notes: string[] = [];
  const all = await readTraefikNodes(deps.kube, opts.daemonSet);
  const nodes = opts.node ? all.filter((n) => n.name === opts.node) : all;
  let rules: NatRule[] | undefined;
  let ruleReason = 'no router is configured (ROUTEROS_HOST)';
  if (deps.router) {
    try {
      rules = await deps.router.dstNatRules();
    } catch (err) {
      ruleReason = 'router unreachable';
      notes.push(`The router's rules could not be read: ${message(err)}`);
    }
  } else notes.push('No router is configured (ROUTEROS_HOST): the rule column is not checked.');

  const { ports, problems } = nodePorts(all, opts.portBase);
  let fixableNodes = new Set<string>();
  if (rules) {
    try {
      const draft = planRouterSync({ nodes: all, rules, portBase: opts.portBase, where: opts.where });
      fixableNodes = new Set(draft.changes.filter((c) => c.after != null).map((c) => String((c.after as Record<string, string>).comment)));
    } catch (err) {
      if (!isUserError(err)) throw err;
      if (err.code !== 'nothing-to-do') notes.push(err.message);
    }
  }

  let done = 0;
  opts.onNodeDone?.(0, nodes.length);
  const checks = await mapBounded(nodes, opts.concurrency, async (node): Promise<NodeCheck> => {
    const where = { namespace: node.pod.namespace, pod: node.pod.name, container: node.pod.container };
    const formulaPort = ports.get(node.name);
    const portProblems = problems.filter((p) => p.nodes.includes(node.name));
    const rule: RuleFinding =
      formulaPort === undefined ? { kind: 'not-checked', reason: 'no usable port' } : rules ? findRule(rules, node, formulaPort) : { kind: 'not-checked', reason: ruleReason };
    const errors: string[] = [];
    // A pod that is shutting down or not ready yet would answer for a tailscaled that is going
    // away or not up: not asked, and the report says why (the router rule is still checked).
    const skip = node.pod.terminating
      ? `pod ${node.pod.name} is terminating (a rollout or a deletion), so it was not asked`
      : node.pod.ready === false
        ? `pod ${node.pod.name} is not ready${node.pod.phase ? ` (${node.pod.phase})` : ''}, so it was not asked`
        : undefined;
    if (skip) errors.push(skip);
    const [status, netcheck] = skip
      ? [undefined, undefined]
      : await Promise.all([
          deps.tailscale.status(where).catch((err) => void errors.push(message(err))),
          deps.tailscale.netcheck(where).catch((err) => void errors.push(message(err))),
        ]);
    const partial = {
      node,
      formulaPort,
      portProblems,
      actualPort: status ? listeningPort(status, node.ip) : undefined,
      rule,
      netcheck: netcheck ?? undefined,
      homeDerp: status?.Self?.Relay || undefined,
      peers: status ? peerPaths(status) : undefined,
      errors,
      fixable: fixableNodes.has(tailscaleRuleComment(node.name)),
    };
    opts.onNodeDone?.(++done, nodes.length);
    return { ...partial, ...judge(partial) };
  });
  if (opts.node && !nodes.length) notes.push(`${opts.node} does not run ${opts.daemonSet.namespace}/${opts.daemonSet.name}; nodes that do: ${all.map((n) => n.name).join(', ') || 'none'}`);
  return { nodes: checks, notes, fixable: checks.some((c) => c.fixable) };
}
