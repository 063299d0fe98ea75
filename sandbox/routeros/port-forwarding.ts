import { isDisabled } from './nat-rule-fields.js';
import type { NatRule } from './router-state.js';

function portInList(list: string, port: number): boolean {
  if (list.startsWith('!')) return !portInList(list.slice(1), port);
  return list.split(',').some((part) => {
    const [from, to] = part.split('-').map(Number);
    return to === undefined ? from === port : from! <= port && port <= to;
  });
}

function ipv4(value: string): number {
  return value.split('.').reduce((acc, p) => acc * 256 + Number(p), 0);
}

function addressInRange(range: string, ip: string): boolean {
  const [from, to] = range.split('-');
  if (to === undefined) return from === ip;
  return ipv4(from!) <= ipv4(ip) && ipv4(ip) <= ipv4(to);
}

/**
 * Whether an enabled dst-nat rule sends UDP `port` arriving at the router to `ip:port`,
 * which is what a node's Tailscale needs to be reachable directly. The sandbox wires the
 * Tailscale simulator's `portForwarded` to this over the router sandbox's rules.
 */
export function forwardsUdpPort(rules: readonly NatRule[], target: { ip: string; port: number }): boolean {
  return rules.some((rule) => {
    if (rule.chain !== 'dstnat' || rule.action !== 'dst-nat' || isDisabled(rule)) return false;
    if (rule.protocol !== 'udp' && rule.protocol !== '17') return false;
    if (!rule['dst-port'] || !portInList(rule['dst-port'], target.port)) return false;
    if (!rule['to-addresses'] || !addressInRange(rule['to-addresses'], target.ip)) return false;
    const toPorts = rule['to-ports'];
    // Without to-ports the destination port is kept.
    return toPorts === undefined || toPorts === '' || toPorts === String(target.port);
  });
}
