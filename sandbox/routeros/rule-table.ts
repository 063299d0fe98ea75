import { checkProperty, printedRule, RouterTrap, type RuleSpec } from './nat-rule-fields.js';
import { formatRouterId, type NatRule, type RouterState } from './router-state.js';

/**
 * The commands of an ordered firewall rule table (`/ip/firewall/nat`, `/ip/firewall/filter`):
 * print, add (with place-before), set, unset, remove, enable, disable, move. A command that
 * fails changes nothing.
 */

export interface TableCommand {
  attributes: Map<string, string>;
  /** Attribute names in the order given, so the first unknown one is reported. */
  order: string[];
}

const ID_ARGUMENTS = new Set(['.id', 'numbers']);

export class RuleTable {
  constructor(
    private readonly state: RouterState,
    readonly spec: RuleSpec,
    private readonly rules: () => NatRule[],
    private readonly setRules: (rules: NatRule[]) => void,
  ) {}

  /** Every rule as `print` shows it. */
  printed(): Record<string, string>[] {
    return this.rules().map((r) => printedRule(r, this.state.interfaces, this.spec));
  }

  private rejectUnknown(cmd: TableCommand, allowed: Set<string>): void {
    const unknown = cmd.order.find((name) => !allowed.has(name));
    if (unknown !== undefined) throw new RouterTrap(`unknown parameter ${unknown}`, 1);
  }

  /** The rules named by `=.id=` or `=numbers=` (comma lists allowed), in that order. */
  private targets(cmd: TableCommand): NatRule[] {
    const raw = cmd.attributes.get('.id') ?? cmd.attributes.get('numbers');
    if (raw === undefined || raw === '') throw new RouterTrap('missing value(s) of argument(s) numbers', 1);
    return raw.split(',').map((id) => {
      const rule = this.rules().find((r) => r['.id'] === id.trim());
      if (!rule) throw new RouterTrap('no such item');
      return rule;
    });
  }

  private properties(cmd: TableCommand, skip: Set<string>): Record<string, string> {
    const props: Record<string, string> = {};
    for (const name of cmd.order) {
      if (skip.has(name)) continue;
      const value = cmd.attributes.get(name)!;
      checkProperty(name, value, this.state.interfaces, this.spec);
      props[name] = value;
    }
    return props;
  }

  /** `add`: returns the new id. */
  add(cmd: TableCommand): string {
    const props = this.properties(cmd, new Set(['place-before']));
    const rule: Record<string, string> = { action: this.spec.defaultAction };
    for (const [k, v] of Object.entries(props)) if (v !== '') rule[k] = v;
    this.spec.check(rule);
    const rules = this.rules();
    let index = rules.length;
    const before = cmd.attributes.get('place-before');
    if (before !== undefined && before !== '') {
      index = rules.findIndex((r) => r['.id'] === before);
      if (index < 0) throw new RouterTrap('no such item');
    }
    const id = formatRouterId(this.state.nextId);
    this.state.nextId += 1;
    rules.splice(index, 0, { '.id': id, ...rule } as NatRule);
    return id;
  }

  set(cmd: TableCommand): void {
    this.update(cmd, this.properties(cmd, ID_ARGUMENTS));
  }

  toggle(cmd: TableCommand, disabled: boolean): void {
    this.rejectUnknown(cmd, ID_ARGUMENTS);
    this.update(cmd, { disabled: disabled ? 'true' : 'false' });
  }

  /** Applies `props` to every targeted rule; an empty value unsets the property. */
  private update(cmd: TableCommand, props: Record<string, string>): void {
    const targets = this.targets(cmd);
    const updated = targets.map((rule) => {
      const next: Record<string, string> = { ...rule };
      for (const [k, v] of Object.entries(props)) {
        if (v === '') delete next[k];
        else next[k] = v;
      }
      this.spec.check(next);
      return next as NatRule;
    });
    // Commit only once every target passed its checks, so a failed set changes nothing.
    const rules = this.rules();
    targets.forEach((rule, i) => {
      rules[rules.indexOf(rule)] = updated[i]!;
    });
  }

  remove(cmd: TableCommand): void {
    this.rejectUnknown(cmd, ID_ARGUMENTS);
    const targets = new Set(this.targets(cmd));
    this.setRules(this.rules().filter((r) => !targets.has(r)));
  }

  unset(cmd: TableCommand): void {
    this.rejectUnknown(cmd, new Set(['.id', 'numbers', 'value-name']));
    const name = cmd.attributes.get('value-name') ?? '';
    checkProperty(name, '', this.state.interfaces, this.spec);
    if (name === 'chain' || name === 'action') throw new RouterTrap(`failure: ${name} cannot be unset`);
    this.update(cmd, { [name]: '' });
  }

  move(cmd: TableCommand): void {
    this.rejectUnknown(cmd, new Set(['.id', 'numbers', 'destination']));
    const moving = this.targets(cmd);
    const destination = cmd.attributes.get('destination');
    const rest = this.rules().filter((r) => !moving.includes(r));
    let index = rest.length;
    if (destination !== undefined && destination !== '') {
      index = rest.findIndex((r) => r['.id'] === destination);
      if (index < 0) throw new RouterTrap('no such item');
    }
    rest.splice(index, 0, ...moving);
    this.setRules(rest);
  }
}
