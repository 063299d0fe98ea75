import type { JobsOptions } from 'bullmq';
import type { ConversationRef, OutMessage } from '../chat/message.js';
import type { CommandInvocation, Identity } from '../plan/model.js';

export const QUEUES = { plan: 'plan', apply: 'apply' } as const;

/** Job data holds only ids, validated options and who asked: never a secret. */
export interface PlanJobData {
  planId: string;
  command: CommandInvocation;
  requester: Identity;
  conversation: ConversationRef;
}

export interface ReportJobData {
  command: CommandInvocation;
  requester: Identity;
  conversation: ConversationRef;
}

export interface ApplyJobData {
  planId: string;
  hash: string;
  /** How often this apply waited out a lock another apply held (bookkeeping only; no seal). */
  lockWaits?: number;
}

export interface PlanJobResult {
  planId: string;
  hash: string;
  changes: number;
  /** The planning worker approved it itself (self-service) and queued its apply. */
  autoApproved?: boolean;
}

/** A report meant for the asker alone comes back here, never into the channel; a public one is posted. */
export type ReportJobResult = { posted: true } | { private: OutMessage };

/** Derived from the plan and its hash: a second approval click adds nothing. */
export function applyJobId(planId: string, hash: string): string {
  return `apply-${planId}-${hash.slice(0, 16)}`;
}

const backoff = (delay: number) => ({ type: 'exponential' as const, delay, jitter: 0.5 });

export const JOB_OPTIONS: Record<'plan' | 'report' | 'apply', JobsOptions> = {
  plan: { attempts: 3, backoff: backoff(200), removeOnComplete: { age: 3600, count: 1000 }, removeOnFail: { age: 24 * 3600 } },
  report: { attempts: 3, backoff: backoff(200), removeOnComplete: { age: 600, count: 200 }, removeOnFail: { age: 24 * 3600 } },
  apply: { attempts: 5, backoff: backoff(500), removeOnComplete: { age: 24 * 3600 }, removeOnFail: { age: 7 * 24 * 3600 } },
};

// Faults cross Redis as a tagged failure reason: a short message plus the log reference.
const FAULT_TAG = 'labgate-fault:';

export function encodeFault(ref: string, message: string): string {
  return FAULT_TAG + JSON.stringify({ ref, message });
}

export function decodeFault(reason: string | undefined): { ref: string; message: string } | undefined {
  if (!reason?.startsWith(FAULT_TAG)) return undefined;
  try {
    return JSON.parse(reason.slice(FAULT_TAG.length)) as { ref: string; message: string };
  } catch {
    return undefined;
  }
}
