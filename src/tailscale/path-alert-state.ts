import type { Redis } from 'ioredis';

/** How a node or an active peer is reached. */
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
 * The last path state seen per node and peer, one Redis hash per node, kept 30 days after the
 * last check. The first sighting of a subject is recorded without a transition.
 */
export class PathAlertState {
  constructor(
    private readonly redis: Redis,
    private readonly keyOf: (node: string) => string,
    private readonly keepMs = 30 * 86_400_000,
  ) {}

  /** Records the states seen now; returns what changed since the last check (by any worker), first sightings left out. */
  async swap(node: string, states: Record<string, PathState>): Promise<PathTransition[]> {
    const args = Object.entries(states).flat();
    if (!args.length) return [];
    const out = (await this.redis.eval(SWAP_LUA, 1, this.keyOf(node), ...args, String(this.keepMs))) as string[];
    const transitions: PathTransition[] = [];
    for (let i = 0; i < out.length; i += 2) transitions.push({ subject: out[i]!, from: out[i + 1] as PathState, to: states[out[i]!]! });
    return transitions;
  }

  /** Undoes a swap whose alert could not be delivered, so a later check reports it again. */
  async revert(node: string, transitions: PathTransition[]): Promise<void> {
    if (!transitions.length) return;
    await this.redis.eval(REVERT_LUA, 1, this.keyOf(node), ...transitions.flatMap((t) => [t.subject, t.from, t.to]));
  }
}
