import { metrics, type CommandOutcome } from '../ops/metrics.js';
import type { ConversationRef, OutMessage } from '../messages/message.js';
import { reportTamper } from '../approval/tamper-report.js';
import { sameConversation } from '../approval/binding.js';
import { validateOptions } from './validate-options.js';
import { AdapterError, isUserError, systemAdvice, systemName } from '../errors.js';
import { faultRef } from '../log.js';
import { newPlanId, type CommandRequest, type Identity } from '../plan/model.js';
import type { PlanRecord } from '../stores/plan-store.js';
import { JobFault, JobTimeout, type Producer } from '../queue/producer.js';
import { safeRedisUrl } from '../stores/redis.js';
import { admit, type Admission, type Admitted } from './admission.js';
import { showPlanState } from './plan-card.js';
import { actor, type Services } from './services.js';
import { iso } from '../duration.js';

export type { CommandRequest } from '../plan/model.js';

/** What the chat shows the person who acted (privately on Discord); `fault` marks a fault, not a refusal. */
export interface Outcome {
  replies: OutMessage[];
  planId?: string;
  fault?: boolean;
}

export interface DecideRequest {
  action: 'approve' | 'reject';
  /** Explicit plan id; without one, the only plan pending in the conversation. */
  planId?: string;
  /** From a button: the decision is bound to this hash. */
  hashPrefix?: string;
}

const refusal = (text: string): OutMessage => ({ kind: 'refusal', text, private: true });

/** Pending plans are looked up among this many, newest first. */
const PENDING_SCAN = 200;

/**
 * The chat-facing core: validates, authorizes, queues and waits. Chats (shell, Discord) call
 * it and render what it returns; workers post plans and results through the notifier. Whether
 * a plan may be decided is the binding's call (src/approval/binding.ts), not this file's.
 */
export class Dispatcher {
  constructor(
    private readonly s: Services,
    private readonly producer: Producer,
  ) {}

  private fault(err: unknown, what: string): Outcome {
    const ref = err instanceof JobFault && err.ref ? err.ref : faultRef();
    if (!(err instanceof JobFault)) this.s.logger.error({ ref, err }, `${what} failed`);
    // By type: a RedisError raised here, or the system a job's fault names.
    const system = err instanceof AdapterError ? err.system : err instanceof JobFault ? err.system : undefined;
    const text =
      system === 'redis'
        ? `Redis at ${safeRedisUrl(this.s.config.env.REDIS_URL)} is unreachable; nothing was queued or changed. Try again when it is back (log: ${this.s.logPlace}).`
        : system
          ? `${what} failed: ${(err as Error).message}. What failed is ${systemName(system)}: ${systemAdvice(system)} (log: ${this.s.logPlace}).`
          : `${what} failed: ${(err as Error).message}`;
    return { replies: [{ kind: 'error', text, ref, private: true, ...(system ? { system } : {}) }], fault: true };
  }

  /** A denied decision (a request's denial is audited by admit()). */
  private async deny(who: Identity, text: string, extra: { planId?: string; hash?: string; command?: string } = {}): Promise<void> {
    await this.s.audit.append({ at: this.s.now(), actor: actor(who), action: 'deny', outcome: text, ...extra }).catch(() => {});
  }

  /** `waitForApply`: when the plan goes ahead without an approver (self-service), wait for its result too (the shell does). */
  /** The preconditions (src/core/admission.ts); a chat that must answer before it defers calls this first. */
  admit(req: CommandRequest, who: Identity, unknownHint?: string): Promise<Admission> {
    return admit(this.s, req, who, unknownHint);
  }

  /** `admitted`: the request already passed admit() (Discord answers a denial before deferring). */
  async command(req: CommandRequest, who: Identity, conversation: ConversationRef, opts: { waitForApply?: boolean; admitted?: Admitted } = {}): Promise<Outcome> {
    let admitted = opts.admitted;
    if (!admitted) {
      const a = await this.admit(req, who);
      if (!a.ok) return { replies: [refusal(a.message)] };
      admitted = a.admitted;
    }
    const { cmd } = admitted;
    const count = (outcome: CommandOutcome, reason = '') => metrics.command(cmd.name, outcome, reason);
    let options: Record<string, unknown>;
    try {
      options = validateOptions(cmd, req.options);
    } catch (err) {
      if (isUserError(err)) {
        count('refused', err.code);
        return { replies: [refusal(err.message)] };
      }
      throw err;
    }
    const invocation = { name: cmd.name, options, text: req.text };
    try {
      if (cmd.kind === 'local') {
        const msg = await cmd.answer(options, {
          config: this.s.config,
          requester: who,
          audit: this.s.audit,
          commands: this.s.commands.all(),
          mayRequest: (name) => this.s.access.mayRequest(name, who) === null,
        });
        count('answered');
        return { replies: [{ ...msg, private: true }] };
      }
      if (cmd.kind === 'read') {
        const job = await this.producer.requestReport({ command: invocation, requester: who, conversation });
        const res = await this.producer.waitReport(job);
        count('answered');
        return { replies: 'private' in res ? [{ ...res.private, private: true }] : [] };
      }
      const planId = newPlanId();
      const job = await this.producer.requestPlan({ planId, command: invocation, requester: who, conversation });
      const res = await this.producer.waitPlan(job);
      count('planned');
      if (res.autoApproved && opts.waitForApply) {
        const applyJob = await this.producer.findApply({ planId, hash: res.hash });
        if (applyJob) return (await this.awaitApply(applyJob, planId)) ?? { replies: [], planId };
      }
      return { replies: [], planId };
    } catch (err) {
      if (isUserError(err)) {
        count('refused', err.code);
        return { replies: [refusal(err.message)] };
      }
      if (err instanceof JobTimeout) {
        count('timeout');
        return { replies: [{ kind: 'info', text: `${req.text} is taking long; its plan will be posted here when ready`, private: true }] };
      }
      count('error');
      return this.fault(err, req.text);
    }
  }

  /** Waits for an apply; its outcome is posted by the worker where the plan is. */
  private async awaitApply(job: Awaited<ReturnType<Producer['enqueueApply']>>, planId: string): Promise<Outcome | undefined> {
    try {
      await this.producer.waitApply(job);
      return undefined;
    } catch (err) {
      // A refusal (stale plan) or a failure: the worker posted it where the plan is.
      if (isUserError(err)) return undefined;
      if (err instanceof JobTimeout) return { replies: [{ kind: 'info', text: `${planId} is still applying; the result will be posted here`, private: true }], planId };
      const posted = (await this.s.store.get(planId))?.result;
      return posted ? { replies: [], planId, fault: true } : { ...this.fault(err, `apply ${planId}`), planId };
    }
  }

  /** A click on a suggestion button: runs its command as the person who clicked. */
  async runSuggestion(buttonId: string, who: Identity, conversation: ConversationRef): Promise<Outcome> {
    try {
      const req = await this.s.suggestions.get(buttonId);
      if (!req) return { replies: [refusal('that button has expired or is not labgate\'s; run the command yourself')] };
      return await this.command(req, who, conversation);
    } catch (err) {
      return this.fault(err, 'button');
    }
  }

  /**
   * The plan a bare `approve`/`reject` means: the only one pending in this conversation. With
   * several, none is picked (the person names one); the newest having expired is never a reason
   * to pick an older one.
   */
  private async onlyPending(conversation: ConversationRef, action: string): Promise<PlanRecord | OutMessage> {
    const open: PlanRecord[] = [];
    let newestExpired: PlanRecord | undefined;
    for (const id of await this.s.store.pending(PENDING_SCAN)) {
      const rec = await this.s.store.get(id);
      if (!rec) {
        // Its record aged out of Redis: drop the stale index entry.
        await this.s.store.forgetPending(id);
        continue;
      }
      if (rec.status !== 'pending' || !rec.plan.conversation || !sameConversation(rec.plan.conversation, conversation)) continue;
      if (rec.plan.expiresAt > this.s.now()) open.push(rec);
      else {
        if (!newestExpired && !open.length) newestExpired = rec;
        await this.expire(rec);
      }
    }
    if (newestExpired)
      return refusal(`plan ${newestExpired.plan.id} expired at ${iso(newestExpired.plan.expiresAt)}; run ${newestExpired.plan.command.text} again${open.length ? `, or name an older plan: ${action} ${open[0]!.plan.id}` : ''}`);
    if (open.length === 1) return open[0]!;
    if (!open.length) return refusal('no pending plan here to decide');
    return {
      kind: 'refusal',
      private: true,
      text: `${open.length} plans are pending here; say which: ${action} <plan id>`,
      table: { columns: ['plan', 'requested by', 'command'], rows: open.map((r) => [r.plan.id, r.plan.requester.name, r.plan.command.text]) },
    };
  }

  private async expire(rec: PlanRecord): Promise<void> {
    if (await this.s.store.expireIfDue(rec.plan.id, this.s.now())) await this.announceExpiry(rec);
  }

  /** Audits the expiry and disables the plan's buttons. */
  private async announceExpiry(rec: PlanRecord): Promise<void> {
    await this.s.audit.append({ at: this.s.now(), actor: 'labgate', action: 'expire', planId: rec.plan.id, command: rec.plan.command.text, hash: rec.plan.hash, outcome: 'expired' });
    await showPlanState(this.s, { ...rec, status: 'expired' });
  }

  /**
   * Approve or reject. The binding checks the plan's seal, the button's hash, the conversation,
   * access and expiry; the decision is sealed and recorded atomically (only from pending, only
   * for the plan as verified); an approval queues the apply job whose id is derived from the hash.
   */
  async decide(req: DecideRequest, who: Identity, conversation: ConversationRef, opts: { waitForApply?: boolean } = {}): Promise<Outcome> {
    try {
      const found = req.planId ? await this.s.store.get(req.planId) : await this.onlyPending(conversation, req.action);
      if (!found) return { replies: [refusal(`no plan ${req.planId}`)] };
      if (!('plan' in found)) return { replies: [found] };
      const rec = found;
      const check = this.s.binding.checkDecision(rec, req, who, conversation, this.s.now());
      if (!check.ok) {
        if ('tamper' in check) {
          await reportTamper(this.s, check.tamper, rec);
          return { replies: [refusal(check.tamper.message)] };
        }
        const { denial } = check;
        if (denial.id === 'binding.expired' && rec.status === 'pending') await this.expire(rec);
        else if (denial.id.startsWith('access.')) await this.deny(who, `${req.action}: ${denial.message}`, { planId: rec.plan.id, command: rec.plan.command.text, hash: rec.plan.hash });
        return { replies: [refusal(denial.message)] };
      }
      const { plan } = check;
      const decision = this.s.binding.decide(plan, req.action, who, this.s.now());
      const res = await this.s.store.decide(rec, decision, this.s.now());
      if (!res.ok) {
        if (res.reason === 'expired') {
          await this.announceExpiry(rec);
          return { replies: [refusal(`plan ${plan.id} expired at ${iso(plan.expiresAt)}; run ${plan.command.text} again`)] };
        }
        if (res.reason === 'decided') {
          const by = rec.decidedBy ? ` by ${rec.decidedBy.name}` : '';
          return { replies: [refusal(`plan ${plan.id} is already ${res.status}${by}; nothing was changed`)] };
        }
        if (res.reason === 'changed') return { replies: [refusal(`plan ${plan.id} changed in Redis while it was being decided; nothing was changed`)] };
        return { replies: [refusal(`no plan ${plan.id}`)] };
      }
      const decided: PlanRecord = { ...rec, status: decision.action, decision, decidedBy: who, decidedAt: decision.at };
      await this.s.audit.append({ at: decision.at, actor: actor(who), action: req.action, planId: plan.id, command: plan.command.text, hash: plan.hash, outcome: decision.action });
      await showPlanState(this.s, decided);
      if (decision.action === 'rejected') return { replies: [{ kind: 'decision', planId: plan.id, text: `Rejected ${plan.id}; nothing will change`, private: true }] };
      // Approved and recorded first: if this enqueue fails, the workers' recovery queues it.
      const job = await this.producer.enqueueApply({ planId: plan.id, hash: plan.hash });
      if (!opts.waitForApply) return { replies: [], planId: plan.id };
      return (await this.awaitApply(job, plan.id)) ?? { replies: [], planId: plan.id };
    } catch (err) {
      if (isUserError(err)) return { replies: [refusal(err.message)] };
      return this.fault(err, `${req.action} ${req.planId ?? ''}`.trim());
    }
  }
}
