import { UnrecoverableError, type Job } from 'bullmq';
import { planMessage } from '../src/chat/plan-messages.js';
import { validateOptions } from '../src/commands/validate.js';
import { actor, commandContext, type Services } from '../src/core/services.js';
import { encodeUserError, isUserError, UserError, UserErrorCode } from '../src/errors.js';
import { faultRef } from '../src/log.js';
import { buildPlan } from '../src/plan/model.js';
import { encodeFault, type PlanJobData, type PlanJobResult, type ReportJobData } from '../src/queue/jobs.js';

/**
 * The "plan" queue: `plan` jobs read live state and post a plan for approval; `report` jobs
 * (read-only commands) post a report. Idempotent: a retried plan job finds its plan and only
 * posts it if the first attempt could not.
 */
export function planProcessor(s: Services) {
  return async (job: Job<PlanJobData | ReportJobData>): Promise<PlanJobResult | { posted: true }> => {
    const { command, requester, conversation } = job.data;
    try {
      const cmd = s.commands.get(command.name);
      if (!cmd) throw new UserError(UserErrorCode.UnknownCommand, `unknown command /${command.name}`);
      // Jobs can be replayed: validate and authorize again before touching a backend.
      const opts = validateOptions(cmd, command.options);
      const denial = s.access.mayRequest(cmd.name, requester);
      if (denial) throw new UserError(UserErrorCode.Denied, denial.message);
      const ctx = commandContext(s, requester, (step) => job.updateProgress({ step }));

      if (job.name === 'report') {
        if (!cmd.report) throw new UserError(UserErrorCode.UnknownCommand, `/${cmd.name} is not a report`);
        await s.notifier.post(conversation, await cmd.report(opts, ctx));
        return { posted: true };
      }

      const { planId } = job.data as PlanJobData;
      const existing = await s.store.get(planId);
      if (existing) {
        if (!existing.message) await s.store.setMessage(planId, await s.notifier.post(conversation, planMessage(existing)));
        return { planId, hash: existing.plan.hash, changes: existing.plan.changes.length, ...(existing.plan.autoApprove ? { autoApprove: true } : {}) };
      }
      if (!cmd.plan) throw new UserError(UserErrorCode.UnknownCommand, `/${cmd.name} does not change anything`);
      const draft = await cmd.plan(opts, ctx);
      if (draft.changes.length === 0) throw new UserError(UserErrorCode.NothingToDo, `nothing to change for ${command.text}`);
      const plan = { ...buildPlan({ command, requester, now: s.now(), ttlMs: s.config.plans.ttl, ...draft }), id: planId };
      await s.store.create(plan, conversation);
      await s.audit.append({ at: plan.createdAt, actor: actor(requester), action: 'plan', planId, command: command.text, hash: plan.hash, outcome: `${plan.changes.length} changes` });
      const rec = (await s.store.get(planId))!;
      await s.store.setMessage(planId, await s.notifier.post(conversation, planMessage(rec)));
      s.logger.info({ planId, command: command.text, requester: actor(requester), changes: plan.changes.length, hash: plan.hash }, 'plan posted');
      return { planId, hash: plan.hash, changes: plan.changes.length, ...(plan.autoApprove ? { autoApprove: true } : {}) };
    } catch (err) {
      if (isUserError(err)) {
        await s.audit
          .append({ at: s.now(), actor: actor(requester), action: err.code === UserErrorCode.Denied ? 'deny' : 'refuse', command: command.text, outcome: err.message })
          .catch(() => {});
        throw new UnrecoverableError(encodeUserError(err));
      }
      const ref = faultRef();
      s.logger.error({ ref, err, job: job.name, attempt: job.attemptsMade + 1, command: command.text }, 'plan job failed');
      throw new Error(encodeFault(ref, (err as Error).message));
    }
  };
}
