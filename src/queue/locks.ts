import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RedisKeys } from './redis.js';

// All-or-nothing: either every target is free and all are taken, or none is.
const ACQUIRE_LUA = `
for i = 1, #KEYS do if redis.call('EXISTS', KEYS[i]) == 1 then return i end end
for i = 1, #KEYS do redis.call('SET', KEYS[i], ARGV[1], 'PX', ARGV[2]) end
return 0
`;
const RELEASE_LUA = `
local n = 0
for i = 1, #KEYS do if redis.call('GET', KEYS[i]) == ARGV[1] then redis.call('DEL', KEYS[i]) n = n + 1 end end
return n
`;
const EXTEND_LUA = `
for i = 1, #KEYS do if redis.call('GET', KEYS[i]) == ARGV[1] then redis.call('PEXPIRE', KEYS[i], ARGV[2]) end end
return 1
`;

export class LockBusyError extends Error {
  override readonly name = 'LockBusyError';
  constructor(readonly target: string) {
    super(`${target} is being changed by another apply`);
  }
}

export interface HeldLocks {
  release(): Promise<void>;
  extend(): Promise<void>;
}

/**
 * Per-target locks in Redis. Fails closed: if Redis cannot be reached the caller gets the
 * error and must not apply.
 */
export class TargetLocks {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly ttlMs = 60_000,
  ) {}

  async acquire(targets: string[]): Promise<HeldLocks> {
    const unique = [...new Set(targets)].sort();
    const lockKeys = unique.map((t) => this.keys.lock(t));
    const token = randomBytes(12).toString('hex');
    const busy = (await this.redis.eval(ACQUIRE_LUA, lockKeys.length, ...lockKeys, token, String(this.ttlMs))) as number;
    if (busy !== 0) throw new LockBusyError(unique[busy - 1]!);
    return {
      release: async () => {
        await this.redis.eval(RELEASE_LUA, lockKeys.length, ...lockKeys, token);
      },
      extend: async () => {
        await this.redis.eval(EXTEND_LUA, lockKeys.length, ...lockKeys, token, String(this.ttlMs));
      },
    };
  }
}
