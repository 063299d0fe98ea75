import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { APPLY_LOCK_MS } from '../config/schema.js';
import type { RedisKeys } from './redis.js';

// All-or-nothing: either every target is free and all are taken, or none is. The value carries a
// fencing number from one counter, so a holder's token is never reused by a later holder.
const ACQUIRE_LUA = `
for i = 1, #KEYS - 1 do if redis.call('EXISTS', KEYS[i]) == 1 then return {i, 0} end end
local fence = redis.call('INCR', KEYS[#KEYS])
local token = fence .. ':' .. ARGV[1]
for i = 1, #KEYS - 1 do redis.call('SET', KEYS[i], token, 'PX', ARGV[2]) end
return {0, token}
`;
const RELEASE_LUA = `
local n = 0
for i = 1, #KEYS do if redis.call('GET', KEYS[i]) == ARGV[1] then redis.call('DEL', KEYS[i]) n = n + 1 end end
return n
`;
// Renews every lock, or none: 0 when any of them is no longer ours (expired, or taken since).
const RENEW_LUA = `
for i = 1, #KEYS do if redis.call('GET', KEYS[i]) ~= ARGV[1] then return 0 end end
for i = 1, #KEYS do redis.call('PEXPIRE', KEYS[i], ARGV[2]) end
return 1
`;

export class LockBusyError extends Error {
  override readonly name = 'LockBusyError';
  constructor(readonly target: string) {
    super(`${target} is being changed by another apply`);
  }
}

/** This worker no longer holds its locks (it was paused, cut off or too slow): it must not write or post. */
export class LockLostError extends Error {
  override readonly name = 'LockLostError';
  constructor(readonly targets: string[]) {
    super(`the lock on ${targets.join(', ')} was lost; this worker stops without writing`);
  }
}

export interface HeldLocks {
  /** The fencing number: grows with every acquisition, across workers. */
  readonly fence: number;
  /** Throws LockLostError unless every lock is still this holder's; renews them on the way. */
  assertHeld(): Promise<void>;
  release(): Promise<void>;
}

/**
 * Per-target locks in Redis, fenced and renewed. Fails closed: if Redis cannot be reached the
 * caller gets the error and must not apply. While held, the locks are renewed every quarter of
 * their TTL; a holder whose renewal finds them gone (a pause longer than the TTL, a partition)
 * learns it at its next `assertHeld()`, before its next write.
 */
export class TargetLocks {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    readonly ttlMs = APPLY_LOCK_MS,
  ) {}

  async acquire(targets: string[]): Promise<HeldLocks> {
    const unique = [...new Set(targets)].sort();
    const lockKeys = unique.map((t) => this.keys.lock(t));
    const [busy, token] = (await this.redis.eval(ACQUIRE_LUA, lockKeys.length + 1, ...lockKeys, this.keys.lockFence, randomBytes(12).toString('hex'), String(this.ttlMs))) as [number, string];
    if (busy !== 0) throw new LockBusyError(unique[busy - 1]!);
    let lost = false;
    let renewedAt = Date.now();
    const renew = async () => {
      if (lost) return;
      const ok = (await this.redis.eval(RENEW_LUA, lockKeys.length, ...lockKeys, token, String(this.ttlMs))) === 1;
      if (!ok) lost = true;
      else renewedAt = Date.now();
    };
    const timer = setInterval(() => void renew().catch(() => {}), Math.max(50, Math.floor(this.ttlMs / 4)));
    timer.unref();
    return {
      fence: Number(token.split(':')[0]),
      assertHeld: async () => {
        // A renewal older than the TTL means the locks may have lapsed, whatever Redis says now.
        if (Date.now() - renewedAt > this.ttlMs) lost = true;
        if (!lost) await renew();
        if (lost) throw new LockLostError(unique);
      },
      release: async () => {
        clearInterval(timer);
        await this.redis.eval(RELEASE_LUA, lockKeys.length, ...lockKeys, token);
      },
    };
  }
}
