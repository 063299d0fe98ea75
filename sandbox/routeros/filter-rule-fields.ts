import {
  ARGUMENT_FAILURE,
  booleanValue,
  checkChainAndPorts,
  negatable,
  RULE_PROPERTIES,
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
  ...RULE_PROPERTIES,
  action: { check: (v) => ACTIONS.has(v), enumName: true },
  'connection-state': { check: listOf(CONNECTION_STATES), enumName: true },
  'connection-nat-state': { check: listOf(NAT_STATES), enumName: true },
  'reject-with': { check: (v) => REJECT_WITH.has(v), enumName: true },
  'hw-offload': { check: booleanValue },
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
