import type { Redis } from 'ioredis';
import type { Seal } from '../approval/signing.js';
import type { ConversationRef, MessageRef } from '../messages/message.js';
import type { Decision, Identity, Plan } from '../plan/model.js';
import type { RedisKeys } from './redis.js';
import { metrics } from '../ops/metrics.js';

export type PlanStatus = 'pending' | 'approved' | 'rejected' | 'expired' | 'applying' | 'applied' | 'failed';

export interface PlanResult {
  status: 'applied' | 'failed' | 'refused';
  text: string;
  at: number;
  /** Per change: done / not done, for a failure that left part of the plan in place. */
  changes?: { summary: string; state: 'done' | 'not-done' | 'unknown' }[];
  ref?: string;
}

/** One step of an apply, written before the write it announces ('intent') and after it ('done'). */
export interface JournalEntry {
  planId: string;
  hash: string;
  index: number;
  phase: 'intent' | 'done';
  at: number;
  seal?: Seal;
}

/**
 * A plan as Redis holds it. Only `plan` and `decision` carry seals; everything else here is
 * bookkeeping that Redis may lie about, so src/approval/binding.ts decides nothing from it alone.
 */
export interface PlanRecord {
  plan: Plan;
  conversation: ConversationRef;
  status: PlanStatus;
  message?: MessageRef;
  decision?: Decision;
  decidedBy?: Identity;
  decidedAt?: number;
  result?: PlanResult;
  /** The plan as stored, byte for byte: what a decision is bound to in the decide script. */
  raw: string;
}

export type DecideOutcome =
  | { ok: true }
  | { ok: false; reason: 'missing' | 'expired' | 'changed' }
  | { ok: false; reason: 'decided'; status: PlanStatus };

// Plans are kept this long after they expire, so late clicks get a precise answer and /audit can link them.
const KEEP_AFTER_EXPIRY_S = 7 * 24 * 3600;

// The decision is recorded only if the plan is still exactly the one that was verified and shown
// (ARGV[3]): a record edited between the check and the click is not approved.
const DECIDE_LUA = `
local st = redis.call('HMGET', KEYS[1], 'status', 'plan')
if not st[1] then return {'missing'} end
if st[2] ~= ARGV[3] then return {'changed'} end
if st[1] ~= 'pending' then return {'decided', st[1]} end
if tonumber(ARGV[2]) >= tonumber(ARGV[6]) then
  redis.call('HSET', KEYS[1], 'status', 'expired')
  redis.call('ZREM', KEYS[2], ARGV[5])
  return {'expired'}
end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'decision', ARGV[4])
redis.call('ZREM', KEYS[2], ARGV[5])
if ARGV[1] == 'approved' then redis.call('SADD', KEYS[3], ARGV[5]) end
return {'ok'}
`;

const EXPIRE_LUA = `
local st = redis.call('HMGET', KEYS[1], 'status', 'expiresAt')
if st[1] ~= 'pending' or tonumber(ARGV[1]) < tonumber(st[2]) then return 0 end
redis.call('HSET', KEYS[1], 'status', 'expired')
redis.call('ZREM', KEYS[2], ARGV[2])
return 1
`;

const FINISH_LUA = `
local st = redis.call('HGET', KEYS[1], 'status')
redis.call('SREM', KEYS[2], ARGV[3])
if st ~= 'approved' and st ~= 'applying' then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'result', ARGV[2])
return 1
`;

const TRANSITION_LUA = `
local st = redis.call('HGET', KEYS[1], 'status')
if not st then return 'missing' end
for i = 2, #ARGV do if st == ARGV[i] then redis.call('HSET', KEYS[1], 'status', ARGV[1]) return 'ok' end end
return st
`;

/** Plans and their approval state in Redis (no secrets: plans hold only what labgate manages). */
export class PlanStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async create(plan: Plan): Promise<void> {
    const key = this.keys.plan(plan.id);
    // Relative to the plan's own lifetime, never to a wall clock: labgate's clock (a test's, or a
    // host's that drifts) and Redis's need not agree.
    const keepMs = plan.expiresAt - plan.createdAt + KEEP_AFTER_EXPIRY_S * 1000;
    await this.redis
      .multi()
      .hset(key, { plan: JSON.stringify(plan), status: 'pending', expiresAt: String(plan.expiresAt), hash: plan.hash })
      .pexpire(key, keepMs)
      .zadd(this.keys.pending, plan.createdAt, plan.id)
      .exec()
      .then(throwOnMultiError);
  }

  async get(id: string): Promise<PlanRecord | undefined> {
    const h = await this.redis.hgetall(this.keys.plan(id));
    if (!h.plan) return undefined;
    const plan = parseOr(h.plan, undefined) as Plan | undefined;
    if (!plan || typeof plan !== 'object') return undefined;
    const decision = h.decision ? (parseOr(h.decision, undefined) as Decision | undefined) : undefined;
    return {
      plan,
      conversation: plan.conversation,
      status: h.status as PlanStatus,
      message: h.message ? (parseOr(h.message, undefined) as MessageRef | undefined) : undefined,
      decision,
      decidedBy: decision?.by,
      decidedAt: decision?.at,
      result: h.result ? (parseOr(h.result, undefined) as PlanResult | undefined) : undefined,
      raw: h.plan,
    };
  }

  async setMessage(id: string, ref: MessageRef): Promise<void> {
    await this.redis.hset(this.keys.plan(id), 'message', JSON.stringify(ref));
  }

  /** pending → approved|rejected, atomically, before `expiresAt`, and only while the record still holds `raw`. */
  async decide(rec: Pick<PlanRecord, 'raw' | 'plan'>, decision: Decision, now: number): Promise<DecideOutcome> {
    const id = rec.plan.id;
    const res = (await this.redis.eval(
      DECIDE_LUA,
      3,
      this.keys.plan(id),
      this.keys.pending,
      this.keys.approved,
      decision.action,
      String(now),
      rec.raw,
      JSON.stringify(decision),
      id,
      String(rec.plan.expiresAt),
    )) as string[];
    if (res[0] === 'ok') {
      if (decision.action === 'rejected') metrics.planFinished('rejected');
      return { ok: true };
    }
    if (res[0] === 'expired') metrics.planFinished('expired');
    if (res[0] === 'decided') return { ok: false, reason: 'decided', status: res[1] as PlanStatus };
    return { ok: false, reason: res[0] as 'missing' | 'expired' | 'changed' };
  }

  /** Moves to `to` only from one of `from`; returns the status found when it did not. */
  async transition(id: string, to: PlanStatus, from: PlanStatus[]): Promise<'ok' | PlanStatus | 'missing'> {
    return (await this.redis.eval(TRANSITION_LUA, 1, this.keys.plan(id), to, ...from)) as 'ok' | PlanStatus | 'missing';
  }

  /** Appends one sealed step of the apply journal. */
  async journal(entry: JournalEntry): Promise<void> {
    const key = this.keys.journal(entry.planId);
    await this.redis.multi().rpush(key, JSON.stringify(entry)).pexpire(key, KEEP_AFTER_EXPIRY_S * 1000).exec().then(throwOnMultiError);
  }

  /** The apply journal as stored (seals unchecked; the binding checks them). */
  async journalOf(id: string): Promise<unknown[]> {
    return (await this.redis.lrange(this.keys.journal(id), 0, -1)).map((l) => parseOr(l, l));
  }

  /**
   * Records the final result, once: only an approved or applying plan takes one, so of two
   * workers finishing the same plan (a recovered apply and the reconciler) only the first posts.
   * False when the plan already had its result.
   */
  async finish(id: string, status: 'applied' | 'failed', result: PlanResult): Promise<boolean> {
    return (await this.redis.eval(FINISH_LUA, 2, this.keys.plan(id), this.keys.approved, status, JSON.stringify(result), id)) === 1;
  }

  /** Marks a pending plan past its expiry as expired; true when it did. */
  async expireIfDue(id: string, now: number): Promise<boolean> {
    const expired = (await this.redis.eval(EXPIRE_LUA, 2, this.keys.plan(id), this.keys.pending, String(now), id)) === 1;
    if (expired) metrics.planFinished('expired');
    return expired;
  }

  /** Ids of pending plans, newest first (some may have expired since). */
  async pending(limit = 20): Promise<string[]> {
    return await this.redis.zrevrange(this.keys.pending, 0, limit - 1);
  }

  async forgetPending(id: string): Promise<void> {
    await this.redis.zrem(this.keys.pending, id);
  }

  /** Drops a plan from the approved-unfinished index (it has its result, or is gone). */
  async forgetApproved(id: string): Promise<void> {
    await this.redis.srem(this.keys.approved, id);
  }

  /** Approved plans not yet finished: the apply queue must hold a job for each (recovery after a crash). */
  async approvedUnfinished(): Promise<string[]> {
    return await this.redis.smembers(this.keys.approved);
  }
}

function parseOr(text: string, fallback: unknown): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return fallback;
  }
}

export function throwOnMultiError(res: [Error | null, unknown][] | null): void {
  if (!res) throw new Error('Redis transaction aborted');
  for (const [err] of res) if (err) throw err;
}
