import {
  addresses,
  anything,
  ARGUMENT_FAILURE,
  booleanValue,
  checkChainAndPorts,
  iface,
  negatable,
  ports,
  PROTOCOLS,
  RouterTrap,
  type PropertySpec,
  type RuleSpec,
} from './nat-rule-fields.js';

/**
 * What `/ip/firewall/filter` accepts (RouterOS 7 "Firewall Filter" manual): the actions a
 * filter rule may take, connection-state and connection-nat-state lists, reject-with, and the
 * matchers it shares with NAT.
 */

const ACTIONS = new Set([
  'accept', 'add-dst-to-address-list', 'add-src-to-address-list', 'drop', 'fasttrack-connection', 'jump', 'log',
  'passthrough', 'reject', 'return', 'tarpit',
]);

const CONNECTION_STATES = new Set(['established', 'invalid', 'new', 'related', 'untracked']);
const NAT_STATES = new Set(['srcnat', 'dstnat']);
const REJECT_WITH = new Set([
  'icmp-admin-prohibited', 'icmp-host-prohibited', 'icmp-host-unreachable', 'icmp-net-prohibited', 'icmp-network-unreachable',
  'icmp-port-unreachable', 'icmp-protocol-unreachable', 'tcp-reset',
]);

/** A comma list drawn from `allowed`, the whole list negatable with `!`. */
const listOf = (allowed: Set<string>) => negatable((v) => v.split(',').every((s) => allowed.has(s)));

const PROPERTIES: Record<string, PropertySpec> = {
  chain: { check: (v) => /^[A-Za-z0-9_.-]+$/.test(v) },
  action: { check: (v) => ACTIONS.has(v), enumName: true },
  protocol: { check: negatable((v) => PROTOCOLS.has(v) || (/^\d{1,3}$/.test(v) && Number(v) <= 255)), enumName: true },
  'src-address': { check: addresses },
  'dst-address': { check: addresses },
  'src-address-list': { check: anything },
  'dst-address-list': { check: anything },
  'src-port': { check: ports },
  'dst-port': { check: ports },
  port: { check: ports },
  'in-interface': { check: iface, enumName: true },
  'out-interface': { check: iface, enumName: true },
  'in-interface-list': { check: anything },
  'out-interface-list': { check: anything },
  'connection-state': { check: listOf(CONNECTION_STATES), enumName: true },
  'connection-nat-state': { check: listOf(NAT_STATES), enumName: true },
  'reject-with': { check: (v) => REJECT_WITH.has(v), enumName: true },
  'hw-offload': { check: booleanValue },
  'jump-target': { check: anything },
  'address-list': { check: anything },
  'address-list-timeout': { check: anything },
  'connection-mark': { check: anything },
  'packet-mark': { check: anything },
  log: { check: booleanValue },
  'log-prefix': { check: anything },
  disabled: { check: booleanValue },
  comment: { check: anything },
};

const PRINT_ORDER = [
  'chain', 'action', 'protocol', 'src-address', 'dst-address', 'src-address-list', 'dst-address-list', 'src-port', 'dst-port',
  'port', 'in-interface', 'out-interface', 'in-interface-list', 'out-interface-list', 'connection-state',
  'connection-nat-state', 'reject-with', 'jump-target', 'hw-offload',
];

/** `/ip/firewall/filter`. */
export const FILTER_RULES: RuleSpec = {
  properties: PROPERTIES,
  printOrder: PRINT_ORDER,
  defaultAction: 'accept',
  check(rule) {
    checkChainAndPorts(rule);
    if (rule.action === 'jump' && !rule['jump-target']) throw new RouterTrap('missing value(s) of argument(s) jump-target', ARGUMENT_FAILURE);
  },
};
