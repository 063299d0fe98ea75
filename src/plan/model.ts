import { randomBytes } from 'node:crypto';
import type { Seal } from '../approval/signing.js';
import type { ConversationRef } from '../messages/message.js';
import { canonicalJson, sha256 } from './canonical.js';

export type System = 'kubernetes' | 'openbao' | 'router';

/**
 * One change to one target. `before` is the live state the plan was computed from (null when
 * the target does not exist), `after` the state apply must produce (null to delete). Both
 * hold only what labgate manages, normalised, and never a secret.
 */
export interface Change {
  system: System;
  action: 'create' | 'update' | 'delete' | 'issue' | 'sign' | 'revoke';
  /** Stable identity of the target, also the lock name: "kubernetes:traefik.io/v1alpha1/IngressRoute/media/photos-ts". */
  target: string;
  before: unknown;
  after: unknown;
  /** One line for people: "create IngressRoute media/photos-ts (ts-secure → immich:2283)". */
  summary: string;
}

/** Who did something, on which chat. `id` is stable (Discord user id, shell user name). */
export interface Identity {
  platform: 'shell' | 'discord';
  id: string;
  name: string;
  /** Discord role ids of the member (empty in the shell). */
  roles: string[];
}

/** A command as asked for: by a chat, in a job, in a plan's seal, behind a suggestion button. The one name for it. */
export interface CommandRequest {
  /** Full command key: "expose", "route mode". */
  name: string;
  /** Raw option values as the chat delivered them (validated ones in a job or a plan). */
  options: Record<string, unknown>;
  /** As typed / shown, for the audit and the plan header. */
  text: string;
}

export interface Plan {
  id: string;
  command: CommandRequest;
  requester: Identity;
  /** Where it was asked and where its messages go. */
  conversation: ConversationRef;
  createdAt: number;
  expiresAt: number;
  changes: Change[];
  summary: string[];
  notes: string[];
  /** Shown above everything else, for the approver's eye: a downgrade of a Service's protection. */
  warnings: string[];
  hash: string;
  /** Set when the configuration lets this plan through without an approver (not hashed: it follows from config and changes). */
  autoApprove?: { reason: string };
  /** The planner's seal over everything above (src/approval/binding.ts); Redis cannot make one. */
  seal?: Seal;
}

/** An approval or rejection, sealed by whoever recorded it: bound to one plan id and hash. */
export interface Decision {
  planId: string;
  hash: string;
  action: 'approved' | 'rejected';
  by: Identity;
  at: number;
  /** Why it went ahead without an approver (self-service); absent for a person's decision. */
  reason?: string;
  seal?: Seal;
}

/** The hash binds an approval to exactly these changes computed from exactly this state. */
export function planHash(command: CommandRequest, changes: Change[]): string {
  return sha256(canonicalJson({ command: { name: command.name, options: command.options }, changes }));
}

const ID_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

/** Short ids people can type: "p-7kq2mx". */
export function newPlanId(): string {
  const bytes = randomBytes(6);
  let s = '';
  for (const b of bytes) s += ID_ALPHABET[b % ID_ALPHABET.length];
  return `p-${s}`;
}

export function buildPlan(args: {
  command: CommandRequest;
  requester: Identity;
  conversation: ConversationRef;
  now: number;
  ttlMs: number;
  changes: Change[];
  summary: string[];
  notes?: string[];
  warnings?: string[];
  autoApprove?: { reason: string };
}): Plan {
  return {
    id: newPlanId(),
    command: args.command,
    requester: args.requester,
    conversation: args.conversation,
    createdAt: args.now,
    expiresAt: args.now + args.ttlMs,
    changes: args.changes,
    summary: args.summary,
    notes: args.notes ?? [],
    warnings: args.warnings ?? [],
    hash: planHash(args.command, args.changes),
    ...(args.autoApprove ? { autoApprove: args.autoApprove } : {}),
  };
}
