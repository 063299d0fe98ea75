import type { Redis } from 'ioredis';
import type { RedisKeys } from './redis.js';

export type AuditAction = 'plan' | 'approve' | 'reject' | 'expire' | 'apply' | 'refuse' | 'deny' | 'fail' | 'tamper';

export interface AuditEntry {
  at: number;
  actor: string;
  action: AuditAction;
  planId?: string;
  command?: string;
  hash?: string;
  outcome: string;
}

/** A stored text field is clipped to this many characters: a pasted megabyte stays out of Redis. */
export const AUDIT_FIELD_MAX = 512;

const clip = (s: string) => ([...s].length > AUDIT_FIELD_MAX ? `${[...s].slice(0, AUDIT_FIELD_MAX - 1).join('')}…` : s);

/**
 * Append-only Redis streams of who did what, when, to which plan and with what outcome.
 * Denials go to a stream of their own with a cap of its own, so someone with no rights who
 * types a thousand commands evicts only denials, never plans, decisions and results.
 */
export class AuditLog {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly maxLen = 10_000,
    private readonly maxDenials = 1_000,
  ) {}

  async append(e: AuditEntry): Promise<void> {
    const fields: string[] = ['at', String(e.at), 'actor', clip(e.actor), 'action', e.action, 'outcome', clip(e.outcome)];
    if (e.planId) fields.push('plan', clip(e.planId));
    if (e.command) fields.push('command', clip(e.command));
    if (e.hash) fields.push('hash', clip(e.hash));
    const [key, max] = e.action === 'deny' ? [this.keys.auditDenials, this.maxDenials] : [this.keys.audit, this.maxLen];
    await this.redis.xadd(key, 'MAXLEN', '~', String(max), '*', ...fields);
  }

  /** The latest `count` entries of both streams, newest first. */
  async latest(count: number): Promise<AuditEntry[]> {
    const [main, denials] = await Promise.all([this.read(this.keys.audit, count), this.read(this.keys.auditDenials, count)]);
    return [...main, ...denials].sort((a, b) => b.id.localeCompare(a.id, undefined, { numeric: true }) || 0).slice(0, count).map((x) => x.entry);
  }

  private async read(key: string, count: number): Promise<{ id: string; entry: AuditEntry }[]> {
    const rows = await this.redis.xrevrange(key, '+', '-', 'COUNT', count);
    return rows.map(([id, f]) => {
      const m: Record<string, string> = {};
      for (let i = 0; i < f.length; i += 2) m[f[i]!] = f[i + 1]!;
      return {
        id,
        entry: {
          at: Number(m.at),
          actor: m.actor ?? '?',
          action: m.action as AuditAction,
          planId: m.plan,
          command: m.command,
          hash: m.hash,
          outcome: m.outcome ?? '',
        },
      };
    });
  }
}
