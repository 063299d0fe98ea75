import { createHash, X509Certificate } from 'node:crypto';
import { alertsConversation } from '../src/messages/conversations.js';
import type { Button, OutMessage } from '../src/messages/message.js';
import type { Services } from '../src/core/services.js';
import { formatDuration, iso } from '../src/duration.js';
import { MANAGED_SELECTOR } from '../src/kubernetes/objects.js';
import { clientCaDrift, deviceClientCa } from '../src/openbao/client-ca.js';
import { displayOwner, ownerKey } from '../src/openbao/device-identity.js';
import { mapBounded } from '../src/concurrency.js';
import { byOwner, inDays, thresholdFor, withNewerOfSameName } from '../src/openbao/expiry-levels.js';
import { DeviceInventory, type DeviceCertificate, type Listing } from '../src/openbao/device-inventory.js';
import { listWhereWritable } from '../src/kubernetes/writable-list.js';
import { ExposurePolicy } from '../src/policy/exposure-policy.js';

export { thresholdFor } from '../src/openbao/expiry-levels.js';

export type ScanServices = Pick<Services, 'config' | 'ports' | 'alerts' | 'notifier' | 'suggestions' | 'logger' | 'now'>;

export interface ScanResult {
  /** Certificates OpenBao listed. */
  listed: number;
  /** labgate device certificates within the largest threshold (those alerted before counted without being read again). */
  expiring: number;
  /** Certificates (and Secrets, CAs, client-CA drifts) alerted about in this scan. */
  alerts: number;
  /** Messages posted: fewer than alerts when a digest grouped them. */
  messages: number;
  /** Client-CA Secrets that differ from OpenBao's device CA. */
  caDrift: number;
}

const DAY = 86_400_000;
// Alerts go out a few at a time: fast after an outage, gentle on the chat's rate limits.
const ALERT_CONCURRENCY = 4;
// A digest lists this many certificates and offers this many Renew buttons (Discord: 25 at most).
const DIGEST_LINES = 15;
const DIGEST_BUTTONS = 5;

interface Due {
  c: DeviceCertificate;
  level: number;
  key: string;
}


/**
 * One expiry scan: labgate's device certificates (the newest valid one per owner and device;
 * revoked and replaced ones are skipped), the TLS Secrets labgate manages, and OpenBao's CA.
 * OpenBao's detailed list is read once; a certificate's PEM (for its owner URN) is read only
 * when it is within a threshold whose alert has not gone out yet, or may replace one that is.
 * Each certificate alerts once per threshold, to the alerts channel, however many workers
 * scan and however often: the alert is raised in the alert ledger before posting (and
 * cleared if the post fails). When more than `expiry.digestOver` device certificates are due in one
 * scan, they go out as one digest per owner (the keys stay per certificate). Also alerts, once
 * per CA chain, when a client-CA Secret no longer matches OpenBao, with a button that plans
 * the sync.
 */
/** `listing`: OpenBao's listing when the caller already read it for this scan (the metrics use it too). */
export async function runExpiryScan(s: ScanServices, listing?: Listing): Promise<ScanResult> {
  const bao = s.ports.openbao;
  const cfg = s.config.openbao;
  if (!bao || !cfg) return { listed: 0, expiring: 0, alerts: 0, messages: 0, caDrift: 0 };
  const now = s.now();
  const thresholds = cfg.expiry.thresholds;
  const horizon = Math.max(...thresholds);
  const to = alertsConversation(s.config);

  // An alert stays raised a week past what it is about; then it may go out again.
  const keepFor = (expiresAt: number) => Math.max(3600_000, expiresAt - now + 7 * DAY);

  /** Raises the alerts not yet raised (one round trip); returns those this scan raised. */
  async function raiseAll<T extends { key: string; c: { notAfter: number } }>(kind: string, items: T[]): Promise<T[]> {
    const raised = await s.alerts.raiseAll(kind, items.map((it) => ({ key: it.key, keepMs: keepFor(it.c.notAfter) })));
    return items.filter((_, i) => raised[i]);
  }

  /** Builds and posts; if either fails, clears the alerts so the next scan retries. */
  async function postOrClear(build: () => Promise<OutMessage>, kind: string, keys: string[]): Promise<boolean> {
    try {
      await s.notifier.post(to, await build());
      return true;
    } catch (err) {
      await s.alerts.clear(kind, ...keys).catch(() => {});
      s.logger.warn({ err: (err as Error).message, alerts: keys.length, alert: `${kind}:${keys[0]}` }, 'could not post an expiry alert; the next scan retries');
      return false;
    }
  }

  /** Raises one alert, posts, and clears it if the post failed. */
  const alertOnce = async (kind: string, key: string, expiresAt: number, build: () => Promise<OutMessage>): Promise<boolean> =>
    (await s.alerts.raise(kind, key, keepFor(expiresAt))) && postOrClear(build, kind, [key]);

  const renewButton = async (c: DeviceCertificate, label: string): Promise<Button | undefined> => {
    if (c.profile === 'csr') return undefined;
    const profile = c.profile ?? cfg.defaultProfile;
    const text = `/cert issue device:${c.device} for:${c.owner.id} replace:true profile:${profile}`;
    return s.suggestions.button(label, { name: 'cert issue', options: { device: c.device, for: c.owner.id, replace: true, profile }, text });
  };

  async function certAlert({ c, level }: Due): Promise<OutMessage> {
    const renew = await renewButton(c, 'Renew');
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
      buttons: renew ? [renew] : [],
    };
  }

  /** One owner's certificates that reached a threshold in this scan, soonest first. */
  async function digestAlert(group: Due[]): Promise<OutMessage> {
    const owner = group[0]!.c.owner;
    const shown = group.slice(0, DIGEST_LINES);
    const buttons: Button[] = [];
    for (const d of group) {
      if (buttons.length === DIGEST_BUTTONS) break;
      const b = await renewButton(d.c, `Renew ${d.c.device}`.slice(0, 80));
      if (b) buttons.push(b);
    }
    const more = group.length - shown.length;
    return {
      kind: 'alert',
      text: `${displayOwner(owner)}: ${group.length} of your device certificates expire within ${formatDuration(Math.max(...group.map((d) => d.level)))}, the first ${inDays(group[0]!.c.notAfter - now)} (${iso(group[0]!.c.notAfter)})`,
      lines: [
        ...shown.map(({ c, level }) => `${c.device}: serial ${c.serial}, expires ${inDays(c.notAfter - now)} (${iso(c.notAfter)}); alert at ${formatDuration(level)}${c.profile === 'csr' ? '; from a CSR: make a new one on the device' : ''}`),
        // Addressed to the owner, whose own /cert list shows them all.
        ...(more > 0 ? [`…and ${more} more; /cert list shows them all.`] : []),
        buttons.length
          ? `Renew plans a replacement (approved as usual), revoking the old certificate once the new one is delivered. The buttons are for the ${buttons.length} soonest with a key labgate delivered; /cert issue device:NAME replace:true renews any other.`
          : 'All of these came from CSRs: make a new CSR on each device and run /cert sign device:NAME replace:true.',
      ],
      mentions: owner.platform === 'discord' ? [owner.id] : [],
      buttons,
    };
  }

  // Asked now, awaited later: the CA chain and the TLS Secrets do not depend on the device
  // certificates, so they travel while those are read. (Marked handled here; a failure still
  // surfaces where each is awaited.)
  const early = <T>(p: Promise<T>): Promise<T> => {
    p.catch(() => {});
    return p;
  };
  const chainRead = early(bao.caChain());
  const secretsRead = early(listWhereWritable(s.ports.kubernetes, new ExposurePolicy(s.config), 'v1', 'Secret', { labelSelector: MANAGED_SELECTOR }));

  // One listing; PEMs (for the owner URN, which the listing lacks) only where an alert may be due.
  const inventory = new DeviceInventory(bao, s.now);
  const { all, revoked } = listing ?? (await inventory.listing());
  const listed = all.length;
  const live = all.filter((c) => c.notAfter > now && !revoked.has(c.serial));
  const levelOf = (notAfter: number) => thresholdFor(notAfter - now, thresholds)!;
  const soon = live.filter((c) => c.notAfter - now <= horizon);
  // A certificate already alerted at its present threshold needs no reading: a warm scan reads no PEM.
  const taken = await s.alerts.raised('cert', soon.map((c) => `${c.serial}:${levelOf(c.notAfter)}`));
  const fresh = soon.filter((_, i) => !taken[i]);
  const alreadyAlerted = soon.length - fresh.length;
  const candidates = withNewerOfSameName(fresh, live);
  const devices = await inventory.details(candidates, revoked);

  // The newest valid certificate per owner and device; older ones were replaced.
  const newest = new Map<string, DeviceCertificate>();
  for (const c of devices) {
    if (c.status !== 'valid') continue;
    const id = `${ownerKey(c.owner)}/${c.device}`;
    const seen = newest.get(id);
    if (!seen || c.notBefore > seen.notBefore || (c.notBefore === seen.notBefore && c.notAfter > seen.notAfter)) newest.set(id, c);
  }
  const freshSerials = new Set(fresh.map((c) => c.serial));
  const expiring = [...newest.values()].filter((c) => freshSerials.has(c.serial));

  let alerts = 0;
  let messages = 0;
  expiring.sort((a, b) => a.notAfter - b.notAfter);
  const due = await raiseAll(
    'cert',
    expiring.map((c) => {
      const level = levelOf(c.notAfter);
      return { c, level, key: `${c.serial}:${level}` };
    }),
  );
  // Many certificates crossing a threshold at once (a batch issued on one day a year ago):
  // one alert per owner instead of a flood the chat's rate limits would stretch over hours.
  const groups: Due[][] = due.length > cfg.expiry.digestOver ? byOwner(due) : due.map((d) => [d]);
  await mapBounded(groups, ALERT_CONCURRENCY, async (group) => {
    const build = () => (group.length === 1 ? certAlert(group[0]!) : digestAlert(group));
    if (await postOrClear(build, 'cert', group.map((d) => d.key))) {
      alerts += group.length;
      messages++;
    }
  });

  // OpenBao's own CA.
  const chain = await chainRead;
  for (const pem of chain) {
    const ca = new X509Certificate(pem);
    const notAfter = Date.parse(ca.validTo);
    const level = notAfter > now ? thresholdFor(notAfter - now, thresholds) : undefined;
    if (level === undefined) continue;
    const subject = ca.subject.replace(/\n/g, ', ');
    if (
      await alertOnce('ca', `${ca.fingerprint256}:${level}`, notAfter, async () => ({
        kind: 'alert',
        text: `OpenBao's CA ${subject} expires ${inDays(notAfter - now)} (${iso(notAfter)})`,
        lines: [
          'Every device certificate it issued stops working with it. Rotate the CA in OpenBao (a new root or intermediate on the PKI mount), then run /cert ca-sync and re-issue device certificates.',
        ],
      }))
    ) {
      alerts++;
      messages++;
    }
  }

  // TLS Secrets labgate manages (their keys stay in the Secret: only tls.crt is read).
  const secrets = await secretsRead;
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
      await alertOnce('secret', `${where}:${cert.serialNumber.toLowerCase()}:${level}`, notAfter, async () => ({
        kind: 'alert',
        text: `The TLS certificate in Secret ${where} (${cert.subject.replace(/\n/g, ', ')}) expires ${inDays(notAfter - now)} (${iso(notAfter)})`,
        lines: ['labgate manages this Secret; renew the certificate it holds (from OpenBao\'s server role) before it expires.'],
      }))
    ) {
      alerts++;
      messages++;
    }
  }

  // Client-CA Secrets that no longer hold OpenBao's chain (a CA rotation).
  const drift = await clientCaDrift(s.ports.kubernetes, s.config, await deviceClientCa(bao, s.config));
  if (drift.changes.length) {
    const chainHash = createHash('sha256').update(chain.join('\n')).digest('hex').slice(0, 16);
    const farFuture = now + 30 * DAY;
    if (
      await alertOnce('client-ca', chainHash, farFuture, async () => ({
        kind: 'alert',
        text: `OpenBao's device CA differs from ${drift.changes.length} client-CA Secret${drift.changes.length === 1 ? '' : 's'} of mtls-strict services`,
        lines: [...drift.changes.map((c) => c.summary), 'Sync plans the update for approval; devices with certificates from the old CA need new ones.'],
        buttons: [await s.suggestions.button('Sync client CA', { name: 'cert ca-sync', options: {}, text: '/cert ca-sync' })],
      }))
    ) {
      alerts++;
      messages++;
    }
  }

  return { listed, expiring: expiring.length + alreadyAlerted, alerts, messages, caDrift: drift.changes.length };
}
