import { planMessage } from '../messages/plan-messages.js';
import type { MessageRef } from '../messages/message.js';
import type { PlanRecord } from '../stores/plan-store.js';
import type { Services } from './services.js';

/**
 * The one owner of a plan's message: it posts the card once and redraws it from the plan's
 * record whenever the state changes. Nothing else calls planMessage() to post or edit.
 */
export async function postPlanCard(s: Pick<Services, 'notifier' | 'store'>, rec: PlanRecord): Promise<PlanRecord> {
  if (rec.message) return rec;
  const message: MessageRef = await s.notifier.post(rec.plan.conversation, planMessage(rec));
  await s.store.setMessage(rec.plan.id, message);
  return { ...rec, message };
}

/** Redraws the card (buttons off once decided); a chat outage is logged, never thrown. */
export async function showPlanState(s: Pick<Services, 'notifier' | 'logger'>, rec: PlanRecord): Promise<void> {
  if (!rec.message) return;
  await s.notifier.edit(rec.message, planMessage(rec)).catch((err: unknown) => s.logger.warn({ err, planId: rec.plan.id }, 'could not update the plan message'));
}
