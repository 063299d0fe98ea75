import { createHash, X509Certificate } from 'node:crypto';
import { alertsConversation } from '../chat/conversations.js';
import type { Button, OutMessage } from '../chat/message.js';
import type { Services } from '../core/services.js';
import { formatDuration } from '../duration.js';
import { MANAGED_SELECTOR } from '../kubernetes/objects.js';
import { iso } from './cert-planning.js';
import { clientCaDrift } from './client-ca.js';
import { displayOwner, ownerKey } from './device-identity.js';
import { DeviceInventory, mapLimit, type DeviceCertificate } from './device-inventory.js';

export type ScanServices = Pick<Services, 'config' | 'ports' | 'redis' | 'keys' | 'notifier' | 'suggestions' | 'logger' | 'now'>;

export interface ScanResult {
  /** Certificates OpenBao listed. */
  listed: number;
  /** labgate device certificates within the largest threshold. */
  expiring: number;
  alerts: number;
  /** Client-CA Secrets that differ from OpenBao's CA chain. */
  caDrift: number;
}

const DAY = 86_400_000;
// Alerts go out a few at a time: fast after an outage, gentle on the chat's rate limits.
const ALERT_CONCURRENCY = 4;

/** The smallest threshold the remaining time is within, or undefined when beyond all of them. */
export function thresholdFor(remainingMs: number, thresholds: readonly number[]): number | undefined {
  return [...thresholds].sort((a, b) => a - b).find((t) => remainingMs <= t);
}

function inDays(ms: number): string {
  const days = Math.floor(ms / DAY);
  return days === 0 ? 'within a day' : `in ${days} day${days === 1 ? '' : 's'}`;
}

/**
 * One expiry scan: labgate's device certificates (the newest valid one per owner and device;
 * revoked and replaced ones are skipped), the TLS Secrets labgate manages, and OpenBao's CA.
 * Each certificate alerts once per threshold, to the alerts channel, however many workers
 * scan and however often: the alert key is taken with SET NX before posting (and given back
 * if the post fails). Also alerts, once per CA chain, when a client-CA Secret no longer
 * matches OpenBao, with a button that plans the sync.
 */
export async function runExpiryScan(s: ScanServices): Promise<ScanResult> {
  const bao = s.ports.openbao;
  const cfg = s.config.openbao;
  if (!bao || !cfg) return { listed: 0, expiring: 0, alerts: 0, caDrift: 0 };
  const now = s.now();
  const thresholds = cfg.expiry.thresholds;
  const horizon = Math.max(...thresholds);
  const to = alertsConversation(s.config);

  /** Takes the alert key, posts, and gives the key back if the post failed (the next scan retries). */
  const alertOnce = async (key: string, expiresAt: number, build: () => Promise<OutMessage>): Promise<boolean> => {
    const redisKey = s.keys.alert(key);
    const keepS = Math.max(3600, Math.ceil((expiresAt - now) / 1000) + 7 * 86_400);
    if ((await s.redis.set(redisKey, String(now), 'EX', keepS, 'NX')) !== 'OK') return false;
    try {
      await s.notifier.post(to, await build());
      return true;
    } catch (err) {
      await s.redis.del(redisKey).catch(() => {});
      s.logger.warn({ err: (err as Error).message, alert: key }, 'could not post an expiry alert; the next scan retries');
      return false;
    }
  };

  let listed = 0;
  const inventory = new DeviceInventory(bao, s.now);
  const devices = await inventory.select((all) => {
    listed = all.length;
    const soon = all.filter((c) => c.notAfter > now && c.notAfter - now <= horizon);
    // Every live certificate of those names too, to see which ones were replaced.
    const names = new Set(soon.map((c) => c.commonName));
    return all.filter((c) => c.notAfter > now && names.has(c.commonName));
  });
  const newest = new Map<string, DeviceCertificate>();
  for (const c of devices) {
    if (c.status !== 'valid') continue;
    const id = `${ownerKey(c.owner)}/${c.device}`;
    const seen = newest.get(id);
    if (!seen || c.notBefore > seen.notBefore || (c.notBefore === seen.notBefore && c.notAfter > seen.notAfter)) newest.set(id, c);
  }
  const expiring = [...newest.values()].filter((c) => c.notAfter - now <= horizon);

  let alerts = 0;
  expiring.sort((a, b) => a.notAfter - b.notAfter);
  await mapLimit(expiring, ALERT_CONCURRENCY, async (c) => {
    const level = thresholdFor(c.notAfter - now, thresholds)!;
    const posted = await alertOnce(`cert:${c.serial}:${level}`, c.notAfter, async () => {
      const buttons: Button[] = [];
      if (c.profile !== 'csr') {
        const profile = c.profile ?? cfg.defaultProfile;
        const text = `/cert issue device:${c.device} for:${c.owner.id} replace:true profile:${profile}`;
        buttons.push(await s.suggestions.button('Renew', { name: 'cert issue', options: { device: c.device, for: c.owner.id, replace: true, profile }, text }));
      }
      return {
        kind: 'alert',
        text: `${displayOwner(c.owner)}: the certificate for your ${c.device} expires ${inDays(c.notAfter - now)} (${iso(c.notAfter)})`,
        lines: [
          `Serial ${c.serial}; alert at ${formatDuration(level)} before expiry.`,
          c.profile === 'csr'
            ? `Make a new CSR on the device and run /cert sign device:${c.device} replace:true.`
            : 'Renew plans a replacement (approved as usual); this certificate is revoked once the new one is delivered.',
        ],
        mentions: c.owner.platform === 'discord' ? [c.owner.id] : [],
        buttons,
      };
    });
    if (posted) alerts++;
  });

  // OpenBao's own CA.
  const chain = await bao.caChain();
  for (const pem of chain) {
    const ca = new X509Certificate(pem);
    const notAfter = Date.parse(ca.validTo);
    const level = notAfter > now ? thresholdFor(notAfter - now, thresholds) : undefined;
    if (level === undefined) continue;
    const subject = ca.subject.replace(/\n/g, ', ');
    if (
      await alertOnce(`ca:${ca.fingerprint256}:${level}`, notAfter, async () => ({
        kind: 'alert',
        text: `OpenBao's CA ${subject} expires ${inDays(notAfter - now)} (${iso(notAfter)})`,
        lines: [
          'Every device certificate it issued stops working with it. Rotate the CA in OpenBao (a new root or intermediate on the PKI mount), then run /cert ca-sync and re-issue device certificates.',
        ],
      }))
    )
      alerts++;
  }

  // TLS Secrets labgate manages (their keys stay in the Secret: only tls.crt is read).
  const secrets = await s.ports.kubernetes.list('v1', 'Secret', { labelSelector: MANAGED_SELECTOR });
  for (const secret of secrets) {
    if (secret.type !== 'kubernetes.io/tls') continue;
    const crt = (secret.data as Record<string, string> | undefined)?.['tls.crt'];
    if (!crt) continue;
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(Buffer.from(crt, 'base64'));
    } catch {
      continue;
    }
    const notAfter = Date.parse(cert.validTo);
    const level = notAfter > now ? thresholdFor(notAfter - now, thresholds) : undefined;
    if (level === undefined) continue;
    const where = `${secret.metadata.namespace}/${secret.metadata.name}`;
    if (
      await alertOnce(`secret:${where}:${cert.serialNumber.toLowerCase()}:${level}`, notAfter, async () => ({
        kind: 'alert',
        text: `The TLS certificate in Secret ${where} (${cert.subject.replace(/\n/g, ', ')}) expires ${inDays(notAfter - now)} (${iso(notAfter)})`,
        lines: ['labgate manages this Secret; renew the certificate it holds (from OpenBao\'s server role) before it expires.'],
      }))
    )
      alerts++;
  }

  // Client-CA Secrets that no longer hold OpenBao's chain (a CA rotation).
  const drift = await clientCaDrift(s.ports.kubernetes, s.config, chain);
  if (drift.changes.length) {
    const chainHash = createHash('sha256').update(chain.join('\n')).digest('hex').slice(0, 16);
    const farFuture = now + 30 * DAY;
    if (
      await alertOnce(`client-ca:${chainHash}`, farFuture, async () => ({
        kind: 'alert',
        text: `OpenBao's CA chain differs from ${drift.changes.length} client-CA Secret${drift.changes.length === 1 ? '' : 's'} of mtls-strict services`,
        lines: [...drift.changes.map((c) => c.summary), 'Sync plans the update for approval; devices with certificates from the old CA need new ones.'],
        buttons: [await s.suggestions.button('Sync client CA', { name: 'cert ca-sync', options: {}, text: '/cert ca-sync' })],
      }))
    )
      alerts++;
  }

  return { listed, expiring: expiring.length, alerts, caDrift: drift.changes.length };
}
