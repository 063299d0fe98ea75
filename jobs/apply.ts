import { UnrecoverableError, type Job } from 'bullmq';
import { TamperError, type ApplyPermit } from '../src/approval/binding.js';
import { reportTamper } from '../src/approval/tamper-report.js';
import { planMessage, resultMessage } from '../src/chat/plan-messages.js';
import { validateOptions } from '../src/commands/validate.js';
import { actor, commandContext, type Services } from '../src/core/services.js';
import { AdapterError, encodeUserError, isUserError, UserError, UserErrorCode } from '../src/errors.js';
import { faultRef } from '../src/log.js';
import type { SystemApplier } from '../src/plan/applier.js';
import { sameState } from '../src/plan/canonical.js';
import { displayTarget } from '../src/plan/diff.js';
import { planHash, type Change, type Plan } from '../src/plan/model.js';
import { encodeFault, type ApplyJobData } from '../src/queue/jobs.js';
import { LockBusyError } from '../src/queue/locks.js';
import type { PlanRecord, PlanResult } from '../src/queue/plan-store.js';

export const STALE_MESSAGE = 'state changed since the plan; run it again';

class StaleError extends Error {}

type ChangeState = 'done' | 'todo' | 'changed';

function applierFor(s: Services, c: Change): SystemApplier {
  const a = s.appliers[c.system];
  if (!a) throw new Error(`no ${c.system} applier is configured in this worker`);
  return a;
}

/**
 * Applies an approved plan, the way Atlantis does: verify the plan and its approval, lock every
 * target, compare live state with the plan, apply in order, verify. Everything it writes comes
 * from the signed plan that `permitApply` returns, never from a field of the record.
 *
 * A retry resumes: a change whose target already equals its `after` is done; a target equal to
 * neither `before` nor `after` means someone else changed it. Each write is announced in the
 * sealed journal first, so a resumed apply knows it wrote something itself.
 */
export function applyProcessor(s: Services) {
  const liveStates = async (changes: Change[]): Promise<ChangeState[]> => {
    const live = await Promise.all(changes.map((c) => applierFor(s, c).read(c)));
    return changes.map((c, i) => (sameState(live[i], c.after) ? 'done' : sameState(live[i], c.before) ? 'todo' : 'changed'));
  };

  const finish = async (rec: PlanRecord, plan: Plan, status: 'applied' | 'failed', result: PlanResult) => {
    await s.store.finish(plan.id, status, result);
    const done = { ...rec, plan, status, result };
    await s.audit.append({ at: result.at, actor: actor(rec.decision?.by ?? plan.requester), action: status === 'applied' ? 'apply' : result.status === 'refused' ? 'refuse' : 'fail', planId: plan.id, command: plan.command.text, hash: plan.hash, outcome: result.text });
    try {
      if (rec.message) await s.notifier.edit(rec.message, planMessage(done));
      await s.notifier.post(plan.conversation, resultMessage(done));
    } catch (err) {
      // The outcome is recorded and audited; a chat outage must not turn a done apply into a retry.
      s.logger.error({ err, planId: plan.id }, 'could not post the apply result');
    }
  };

  const describe = async (changes: Change[]): Promise<PlanResult['changes']> => {
    try {
      const states = await liveStates(changes);
      return changes.map((c, i) => ({ summary: c.summary, state: states[i] === 'done' ? 'done' : states[i] === 'todo' ? 'not-done' : 'unknown' }));
    } catch {
      return changes.map((c) => ({ summary: c.summary, state: 'unknown' as const }));
    }
  };

  const refuse = async (rec: PlanRecord, plan: Plan, message: string, changes?: PlanResult['changes']): Promise<never> => {
    await finish(rec, plan, 'failed', { status: 'refused', text: `Not applied ${plan.id}: ${message}`, at: s.now(), changes: changes ?? (await describe(plan.changes)) });
    throw new UnrecoverableError(encodeUserError(new UserError(UserErrorCode.Stale, message)));
  };

  /** Re-plans from the signed command; anything the plan depended on that moved makes it stale. */
  const replan = async (plan: Plan) => {
    const cmd = s.commands.get(plan.command.name)!;
    try {
      const draft = await cmd.plan!(validateOptions(cmd, plan.command.options), commandContext(s, plan.requester));
      if (planHash(plan.command, draft.changes) !== plan.hash) throw new StaleError(STALE_MESSAGE);
    } catch (err) {
      if (isUserError(err)) throw new StaleError(`${STALE_MESSAGE} (${err.message})`);
      throw err;
    }
  };

  return async (job: Job<ApplyJobData>): Promise<PlanResult> => {
    const { planId, hash } = job.data;
    const rec = await s.store.get(planId);
    let permit: ApplyPermit;
    try {
      permit = s.binding.permitApply(rec, job.data, s.now());
    } catch (err) {
      if (err instanceof TamperError) {
        await reportTamper(s, err, rec);
        throw new UnrecoverableError(encodeUserError(new UserError(UserErrorCode.Tampered, err.message)));
      }
      if (isUserError(err) && rec && rec.status !== 'applied' && rec.status !== 'failed') return await refuse(rec, rec.plan, err.message);
      throw err instanceof UserError ? new UnrecoverableError(encodeUserError(err)) : err;
    }
    const record = rec!;
    const { plan } = permit;
    if (record.status === 'applied' || record.status === 'failed') return record.result ?? { status: 'failed', text: `plan ${planId} has no recorded result`, at: s.now() };
    if (record.status !== 'approved' && record.status !== 'applying') throw new UnrecoverableError(`plan ${planId} is ${record.status}, not approved`);
    const { changes } = plan;
    const ctx = { plan };

    // The appliers' own guards, before any lock or read: a signed plan still cannot make labgate
    // touch what it must never touch.
    try {
      for (const c of changes) applierFor(s, c).check?.(c, ctx);
    } catch (err) {
      if (isUserError(err)) return await refuse(record, plan, err.message, changes.map((c) => ({ summary: c.summary, state: 'not-done' })));
      throw err;
    }

    let locks;
    try {
      locks = await s.locks.acquire(changes.map((c) => c.target));
    } catch (err) {
      // Busy or Redis unreachable: fail closed, BullMQ retries later.
      s.logger.warn({ planId, err: (err as Error).message }, 'apply waits for its locks');
      throw err instanceof LockBusyError ? err : new Error(`lock store unreachable: ${(err as Error).message}`);
    }
    try {
      await s.store.transition(planId, 'applying', ['approved', 'applying']);
      const journal = s.binding.verifyJournal(plan, await s.store.journalOf(planId));
      const states = await liveStates(changes);
      const changed = changes.filter((_, i) => states[i] === 'changed');
      if (changed.length) throw new StaleError(`${STALE_MESSAGE} (${changed.map((c) => displayTarget(c.target)).join(', ')} changed)`);
      // Until this plan has written something itself, everything it depended on must still hold,
      // not only its targets: a target already in its planned state may be another plan's work
      // (a shared client-CA Secret), and then the re-plan no longer matches the hash.
      if (!journal.some((e) => e.phase === 'intent')) await replan(plan);
      for (const [i, change] of changes.entries()) {
        if (states[i] === 'done') continue;
        await s.store.journal(s.binding.journalEntry(plan, i, 'intent', s.now()));
        await applierFor(s, change).apply(change, ctx);
        await s.store.journal(s.binding.journalEntry(plan, i, 'done', s.now()));
        await locks.extend();
      }
      const after = await liveStates(changes);
      const off = changes.filter((_, i) => after[i] !== 'done');
      if (off.length) throw new Error(`applied, but ${off.map((c) => displayTarget(c.target)).join(', ')} does not read back as planned`);
      const result: PlanResult = { status: 'applied', text: `Applied ${planId}: ${changes.length} change${changes.length === 1 ? '' : 's'}`, at: s.now(), changes: changes.map((c) => ({ summary: c.summary, state: 'done' })) };
      await finish(record, plan, 'applied', result);
      s.logger.info({ planId, hash, changes: changes.length }, 'plan applied');
      return result;
    } catch (err) {
      if (err instanceof StaleError) return await refuse(record, plan, err.message);
      if (err instanceof TamperError) {
        await reportTamper(s, err, record);
        throw new UnrecoverableError(encodeUserError(new UserError(UserErrorCode.Tampered, err.message)));
      }
      if (isUserError(err)) return await refuse(record, plan, err.message);
      const ref = faultRef();
      const retryable = !(err instanceof AdapterError) || err.transient;
      const last = !retryable || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      s.logger.error({ ref, err, planId, attempt: job.attemptsMade + 1, last }, 'apply failed');
      if (!last) throw new Error(encodeFault(ref, (err as Error).message));
      const progress = await describe(changes);
      const done = progress?.filter((c) => c.state === 'done').length ?? 0;
      await finish(record, plan, 'failed', {
        status: 'failed',
        text: `Apply of ${planId} failed after ${job.attemptsMade + 1} attempt${job.attemptsMade ? 's' : ''}: ${(err as Error).message}. ${done} of ${changes.length} changes are in place; run the command again to plan the rest`,
        at: s.now(),
        changes: progress,
        ref,
      });
      throw new UnrecoverableError(encodeFault(ref, (err as Error).message));
    } finally {
      await locks.release().catch((err) => s.logger.warn({ err, planId }, 'could not release locks; they expire on their own'));
    }
  };
}
