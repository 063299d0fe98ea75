import type { Redis } from 'ioredis';
import type { ConversationRef } from '../messages/message.js';
import type { ChatNotifier } from '../messages/notifier.js';
import type { Logger } from '../log.js';

/**
 * The two alerts of a gate whose revocation list went stale: one when it starts failing closed,
 * one when it recovers. Replicas share one Redis key, so the channel hears each once, not once
 * per replica; without Redis each replica says it itself (better twice than never).
 */
export class GateAlerts {
  constructor(
    private readonly d: { notifier: ChatNotifier; to: ConversationRef; redis?: Redis; key: string; logger: Logger },
  ) {}

  private async first(stale: boolean): Promise<boolean> {
    if (!this.d.redis) return true;
    try {
      return stale ? (await this.d.redis.set(this.d.key, String(Date.now()), 'NX')) === 'OK' : (await this.d.redis.del(this.d.key)) === 1;
    } catch {
      return true;
    }
  }

  async transition(stale: boolean, detail: string): Promise<void> {
    if (!(await this.first(stale))) return;
    const msg = stale
      ? { kind: 'alert' as const, text: 'mTLS gate: the revocation list is out of date; every mtls-strict request is refused (503) until it is refreshed', lines: [detail] }
      : { kind: 'alert' as const, text: 'mTLS gate: the revocation list is fresh again; mtls-strict requests are checked and let through', lines: [detail] };
    try {
      await this.d.notifier.post(this.d.to, msg);
    } catch (err) {
      this.d.logger.error({ err, stale }, 'could not post the gate alert');
    }
  }
}
