import { UnrecoverableError, type Job } from 'bullmq';
import { planMessage, resultMessage } from '../src/chat/plan-messages.js';
import { validateOptions } from '../src/commands/validate.js';
import { actor, commandContext, type Services } from '../src/core/services.js';
import { AdapterError, encodeUserError, isUserError, UserError, UserErrorCode } from '../src/errors.js';
import { faultRef } from '../src/log.js';
import type { SystemApplier } from '../src/plan/applier.js';
import { sameState } from '../src/plan/canonical.js';
import { displayTarget } from '../src/plan/diff.js';
import { planHash, type Change } from '../src/plan/model.js';
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
 * Applies an approved plan, the way Atlantis does: lock every target, compare live state with
 * the plan, apply in order, verify. A retry resumes: a change whose target already equals its
 * `after` is done; a target equal to neither `before` nor `after` means someone else changed it.
 */
export function applyProcessor(s: Services) {
  const liveStates = async (changes: Change[]): Promise<ChangeState[]> => {
    const live = await Promise.all(changes.map((c) => applierFor(s, c).read(c)));
    return changes.map((c, i) => (sameState(live[i], c.after) ? 'done' : sameState(live[i], c.before) ? 'todo' : 'changed'));
  };

  const finish = async (rec: PlanRecord, status: 'applied' | 'failed', result: PlanResult) => {
    await s.store.finish(rec.plan.id, status, result);
    const done = { ...rec, status, result };
    await s.audit.append({ at: result.at, actor: actor(rec.decidedBy ?? rec.plan.requester), action: status === 'applied' ? 'apply' : 'fail', planId: rec.plan.id, command: rec.plan.command.text, hash: rec.plan.hash, outcome: result.text });
    try {
      if (rec.message) await s.notifier.edit(rec.message, planMessage(done));
      await s.notifier.post(rec.conversation, resultMessage(done));
    } catch (err) {
      // The outcome is recorded and audited; a chat outage must not turn a done apply into a retry.
      s.logger.error({ err, planId: rec.plan.id }, 'could not post the apply result');
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

  return async (job: Job<ApplyJobData>): Promise<PlanResult> => {
    const { planId, hash } = job.data;
    const rec = await s.store.get(planId);
    if (!rec) throw new UnrecoverableError(`plan ${planId} not found`);
    if (rec.plan.hash !== hash) throw new UnrecoverableError(`plan ${planId} does not have hash ${hash}`);
    if (rec.status === 'applied' || rec.status === 'failed') return rec.result!;
    if (rec.status !== 'approved' && rec.status !== 'applying') throw new UnrecoverableError(`plan ${planId} is ${rec.status}, not approved`);
    const { changes } = rec.plan;

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
      const states = await liveStates(changes);
      const changed = changes.filter((_, i) => states[i] === 'changed');
      if (changed.length) {
        // Name who edited it (managedFields), so the person knows whom to ask before re-planning.
        const who = await Promise.all(changed.map(async (c) => ({ c, by: await applierFor(s, c).whoChanged?.(c).catch(() => undefined) })));
        const by = who.filter((w) => w.by).map((w) => `; ${displayTarget(w.c.target)}: ${w.by}`).join('');
        throw new StaleError(`${STALE_MESSAGE} (${changed.map((c) => displayTarget(c.target)).join(', ')} changed)${by}`);
      }
      if (!(rec.progress > 0)) {
        // This plan has written nothing yet: everything it depended on must still hold, not only
        // its targets. A target already in its planned state counts as stale here (another plan
        // got there first, e.g. a shared client-CA Secret): the re-plan no longer matches the
        // hash, so the approval is refused rather than applied next to what changed around it.
        // Only a retry of this same plan, after some of its own writes, skips the re-plan.
        const cmd = s.commands.get(rec.plan.command.name)!;
        try {
          const draft = await cmd.plan!(validateOptions(cmd, rec.plan.command.options), commandContext(s, rec.plan.requester));
          if (planHash(rec.plan.command, draft.changes) !== rec.plan.hash) throw new StaleError(STALE_MESSAGE);
        } catch (err) {
          if (isUserError(err)) throw new StaleError(`${STALE_MESSAGE} (${err.message})`);
          throw err;
        }
      }
      for (const [i, change] of changes.entries()) {
        if (states[i] === 'done') continue;
        await applierFor(s, change).apply(change);
        await s.store.setProgress(planId, i + 1);
        await locks.extend();
      }
      const after = await liveStates(changes);
      const off = changes.filter((_, i) => after[i] !== 'done');
      if (off.length) throw new Error(`applied, but ${off.map((c) => displayTarget(c.target)).join(', ')} does not read back as planned`);
      const result: PlanResult = { status: 'applied', text: `Applied ${planId}: ${changes.length} change${changes.length === 1 ? '' : 's'}`, at: s.now(), changes: changes.map((c) => ({ summary: c.summary, state: 'done' })) };
      await finish(rec, 'applied', result);
      s.logger.info({ planId, hash, changes: changes.length }, 'plan applied');
      return result;
    } catch (err) {
      if (err instanceof StaleError) {
        await finish(rec, 'failed', { status: 'refused', text: `Not applied ${planId}: ${err.message}`, at: s.now(), changes: await describe(changes) });
        throw new UnrecoverableError(encodeUserError(new UserError(UserErrorCode.Stale, err.message)));
      }
      const ref = faultRef();
      const retryable = !(err instanceof AdapterError) || err.transient;
      const last = !retryable || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      s.logger.error({ ref, err, planId, attempt: job.attemptsMade + 1, last }, 'apply failed');
      if (!last) throw new Error(encodeFault(ref, (err as Error).message));
      const progress = await describe(changes);
      const done = progress?.filter((c) => c.state === 'done').length ?? 0;
      await finish(rec, 'failed', {
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
