import { planDiff } from '../plan/diff.js';
import type { Identity } from '../plan/model.js';
import type { PlanRecord } from '../stores/plan-store.js';
import type { Button, OutMessage, PlanState } from './message.js';
import { iso } from '../duration.js';

/** Buttons carry the plan id and a hash prefix, so a click is bound to exactly this plan. */
export const HASH_PREFIX_LEN = 12;

export function decisionButtonId(action: 'approve' | 'reject', planId: string, hash: string): string {
  return `${action}:${planId}:${hash.slice(0, HASH_PREFIX_LEN)}`;
}

export function parseDecisionButtonId(id: string): { action: 'approve' | 'reject'; planId: string; hashPrefix: string } | undefined {
  const m = /^(approve|reject):(p-[a-z0-9]{4,16}):([0-9a-f]{12})$/.exec(id);
  return m ? { action: m[1] as 'approve' | 'reject', planId: m[2]!, hashPrefix: m[3]! } : undefined;
}

export function who(id: Identity): string {
  return id.platform === 'discord' ? `<@${id.id}>` : id.name;
}


function statusLine(rec: PlanRecord): string | undefined {
  switch (rec.status) {
    case 'pending':
      return undefined;
    case 'approved':
      return `Approved by ${who(rec.decidedBy!)}; applying…`;
    case 'applying':
      return `Approved by ${who(rec.decidedBy!)}; applying…`;
    case 'rejected':
      return `Rejected by ${who(rec.decidedBy!)}.`;
    case 'expired':
      return `Expired at ${iso(rec.plan.expiresAt)} without a decision.`;
    case 'applied':
      return `Approved by ${who(rec.decidedBy!)}; applied.`;
    case 'failed':
      // A refusal (the state changed since the plan) is not a failure: nothing was attempted.
      return rec.result?.status === 'refused' ? `Approved by ${who(rec.decidedBy!)}; not applied: the state changed since the plan.` : `Approved by ${who(rec.decidedBy!)}; apply failed.`;
  }
}

function planState(rec: PlanRecord): PlanState {
  switch (rec.status) {
    case 'approved':
      return 'applying';
    case 'failed':
      return rec.result?.status === 'refused' ? 'refused' : 'failed';
    default:
      return rec.status;
  }
}

/** The plan as posted for approval, and as it reads after a decision (buttons disabled). */
export function planMessage(rec: PlanRecord): OutMessage {
  const { plan } = rec;
  const open = rec.status === 'pending';
  const buttons: Button[] = [
    { id: decisionButtonId('approve', plan.id, plan.hash), label: 'Approve', style: 'success', disabled: !open },
    { id: decisionButtonId('reject', plan.id, plan.hash), label: 'Reject', style: 'danger', disabled: !open },
  ];
  const status = statusLine(rec);
  return {
    kind: 'plan',
    planId: plan.id,
    text: `Plan ${plan.id}: ${plan.command.text}`,
    fields: [
      { name: 'Requested by', value: who(plan.requester) },
      { name: 'Expires', value: iso(plan.expiresAt) },
      { name: 'Changes', value: String(plan.changes.length) },
      ...(status ? [{ name: 'Status', value: status }] : []),
    ],
    lines: [...(plan.warnings ?? []).map((w) => `⚠ Warning: ${w}`), ...plan.summary.map((s) => `• ${s}`), ...plan.notes.map((n) => `Note: ${n}`)],
    diff: planDiff(plan.changes),
    buttons,
    planStatus: { state: planState(rec), ...(status ? { line: status } : {}) },
  };
}

/** The outcome of an apply, posted where the plan was. */
export function resultMessage(rec: PlanRecord): OutMessage {
  const r = rec.result!;
  const lines = r.changes?.map((c) => `${c.state === 'done' ? '✓' : c.state === 'not-done' ? '✗' : '?'} ${c.summary}`) ?? [];
  // The marks explain themselves only when every change is done.
  if (r.changes?.some((c) => c.state !== 'done')) lines.push('(✓ in place · ✗ not in place · ? could not be read back)');
  return {
    kind: 'result',
    planId: rec.plan.id,
    text: r.text,
    lines,
    result: { status: r.status === 'applied' ? 'applied' : r.status === 'refused' ? 'refused' : 'failed', detail: r.text },
    ...(r.ref ? { ref: r.ref } : {}),
  };
}
