import { untrusted } from '../messages/untrusted.js';
import { UserError, UserErrorCode } from '../errors.js';
import type { NatRule } from './port.js';

/** Every rule labgate creates carries a comment starting with this; it never touches another. */
export const LABGATE_COMMENT_PREFIX = 'labgate:';
const TAILSCALE_PREFIX = `${LABGATE_COMMENT_PREFIX}tailscale:`;

/** The comment of the dst-nat rule forwarding a node's Tailscale port: labgate's identity for it. */
export function tailscaleRuleComment(nodeName: string): string {
  return `${TAILSCALE_PREFIX}${nodeName}`;
}

/** The node a labgate Tailscale rule is for, or undefined for any other rule. */
export function tailscaleRuleNode(rule: NatRule): string | undefined {
  const c = rule.fields.comment ?? '';
  return c.startsWith(TAILSCALE_PREFIX) ? c.slice(TAILSCALE_PREFIX.length) : undefined;
}

export function isLabgateRule(rule: NatRule): boolean {
  return (rule.fields.comment ?? '').startsWith(LABGATE_COMMENT_PREFIX);
}

/** The properties of a forwarding rule labgate sets, compares and corrects. */
export const MANAGED_FIELDS = ['chain', 'action', 'protocol', 'dst-address', 'dst-port', 'in-interface', 'in-interface-list', 'to-addresses', 'to-ports', 'comment', 'disabled'] as const;

const BOOLEAN: Record<string, string> = { yes: 'true', no: 'false', true: 'true', false: 'false' };

/**
 * A rule as plans show and compare it: the managed properties it has, as printed. `disabled`
 * is always there (`true`/`false`); routers print it, and inputs may say yes/no.
 */
export function managedView(rule: NatRule): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of MANAGED_FIELDS) {
    const v = rule.fields[k];
    if (v !== undefined && v !== '') out[k] = v;
  }
  out.disabled = BOOLEAN[rule.fields.disabled ?? 'false'] ?? rule.fields.disabled!;
  return out;
}

export function isEnabled(rule: NatRule): boolean {
  return BOOLEAN[rule.fields.disabled ?? 'false'] !== 'true';
}

/** Whether a RouterOS port list (`41621`, `80,443`, `8000-8100`, `!22`) contains `port`. */
export function portListHas(list: string | undefined, port: number): boolean {
  if (!list) return false;
  if (list.startsWith('!')) return !portListHas(list.slice(1), port);
  return list.split(',').some((part) => {
    const [from, to] = part.trim().split('-').map(Number);
    return to === undefined ? from === port : from! <= port && port <= to;
  });
}

function ipv4Number(ip: string): number {
  return ip.split('.').reduce((n, p) => n * 256 + Number(p), 0);
}

function addressesHave(range: string | undefined, ip: string): boolean {
  if (!range) return false;
  const [from, to] = range.split('-');
  if (to === undefined) return from === ip;
  return ipv4Number(from!) <= ipv4Number(ip) && ipv4Number(ip) <= ipv4Number(to);
}

/** An enabled dst-nat rule taking UDP `port` (a dst-port match, nothing else looked at). */
export function catchesUdpPort(rule: NatRule, port: number): boolean {
  const f = rule.fields;
  return f.chain === 'dstnat' && f.action === 'dst-nat' && isEnabled(rule) && (f.protocol === 'udp' || f.protocol === '17') && portListHas(f['dst-port'], port);
}

/** Whether the rule sends UDP `port` on to `ip:port` (to-ports empty keeps the port). */
export function forwardsUdpTo(rule: NatRule, target: { ip: string; port: number }): boolean {
  if (!catchesUdpPort(rule, target.port)) return false;
  const toPorts = rule.fields['to-ports'];
  return addressesHave(rule.fields['to-addresses'], target.ip) && (toPorts === undefined || toPorts === '' || toPorts === String(target.port));
}

/** "*7 udp 41623 → 192.168.10.50:41623 (comment "game")" for messages. */
export function describeRule(rule: NatRule): string {
  const f = rule.fields;
  const to = `${f['to-addresses'] ?? '?'}${f['to-ports'] ? `:${f['to-ports']}` : ''}`;
  const comment = f.comment ? ` (comment "${untrusted(f.comment, 80)}")` : ' (no comment)';
  return `${rule.id} ${f.protocol ?? 'any'} ${f['dst-port'] ?? '*'} → ${to}${isEnabled(rule) ? '' : ', disabled'}${comment}`;
}

const TARGET_PREFIX = 'router:/ip/firewall/nat/';

/** Plan target and lock name of a labgate rule: its comment under the NAT menu. */
export function routerRuleTarget(comment: string): string {
  return `${TARGET_PREFIX}${comment}`;
}

/** The comment a router target names; throws for anything that is not a labgate rule. */
export function commentOfTarget(target: string): string {
  if (!target.startsWith(TARGET_PREFIX)) throw new Error(`${target} is not a router NAT target`);
  const comment = target.slice(TARGET_PREFIX.length);
  // The router applier's guard rests on this: no target names a rule without labgate's tag.
  if (!comment.startsWith(LABGATE_COMMENT_PREFIX)) throw new UserError(UserErrorCode.Policy, `labgate changes only router rules whose comment starts with ${LABGATE_COMMENT_PREFIX}; refused ${target}`);
  return comment;
}
