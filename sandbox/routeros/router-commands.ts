import { FILTER_RULES } from './filter-rule-fields.js';
import { changeAddresses, changeGroups, changeInterfaces, changeUsers, policiesOf, printedAddresses, printedGroups, printedInterfaces, printedUsers } from './item-menus.js';
import { NAT_RULES, RouterTrap } from './nat-rule-fields.js';
import { compileQuery, QueryError, type Item } from './print-query.js';
import type { RouterState, RouterUser } from './router-state.js';
import { RuleTable } from './rule-table.js';

/**
 * What the sandbox router does with one command sentence, apart from transport concerns
 * (tags, faults, `/cancel`): login, the firewall tables (`/ip/firewall/nat`, `/filter`),
 * `/interface`, `/ip/address`, `/user`, `/user/group`, `/system` (resource, identity, reboot),
 * each guarded by the policies of the user's group as RouterOS does: `read` to print, `write`
 * to change, `policy` too for users and groups, `reboot` to reboot; otherwise "not enough
 * permissions (9)".
 */

/** A reply sentence without its `.tag`: reply word first, then attribute words. */
export type ReplySentence = readonly string[];

export interface CommandOutcome {
  replies: ReplySentence[];
  /** True when the router state was changed (the caller persists it). */
  changed: boolean;
  /** Set when the router closes the session after answering (`/quit`). */
  fatal?: string;
  /** The router restarts after answering: every connection drops. */
  reboot?: boolean;
}

export interface Session {
  user?: RouterUser;
}

export interface ParsedCommand {
  command: string;
  attributes: Map<string, string>;
  /** Attribute names in the order given, so the first unknown one is reported. */
  order: string[];
  queries: string[];
  tag?: string;
}

/** Splits a sentence into command, `=name=value` attributes, `?` queries and `.tag`. */
export function parseCommand(words: readonly string[]): ParsedCommand {
  const [command = '', ...rest] = words;
  const parsed: ParsedCommand = { command, attributes: new Map(), order: [], queries: [] };
  for (const word of rest) {
    if (word.startsWith('=')) {
      const eq = word.indexOf('=', 1);
      const name = eq < 0 ? word.slice(1) : word.slice(1, eq);
      parsed.attributes.set(name, eq < 0 ? '' : word.slice(eq + 1));
      parsed.order.push(name);
    } else if (word.startsWith('?')) {
      parsed.queries.push(word);
    } else if (word.startsWith('.tag=')) {
      parsed.tag = word.slice(5);
    } else {
      parsed.attributes.set(word, '');
      parsed.order.push(word);
    }
  }
  return parsed;
}

const done = (...attrs: string[]): ReplySentence => ['!done', ...attrs];

function trapReplies(trap: RouterTrap): ReplySentence[] {
  const attrs = trap.category === undefined ? [] : [`=category=${trap.category}`];
  return [['!trap', ...attrs, `=message=${trap.message}`], done()];
}

function compile(query: readonly string[]): (item: Item) => boolean {
  try {
    return compileQuery(query);
  } catch (err) {
    if (err instanceof QueryError) throw new RouterTrap(err.message, 1);
    throw err;
  }
}

function printReplies(state: RouterState, items: Record<string, string>[], query: readonly string[], proplist?: string): ReplySentence[] {
  const selected = items.filter(compile(query));
  const fields = proplist === undefined ? undefined : proplist.split(',').filter(Boolean);
  const replies: ReplySentence[] = selected.map((item) => {
    const keys = fields ? Object.keys(item).filter((k) => fields.includes(k)) : Object.keys(item);
    return ['!re', ...keys.map((k) => `=${k}=${item[k]}`)];
  });
  if (replies.length === 0 && sendsEmpty(state.version)) replies.push(['!empty']);
  replies.push(done());
  return replies;
}

/** RouterOS 7.18 added the `!empty` reply to prints with no results. */
export function sendsEmpty(version: string): boolean {
  const [major = 0, minor = 0] = version.split(/[.\s]/).map((p) => Number.parseInt(p, 10) || 0);
  return major > 7 || (major === 7 && minor >= 18);
}

const PRINT_OPTIONS = new Set(['.proplist', 'detail', 'count-only', 'without-paging', 'terse', 'from', 'stats', 'where']);
const CHANGES = new Set(['add', 'set', 'remove', 'enable', 'disable', 'unset', 'move', 'reset-counters']);

// The menus this router knows, for RouterOS's two answers to a command it does not have: a
// missing menu is named ("no such command or directory (natt), no such command prefix", as
// routers answer /ip/firewall/natt/print or a removed /caps-man); a known menu without that
// command is "no such command".
const MENUS = new Set([
  '', '/ip', '/ip/firewall', '/ip/firewall/nat', '/ip/firewall/filter', '/ip/address', '/interface', '/user', '/user/group',
  '/system', '/system/resource', '/system/identity',
]);

function unknownCommand(command: string): RouterTrap {
  const words = command.split('/').slice(1);
  for (let i = 0; i < words.length - 1; i++) {
    const menu = `/${words.slice(0, i + 1).join('/')}`;
    if (!MENUS.has(menu)) return new RouterTrap(`no such command or directory (${words[i]}), no such command prefix`);
  }
  return new RouterTrap('no such command');
}

/** RouterOS's answer to a command the user's group has no policy for. */
const notEnoughPermissions = () => new RouterTrap('not enough permissions (9)');

/** What a rule table's commands other than `add` do (they answer a bare `!done`). */
const RULE_CHANGES = new Map<string, (table: RuleTable, cmd: ParsedCommand) => void>([
  ['set', (table, cmd) => table.set(cmd)],
  ['remove', (table, cmd) => table.remove(cmd)],
  ['enable', (table, cmd) => table.toggle(cmd, false)],
  ['disable', (table, cmd) => table.toggle(cmd, true)],
  ['unset', (table, cmd) => table.unset(cmd)],
  ['move', (table, cmd) => table.move(cmd)],
]);

export class RouterCommands {
  private readonly nat: RuleTable;
  private readonly filter: RuleTable;

  constructor(
    private readonly state: RouterState,
    private startedAt = Date.now(),
  ) {
    this.nat = new RuleTable(state, NAT_RULES, () => state.nat, (rules) => (state.nat = rules));
    this.filter = new RuleTable(state, FILTER_RULES, () => (state.filter ??= []), (rules) => (state.filter = rules));
  }

  /** Runs one command for a session; never throws for anything a real router would answer. */
  execute(session: Session, cmd: ParsedCommand): CommandOutcome {
    try {
      return this.dispatch(session, cmd);
    } catch (err) {
      if (err instanceof RouterTrap) return { replies: trapReplies(err), changed: false };
      throw err;
    }
  }

  /** Throws "not enough permissions (9)" unless the session's user (as it is now) has every policy. */
  private require(session: Session, ...policies: string[]): void {
    const user = this.state.users.find((u) => u.name === session.user?.name);
    const granted = user ? policiesOf(this.state, user) : new Set<string>();
    if (!policies.every((p) => granted.has(p))) throw notEnoughPermissions();
  }

  private dispatch(session: Session, cmd: ParsedCommand): CommandOutcome {
    const { command } = cmd;
    if (command === '/login') return this.login(session, cmd);
    if (command === '/quit') return { replies: [], changed: false, fatal: 'session terminated on request' };
    if (!session.user) throw new RouterTrap('not logged in');

    const slash = command.lastIndexOf('/');
    const menu = command.slice(0, slash);
    const action = command.slice(slash + 1);
    const isPrint = action === 'print' || action === 'getall';
    if (isPrint) this.require(session, 'read');

    const table = menu === '/ip/firewall/nat' ? this.nat : menu === '/ip/firewall/filter' ? this.filter : undefined;
    if (table && (isPrint || CHANGES.has(action))) {
      if (isPrint) return this.print(cmd, table.printed());
      this.require(session, 'write');
      return this.changeRules(table, action, cmd);
    }

    const items: Record<string, { print: () => Record<string, string>[]; change?: (action: string, cmd: ParsedCommand) => string | undefined; actions: string[]; policies: string[] }> = {
      '/interface': { print: () => printedInterfaces(this.state), change: (a, c) => (changeInterfaces(this.state, a as 'set', c), undefined), actions: ['set', 'enable', 'disable'], policies: ['write'] },
      '/ip/address': { print: () => printedAddresses(this.state), change: (a, c) => changeAddresses(this.state, a, c), actions: ['add', 'set', 'remove', 'enable', 'disable'], policies: ['write'] },
      // User management needs the `policy` policy on top of `write` (the manual's "Config Policies").
      '/user': { print: () => printedUsers(this.state), change: (a, c) => changeUsers(this.state, a, c), actions: ['add', 'set', 'remove', 'enable', 'disable'], policies: ['write', 'policy'] },
      '/user/group': { print: () => printedGroups(this.state), change: (a, c) => changeGroups(this.state, a, c), actions: ['add', 'set', 'remove'], policies: ['write', 'policy'] },
      '/system/resource': { print: () => [this.resource()], actions: [], policies: [] },
      '/system/identity': { print: () => [{ name: this.state.identity }], change: (_a, c) => this.setIdentity(c), actions: ['set'], policies: ['write'] },
    };
    const item = Object.hasOwn(items, menu) ? items[menu] : undefined;
    if (item && isPrint) return this.print(cmd, item.print());
    if (item?.change && item.actions.includes(action)) {
      this.require(session, ...item.policies);
      const id = item.change(action, cmd);
      return { replies: [id === undefined ? done() : done(`=ret=${id}`)], changed: true };
    }
    if (command === '/system/reboot') {
      this.require(session, 'reboot');
      this.startedAt = Date.now();
      return { replies: [done()], changed: false, reboot: true };
    }
    throw unknownCommand(command);
  }

  private login(session: Session, cmd: ParsedCommand): CommandOutcome {
    const name = cmd.attributes.get('name');
    const password = cmd.attributes.get('password');
    const user = this.state.users.find((u) => u.name === name && u.password === password && !u.disabled);
    if (!user) throw new RouterTrap('invalid user name or password (6)');
    session.user = user;
    return { replies: [done()], changed: false };
  }

  private rejectUnknown(cmd: ParsedCommand, allowed: Set<string>): void {
    const unknown = cmd.order.find((name) => !allowed.has(name));
    if (unknown !== undefined) throw new RouterTrap(`unknown parameter ${unknown}`, 1);
  }

  /** `print` (and `getall`) of any menu: queries, `.proplist`, `count-only`. */
  private print(cmd: ParsedCommand, items: Record<string, string>[]): CommandOutcome {
    this.rejectUnknown(cmd, PRINT_OPTIONS);
    if (cmd.attributes.has('count-only')) {
      const matches = compile(cmd.queries);
      return { replies: [done(`=ret=${items.filter(matches).length}`)], changed: false };
    }
    return { replies: printReplies(this.state, items, cmd.queries, cmd.attributes.get('.proplist')), changed: false };
  }

  private changeRules(table: RuleTable, action: string, cmd: ParsedCommand): CommandOutcome {
    if (action === 'add') return { replies: [done(`=ret=${table.add(cmd)}`)], changed: true };
    const change = RULE_CHANGES.get(action);
    if (!change) throw new RouterTrap('no such command');
    change(table, cmd);
    return { replies: [done()], changed: true };
  }

  private setIdentity(cmd: ParsedCommand): undefined {
    this.rejectUnknown(cmd, new Set(['name']));
    const name = cmd.attributes.get('name');
    if (!name) throw new RouterTrap('missing value(s) of argument(s) name', 1);
    this.state.identity = name;
    return undefined;
  }

  private resource(): Record<string, string> {
    const seconds = Math.floor((Date.now() - this.startedAt) / 1000);
    const units: [string, number][] = [['w', 604800], ['d', 86400], ['h', 3600], ['m', 60], ['s', 1]];
    let left = seconds;
    let uptime = '';
    for (const [unit, size] of units) {
      const n = Math.floor(left / size);
      left -= n * size;
      if (n > 0 || (unit === 's' && uptime === '')) uptime += `${n}${unit}`;
    }
    return {
      uptime,
      version: `${this.state.version} (stable)`,
      'build-time': '2025-03-11 11:59:04',
      'factory-software': '7.5',
      'free-memory': '823132160',
      'total-memory': '1073741824',
      cpu: 'ARM64',
      'cpu-count': '4',
      'cpu-frequency': '864',
      'cpu-load': '1',
      'free-hdd-space': '96346112',
      'total-hdd-space': '134217728',
      'architecture-name': 'arm64',
      'board-name': this.state.boardName,
      platform: 'MikroTik',
    };
  }
}
