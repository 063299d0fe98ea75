import { checkProperty, checkRule, printedRule, RouterTrap } from './nat-rule-fields.js';
import { compileQuery, QueryError, type Item } from './print-query.js';
import { formatRouterId, type NatRule, type RouterState, type RouterUser } from './router-state.js';

/**
 * What the sandbox router does with one command sentence, apart from transport concerns
 * (tags, faults, `/cancel`): login, the `/ip/firewall/nat` menu, and the two `/system`
 * prints a health check may use.
 */

/** A reply sentence without its `.tag`: reply word first, then attribute words. */
export type ReplySentence = readonly string[];

export interface CommandOutcome {
  replies: ReplySentence[];
  /** True when the router state was changed (the caller persists it). */
  changed: boolean;
  /** Set when the router closes the session after answering (`/quit`). */
  fatal?: string;
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

const ID_ARGUMENTS = new Set(['.id', 'numbers']);
const PRINT_OPTIONS = new Set(['.proplist', 'detail', 'count-only', 'without-paging', 'terse', 'from']);

// The menus this router knows, for RouterOS's two answers to a command it does not have: a
// missing menu is named ("no such command or directory (natt), no such command prefix", as
// routers answer /ip/firewall/natt/print or a removed /caps-man); a known menu without that
// command is "no such command".
const MENUS = new Set(['', '/ip', '/ip/firewall', '/ip/firewall/nat', '/system', '/system/resource', '/system/identity']);

function unknownCommand(command: string): RouterTrap {
  const words = command.split('/').slice(1);
  for (let i = 0; i < words.length - 1; i++) {
    const menu = `/${words.slice(0, i + 1).join('/')}`;
    if (!MENUS.has(menu)) return new RouterTrap(`no such command or directory (${words[i]}), no such command prefix`);
  }
  return new RouterTrap('no such command');
}

export class RouterCommands {
  constructor(
    private readonly state: RouterState,
    private readonly startedAt = Date.now(),
  ) {}

  /** Runs one command for a session; never throws for anything a real router would answer. */
  execute(session: Session, cmd: ParsedCommand): CommandOutcome {
    try {
      return this.dispatch(session, cmd);
    } catch (err) {
      if (err instanceof RouterTrap) return { replies: trapReplies(err), changed: false };
      throw err;
    }
  }

  private dispatch(session: Session, cmd: ParsedCommand): CommandOutcome {
    const { command } = cmd;
    if (command === '/login') return this.login(session, cmd);
    if (command === '/quit') return { replies: [], changed: false, fatal: 'session terminated on request' };
    if (!session.user) throw new RouterTrap('not logged in');

    const nat = /^\/ip\/firewall\/nat\/([a-z-]+)$/.exec(command);
    if (nat) {
      const action = nat[1]!;
      if (action === 'print' || action === 'getall') return this.printNat(cmd);
      if (session.user.group === 'read') {
        if (['add', 'set', 'remove', 'enable', 'disable', 'unset', 'move'].includes(action)) {
          throw new RouterTrap('not enough permissions (9)');
        }
      }
      switch (action) {
        case 'add':
          return this.addNat(cmd);
        case 'set':
          return this.setNat(cmd);
        case 'remove':
          return this.removeNat(cmd);
        case 'enable':
        case 'disable':
          return this.toggleNat(cmd, action === 'disable');
        case 'unset':
          return this.unsetNat(cmd);
        case 'move':
          return this.moveNat(cmd);
      }
    }
    if (command === '/system/resource/print' || command === '/system/resource/getall') {
      return this.printSingle(cmd, this.resource());
    }
    if (command === '/system/identity/print' || command === '/system/identity/getall') {
      return this.printSingle(cmd, { name: this.state.identity });
    }
    throw unknownCommand(command);
  }

  private login(session: Session, cmd: ParsedCommand): CommandOutcome {
    const name = cmd.attributes.get('name');
    const password = cmd.attributes.get('password');
    const user = this.state.users.find((u) => u.name === name && u.password === password);
    if (!user) throw new RouterTrap('invalid user name or password (6)');
    session.user = user;
    return { replies: [done()], changed: false };
  }

  private rejectUnknown(cmd: ParsedCommand, allowed: Set<string>): void {
    const unknown = cmd.order.find((name) => !allowed.has(name));
    if (unknown !== undefined) throw new RouterTrap(`unknown parameter ${unknown}`, 1);
  }

  private printNat(cmd: ParsedCommand): CommandOutcome {
    this.rejectUnknown(cmd, PRINT_OPTIONS);
    const items = this.state.nat.map((r) => printedRule(r, this.state.interfaces));
    if (cmd.attributes.has('count-only')) {
      const matches = compile(cmd.queries);
      return { replies: [done(`=ret=${items.filter(matches).length}`)], changed: false };
    }
    return { replies: printReplies(this.state, items, cmd.queries, cmd.attributes.get('.proplist')), changed: false };
  }

  private printSingle(cmd: ParsedCommand, item: Record<string, string>): CommandOutcome {
    this.rejectUnknown(cmd, PRINT_OPTIONS);
    return { replies: printReplies(this.state, [item], cmd.queries, cmd.attributes.get('.proplist')), changed: false };
  }

  /** The rules named by `=.id=` or `=numbers=` (comma lists allowed), in that order. */
  private targets(cmd: ParsedCommand): NatRule[] {
    const raw = cmd.attributes.get('.id') ?? cmd.attributes.get('numbers');
    if (raw === undefined || raw === '') throw new RouterTrap('missing value(s) of argument(s) numbers', 1);
    return raw.split(',').map((id) => {
      const rule = this.state.nat.find((r) => r['.id'] === id.trim());
      if (!rule) throw new RouterTrap('no such item');
      return rule;
    });
  }

  private properties(cmd: ParsedCommand, skip: Set<string>): Record<string, string> {
    const props: Record<string, string> = {};
    for (const name of cmd.order) {
      if (skip.has(name)) continue;
      const value = cmd.attributes.get(name)!;
      checkProperty(name, value, this.state.interfaces);
      props[name] = value;
    }
    return props;
  }

  private addNat(cmd: ParsedCommand): CommandOutcome {
    const props = this.properties(cmd, new Set(['place-before']));
    const rule: Record<string, string> = { action: 'accept' };
    for (const [k, v] of Object.entries(props)) if (v !== '') rule[k] = v;
    checkRule(rule);
    let index = this.state.nat.length;
    const before = cmd.attributes.get('place-before');
    if (before !== undefined && before !== '') {
      index = this.state.nat.findIndex((r) => r['.id'] === before);
      if (index < 0) throw new RouterTrap('no such item');
    }
    const id = formatRouterId(this.state.nextId);
    this.state.nextId += 1;
    this.state.nat.splice(index, 0, { '.id': id, ...rule } as NatRule);
    return { replies: [done(`=ret=${id}`)], changed: true };
  }

  private setNat(cmd: ParsedCommand): CommandOutcome {
    return this.update(cmd, this.properties(cmd, ID_ARGUMENTS));
  }

  private toggleNat(cmd: ParsedCommand, disabled: boolean): CommandOutcome {
    this.rejectUnknown(cmd, ID_ARGUMENTS);
    return this.update(cmd, { disabled: disabled ? 'true' : 'false' });
  }

  /** Applies `props` to every targeted rule; an empty value unsets the property. */
  private update(cmd: ParsedCommand, props: Record<string, string>): CommandOutcome {
    const targets = this.targets(cmd);
    const updated = targets.map((rule) => {
      const next: Record<string, string> = { ...rule };
      for (const [k, v] of Object.entries(props)) {
        if (v === '') delete next[k];
        else next[k] = v;
      }
      checkRule(next);
      return next as NatRule;
    });
    // Commit only once every target passed its checks, so a failed set changes nothing.
    targets.forEach((rule, i) => {
      this.state.nat[this.state.nat.indexOf(rule)] = updated[i]!;
    });
    return { replies: [done()], changed: true };
  }

  private removeNat(cmd: ParsedCommand): CommandOutcome {
    this.rejectUnknown(cmd, ID_ARGUMENTS);
    const targets = new Set(this.targets(cmd));
    this.state.nat = this.state.nat.filter((r) => !targets.has(r));
    return { replies: [done()], changed: true };
  }

  private unsetNat(cmd: ParsedCommand): CommandOutcome {
    this.rejectUnknown(cmd, new Set(['.id', 'numbers', 'value-name']));
    const name = cmd.attributes.get('value-name') ?? '';
    checkProperty(name, '', this.state.interfaces);
    if (name === 'chain' || name === 'action') throw new RouterTrap(`failure: ${name} cannot be unset`);
    return this.update(cmd, { [name]: '' });
  }

  private moveNat(cmd: ParsedCommand): CommandOutcome {
    this.rejectUnknown(cmd, new Set(['.id', 'numbers', 'destination']));
    const moving = this.targets(cmd);
    const destination = cmd.attributes.get('destination');
    const rest = this.state.nat.filter((r) => !moving.includes(r));
    let index = rest.length;
    if (destination !== undefined && destination !== '') {
      index = rest.findIndex((r) => r['.id'] === destination);
      if (index < 0) throw new RouterTrap('no such item');
    }
    rest.splice(index, 0, ...moving);
    this.state.nat = rest;
    return { replies: [done()], changed: true };
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
