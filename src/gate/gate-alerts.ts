import type { ConversationRef } from '../messages/message.js';
import type { ChatNotifier } from '../messages/notifier.js';
import type { Logger } from '../log.js';
import type { AlertLedger } from '../stores/alert-ledger.js';

// Raised until the gate recovers; kept long past any outage so a restart does not repeat it.
const STALE_KEEP_MS = 30 * 86_400_000;

/**
 * The two alerts of a gate whose revocation list went stale: one when it starts failing closed,
 * one when it recovers. Replicas share one entry of the alert ledger (`gate:stale`), so the
 * channel hears each once, not once per replica; without Redis each replica says it itself (better twice than never).
 */
export class GateAlerts {
  constructor(
    private readonly d: { notifier: ChatNotifier; to: ConversationRef; ledger?: AlertLedger; logger: Logger },
  ) {}

  private async first(stale: boolean): Promise<boolean> {
    if (!this.d.ledger) return true;
    try {
      return stale ? await this.d.ledger.raise('gate', 'stale', STALE_KEEP_MS) : (await this.d.ledger.clear('gate', 'stale')) === 1;
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
