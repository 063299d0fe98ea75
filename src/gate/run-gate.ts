import { alertsConversation } from '../messages/conversations.js';
import type { ChatNotifier } from '../messages/notifier.js';
import type { Config } from '../config/load.js';
import type { Logger } from '../log.js';
import { createRedis, redisKeys } from '../stores/redis.js';
import { AlertLedger } from '../stores/alert-ledger.js';
import { openBaoCrlSource } from './crl-source.js';
import { GateAlerts } from './gate-alerts.js';
import { startGate, type Gate } from './gate-server.js';

/** `HOST:PORT` of --listen, or a message naming the option and what it takes. */
export function parseListen(text: string): { host: string; port: number } | string {
  const m = /^(\[[0-9a-f:]+\]|[^:\s]+):(\d{1,5})$/i.exec(text.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) return `--listen: HOST:PORT, like 0.0.0.0:8080 or 127.0.0.1:0 (got ${JSON.stringify(text)})`;
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

/**
 * A gate from labgate's configuration: the device issuer's CRL from OpenBao (BAO_ADDR,
 * openbao.mount, openbao.deviceIssuer; no token needed), revocations pushed on
 * `<redis.prefix>:gate:revoked`, alerts to the alerts channel.
 */
export async function startConfiguredGate(config: Config, d: { listen: { host: string; port: number }; notifier: ChatNotifier; logger: Logger }): Promise<Gate & { closeAll(): Promise<void> }> {
  if (!config.env.BAO_ADDR) throw new Error('labgate gate needs BAO_ADDR: it reads the device issuer and its CRL from OpenBao');
  const keys = redisKeys(config.redis.prefix);
  const redis = createRedis(config.env, 'client');
  redis.on('error', () => {});
  const gate = await startGate(d.listen, {
    source: openBaoCrlSource({
      baseUrl: config.env.BAO_ADDR,
      mount: config.openbao?.mount ?? 'pki',
      issuer: config.openbao?.deviceIssuer ?? 'devices',
      timeoutMs: config.openbao?.timeout ?? 8000,
      caFile: config.env.BAO_CACERT,
    }),
    refreshEveryMs: config.gate.refreshEvery,
    maxStalenessMs: config.gate.maxStaleness,
    redisUrl: config.env,
    channel: keys.gateRevoked,
    alerts: new GateAlerts({ notifier: d.notifier, to: alertsConversation(config), ledger: new AlertLedger(redis, keys), logger: d.logger }),
    logger: d.logger,
  });
  return {
    ...gate,
    closeAll: async () => {
      await gate.close();
      redis.disconnect();
    },
  };
}
