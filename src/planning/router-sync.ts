import { UserError, UserErrorCode } from '../errors.js';
import type { PlanDraft } from '../core/command.js';
import { sameState } from '../plan/canonical.js';
import type { Change } from '../plan/model.js';
import type { TraefikNode } from '../tailscale/traefik-nodes.js';
import { catchesUdpPort, describeRule, forwardsUdpTo, isLabgateRule, managedView, routerRuleTarget, tailscaleRuleComment, tailscaleRuleNode } from '../router/nat-rules.js';
import type { NatRule } from '../router/port.js';
import { desiredRule, nodePorts, type RuleInterface } from '../router/tailscale-forwarding.js';

export interface RouterSyncInput {
  nodes: readonly TraefikNode[];
  /** Every rule of the dstnat chain, as printed. */
  rules: readonly NatRule[];
  portBase: number;
  where: RuleInterface;
}

function changedFields(before: Record<string, string>, after: Record<string, string>): string {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((k) => before[k] !== after[k]);
  return keys.map((k) => `${k} ${before[k] ?? '(unset)'} → ${after[k] ?? '(unset)'}`).join(', ');
}

/**
 * The changes that make the router forward every Traefik node's Tailscale port: one rule per
 * node tagged by its comment; missing ones added, wrong ones corrected, labgate's rules for
 * nodes that are gone removed. Rules labgate does not own are never changed: when one already
 * sends a node's port elsewhere the whole sync is refused, as it is for colliding or
 * out-of-range ports and for two rules carrying the same labgate comment. Pure.
 */
export function planRouterSync(input: RouterSyncInput): PlanDraft {
  const { nodes, rules } = input;
  const refusals: string[] = [];
  const notes: string[] = [];
  const { ports, problems } = nodePorts(nodes, input.portBase);
  for (const p of problems) (p.kind === 'no-address' ? notes : refusals).push(p.kind === 'no-address' ? `${p.message}; its rule is left as it is` : p.message);

  const ownByNode = new Map<string, NatRule[]>();
  for (const r of rules) {
    const node = tailscaleRuleNode(r);
    if (node !== undefined) ownByNode.set(node, [...(ownByNode.get(node) ?? []), r]);
  }
  for (const [node, own] of ownByNode)
    if (own.length > 1)
      refusals.push(`${own.length} rules carry the comment ${tailscaleRuleComment(node)} (${own.map((r) => r.id).join(', ')}); remove all but one on the router, then run /router sync again`);

  const deletes: Change[] = [];
  const updates: Change[] = [];
  const creates: Change[] = [];
  const nodeNames = new Set(nodes.map((n) => n.name));
  for (const node of nodes) {
    const port = ports.get(node.name);
    if (port === undefined) continue;
    const foreign = rules.filter((r) => !isLabgateRule(r) && catchesUdpPort(r, port));
    const wrong = foreign.filter((r) => !forwardsUdpTo(r, { ip: node.ip!, port }));
    if (wrong.length) {
      refusals.push(`udp port ${port} of ${node.name} is already forwarded by rule ${wrong.map(describeRule).join('; ')}, which labgate does not own and will not change; remove or change it on the router`);
      continue;
    }
    if (foreign.length) {
      notes.push(`${node.name}: udp ${port} is forwarded correctly by rule ${foreign.map((r) => r.id).join(', ')}, which labgate does not own; left as it is`);
      continue;
    }
    const own = ownByNode.get(node.name) ?? [];
    if (own.length > 1) continue;
    const after = desiredRule(node, port, input.where);
    const target = routerRuleTarget(after.comment!);
    const live = own[0];
    if (!live) {
      creates.push({ system: 'router', action: 'create', target, before: null, after, summary: `add dst-nat udp ${port} → ${node.ip}:${port} for ${node.name}` });
      continue;
    }
    const before = managedView(live);
    if (!sameState(before, after))
      updates.push({ system: 'router', action: 'update', target, before, after, summary: `correct ${live.id} for ${node.name}: ${changedFields(before, after)}` });
  }
  for (const [node, own] of ownByNode) {
    if (nodeNames.has(node) || own.length > 1) continue;
    const live = own[0]!;
    deletes.push({
      system: 'router',
      action: 'delete',
      target: routerRuleTarget(tailscaleRuleComment(node)),
      before: managedView(live),
      after: null,
      summary: `remove ${live.id} (udp ${live.fields['dst-port'] ?? '?'} → ${live.fields['to-addresses'] ?? '?'}) for ${node}, which no longer runs Traefik`,
    });
  }

  if (refusals.length) throw new UserError(UserErrorCode.Conflict, `/router sync refused, nothing planned: ${refusals.join('; ')}`);
  if (!input.where.inInterface && !input.where.inInterfaceList)
    notes.push('router.inInterface (or inInterfaceList) is not set in labgate.yaml: the rules take the port on every interface, the LAN too');
  // Removals first, so a port a gone node held is free before a new rule takes it.
  const changes = [...deletes, ...updates, ...creates];
  if (!changes.length)
    throw new UserError(UserErrorCode.NothingToDo, `the router already forwards the Tailscale port of every Traefik node (${ports.size} rule${ports.size === 1 ? '' : 's'}); nothing to change`);
  return {
    summary: [`Sync the router's dst-nat rules with the ${nodes.length} node${nodes.length === 1 ? '' : 's'} running Traefik`, ...changes.map((c) => c.summary)],
    changes,
    notes,
  };
}
