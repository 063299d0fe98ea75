import type { ScheduledJob } from '../src/core/scheduled-job.js';
import { runExpiryScan } from './expiry-scan.js';
import { publishCertificateExpiry } from '../src/ops/fleet-gauges.js';
import { DeviceInventory } from '../src/openbao/device-inventory.js';

/**
 * Expiry alerts for device certificates, labgate's TLS Secrets and OpenBao's CA, and the
 * client-CA drift check, every `openbao.expiry.scanEvery` when OpenBao is configured.
 * Idempotent: alerts are deduplicated in Redis, so a rerun posts nothing new.
 */
export const certExpiryScan: ScheduledJob = {
  name: 'cert-expiry-scan',
  every: (s) => (s.ports.openbao && s.config.openbao ? s.config.openbao.expiry.scanEvery : undefined),
  run: async (s) => {
    // OpenBao's listing is read once and serves the alerts and the metrics alike.
    const listing = s.ports.openbao && s.config.openbao ? await new DeviceInventory(s.ports.openbao, s.now).listing() : undefined;
    const result = await runExpiryScan(s, listing);
    // The metrics' view of every device certificate (src/ops): a failure here costs no alert.
    await publishCertificateExpiry(s, listing).catch((err: Error) => s.logger.warn({ err: err.message }, 'could not read the certificates for the expiry metrics'));
    return result;
  },
};
