import type { Redis } from 'ioredis';
import type { ApprovalBinding } from '../approval/binding.js';
import type { ChatNotifier } from '../messages/notifier.js';
import type { Config } from '../config/load.js';
import type { CommandRegistry } from './command-registry.js';
import type { CommandContext, Ports } from './command.js';
import type { Logger } from '../log.js';
import type { Appliers } from '../plan/applier.js';
import type { Identity } from '../plan/model.js';
import type { ExposurePolicy } from '../policy/exposure-policy.js';
import type { ApplyQueue } from '../queue/apply-queue.js';
import type { AlertLedger } from '../stores/alert-ledger.js';
import type { AuditLog } from '../stores/audit.js';
import type { TargetLocks } from '../stores/locks.js';
import type { PlanStore } from '../stores/plan-store.js';
import type { RedisKeys } from '../stores/redis.js';
import type { AccessPolicy } from './access.js';
import type { Suggestions } from '../stores/suggestions.js';

/** Everything the dispatcher and the jobs stand on, built once per process and passed in. */
export interface Services {
  config: Config;
  logger: Logger;
  redis: Redis;
  keys: RedisKeys;
  store: PlanStore;
  locks: TargetLocks;
  audit: AuditLog;
  /** Which alerts went out (expiry, relay fallback, …): each goes out once. */
  alerts: AlertLedger;
  access: AccessPolicy;
  /** Seals and verifies plans and decisions: the one place "may this be applied" is decided. */
  binding: ApprovalBinding;
  policy: ExposurePolicy;
  /** Where approved plans are queued for apply (the chat side after an approval, the worker for self-service). */
  applyQueue: ApplyQueue;
  commands: CommandRegistry;
  ports: Ports;
  appliers: Appliers;
  notifier: ChatNotifier;
  /** Where this process's log goes, for messages that send a person there. */
  logPlace: string;
  suggestions: Suggestions;
  now: () => number;
}

/** `progress`: where a job reports its steps (BullMQ's job.updateProgress); a lost update never fails the job. */
export function commandContext(s: Services, requester: Identity, progress?: (step: string) => unknown): CommandContext {
  let last: string | undefined;
  const report = progress
    ? (step: string) => {
        if (step === last) return;
        last = step;
        Promise.resolve()
          .then(() => progress(step))
          .catch((err) => s.logger.debug({ err: (err as Error).message }, 'progress update not sent'));
      }
    : undefined;
  return {
    config: s.config,
    ports: s.ports,
    policy: s.policy,
    requester,
    now: s.now,
    suggest: (label, command) => s.suggestions.button(label, command),
    // What the OpenBao applier sends after a revocation; /mtls-check sends it for its throwaway certificate.
    pushRevocation: async (serial, revokedAt) => void (await s.redis.publish(s.keys.gateRevoked, JSON.stringify({ serial, revokedAt }))),
    ...(report ? { progress: report } : {}),
  };
}

export function actor(who: Identity): string {
  return `${who.platform}:${who.name}${who.platform === 'discord' ? `(${who.id})` : ''}`;
}
