import { UserError, UserErrorCode } from '../errors.js';
import type { SystemApplier } from '../plan/applier.js';
import type { Change } from '../plan/model.js';
import { commentOfTarget, managedView, MANAGED_FIELDS } from './nat-rules.js';
import type { RouterPort } from './port.js';

/**
 * Applies router changes. A rule is found by its labgate comment, never by its id, so a
 * retried apply sees what an earlier attempt did (a rule added before the connection dropped
 * is found, not added twice), and a rule labgate does not own can never be a target.
 */
export class RouterApplier implements SystemApplier {
  constructor(private readonly router: RouterPort) {}

  /** The rule as plans show it; null when absent; several rules with one comment read as neither before nor after. */
  async read(change: Change): Promise<unknown> {
    const rules = await this.router.natRulesByComment(commentOfTarget(change.target));
    if (rules.length === 0) return null;
    if (rules.length === 1) return managedView(rules[0]!);
    return { duplicates: rules.map((r) => ({ id: r.id, ...managedView(r) })) };
  }

  /** Refuses any change to a rule without labgate's comment tag, whatever the plan says. */
  check(change: Change): void {
    const comment = commentOfTarget(change.target);
    const after = change.after as Record<string, string> | null;
    if (after && after.comment !== comment) throw new UserError(UserErrorCode.Policy, `change ${change.target} would write a rule with comment ${after.comment}`);
  }

  async apply(change: Change): Promise<void> {
    this.check(change);
    const comment = commentOfTarget(change.target);
    const live = await this.router.natRulesByComment(comment);
    if (change.after == null) {
      for (const r of live) await this.router.removeNatRule(r.id);
      return;
    }
    const after = change.after as Record<string, string>;
    if (live.length > 1) throw new Error(`${live.length} rules carry the comment ${comment}; remove all but one`);
    const current = live[0];
    if (!current) {
      await this.router.addNatRule(after);
      return;
    }
    const now = managedView(current);
    const set = Object.fromEntries(Object.entries(after).filter(([k, v]) => now[k] !== v));
    const unset = MANAGED_FIELDS.filter((k) => k !== 'disabled' && now[k] !== undefined && after[k] === undefined);
    if (Object.keys(set).length) await this.router.setNatRule(current.id, set);
    if (unset.length) await this.router.unsetNatRuleFields(current.id, unset);
  }
}
