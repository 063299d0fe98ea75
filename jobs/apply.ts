import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { TamperError, type ApplyPermit } from '../src/approval/binding.js';
import { reportTamper } from '../src/approval/tamper-report.js';
import { validateOptions } from '../src/core/validate-options.js';
import { commandContext, type Services } from '../src/core/services.js';
import { AdapterError, encodeUserError, RedisError, isUserError, UserError, UserErrorCode } from '../src/errors.js';
import { faultRef } from '../src/log.js';
import { displayTarget } from '../src/plan/diff.js';
import { planHash, type Plan } from '../src/plan/model.js';
import { encodeFault, type ApplyJobData } from '../src/queue/jobs.js';
import { LockBusyError, LockLostError, type HeldLocks } from '../src/stores/locks.js';
import type { PlanRecord, PlanResult } from '../src/stores/plan-store.js';
import { applierFor, describeChanges, finishPlan, inPlace, liveStates } from './apply-outcome.js';

export const STALE_MESSAGE = 'state changed since the plan; run it again';

class StaleError extends Error {}

/** Stop at the next safe point and give the job back to the queue (shutdown past its grace). */
class HandBack extends Error {}

/** An apply that finds a target locked looks again after this long, up to MAX_LOCK_WAITS times (5 min). */
const LOCK_WAIT_MS = 1_000;
const MAX_LOCK_WAITS = 300;

export interface ApplyControl {
  /** True once this worker should stop at the next safe point and hand the job back. */
  handBack(): boolean;
}

/**
 * Applies an approved plan, the way Atlantis does: verify the plan and its approval, lock every
 * target, compare live state with the plan, apply in order, verify. Everything it writes comes
 * from the signed plan that `permitApply` returns, never from a field of the record.
 *
 * Every exit ends in one true, posted result (applied, refused, failed with what is in place),
 * except two, on purpose: a worker that lost its locks posts nothing (whoever holds them now
 * finishes), and a worker handing the job back at shutdown leaves it to the next. A retry resumes:
 * a target already at its `after` is done; each write is announced in the sealed journal first, so
 * a resumed apply knows it wrote something itself, and a Kubernetes object names the plan that
 * wrote it (labgate.dev/plan) in case the journal's last entry was lost.
 */
export function applyProcessor(s: Services, control: ApplyControl = { handBack: () => false }) {
  const refuse = async (rec: PlanRecord, plan: Plan, message: string, changes?: PlanResult['changes']): Promise<never> => {
    await finishPlan(s, rec, plan, 'failed', { status: 'refused', text: `Not applied ${plan.id}: ${message}`, at: s.now(), changes: changes ?? (await describeChanges(s, plan.changes)) });
    throw new UnrecoverableError(encodeUserError(new UserError(UserErrorCode.Stale, message)));
  };

  /** Re-plans from the signed command; anything the plan depended on that moved makes it stale. */
  const replan = async (plan: Plan) => {
    const cmd = s.commands.get(plan.command.name);
    if (cmd?.kind !== 'change') throw new StaleError(`${STALE_MESSAGE} (/${plan.command.name} no longer plans changes)`);
    try {
      const draft = await cmd.plan(validateOptions(cmd, plan.command.options), commandContext(s, plan.requester));
      if (planHash(plan.command, draft.changes) !== plan.hash) throw new StaleError(STALE_MESSAGE);
    } catch (err) {
      if (isUserError(err)) throw new StaleError(`${STALE_MESSAGE} (${err.message})`);
      throw err;
    }
  };

  /** Has this plan written anything itself? Its sealed journal says so, or an object it stamped. */
  const wroteBefore = async (plan: Plan): Promise<boolean> => {
    const journal = s.binding.verifyJournal(plan, await s.store.journalOf(plan.id));
    if (journal.some((e) => e.phase === 'intent')) return true;
    const stamps = await Promise.all(plan.changes.map((c) => applierFor(s, c).writtenBy?.(c)));
    return stamps.includes(plan.id);
  };

  const apply = async (rec: PlanRecord, plan: Plan, locks: HeldLocks): Promise<PlanResult> => {
    const { changes } = plan;
    const ctx = { plan };
    await s.store.transition(plan.id, 'applying', ['approved', 'applying']);
    const own = await wroteBefore(plan);
    const states = await liveStates(s, changes);
    const changed = changes.filter((_, i) => states[i] === 'changed');
    if (changed.length) {
      // Name who edited it (managedFields), so the person knows whom to ask before re-planning.
      const who = await Promise.all(changed.map(async (c) => ({ c, by: await applierFor(s, c).whoChanged?.(c).catch(() => undefined) })));
      const by = who.filter((w) => w.by).map((w) => `; ${displayTarget(w.c.target)}: ${w.by}`).join('');
      throw new StaleError(`${STALE_MESSAGE} (${changed.map((c) => displayTarget(c.target)).join(', ')} changed)${by}`);
    }
    // Until this plan has written something itself, everything it depended on must still hold,
    // not only its targets: a target already in its planned state may be another plan's work
    // (a shared client-CA Secret), and then the re-plan no longer matches the hash.
    if (!own) await replan(plan);
    for (const [i, change] of changes.entries()) {
      if (states[i] === 'done') continue;
      if (control.handBack()) throw new HandBack();
      // Fenced: a worker whose locks lapsed (paused, cut off) stops here, before writing.
      await locks.assertHeld();
      await s.store.journal(s.binding.journalEntry(plan, i, 'intent', s.now()));
      await applierFor(s, change).apply(change, ctx);
      await s.store.journal(s.binding.journalEntry(plan, i, 'done', s.now()));
    }
    const after = await liveStates(s, changes);
    const off = changes.filter((_, i) => after[i] !== 'done');
    if (off.length) throw new Error(`applied, but ${off.map((c) => displayTarget(c.target)).join(', ')} does not read back as planned`);
    return { status: 'applied', text: `Applied ${plan.id}: ${changes.length} change${changes.length === 1 ? '' : 's'}`, at: s.now(), changes: changes.map((c) => ({ summary: c.summary, state: 'done' })) };
  };

  return async (job: Job<ApplyJobData>, token?: string): Promise<PlanResult> => {
    const { planId } = job.data;
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

    // The appliers' own guards, before any lock or read: a signed plan still cannot make labgate
    // touch what it must never touch.
    try {
      for (const c of plan.changes) applierFor(s, c).check?.(c, { plan });
    } catch (err) {
      if (isUserError(err)) return await refuse(record, plan, err.message, plan.changes.map((c) => ({ summary: c.summary, state: 'not-done' })));
      throw err;
    }

    let locks: HeldLocks;
    try {
      locks = await s.locks.acquire(plan.changes.map((c) => c.target));
    } catch (err) {
      if (!(err instanceof LockBusyError)) throw new RedisError('lock', plan.changes.map((c) => c.target).join(' '), undefined, `lock store unreachable: ${(err as Error).message}`, { cause: err }); // fail closed; retried
      const waits = (job.data.lockWaits ?? 0) + 1;
      if (waits <= MAX_LOCK_WAITS && token) {
        // Another apply holds a target: wait for it without spending an attempt.
        if (waits === 1 || waits % 10 === 0) s.logger.warn({ planId, target: err.target, waits }, 'apply waits for its locks');
        await job.updateData({ ...job.data, lockWaits: waits });
        await job.moveToDelayed(Date.now() + LOCK_WAIT_MS, token);
        throw new DelayedError();
      }
      return await refuse(record, plan, `${displayTarget(err.target)} was being changed by another apply the whole time labgate waited (${Math.round((MAX_LOCK_WAITS * LOCK_WAIT_MS) / 1000)} s); run the command again`);
    }
    try {
      const result = await apply(record, plan, locks);
      await locks.assertHeld();
      await finishPlan(s, record, plan, 'applied', result);
      return result;
    } catch (err) {
      if (err instanceof LockLostError) {
        // Whoever holds the locks now (a worker that recovered this job) finishes it; this one says nothing.
        s.logger.warn({ planId, fence: locks.fence }, 'apply lost its locks; stopped without writing further or posting');
        throw err;
      }
      if (err instanceof HandBack) {
        s.logger.warn({ planId }, 'shutting down: apply stopped at a safe point and went back to the queue');
        if (token) await job.moveToDelayed(Date.now(), token);
        throw new DelayedError();
      }
      if (err instanceof TamperError) {
        await reportTamper(s, err, record);
        throw new UnrecoverableError(encodeUserError(new UserError(UserErrorCode.Tampered, err.message)));
      }
      if (err instanceof StaleError || isUserError(err)) {
        await locks.assertHeld();
        return await refuse(record, plan, err.message);
      }
      const ref = faultRef();
      const retryable = !(err instanceof AdapterError) || err.transient;
      const last = !retryable || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      s.logger[last ? 'error' : 'warn']({ ref, err, planId, attempt: job.attemptsMade + 1, last }, last ? 'apply failed' : 'apply attempt failed; it is retried');
      if (!last) throw new Error(encodeFault(ref, err));
      await locks.assertHeld();
      const progress = await describeChanges(s, plan.changes);
      const done = progress.filter((c) => c.state === 'done').length;
      const advice = done ? 'Finish it or remove what it created with the buttons below, or run the command again' : 'Run the command again when the cause is fixed';
      await finishPlan(s, record, plan, 'failed', {
        status: 'failed',
        text: `${done ? 'Partly applied' : 'Not applied'} ${planId} after ${job.attemptsMade + 1} attempt${job.attemptsMade ? 's' : ''}: ${(err as Error).message}. ${inPlace(progress)}. ${advice}`,
        at: s.now(),
        changes: progress,
        ref,
      });
      throw new UnrecoverableError(encodeFault(ref, err));
    } finally {
      await locks.release().catch((err) => s.logger.warn({ err, planId }, 'could not release locks; they expire on their own'));
    }
  };
}
