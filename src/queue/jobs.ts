import type { JobsOptions } from 'bullmq';
import { AdapterError, isSystem, type System } from '../errors.js';
import type { ConversationRef, OutMessage } from '../messages/message.js';
import type { CommandRequest, Identity } from '../plan/model.js';

export const QUEUES = { plan: 'plan', apply: 'apply' } as const;

/** Job data holds only ids, validated options and who asked: never a secret. */
export interface PlanJobData {
  planId: string;
  command: CommandRequest;
  requester: Identity;
  conversation: ConversationRef;
}

export interface ReportJobData {
  command: CommandRequest;
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

/** A fault as it crosses Redis: `system` names the outside system that failed, when one did. */
export interface EncodedFault {
  ref: string;
  message: string;
  system?: System;
}

/** `err`'s system travels with it when it is an AdapterError (KubernetesError, OpenBaoError, …). */
export function encodeFault(ref: string, err: unknown): string {
  const system = err instanceof AdapterError ? err.system : undefined;
  return FAULT_TAG + JSON.stringify({ ref, message: (err as Error)?.message ?? String(err), ...(system ? { system } : {}) });
}

export function decodeFault(reason: string | undefined): EncodedFault | undefined {
  if (!reason?.startsWith(FAULT_TAG)) return undefined;
  try {
    const f = JSON.parse(reason.slice(FAULT_TAG.length)) as { ref: string; message: string; system?: unknown };
    return { ref: f.ref, message: f.message, ...(isSystem(f.system) ? { system: f.system } : {}) };
  } catch {
    return undefined;
  }
}
