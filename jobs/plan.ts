import { UnrecoverableError, type Job } from 'bullmq';
import { TamperError } from '../src/approval/binding.js';
import { reportTamper } from '../src/approval/tamper-report.js';
import { admit } from '../src/core/admission.js';
import { postPlanCard, showPlanState } from '../src/core/plan-card.js';
import { validateOptions } from '../src/core/validate-options.js';
import { actor, commandContext, type Services } from '../src/core/services.js';
import { encodeUserError, isUserError, UserError, UserErrorCode } from '../src/errors.js';
import { faultRef } from '../src/log.js';
import { buildPlan } from '../src/plan/model.js';
import { encodeFault, type PlanJobData, type PlanJobResult, type ReportJobData, type ReportJobResult } from '../src/queue/jobs.js';
import type { PlanRecord } from '../src/stores/plan-store.js';

/**
 * The "plan" queue: `plan` jobs read live state, seal a plan and post it for approval; `report`
 * jobs (read-only commands) post a report, or hand a private one back to the asker alone.
 * Idempotent: a retried plan job finds its plan and only posts it if the first attempt could not.
 */
export function planProcessor(s: Services) {
  /** Self-service: the worker that planned it approves it, sealed as its own decision, and queues the apply. */
  const selfApprove = async (rec: PlanRecord): Promise<boolean> => {
    const { plan } = rec;
    const decision = s.binding.selfApprove(plan, s.now());
    const res = await s.store.decide(rec, decision, s.now());
    if (!res.ok) return res.reason === 'decided' && res.status !== 'rejected' && res.status !== 'expired';
    await s.audit.append({ at: decision.at, actor: actor(plan.requester), action: 'approve', planId: plan.id, command: plan.command.text, hash: plan.hash, outcome: `approved: ${decision.reason}` });
    await showPlanState(s, { ...rec, status: 'approved', decision, decidedBy: decision.by, decidedAt: decision.at });
    await s.applyQueue.enqueue({ planId: plan.id, hash: plan.hash });
    return true;
  };

  return async (job: Job<PlanJobData | ReportJobData>): Promise<PlanJobResult | ReportJobResult> => {
    const { command, requester, conversation } = job.data;
    try {
      // Jobs can be replayed or forged in Redis: the same preconditions as at the door, then validation.
      const admission = await admit(s, command, requester, 'this worker does not know it');
      if (!admission.ok) throw new UserError(admission.denied ? UserErrorCode.Denied : UserErrorCode.UnknownCommand, admission.message);
      const { cmd } = admission.admitted;
      const opts = validateOptions(cmd, command.options);
      const ctx = commandContext(s, requester, (step) => job.updateProgress({ step }));

      if (job.name === 'report') {
        if (cmd.kind !== 'read') throw new UserError(UserErrorCode.UnknownCommand, `/${cmd.name} is not a report`);
        const msg = await cmd.report(opts, ctx);
        if (msg.private) return { private: msg };
        await s.notifier.post(conversation, msg);
        return { posted: true };
      }

      const { planId } = job.data as PlanJobData;
      let rec = await s.store.get(planId);
      if (rec && !s.binding.planIntact(rec.plan)) throw new TamperError(planId, 'a plan job was retried, and the plan record it finds does not match its seal');
      if (!rec) {
        if (cmd.kind !== 'change') throw new UserError(UserErrorCode.UnknownCommand, `/${cmd.name} does not change anything`);
        const draft = await cmd.plan(opts, ctx);
        if (draft.changes.length === 0) throw new UserError(UserErrorCode.NothingToDo, `nothing to change for ${command.text}`);
        const plan = s.binding.sealPlan({ ...buildPlan({ command, requester, conversation, now: s.now(), ttlMs: s.config.plans.ttl, ...draft }), id: planId });
        await s.store.create(plan);
        await s.audit.append({ at: plan.createdAt, actor: actor(requester), action: 'plan', planId, command: command.text, hash: plan.hash, outcome: `${plan.changes.length} change${plan.changes.length === 1 ? '' : 's'}` });
        s.logger.info({ planId, command: command.text, requester: actor(requester), changes: plan.changes.length, hash: plan.hash }, 'plan posted');
        rec = (await s.store.get(planId))!;
      }
      rec = await postPlanCard(s, rec);
      const autoApproved = rec.plan.autoApprove && rec.status === 'pending' ? await selfApprove(rec) : false;
      return { planId, hash: rec.plan.hash, changes: rec.plan.changes.length, ...(autoApproved ? { autoApproved } : {}) };
    } catch (err) {
      if (err instanceof TamperError) {
        await reportTamper(s, err, { plan: { conversation, command } });
        throw new UnrecoverableError(encodeUserError(new UserError(UserErrorCode.Tampered, err.message)));
      }
      if (isUserError(err)) {
        // A denial was audited by admit().
        if (err.code !== UserErrorCode.Denied)
          await s.audit.append({ at: s.now(), actor: actor(requester), action: 'refuse', command: command.text, outcome: err.message }).catch(() => {});
        throw new UnrecoverableError(encodeUserError(err));
      }
      const ref = faultRef();
      s.logger.error({ ref, err, job: job.name, attempt: job.attemptsMade + 1, command: command.text }, 'plan job failed');
      throw new Error(encodeFault(ref, err));
    }
  };
}
