import { TamperError } from '../src/approval/binding.js';
import { reportTamper } from '../src/approval/tamper-report.js';
import type { Services } from '../src/core/services.js';
import { LockBusyError } from '../src/stores/locks.js';
import type { PlanRecord } from '../src/stores/plan-store.js';
import { describeChanges, finishPlan, inPlace } from './apply-outcome.js';

/** Job states in which an apply is still under way (or about to be). */
const ALIVE = new Set(['active', 'waiting', 'delayed', 'prioritized', 'waiting-children', 'wait', 'paused']);

export interface ReconcileReport {
  /** Approved plans that had no apply job and got one. */
  requeued: string[];
  /** Plans whose apply had stopped for good without a result, now finished from live state. */
  finished: string[];
}

/**
 * Finds every approved plan without a final result and makes sure it gets one: a plan whose
 * apply job is missing is queued again; a plan whose job ended without recording a result (its
 * worker crashed more often than the stalled-job check allows, or it was lost with Redis) is
 * finished from live state: applied, partly applied (naming what is in place) or not applied.
 * Runs at every worker's start and then periodically; safe to run anywhere at any time, since it
 * takes the plan's target locks before it concludes and the store records one result per plan.
 */
export async function reconcile(s: Services): Promise<ReconcileReport> {
  const report: ReconcileReport = { requeued: [], finished: [] };
  for (const id of await s.store.approvedUnfinished()) {
    const rec = await s.store.get(id);
    if (!rec || (rec.status !== 'approved' && rec.status !== 'applying')) {
      await s.store.forgetApproved(id);
      continue;
    }
    const data = { planId: id, hash: rec.plan.hash };
    const job = await s.applyQueue.find(data);
    const state = job ? await job.getState() : 'missing';
    if (ALIVE.has(state)) continue;
    if (state === 'missing') {
      await s.applyQueue.enqueue(data);
      s.logger.warn({ planId: id }, 'approved plan had no apply job; queued it again');
      report.requeued.push(id);
      continue;
    }
    // The job ended (failed or completed) and the plan still has no result.
    if (await conclude(s, rec, job?.failedReason ?? state)) report.finished.push(id);
  }
  return report;
}

async function conclude(s: Services, rec: PlanRecord, why: string): Promise<boolean> {
  const { plan } = rec;
  if (!s.binding.planIntact(plan) || !s.binding.decisionIntact(rec.decision, plan)) {
    await reportTamper(s, new TamperError(plan?.id ?? '?', 'an approved plan left without a result does not match its seals'), rec);
    await s.store.forgetApproved(String(plan?.id));
    return false;
  }
  let locks;
  try {
    locks = await s.locks.acquire(plan.changes.map((c) => c.target));
  } catch (err) {
    if (err instanceof LockBusyError) return false; // an apply is at work on it after all; next round
    throw err;
  }
  try {
    const changes = await describeChanges(s, plan.changes);
    const done = changes.filter((c) => c.state === 'done').length;
    const stopped = `its apply stopped for good (${why.replace(/^labgate-[a-z-]+:/, '').slice(0, 200)})`;
    const all = done === changes.length;
    return await finishPlan(s, rec, plan, all ? 'applied' : 'failed', {
      status: all ? 'applied' : 'failed',
      text: all
        ? `Applied ${plan.id}: ${changes.length} change${changes.length === 1 ? '' : 's'}, every one read back in place after ${stopped}`
        : `${done ? 'Partly applied' : 'Not applied'} ${plan.id}: ${stopped}. ${inPlace(changes)}. ${done ? 'Finish it or remove what it created with the buttons below, or run the command again' : 'Run the command again'}`,
      at: s.now(),
      changes,
    });
  } finally {
    await locks.release().catch(() => {});
  }
}
