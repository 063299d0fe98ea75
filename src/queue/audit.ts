import type { Redis } from 'ioredis';
import type { RedisKeys } from './redis.js';

export type AuditAction = 'plan' | 'approve' | 'reject' | 'expire' | 'apply' | 'refuse' | 'deny' | 'fail';

export interface AuditEntry {
  at: number;
  actor: string;
  action: AuditAction;
  planId?: string;
  command?: string;
  hash?: string;
  outcome: string;
}

/** An append-only Redis stream of who did what, when, to which plan and with what outcome. */
export class AuditLog {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly maxLen = 10_000,
  ) {}

  async append(e: AuditEntry): Promise<void> {
    const fields: string[] = ['at', String(e.at), 'actor', e.actor, 'action', e.action, 'outcome', e.outcome];
    if (e.planId) fields.push('plan', e.planId);
    if (e.command) fields.push('command', e.command);
    if (e.hash) fields.push('hash', e.hash);
    await this.redis.xadd(this.keys.audit, 'MAXLEN', '~', String(this.maxLen), '*', ...fields);
  }

  /** The latest `count` entries, newest first. */
  async latest(count: number): Promise<AuditEntry[]> {
    const rows = await this.redis.xrevrange(this.keys.audit, '+', '-', 'COUNT', count);
    return rows.map(([, f]) => {
      const m: Record<string, string> = {};
      for (let i = 0; i < f.length; i += 2) m[f[i]!] = f[i + 1]!;
      return {
        at: Number(m.at),
        actor: m.actor ?? '?',
        action: m.action as AuditAction,
        planId: m.plan,
        command: m.command,
        hash: m.hash,
        outcome: m.outcome ?? '',
      };
    });
  }
}
