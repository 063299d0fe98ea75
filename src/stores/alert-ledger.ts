import type { Redis } from 'ioredis';
import type { RedisKeys } from './redis.js';

/** How a node or an active peer is reached (the relay-fallback alerts' state). */
export type PathState = 'direct' | 'peer-relay' | 'derp';

export interface PathTransition {
  /** `node`, or `peer:<hostname>`. */
  subject: string;
  from: PathState;
  to: PathState;
}

// Swaps every given field in one step and returns the ones whose value changed: of several
// workers checking at once, exactly one sees each change.
const SWAP_LUA = `
local out = {}
for i = 1, #ARGV - 1, 2 do
  local old = redis.call('HGET', KEYS[1], ARGV[i])
  if old ~= ARGV[i + 1] then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
    if old then table.insert(out, ARGV[i]) table.insert(out, old) end
  end
end
redis.call('PEXPIRE', KEYS[1], ARGV[#ARGV])
return out
`;

// Puts old values back where the new ones are still in place (the alert could not be posted).
const REVERT_LUA = `
for i = 1, #ARGV - 2, 3 do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[i + 2] then redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
end
return 1
`;

/**
 * The one record of alerts that went out, so each goes out once however many workers look and
 * however often. Keys live under `<prefix>:alert:<kind>:<key>`. Two shapes:
 * - a raised alert (`raise`/`clear`): certificate expiry, the gate's staleness alert; raise()
 *   returns true to the one caller that raised it, who posts and clears it if the post failed;
 * - a watched state (`swap`/`revert`): relay fallback, which alerts on each change of a path.
 */
export class AlertLedger {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Pick<RedisKeys, 'alert'>,
  ) {}

  private key(kind: string, key: string): string {
    return this.keys.alert(`${kind}:${key}`);
  }

  /** Raises `kind:key` for `keepMs` unless it is raised already; true when this call raised it. */
  async raise(kind: string, key: string, keepMs: number): Promise<boolean> {
    return (await this.raiseAll(kind, [{ key, keepMs }]))[0] ?? false;
  }

  /** raise() for many in one round trip; the answers keep the order of `items`. */
  async raiseAll(kind: string, items: readonly { key: string; keepMs: number }[]): Promise<boolean[]> {
    if (!items.length) return [];
    const pipeline = this.redis.pipeline();
    const at = String(Date.now());
    for (const it of items) pipeline.set(this.key(kind, it.key), at, 'PX', Math.max(1000, Math.ceil(it.keepMs)), 'NX');
    const replies = (await pipeline.exec()) ?? [];
    return items.map((_, i) => {
      const [err, reply] = replies[i] ?? [new Error('no reply from Redis'), null];
      if (err) throw err;
      return reply === 'OK';
    });
  }

  /** Which of these are raised now (one round trip). */
  async raised(kind: string, keys: readonly string[]): Promise<boolean[]> {
    if (!keys.length) return [];
    const values = await this.redis.mget(...keys.map((k) => this.key(kind, k)));
    return values.map((v) => v !== null);
  }

  /** Clears them: the condition ended, or the alert could not be posted and must go out again. How many were raised. */
  async clear(kind: string, ...keys: string[]): Promise<number> {
    return keys.length ? await this.redis.del(...keys.map((k) => this.key(kind, k))) : 0;
  }

  /**
   * Records the states of `scope`'s subjects seen now; returns what changed since the last look
   * (by any worker), first sightings left out. Kept `keepMs` after the last look.
   */
  async swap<S extends string>(kind: string, scope: string, states: Record<string, S>, keepMs: number): Promise<{ subject: string; from: S; to: S }[]> {
    const args = Object.entries(states).flat();
    if (!args.length) return [];
    const out = (await this.redis.eval(SWAP_LUA, 1, this.key(kind, scope), ...args, String(keepMs))) as string[];
    const changes: { subject: string; from: S; to: S }[] = [];
    for (let i = 0; i < out.length; i += 2) changes.push({ subject: out[i]!, from: out[i + 1] as S, to: states[out[i]!]! });
    return changes;
  }

  /** Undoes a swap whose alert could not be delivered, so a later look reports it again. */
  async revert(kind: string, scope: string, changes: readonly { subject: string; from: string; to: string }[]): Promise<void> {
    if (!changes.length) return;
    await this.redis.eval(REVERT_LUA, 1, this.key(kind, scope), ...changes.flatMap((t) => [t.subject, t.from, t.to]));
  }
}
