import { metrics } from '../src/ops/metrics.js';
import { resultMessage } from '../src/messages/plan-messages.js';
import { showPlanState } from '../src/core/plan-card.js';
import type { Button } from '../src/messages/message.js';
import { actor, type Services } from '../src/core/services.js';
import type { SystemApplier } from '../src/plan/applier.js';
import { sameState } from '../src/plan/canonical.js';
import type { Change, Plan } from '../src/plan/model.js';
import type { PlanRecord, PlanResult } from '../src/stores/plan-store.js';

/**
 * How an apply ends, shared by the apply job and the reconciler that finishes what a crashed or
 * stopped apply left: the live state of each change, and the one final result, recorded once and
 * posted where the plan is.
 */

export type ChangeState = 'done' | 'todo' | 'changed';

export function applierFor(s: Services, c: Change): SystemApplier {
  const a = s.appliers[c.system];
  if (!a) throw new Error(`no ${c.system} applier is configured in this worker`);
  return a;
}

/** Each change's target read now: at its `after` (done), at its `before` (todo), or neither. */
export async function liveStates(s: Services, changes: Change[]): Promise<ChangeState[]> {
  const live = await Promise.all(changes.map((c) => applierFor(s, c).read(c)));
  return changes.map((c, i) => (sameState(live[i], c.after) ? 'done' : sameState(live[i], c.before) ? 'todo' : 'changed'));
}

/** Per change, what is in place now; 'unknown' where it cannot be read. */
export async function describeChanges(s: Services, changes: Change[]): Promise<NonNullable<PlanResult['changes']>> {
  try {
    const states = await liveStates(s, changes);
    return changes.map((c, i) => ({ summary: c.summary, state: states[i] === 'done' ? 'done' : states[i] === 'todo' ? 'not-done' : 'unknown' }));
  } catch {
    return changes.map((c) => ({ summary: c.summary, state: 'unknown' as const }));
  }
}

/** "2 of 3 changes in place", and how many could not be read. */
export function inPlace(changes: NonNullable<PlanResult['changes']>): string {
  const done = changes.filter((c) => c.state === 'done').length;
  const unknown = changes.filter((c) => c.state === 'unknown').length;
  return `${done} of ${changes.length} change${changes.length === 1 ? '' : 's'} in place${unknown ? ` (${unknown} could not be read back)` : ''}`;
}

/**
 * For a plan left partly applied: a button that plans the rest (the same command again), and,
 * for an exposure, one that removes what exists of it. Either is a new plan, approved as any.
 */
async function followUps(s: Services, plan: Plan): Promise<Button[]> {
  const buttons = [await s.suggestions.button(`Finish: ${plan.command.text}`, { name: plan.command.name, options: plan.command.options, text: plan.command.text })];
  const host = plan.command.options.host;
  if ((plan.command.name === 'expose' || plan.command.name === 'route mode') && typeof host === 'string')
    buttons.push(await s.suggestions.button(`Remove: /unexpose host:${host}`, { name: 'unexpose', options: { host }, text: `/unexpose host:${host}` }, 'danger'));
  return buttons;
}

/**
 * Records the final result and posts it where the plan is, with the plan message updated. Only the
 * first to finish a plan records and posts (the store's finish is atomic); false for the others.
 */
export async function finishPlan(s: Services, rec: PlanRecord, plan: Plan, status: 'applied' | 'failed', result: PlanResult): Promise<boolean> {
  if (!(await s.store.finish(plan.id, status, result))) return false;
  countFinished(rec, plan, result);
  const done = { ...rec, plan, status, result };
  await s.audit
    .append({ at: result.at, actor: actor(rec.decision?.by ?? plan.requester), action: status === 'applied' ? 'apply' : result.status === 'refused' ? 'refuse' : 'fail', planId: plan.id, command: plan.command.text, hash: plan.hash, outcome: result.text })
    .catch((err) => s.logger.error({ err, planId: plan.id }, 'could not audit the apply result'));
  try {
    const partial = result.changes?.some((c) => c.state === 'done') && result.changes.some((c) => c.state !== 'done');
    const buttons = partial ? await followUps(s, plan).catch(() => []) : [];
    await showPlanState(s, done);
    await s.notifier.post(plan.conversation, { ...resultMessage(done), ...(buttons.length ? { buttons } : {}) });
  } catch (err) {
    // The outcome is recorded and audited; a chat outage must not turn a done apply into a retry.
    s.logger.error({ err, planId: plan.id }, 'could not post the apply result');
  }
  s.logger.info({ planId: plan.id, status: result.status, text: result.text }, 'plan finished');
  return true;
}

/** Metrics of a recorded result: final status, approve → applied time, and which system a failure was in. */
function countFinished(rec: PlanRecord, plan: Plan, result: PlanResult): void {
  metrics.planFinished(result.status);
  const approvedAt = rec.decision?.action === 'approved' ? rec.decision.at : rec.decidedAt;
  if (result.status === 'applied' && approvedAt !== undefined) metrics.approvedToApplied(result.at - approvedAt);
  if (result.status === 'failed') {
    const i = result.changes?.findIndex((c) => c.state !== 'done') ?? -1;
    metrics.applyFailed(plan.changes[i < 0 ? 0 : i]?.system ?? 'unknown');
  }
}
