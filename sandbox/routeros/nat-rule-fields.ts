import type { NatRule } from './router-state.js';

/**
 * What a firewall rule table (`/ip/firewall/nat`, `/ip/firewall/filter`) accepts and how it
 * prints: the known properties, their value checks, and the printed view of a stored rule
 * (router-generated fields filled in, booleans as `true`/`false`, unset properties left out).
 * The NAT table's spec is here; the filter table's is in filter-rule-fields.ts.
 */

/** A `!trap` the command answers with. */
export class RouterTrap extends Error {
  constructor(
    message: string,
    readonly category?: number,
  ) {
    super(message);
  }
}

export const ARGUMENT_FAILURE = 1;

const ACTIONS = new Set([
  'accept', 'add-dst-to-address-list', 'add-src-to-address-list', 'dst-nat', 'endpoint-independent-nat',
  'jump', 'log', 'masquerade', 'netmap', 'passthrough', 'redirect', 'return', 'same', 'src-nat',
]);

export const PROTOCOLS = new Set([
  'dccp', 'ddp', 'egp', 'encap', 'etherip', 'ggp', 'gre', 'hmp', 'icmp', 'icmpv6', 'idpr-cmtp', 'igmp',
  'ipencap', 'ipip', 'ipsec-ah', 'ipsec-esp', 'ipv6-encap', 'ipv6-frag', 'ipv6-nonxt', 'ipv6-opts',
  'ipv6-route', 'iso-tp4', 'l2tp', 'ospf', 'pim', 'pup', 'rdp', 'rspf', 'rsvp', 'sctp', 'st', 'tcp',
  'udp', 'udp-lite', 'vmtp', 'vrrp', 'xns-idp', 'xtp',
]);

/** Protocols whose rules may name ports (by name or number). */
export const PORT_PROTOCOLS = new Set(['tcp', 'udp', 'udp-lite', 'sctp', 'dccp', '6', '17', '136', '132', '33']);

export const BOOLEANS: Record<string, 'true' | 'false'> = { yes: 'true', true: 'true', no: 'false', false: 'false' };

export type Check = (value: string, interfaces: readonly string[]) => boolean;

export function negatable(check: (value: string) => boolean): (value: string) => boolean {
  return (value) => check(value.startsWith('!') ? value.slice(1) : value);
}

function isPort(value: string): boolean {
  return /^\d{1,5}$/.test(value) && Number(value) <= 65535;
}

export function isPortRange(value: string): boolean {
  const [from, to, extra] = value.split('-');
  if (extra !== undefined || from === undefined) return false;
  if (to === undefined) return isPort(from);
  return isPort(from) && isPort(to) && Number(from) <= Number(to);
}

const isPortList = (value: string) => value.split(',').every(isPortRange);

function isIpv4(value: string): boolean {
  const parts = value.split('.');
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

export function isIpv4Range(value: string): boolean {
  const [from, to, extra] = value.split('-');
  return extra === undefined && from !== undefined && isIpv4(from) && (to === undefined || isIpv4(to));
}

export function isIpv4Address(value: string): boolean {
  const [addr, prefix, extra] = value.split('/');
  if (extra !== undefined || addr === undefined) return false;
  if (prefix !== undefined) return isIpv4(addr) && /^\d{1,2}$/.test(prefix) && Number(prefix) <= 32;
  return isIpv4Range(addr);
}

export const anything: Check = () => true;
export const ports: Check = negatable(isPortList);
export const addresses: Check = negatable(isIpv4Address);
export const booleanValue: Check = (v) => v in BOOLEANS;
export const iface: Check = (v, interfaces) => {
  const name = v.startsWith('!') ? v.slice(1) : v;
  return name === 'all' || interfaces.includes(name);
};

/** One property a table accepts: its value check, and whether a bad value is named as an enum. */
export type PropertySpec = { check: Check; enumName?: boolean };

/** A rule table: what `add`/`set` accept, the order `print` shows, and the check of a whole rule. */
export interface RuleSpec {
  properties: Record<string, PropertySpec>;
  printOrder: readonly string[];
  /** The action a rule gets when `add` names none. */
  defaultAction: string;
  check(rule: Readonly<Record<string, string>>): void;
}

/** Properties that take any value (names, marks, address lists, prefixes, comments). */
export function anyValue(...names: string[]): Record<string, PropertySpec> {
  return Object.fromEntries(names.map((name) => [name, { check: anything }]));
}

/** What every rule table accepts, with the same checks: the matchers and the bookkeeping properties. */
export const RULE_PROPERTIES: Record<string, PropertySpec> = {
  chain: { check: (v) => /^[A-Za-z0-9_.-]+$/.test(v) },
  protocol: { check: negatable((v) => PROTOCOLS.has(v) || (/^\d{1,3}$/.test(v) && Number(v) <= 255)), enumName: true },
  'src-address': { check: addresses },
  'dst-address': { check: addresses },
  'src-port': { check: ports },
  'dst-port': { check: ports },
  port: { check: ports },
  'in-interface': { check: iface, enumName: true },
  'out-interface': { check: iface, enumName: true },
  log: { check: booleanValue },
  disabled: { check: booleanValue },
  ...anyValue(
    'src-address-list', 'dst-address-list', 'in-interface-list', 'out-interface-list', 'connection-mark', 'packet-mark',
    'address-list', 'address-list-timeout', 'jump-target', 'log-prefix', 'comment',
  ),
};

/** Every property NAT's `add`/`set` accept, with its value check; anything else is an unknown parameter. */
const PROPERTIES: Record<string, PropertySpec> = {
  ...RULE_PROPERTIES,
  action: { check: (v) => ACTIONS.has(v), enumName: true },
  'to-addresses': { check: isIpv4Range },
  'to-ports': { check: isPortRange },
  ...anyValue('src-address-type', 'dst-address-type', 'routing-mark'),
};

/** The order a router prints properties in; stored properties not listed follow before `log`. */
const PRINT_ORDER = [
  'chain', 'action', 'to-addresses', 'to-ports', 'protocol', 'src-address', 'dst-address',
  'src-address-list', 'dst-address-list', 'src-address-type', 'dst-address-type', 'src-port', 'dst-port',
  'port', 'in-interface', 'out-interface', 'in-interface-list', 'out-interface-list',
];
const PRINT_TAIL = ['log', 'log-prefix', 'bytes', 'packets', 'invalid', 'dynamic', 'disabled', 'comment'];

/** Throws the trap a router answers for an unknown property or a value it cannot parse. */
export function checkProperty(name: string, value: string, interfaces: readonly string[], table: RuleSpec = NAT_RULES): void {
  const spec = Object.hasOwn(table.properties, name) ? table.properties[name] : undefined;
  if (!spec) throw new RouterTrap(`unknown parameter ${name}`, ARGUMENT_FAILURE);
  if (value === '') return;
  if (!spec.check(value, interfaces)) {
    throw new RouterTrap(
      spec.enumName ? `input does not match any value of ${name}` : `invalid value for argument ${name}`,
      ARGUMENT_FAILURE,
    );
  }
}

/** Checks a whole rule after add/set: a chain is required and ports need a port protocol. */
export function checkRule(props: Readonly<Record<string, string>>): void {
  checkChainAndPorts(props);
  const protocol = (props.protocol ?? '').replace(/^!/, '');
  if (props['to-ports'] && !PORT_PROTOCOLS.has(protocol)) {
    throw new RouterTrap('failure: to-ports can be set only for tcp, udp, udp-lite, sctp or dccp protocols');
  }
}

/** What every rule table requires: a chain, and a port protocol for ports. */
export function checkChainAndPorts(props: Readonly<Record<string, string>>): void {
  if (!props.chain) throw new RouterTrap('missing value(s) of argument(s) chain', ARGUMENT_FAILURE);
  const hasPorts = ['src-port', 'dst-port', 'port'].some((p) => props[p]);
  const protocol = (props.protocol ?? '').replace(/^!/, '');
  if (hasPorts && !PORT_PROTOCOLS.has(protocol)) {
    throw new RouterTrap('failure: ports can be set only for tcp, udp, udp-lite, sctp or dccp protocols');
  }
}

/** True when the stored rule is disabled, whichever spelling was used. */
export function isDisabled(rule: Readonly<Record<string, string>>): boolean {
  return BOOLEANS[rule.disabled ?? 'no'] === 'true';
}

/** The rule as `print` shows it, properties in router order, before `.proplist` filtering. */
export function printedRule(rule: NatRule, interfaces: readonly string[], table: RuleSpec = NAT_RULES): Record<string, string> {
  const out: Record<string, string> = { '.id': rule['.id'] };
  const stored = Object.keys(rule).filter((k) => k !== '.id' && rule[k] !== '');
  for (const key of table.printOrder) if (stored.includes(key)) out[key] = rule[key]!;
  for (const key of stored) if (!(key in out) && !PRINT_TAIL.includes(key)) out[key] = rule[key]!;
  const ifaceMissing = ['in-interface', 'out-interface'].some((k) => {
    const v = rule[k]?.replace(/^!/, '');
    return v !== undefined && v !== '' && v !== 'all' && !interfaces.includes(v);
  });
  out.log = BOOLEANS[rule.log ?? 'no'] ?? 'false';
  out['log-prefix'] = rule['log-prefix'] ?? '';
  out.bytes = '0';
  out.packets = '0';
  out.invalid = ifaceMissing ? 'true' : 'false';
  out.dynamic = 'false';
  out.disabled = isDisabled(rule) ? 'true' : 'false';
  if (rule.comment) out.comment = rule.comment;
  return out;
}

/** `/ip/firewall/nat`. */
export const NAT_RULES: RuleSpec = { properties: PROPERTIES, printOrder: PRINT_ORDER, defaultAction: 'accept', check: checkRule };
