import { createHash } from 'node:crypto';
import { BOOLEANS, isIpv4Address, RouterTrap } from './nat-rule-fields.js';
import { ALL_POLICIES, formatRouterId, type RouterAddress, type RouterGroup, type RouterState, type RouterUser } from './router-state.js';
import type { TableCommand } from './rule-table.js';

/**
 * The plain item menus a router owner touches besides the firewall: `/interface`,
 * `/ip/address`, `/user` and `/user/group` (RouterOS 7 manual pages of the same names).
 * Items are addressed by `.id` or, where they have one, by name (`=numbers=ether5`).
 * Passwords are never printed. The argument traps follow the NAT menu's, which were checked
 * against the client libraries; the "failure: …" texts for a duplicate user or group and a
 * built-in group were not checked against a router (its manual does not quote them).
 */

const ARGUMENT = 1;
const unknownParameter = (name: string) => new RouterTrap(`unknown parameter ${name}`, ARGUMENT);
const missing = (name: string) => new RouterTrap(`missing value(s) of argument(s) ${name}`, ARGUMENT);
const invalid = (name: string) => new RouterTrap(`invalid value for argument ${name}`, ARGUMENT);
const noMatch = (name: string) => new RouterTrap(`input does not match any value of ${name}`, ARGUMENT);

function bool(name: string, value: string): boolean {
  const b = BOOLEANS[value];
  if (!b) throw noMatch(name);
  return b === 'true';
}

/** Only these attributes; returns them in the order given. */
function attributes(cmd: TableCommand, allowed: readonly string[]): [string, string][] {
  const unknown = cmd.order.find((n) => !allowed.includes(n));
  if (unknown !== undefined) throw unknownParameter(unknown);
  return cmd.order.map((n) => [n, cmd.attributes.get(n)!]);
}

/** The items named by `.id`/`numbers` (a comma list of ids, or of names where items have them). */
function targets<T>(cmd: TableCommand, items: T[], id: (t: T) => string, name?: (t: T) => string): T[] {
  const raw = cmd.attributes.get('.id') ?? cmd.attributes.get('numbers');
  if (raw === undefined || raw === '') throw missing('numbers');
  return raw.split(',').map((ref) => {
    const found = items.find((t) => id(t) === ref.trim() || (name !== undefined && name(t) === ref.trim()));
    if (!found) throw new RouterTrap('no such item');
    return found;
  });
}

const ID_ARGS = ['.id', 'numbers'];

// ---------------------------------------------------------------- /interface

/** `*` ids of interfaces are their position, as on a router where they were made in that order. */
const interfaceId = (state: RouterState, name: string) => formatRouterId(state.interfaces.indexOf(name) + 1);

function macOf(state: RouterState, name: string): string {
  const h = createHash('sha256').update(`${state.identity}/${name}`).digest();
  return ['48', 'A9', '8A', ...[h[0]!, h[1]!, h[2]!].map((b) => b.toString(16).toUpperCase().padStart(2, '0'))].join(':');
}

export function printedInterfaces(state: RouterState): Record<string, string>[] {
  return state.interfaces.map((name) => {
    const settings = state.interfaceSettings?.[name] ?? {};
    const type = name.startsWith('ether') ? 'ether' : name.startsWith('wlan') ? 'wlan' : name.startsWith('bridge') ? 'bridge' : 'ether';
    const mtu = String(settings.mtu ?? 1500);
    // ether5 has no cable in the sandbox's router.
    const running = !settings.disabled && name !== 'ether5';
    const out: Record<string, string> = { '.id': interfaceId(state, name), name };
    if (type !== 'bridge') out['default-name'] = name;
    Object.assign(out, {
      type,
      mtu,
      'actual-mtu': mtu,
      l2mtu: type === 'bridge' ? '65535' : '1568',
      'max-l2mtu': type === 'bridge' ? '65535' : '9578',
      'mac-address': macOf(state, type === 'bridge' ? 'ether2' : name),
      'link-downs': '0',
      running: String(running),
      disabled: String(Boolean(settings.disabled)),
    });
    if (settings.comment) out.comment = settings.comment;
    return out;
  });
}

/** `/interface set|enable|disable`: interfaces are made by their own menus, so there is no add or remove here. */
export function changeInterfaces(state: RouterState, action: 'set' | 'enable' | 'disable', cmd: TableCommand): void {
  const allowed = action === 'set' ? [...ID_ARGS, 'disabled', 'comment', 'mtu'] : ID_ARGS;
  const props = attributes(cmd, allowed).filter(([n]) => !ID_ARGS.includes(n));
  const names = targets(cmd, state.interfaces, (n) => interfaceId(state, n), (n) => n);
  const changes: Record<string, unknown> = action === 'set' ? {} : { disabled: action === 'disable' };
  for (const [name, value] of props) {
    if (name === 'disabled') changes.disabled = bool(name, value);
    else if (name === 'comment') changes.comment = value;
    else if (name === 'mtu') {
      if (!/^\d+$/.test(value)) throw invalid(name);
      if (Number(value) < 68 || Number(value) > 65535) throw new RouterTrap('value of mtu out of range (68..65535)', ARGUMENT);
      changes.mtu = Number(value);
    }
  }
  state.interfaceSettings ??= {};
  for (const name of names) state.interfaceSettings[name] = { ...state.interfaceSettings[name], ...changes };
}

// ---------------------------------------------------------------- /ip/address

function network(address: string): string {
  const [ip, prefix = '32'] = address.split('/');
  const n = ip!.split('.').reduce((acc, p) => acc * 256 + Number(p), 0);
  const bits = Number(prefix);
  const masked = bits === 0 ? 0 : Math.floor(n / 2 ** (32 - bits)) * 2 ** (32 - bits);
  return [24, 16, 8, 0].map((s) => Math.floor(masked / 2 ** s) % 256).join('.');
}

export function printedAddresses(state: RouterState): Record<string, string>[] {
  return (state.addresses ?? []).map((a) => {
    const out: Record<string, string> = {
      '.id': a['.id'],
      address: a.address,
      network: network(a.address),
      interface: a.interface,
      'actual-interface': a.interface,
      invalid: String(!state.interfaces.includes(a.interface)),
      dynamic: 'false',
      disabled: String(a.disabled),
    };
    if (a.comment) out.comment = a.comment;
    return out;
  });
}

function addressProps(state: RouterState, props: [string, string][], into: Partial<RouterAddress>): void {
  for (const [name, value] of props) {
    if (name === 'address') {
      if (!/^[\d.]+(\/\d{1,2})?$/.test(value) || !isIpv4Address(value)) throw invalid(name);
      into.address = value.includes('/') ? value : `${value}/32`;
    } else if (name === 'interface') {
      if (!state.interfaces.includes(value)) throw noMatch(name);
      into.interface = value;
    } else if (name === 'disabled') into.disabled = bool(name, value);
    else if (name === 'comment') into.comment = value;
  }
}

const ADDRESS_PROPS = ['address', 'interface', 'disabled', 'comment', 'network'];

/** `/ip/address add|set|remove|enable|disable`; add returns the new id. */
export function changeAddresses(state: RouterState, action: string, cmd: TableCommand): string | undefined {
  state.addresses ??= [];
  const list = state.addresses;
  if (action === 'add') {
    const entry: Partial<RouterAddress> = { disabled: false };
    addressProps(state, attributes(cmd, ADDRESS_PROPS), entry);
    if (!entry.address) throw missing('address');
    if (!entry.interface) throw missing('interface');
    const id = formatRouterId(state.nextId++);
    list.push({ '.id': id, ...entry } as RouterAddress);
    return id;
  }
  if (action === 'remove') {
    attributes(cmd, ID_ARGS);
    const gone = new Set(targets(cmd, list, (a) => a['.id']));
    state.addresses = list.filter((a) => !gone.has(a));
    return undefined;
  }
  const props = action === 'set' ? attributes(cmd, [...ID_ARGS, ...ADDRESS_PROPS]).filter(([n]) => !ID_ARGS.includes(n)) : (attributes(cmd, ID_ARGS), [['disabled', action === 'disable' ? 'yes' : 'no'] as [string, string]]);
  const chosen = targets(cmd, list, (a) => a['.id']);
  const updated = chosen.map((a) => {
    const next = { ...a };
    addressProps(state, props, next);
    return next;
  });
  chosen.forEach((a, i) => (list[list.indexOf(a)] = updated[i]!));
  return undefined;
}

// ---------------------------------------------------------------- /user and /user/group

export const groupsOf = (state: RouterState): RouterGroup[] => state.groups ?? [];

/** The policies a user has (none when the group is gone). */
export function policiesOf(state: RouterState, user: RouterUser): Set<string> {
  return new Set(groupsOf(state).find((g) => g.name === user.group)?.policy ?? []);
}

/** RouterOS prints a group's policy as the granted ones, then the others negated. */
const policyText = (policy: string[]) => [...ALL_POLICIES.filter((p) => policy.includes(p)), ...ALL_POLICIES.filter((p) => !policy.includes(p)).map((p) => `!${p}`)].join(',');

export function printedGroups(state: RouterState): Record<string, string>[] {
  return groupsOf(state).map((g) => ({ '.id': g.id, name: g.name, policy: policyText(g.policy), skin: g.skin, ...(g.comment ? { comment: g.comment } : {}) }));
}

const userId = (state: RouterState, u: RouterUser) => u.id ?? formatRouterId(state.users.indexOf(u) + 1);

export function printedUsers(state: RouterState): Record<string, string>[] {
  return state.users.map((u) => ({
    '.id': userId(state, u),
    name: u.name,
    group: u.group,
    ...(u.address ? { address: u.address } : {}),
    disabled: String(Boolean(u.disabled)),
    ...(u.comment ? { comment: u.comment } : {}),
  }));
}

const BUILT_IN_GROUPS = ['read', 'write', 'full'];

/** `/user/group add|set|remove`; add returns the new id. */
export function changeGroups(state: RouterState, action: string, cmd: TableCommand): string | undefined {
  state.groups ??= [];
  const groups = state.groups;
  const apply = (props: [string, string][], into: Partial<RouterGroup>) => {
    for (const [name, value] of props) {
      if (name === 'name') {
        if (value === '') throw invalid(name);
        if (groups.some((g) => g.name === value && g !== into)) throw new RouterTrap('failure: group with the same name already exists');
        into.name = value;
      } else if (name === 'policy') {
        const granted = new Set(into.policy ?? []);
        for (const item of value.split(',').filter(Boolean)) {
          const deny = item.startsWith('!');
          const policy = deny ? item.slice(1) : item;
          if (!ALL_POLICIES.includes(policy)) throw noMatch('policy');
          if (deny) granted.delete(policy);
          else granted.add(policy);
        }
        into.policy = ALL_POLICIES.filter((p) => granted.has(p));
      } else if (name === 'skin') into.skin = value;
      else if (name === 'comment') into.comment = value;
    }
  };
  if (action === 'add') {
    const group: Partial<RouterGroup> = { policy: [], skin: 'default' };
    const props = attributes(cmd, ['name', 'policy', 'skin', 'comment']);
    apply(props, group);
    if (!group.name) throw missing('name');
    group.id = formatRouterId(state.nextId++);
    groups.push(group as RouterGroup);
    return group.id;
  }
  if (action === 'remove') {
    attributes(cmd, ID_ARGS);
    const gone = targets(cmd, groups, (g) => g.id, (g) => g.name);
    if (gone.some((g) => BUILT_IN_GROUPS.includes(g.name))) throw new RouterTrap('failure: builtin group cannot be removed');
    if (gone.some((g) => state.users.some((u) => u.group === g.name))) throw new RouterTrap('failure: group is used by a user');
    state.groups = groups.filter((g) => !gone.includes(g));
    return undefined;
  }
  const props = attributes(cmd, [...ID_ARGS, 'name', 'policy', 'skin', 'comment']).filter(([n]) => !ID_ARGS.includes(n));
  for (const group of targets(cmd, groups, (g) => g.id, (g) => g.name)) {
    if (BUILT_IN_GROUPS.includes(group.name)) throw new RouterTrap('failure: builtin group cannot be changed');
    const next = { ...group };
    apply(props, next);
    groups[groups.indexOf(group)] = next;
  }
  return undefined;
}

const USER_PROPS = ['name', 'group', 'password', 'address', 'disabled', 'comment'];

/** `/user add|set|remove|enable|disable`; add returns the new id. */
export function changeUsers(state: RouterState, action: string, cmd: TableCommand): string | undefined {
  const apply = (props: [string, string][], into: Partial<RouterUser>) => {
    for (const [name, value] of props) {
      if (name === 'name') {
        if (!/^[A-Za-z0-9][A-Za-z0-9*_.@-]*$/.test(value)) throw invalid(name);
        if (state.users.some((u) => u.name === value && u.id !== into.id)) throw new RouterTrap('failure: user with the same name already exists');
        into.name = value;
      } else if (name === 'group') {
        if (!groupsOf(state).some((g) => g.name === value)) throw noMatch(name);
        into.group = value;
      } else if (name === 'password') into.password = value;
      else if (name === 'address') into.address = value;
      else if (name === 'disabled') into.disabled = bool(name, value);
      else if (name === 'comment') into.comment = value;
    }
  };
  if (action === 'add') {
    const user: Partial<RouterUser> = { password: '', disabled: false };
    apply(attributes(cmd, USER_PROPS), user);
    if (!user.name) throw missing('name');
    if (!user.group) throw missing('group');
    user.id = formatRouterId(state.nextId++);
    state.users.push(user as RouterUser);
    return user.id;
  }
  if (action === 'remove') {
    attributes(cmd, ID_ARGS);
    const gone = targets(cmd, state.users, (u) => userId(state, u), (u) => u.name);
    state.users = state.users.filter((u) => !gone.includes(u));
    return undefined;
  }
  const props = action === 'set' ? attributes(cmd, [...ID_ARGS, ...USER_PROPS]).filter(([n]) => !ID_ARGS.includes(n)) : (attributes(cmd, ID_ARGS), [['disabled', action === 'disable' ? 'yes' : 'no'] as [string, string]]);
  const chosen = targets(cmd, state.users, (u) => userId(state, u), (u) => u.name);
  const updated = chosen.map((u) => {
    const next = { ...u, id: userId(state, u) };
    apply(props, next);
    return next;
  });
  chosen.forEach((u, i) => (state.users[state.users.indexOf(u)] = updated[i]!));
  return undefined;
}
