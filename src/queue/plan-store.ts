import type { Redis } from 'ioredis';
import type { ConversationRef, MessageRef } from '../chat/message.js';
import type { Identity, Plan } from '../plan/model.js';
import type { RedisKeys } from './redis.js';

export type PlanStatus = 'pending' | 'approved' | 'rejected' | 'expired' | 'applying' | 'applied' | 'failed';

export interface PlanResult {
  status: 'applied' | 'failed' | 'refused';
  text: string;
  at: number;
  /** Per change: done / not done, for a failure that left part of the plan in place. */
  changes?: { summary: string; state: 'done' | 'not-done' | 'unknown' }[];
  ref?: string;
}

export interface PlanRecord {
  plan: Plan;
  conversation: ConversationRef;
  status: PlanStatus;
  message?: MessageRef;
  decidedBy?: Identity;
  decidedAt?: number;
  progress: number;
  result?: PlanResult;
}

export type DecideOutcome =
  | { ok: true }
  | { ok: false; reason: 'missing' | 'expired' | 'hash-mismatch' }
  | { ok: false; reason: 'decided'; status: PlanStatus };

// Plans are kept this long after they expire, so late clicks get a precise answer and /audit can link them.
const KEEP_AFTER_EXPIRY_S = 7 * 24 * 3600;

// Status changes are single Lua scripts on scalar hash fields: the plan body itself never changes.
const DECIDE_LUA = `
local st = redis.call('HMGET', KEYS[1], 'status', 'expiresAt', 'hash')
if not st[1] then return {'missing'} end
if st[1] ~= 'pending' then return {'decided', st[1]} end
if tonumber(ARGV[2]) >= tonumber(st[2]) then
  redis.call('HSET', KEYS[1], 'status', 'expired')
  redis.call('ZREM', KEYS[2], ARGV[5])
  return {'expired'}
end
if ARGV[3] ~= '' and string.sub(st[3], 1, string.len(ARGV[3])) ~= ARGV[3] then return {'hash-mismatch'} end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'decidedBy', ARGV[4], 'decidedAt', ARGV[2])
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

  async create(plan: Plan, conversation: ConversationRef): Promise<void> {
    const key = this.keys.plan(plan.id);
    await this.redis
      .multi()
      .hset(key, {
        plan: JSON.stringify(plan),
        conversation: JSON.stringify(conversation),
        status: 'pending',
        expiresAt: String(plan.expiresAt),
        hash: plan.hash,
        progress: '0',
      })
      // Relative to the plan's own lifetime, never to a wall clock: labgate's clock (a test's,
      // or a host's that drifts) and Redis's need not agree.
      .pexpire(key, plan.expiresAt - plan.createdAt + KEEP_AFTER_EXPIRY_S * 1000)
      .zadd(this.keys.pending, plan.createdAt, plan.id)
      .exec()
      .then(throwOnMultiError);
  }

  async get(id: string): Promise<PlanRecord | undefined> {
    const h = await this.redis.hgetall(this.keys.plan(id));
    if (!h.plan) return undefined;
    return {
      plan: JSON.parse(h.plan) as Plan,
      conversation: JSON.parse(h.conversation!) as ConversationRef,
      status: h.status as PlanStatus,
      message: h.message ? (JSON.parse(h.message) as MessageRef) : undefined,
      decidedBy: h.decidedBy ? (JSON.parse(h.decidedBy) as Identity) : undefined,
      decidedAt: h.decidedAt ? Number(h.decidedAt) : undefined,
      progress: Number(h.progress ?? 0),
      result: h.result ? (JSON.parse(h.result) as PlanResult) : undefined,
    };
  }

  async exists(id: string): Promise<boolean> {
    return (await this.redis.exists(this.keys.plan(id))) === 1;
  }

  async setMessage(id: string, ref: MessageRef): Promise<void> {
    await this.redis.hset(this.keys.plan(id), 'message', JSON.stringify(ref));
  }

  /** pending → approved|rejected, atomically, only before expiry and for the plan's hash. */
  async decide(id: string, to: 'approved' | 'rejected', by: Identity, now: number, hashPrefix = ''): Promise<DecideOutcome> {
    const res = (await this.redis.eval(DECIDE_LUA, 3, this.keys.plan(id), this.keys.pending, this.keys.approved, to, String(now), hashPrefix, JSON.stringify(by), id)) as string[];
    if (res[0] === 'ok') return { ok: true };
    if (res[0] === 'decided') return { ok: false, reason: 'decided', status: res[1] as PlanStatus };
    return { ok: false, reason: res[0] as 'missing' | 'expired' | 'hash-mismatch' };
  }

  /** Moves to `to` only from one of `from`; returns the status found when it did not. */
  async transition(id: string, to: PlanStatus, from: PlanStatus[]): Promise<'ok' | PlanStatus | 'missing'> {
    return (await this.redis.eval(TRANSITION_LUA, 1, this.keys.plan(id), to, ...from)) as 'ok' | PlanStatus | 'missing';
  }

  async setProgress(id: string, progress: number): Promise<void> {
    await this.redis.hset(this.keys.plan(id), 'progress', String(progress));
  }

  async finish(id: string, status: 'applied' | 'failed', result: PlanResult): Promise<void> {
    await this.redis
      .multi()
      .hset(this.keys.plan(id), 'status', status, 'result', JSON.stringify(result))
      .srem(this.keys.approved, id)
      .exec()
      .then(throwOnMultiError);
  }

  /** Marks a pending plan past its expiry as expired; true when it did. */
  async expireIfDue(id: string, now: number): Promise<boolean> {
    return (await this.redis.eval(EXPIRE_LUA, 2, this.keys.plan(id), this.keys.pending, String(now), id)) === 1;
  }

  /** Ids of pending plans, newest first (some may have expired since). */
  async pending(limit = 20): Promise<string[]> {
    return await this.redis.zrevrange(this.keys.pending, 0, limit - 1);
  }

  async forgetPending(id: string): Promise<void> {
    await this.redis.zrem(this.keys.pending, id);
  }

  /** Approved plans not yet finished: the apply queue must hold a job for each (recovery after a crash). */
  async approvedUnfinished(): Promise<string[]> {
    return await this.redis.smembers(this.keys.approved);
  }
}

export function throwOnMultiError(res: [Error | null, unknown][] | null): void {
  if (!res) throw new Error('Redis transaction aborted');
  for (const [err] of res) if (err) throw err;
}
