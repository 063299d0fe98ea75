import type { Config } from '../config/load.js';
import type { Identity } from '../plan/model.js';

/** A refusal as a value: which check said no, and what to tell the person. */
export interface Denial {
  id: 'access.request' | 'access.approve' | 'access.self-approval' | 'access.unknown-user' | 'binding.hash' | 'binding.conversation' | 'binding.expired';
  message: string;
}

/** The principals a person counts as: shell:alice, discord:user:<id>, discord:role:<id> per role. */
export function principalsOf(who: Identity): string[] {
  if (who.platform === 'shell') return [`shell:${who.id}`];
  return [`discord:user:${who.id}`, ...who.roles.map((r) => `discord:role:${r}`)];
}

export class AccessPolicy {
  constructor(private readonly config: Config) {}

  private rule(command: string) {
    const d = this.config.access.defaults;
    const c = this.config.access.commands[command] ?? {};
    return { request: c.request ?? d.request ?? [], approve: c.approve ?? d.approve ?? [], selfApprove: c.selfApprove ?? d.selfApprove ?? false };
  }

  private matches(members: string[], who: Identity): boolean {
    const mine = new Set(principalsOf(who));
    return members.some((m) => m === '*' || mine.has(m) || (this.config.access.groups[m] ?? []).some((p) => mine.has(p)));
  }

  private describe(members: string[]): string {
    return members.length ? members.join(', ') : 'nobody (not configured)';
  }

  mayRequest(command: string, who: Identity): Denial | null {
    // /help is open to everyone: it shows only what the asker may run, or how to ask for access.
    if (command === 'help') return null;
    const r = this.rule(command);
    if (this.matches(r.request, who)) return null;
    return { id: 'access.request', message: `you may not run /${command} (allowed: ${this.describe(r.request)})` };
  }

  mayApprove(command: string, who: Identity, requester: Identity): Denial | null {
    const r = this.rule(command);
    if (!this.matches(r.approve, who)) return { id: 'access.approve', message: `you may not approve /${command} plans (allowed: ${this.describe(r.approve)})` };
    if (!r.selfApprove && who.platform === requester.platform && who.id === requester.id)
      return { id: 'access.self-approval', message: `you requested this plan; someone else must approve it (self-approval is off for /${command})` };
    return null;
  }

  /** Approvers may reject; so may the requester, to withdraw their own plan. */
  mayReject(command: string, who: Identity, requester: Identity): Denial | null {
    if (who.platform === requester.platform && who.id === requester.id) return null;
    const r = this.rule(command);
    return this.matches(r.approve, who) ? null : { id: 'access.approve', message: `you may not reject /${command} plans (allowed: the requester, ${this.describe(r.approve)})` };
  }
}
