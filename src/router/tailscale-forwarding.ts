import type { TraefikNode } from '../tailscale/traefik-nodes.js';
import { tailscaleRuleComment } from './nat-rules.js';

export const MIN_FORWARDED_PORT = 1024;
export const MAX_FORWARDED_PORT = 65535;

/** The WireGuard UDP port the homelab's formula gives a node: base + last octet of its IPv4. */
export function formulaPort(ip: string | undefined, base: number): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip ?? '');
  return m ? base + Number(m[4]) : undefined;
}

export interface PortProblem {
  kind: 'collision' | 'out-of-range' | 'no-address';
  nodes: string[];
  port?: number;
  message: string;
}

export interface NodePorts {
  /** Node name → its formula port, for nodes whose port is usable. */
  ports: Map<string, number>;
  /** Why the others have none; a node may have several. */
  problems: PortProblem[];
}

/**
 * Formula ports for every node, with what stops one from being forwarded: two nodes with the
 * same last octet in different subnets get the same port (labgate says so instead of picking
 * another), a port outside 1024–65535, or a node without an IPv4 address.
 */
export function nodePorts(nodes: readonly TraefikNode[], base: number): NodePorts {
  const problems: PortProblem[] = [];
  const byPort = new Map<number, TraefikNode[]>();
  for (const node of nodes) {
    const port = formulaPort(node.ip, base);
    if (port === undefined) {
      problems.push({ kind: 'no-address', nodes: [node.name], message: `${node.name} has no IPv4 InternalIP, so the formula gives it no port` });
      continue;
    }
    byPort.set(port, [...(byPort.get(port) ?? []), node]);
  }
  const ports = new Map<string, number>();
  for (const [port, holders] of byPort) {
    let usable = true;
    if (port < MIN_FORWARDED_PORT || port > MAX_FORWARDED_PORT) {
      usable = false;
      problems.push({
        kind: 'out-of-range',
        nodes: holders.map((n) => n.name),
        port,
        message: `${holders.map((n) => `${n.name} (${n.ip})`).join(', ')} would get udp port ${port}, outside ${MIN_FORWARDED_PORT}–${MAX_FORWARDED_PORT}; set tailscale.portBase so that base + last octet stays in range`,
      });
    }
    if (holders.length > 1) {
      usable = false;
      problems.push({
        kind: 'collision',
        nodes: holders.map((n) => n.name),
        port,
        message: `${holders.map((n) => `${n.name} (${n.ip})`).join(' and ')} would all get udp port ${port}: same last octet in different subnets; labgate does not pick another port silently, give one of them an address with another last octet`,
      });
    }
    if (usable) ports.set(holders[0]!.name, port);
  }
  return { ports, problems };
}

/** Where forwarded traffic must arrive: the configured interface or interface list. */
export interface RuleInterface {
  inInterface?: string;
  inInterfaceList?: string;
}

/** The dst-nat rule for one node, as labgate writes and reads it back (values as strings). */
export function desiredRule(node: Pick<TraefikNode, 'name' | 'ip'>, port: number, where: RuleInterface): Record<string, string> {
  const rule: Record<string, string> = { chain: 'dstnat', action: 'dst-nat', protocol: 'udp', 'dst-port': String(port) };
  if (where.inInterface) rule['in-interface'] = where.inInterface;
  else if (where.inInterfaceList) rule['in-interface-list'] = where.inInterfaceList;
  rule['to-addresses'] = node.ip!;
  rule['to-ports'] = String(port);
  rule.comment = tailscaleRuleComment(node.name);
  rule.disabled = 'false';
  return rule;
}
