import type { ConversationRef } from '../messages/message.js';
import type { AccessPolicy, Denial } from '../core/access.js';
import { planHash, type Decision, type Identity, type Plan } from '../plan/model.js';
import type { JournalEntry, PlanRecord } from '../stores/plan-store.js';
import { UserError, UserErrorCode } from '../errors.js';
import type { Seal, Signer } from './signing.js';

/**
 * The one place that decides whether a plan may be decided and whether it may be applied.
 *
 * Redis is shared infrastructure, not a judge: anyone who can write to it can edit records and
 * queue jobs. So a plan is sealed by the worker that planned it and a decision by whoever
 * recorded it, with a key that never enters Redis (src/approval/signing.ts). Nothing here
 * trusts a field of a record that a seal does not cover, and apply works only from what
 * `permitApply` returns: the signed plan.
 */

/** Something in Redis that no holder of the key wrote: refused, audited as tampering, and nothing changes. */
export class TamperError extends Error {
  override readonly name = 'TamperError';
  constructor(
    readonly planId: string,
    /** What was found, for the audit. */
    readonly found: string,
  ) {
    super(`plan ${planId} failed verification (${found}); it is refused and nothing was changed`);
  }
}


export interface ApplyPermit {
  plan: Plan;
  decision: Decision;
}

export type DecideCheck = { ok: true; plan: Plan } | { ok: false; denial: Denial } | { ok: false; tamper: TamperError };

const unsealed = <T extends { seal?: Seal }>(x: T): Omit<T, 'seal'> => {
  const { seal: _s, ...rest } = x;
  return rest;
};

const sameIdentity = (a: Identity, b: Identity) => a.platform === b.platform && a.id === b.id;

export function sameConversation(a: ConversationRef, b: ConversationRef): boolean {
  if (a.platform !== b.platform) return false;
  // Discord: one guild is one conversation (plans are posted in its ops channel); the shell: one process.
  if (a.platform === 'discord' && b.platform === 'discord') return a.guildId === b.guildId;
  return a.platform === 'shell' && b.platform === 'shell' && a.channel === b.channel;
}

export class ApprovalBinding {
  constructor(
    private readonly d: {
      signer: Signer;
      access: AccessPolicy;
      /** How long after its approval a plan may still start or resume writing. */
      applyWindowMs: number;
    },
  ) {}

  sealPlan(plan: Plan): Plan {
    const body = unsealed(plan);
    return { ...body, seal: this.d.signer.seal('plan', body) };
  }

  /** The plan is exactly what a holder of the key planned, and its hash is the hash of its command and changes. */
  planIntact(plan: Plan | undefined): plan is Plan {
    if (!plan || typeof plan !== 'object' || !Array.isArray(plan.changes) || !plan.command) return false;
    return this.d.signer.verify('plan', unsealed(plan), plan.seal) && planHash(plan.command, plan.changes) === plan.hash;
  }

  private sealDecision(d: Omit<Decision, 'seal'>): Decision {
    return { ...d, seal: this.d.signer.seal('decision', d) };
  }

  decisionIntact(decision: Decision | undefined, plan: Plan): decision is Decision {
    if (!decision || typeof decision !== 'object') return false;
    return this.d.signer.verify('decision', unsealed(decision), decision.seal) && decision.planId === plan.id && decision.hash === plan.hash;
  }

  /**
   * May `who` approve or reject this record from `conversation`, now? Checks the plan's seal
   * (an edited record is never approvable), the button's hash, the conversation, access and
   * expiry. The record's status is left to the atomic decide in the store.
   */
  checkDecision(rec: PlanRecord, req: { action: 'approve' | 'reject'; hashPrefix?: string }, who: Identity, conversation: ConversationRef, now: number): DecideCheck {
    const { plan } = rec;
    if (!this.planIntact(plan)) return { ok: false, tamper: new TamperError(String((rec.plan as { id?: unknown } | undefined)?.id ?? '?'), 'the plan record does not match the seal of the worker that planned it') };
    const deny = (id: Denial['id'], message: string): DecideCheck => ({ ok: false, denial: { id, message } });
    if (req.hashPrefix && !plan.hash.startsWith(req.hashPrefix)) return deny('binding.hash', `that button does not belong to plan ${plan.id}; nothing was changed`);
    if (!sameConversation(plan.conversation, conversation)) return deny('binding.conversation', `plan ${plan.id} belongs to another conversation; nothing was changed`);
    const denial = req.action === 'approve' ? this.d.access.mayApprove(plan.command.name, who, plan.requester) : this.d.access.mayReject(plan.command.name, who, plan.requester);
    if (denial) return { ok: false, denial };
    if (now >= plan.expiresAt) return deny('binding.expired', `plan ${plan.id} expired at ${new Date(plan.expiresAt).toISOString()}; run ${plan.command.text} again`);
    return { ok: true, plan };
  }

  /** A person's decision, sealed for this plan and hash. */
  decide(plan: Plan, action: 'approve' | 'reject', who: Identity, now: number): Decision {
    return this.sealDecision({ planId: plan.id, hash: plan.hash, action: action === 'approve' ? 'approved' : 'rejected', by: who, at: now });
  }

  /** The planning worker's own approval of a plan the configuration lets through (self-service). */
  selfApprove(plan: Plan, now: number): Decision {
    if (!plan.autoApprove || !this.planIntact(plan)) throw new Error(`plan ${plan.id} may not go ahead without an approver`);
    return this.sealDecision({ planId: plan.id, hash: plan.hash, action: 'approved', by: plan.requester, at: now, reason: plan.autoApprove.reason });
  }

  /**
   * May the apply job `job` apply this record now? Returns the signed plan and decision, the
   * only source apply takes changes from. Throws TamperError for what no key holder wrote, and a
   * UserError for a genuine plan that may no longer be applied (a true, final refusal).
   */
  permitApply(rec: PlanRecord | undefined, job: { planId: string; hash: string }, now: number): ApplyPermit {
    if (!rec) throw new TamperError(job.planId, 'an apply job names a plan that Redis does not hold');
    const { plan, decision } = rec;
    if (!this.planIntact(plan)) throw new TamperError(job.planId, 'the plan record does not match the seal of the worker that planned it');
    if (plan.id !== job.planId || plan.hash !== job.hash) throw new TamperError(job.planId, `the apply job names plan ${job.planId} with hash ${job.hash.slice(0, 12)}…, the signed plan is ${plan.id} with hash ${plan.hash.slice(0, 12)}…`);
    if (!decision) throw new TamperError(plan.id, 'an apply was asked for, but the plan carries no decision');
    if (!this.decisionIntact(decision, plan)) throw new TamperError(plan.id, 'the approval does not carry a valid seal for this plan and hash');
    if (decision.action !== 'approved') throw new TamperError(plan.id, `an apply was asked for, but the signed decision is "${decision.action}"`);
    if (decision.at >= plan.expiresAt) throw new TamperError(plan.id, 'the signed approval is dated after the plan expired');
    if (decision.reason !== undefined) {
      if (!plan.autoApprove || !sameIdentity(decision.by, plan.requester)) throw new TamperError(plan.id, 'a self-service approval on a plan that needs an approver');
    } else {
      const denial = this.d.access.mayApprove(plan.command.name, decision.by, plan.requester);
      if (denial) throw new UserError(UserErrorCode.Denied, `the approval by ${decision.by.name} no longer holds: ${denial.message}`);
    }
    if (now > decision.at + this.d.applyWindowMs)
      throw new UserError(UserErrorCode.Expired, `approved at ${new Date(decision.at).toISOString()}, longer ago than apply.window allows; run ${plan.command.text} again`);
    return { plan, decision };
  }

  journalEntry(plan: Plan, index: number, phase: JournalEntry['phase'], now: number): JournalEntry {
    const e: JournalEntry = { planId: plan.id, hash: plan.hash, index, phase, at: now };
    return { ...e, seal: this.d.signer.seal('journal', e) };
  }

  /** The journal's entries, each checked: a forged or foreign entry is tampering, not progress. */
  verifyJournal(plan: Plan, entries: unknown[]): JournalEntry[] {
    return entries.map((raw) => {
      const e = raw as JournalEntry;
      const ok =
        e && typeof e === 'object' && e.planId === plan.id && e.hash === plan.hash && Number.isInteger(e.index) && e.index >= 0 && e.index < plan.changes.length && this.d.signer.verify('journal', unsealed(e), e.seal);
      if (!ok) throw new TamperError(plan.id, 'the apply journal holds an entry without a valid seal for this plan');
      return e;
    });
  }
}
