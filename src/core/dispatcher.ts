import type { ConversationRef, OutMessage } from '../chat/message.js';
import { planMessage } from '../chat/plan-messages.js';
import { validateOptions } from '../commands/validate.js';
import { isUserError } from '../errors.js';
import { faultRef } from '../log.js';
import { newPlanId, type Identity } from '../plan/model.js';
import type { PlanRecord } from '../queue/plan-store.js';
import { JobFault, JobTimeout, type Producer } from '../queue/producer.js';
import { safeRedisUrl } from '../queue/redis.js';
import { actor, type Services } from './services.js';

export interface CommandRequest {
  /** "expose", "route mode". */
  name: string;
  /** Raw option values as the chat delivered them. */
  options: Record<string, unknown>;
  /** As typed, for the plan header and the audit. */
  text: string;
}

/** What the chat shows the person who acted (privately on Discord); `fault` marks a fault, not a refusal. */
export interface Outcome {
  replies: OutMessage[];
  planId?: string;
  fault?: boolean;
}

export interface DecideRequest {
  action: 'approve' | 'reject';
  /** Explicit plan id; without one, the newest pending plan in the conversation. */
  planId?: string;
  /** From a button: the decision is bound to this hash. */
  hashPrefix?: string;
}

const refusal = (text: string): OutMessage => ({ kind: 'refusal', text, private: true });

/**
 * The chat-facing core: validates, authorizes, queues and waits. Chats (shell, Discord) call
 * it and render what it returns; workers post plans and results through the notifier.
 */
export class Dispatcher {
  constructor(
    private readonly s: Services,
    private readonly producer: Producer,
  ) {}

  private fault(err: unknown, what: string): Outcome {
    const ref = err instanceof JobFault && err.ref ? err.ref : faultRef();
    if (!(err instanceof JobFault)) this.s.logger.error({ ref, err }, `${what} failed`);
    const redisDown = /Stream isn't writeable|Connection is closed|ECONNREFUSED|max retries|Command timed out|not reachable/i.test((err as Error).message ?? '');
    const text = redisDown
      ? `Redis at ${safeRedisUrl(this.s.config.env.REDIS_URL)} is unreachable; nothing was queued or changed. Try again when it is back (log: ${this.s.logPlace}).`
      : `${what} failed: ${(err as Error).message}`;
    return { replies: [{ kind: 'error', text, ref, private: true }], fault: true };
  }

  /** `waitForApply`: when the plan goes ahead without an approver (self-service), wait for its result too (the shell does). */
  async command(req: CommandRequest, who: Identity, conversation: ConversationRef, opts: { waitForApply?: boolean } = {}): Promise<Outcome> {
    const cmd = this.s.commands.get(req.name);
    if (!cmd) return { replies: [refusal(`unknown command /${req.name}; /help lists what exists`)] };
    const denial = this.s.access.mayRequest(cmd.name, who);
    if (denial) {
      await this.s.audit.append({ at: this.s.now(), actor: actor(who), action: 'deny', command: req.text, outcome: denial.message }).catch(() => {});
      return { replies: [refusal(denial.message)] };
    }
    let options: Record<string, unknown>;
    try {
      options = validateOptions(cmd, req.options);
    } catch (err) {
      if (isUserError(err)) return { replies: [refusal(err.message)] };
      throw err;
    }
    const invocation = { name: cmd.name, options, text: req.text };
    try {
      if (cmd.kind === 'local') {
        const msg = await cmd.answer!(options, {
          config: this.s.config,
          requester: who,
          audit: this.s.audit,
          commands: this.s.commands.all(),
          mayRequest: (name) => this.s.access.mayRequest(name, who) === null,
        });
        return { replies: [{ ...msg, private: true }] };
      }
      if (cmd.kind === 'read') {
        const job = await this.producer.requestReport({ command: invocation, requester: who, conversation });
        await this.producer.waitPlan(job);
        return { replies: [] };
      }
      const planId = newPlanId();
      const job = await this.producer.requestPlan({ planId, command: invocation, requester: who, conversation });
      const res = await this.producer.waitPlan(job);
      if ('autoApprove' in res && res.autoApprove) return await this.selfApprove(planId, who, conversation, opts);
      return { replies: [], planId };
    } catch (err) {
      if (isUserError(err)) return { replies: [refusal(err.message)] };
      if (err instanceof JobTimeout) return { replies: [{ kind: 'info', text: `${req.text} is taking long; its plan will be posted here when ready`, private: true }] };
      return this.fault(err, req.text);
    }
  }

  /** A plan the configuration lets through without an approver: approved as the requester, audited with the reason. */
  private async selfApprove(planId: string, who: Identity, conversation: ConversationRef, opts: { waitForApply?: boolean }): Promise<Outcome> {
    const rec = await this.s.store.get(planId);
    if (!rec?.plan.autoApprove || rec.status !== 'pending') return { replies: [], planId };
    const res = await this.s.store.decide(planId, 'approved', who, this.s.now(), rec.plan.hash);
    if (!res.ok) return { replies: [], planId };
    await this.s.audit.append({ at: this.s.now(), actor: actor(who), action: 'approve', planId, command: rec.plan.command.text, hash: rec.plan.hash, outcome: `approved: ${rec.plan.autoApprove.reason}` });
    if (rec.message) await this.s.notifier.edit(rec.message, planMessage({ ...rec, status: 'approved', decidedBy: who, decidedAt: this.s.now() })).catch(() => {});
    const job = await this.producer.enqueueApply({ planId, hash: rec.plan.hash });
    return (opts.waitForApply && (await this.awaitApply(job, planId))) || { replies: [], planId };
  }

  /** Waits for an apply; its outcome is posted by the worker where the plan is. True on a fault. */
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

  /** The newest plan still pending in this conversation. */
  private async newestPending(conversation: ConversationRef): Promise<PlanRecord | undefined> {
    for (const id of await this.s.store.pending(50)) {
      const rec = await this.s.store.get(id);
      if (!rec) {
        // Its record aged out of Redis: drop the stale index entry.
        await this.s.store.forgetPending(id);
        continue;
      }
      if (rec.status === 'pending' && JSON.stringify(rec.conversation) === JSON.stringify(conversation)) {
        if (rec.plan.expiresAt > this.s.now()) return rec;
        await this.expire(rec);
      }
    }
    return undefined;
  }

  private async expire(rec: PlanRecord): Promise<void> {
    if (await this.s.store.expireIfDue(rec.plan.id, this.s.now())) await this.announceExpiry(rec);
  }

  /** Audits the expiry and disables the plan's buttons. */
  private async announceExpiry(rec: PlanRecord): Promise<void> {
    await this.s.audit.append({ at: this.s.now(), actor: 'labgate', action: 'expire', planId: rec.plan.id, command: rec.plan.command.text, hash: rec.plan.hash, outcome: 'expired' });
    if (rec.message) await this.s.notifier.edit(rec.message, planMessage({ ...rec, status: 'expired' })).catch(() => {});
  }

  /**
   * Approve or reject. The transition is atomic in Redis and only from pending, before expiry,
   * for the plan's hash; an approval queues the apply job whose id is derived from the hash.
   */
  async decide(req: DecideRequest, who: Identity, conversation: ConversationRef, opts: { waitForApply?: boolean } = {}): Promise<Outcome> {
    try {
      const rec = req.planId ? await this.s.store.get(req.planId) : await this.newestPending(conversation);
      if (!rec) return { replies: [refusal(req.planId ? `no plan ${req.planId}` : 'no pending plan here to decide')] };
      const { plan } = rec;
      if (req.hashPrefix && !plan.hash.startsWith(req.hashPrefix)) return { replies: [refusal(`that button does not belong to plan ${plan.id}; nothing was changed`)] };
      if (rec.conversation.platform !== conversation.platform || (conversation.platform === 'discord' && rec.conversation.platform === 'discord' && rec.conversation.guildId !== conversation.guildId))
        return { replies: [refusal(`plan ${plan.id} belongs to another conversation; nothing was changed`)] };
      const denial = req.action === 'approve' ? this.s.access.mayApprove(plan.command.name, who, plan.requester) : this.s.access.mayReject(plan.command.name, who, plan.requester);
      if (denial) {
        await this.s.audit.append({ at: this.s.now(), actor: actor(who), action: 'deny', planId: plan.id, command: plan.command.text, hash: plan.hash, outcome: `${req.action}: ${denial.message}` });
        return { replies: [refusal(denial.message)] };
      }
      const to = req.action === 'approve' ? 'approved' : 'rejected';
      const res = await this.s.store.decide(plan.id, to, who, this.s.now(), plan.hash);
      if (!res.ok) {
        if (res.reason === 'expired') {
          await this.announceExpiry(rec);
          return { replies: [refusal(`plan ${plan.id} expired at ${new Date(plan.expiresAt).toISOString()}; run ${plan.command.text} again`)] };
        }
        if (res.reason === 'decided') {
          const by = rec.decidedBy ? ` by ${rec.decidedBy.name}` : '';
          return { replies: [refusal(`plan ${plan.id} is already ${res.status}${by}; nothing was changed`)] };
        }
        return { replies: [refusal(`no plan ${plan.id}`)] };
      }
      const decided: PlanRecord = { ...rec, status: to, decidedBy: who, decidedAt: this.s.now() };
      await this.s.audit.append({ at: this.s.now(), actor: actor(who), action: req.action === 'approve' ? 'approve' : 'reject', planId: plan.id, command: plan.command.text, hash: plan.hash, outcome: to });
      if (rec.message) await this.s.notifier.edit(rec.message, planMessage(decided)).catch((err) => this.s.logger.warn({ err, planId: plan.id }, 'could not update the plan message'));
      if (to === 'rejected') return { replies: [{ kind: 'decision', planId: plan.id, text: `Rejected ${plan.id}; nothing will change`, private: true }] };
      // Approved and recorded first: if this enqueue fails, the worker's start-up recovery queues it.
      const job = await this.producer.enqueueApply({ planId: plan.id, hash: plan.hash });
      if (!opts.waitForApply) return { replies: [], planId: plan.id };
      return (await this.awaitApply(job, plan.id)) ?? { replies: [], planId: plan.id };
    } catch (err) {
      if (isUserError(err)) return { replies: [refusal(err.message)] };
      return this.fault(err, `${req.action} ${req.planId ?? ''}`.trim());
    }
  }
}
