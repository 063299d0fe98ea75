import { createHash, X509Certificate } from 'node:crypto';
import { alertsConversation } from '../src/messages/conversations.js';
import type { Button, OutMessage } from '../src/messages/message.js';
import { caExpiryAlert, certificateExpiryAlert, clientCaDriftAlert, DIGEST_BUTTONS, expiryDigestAlert, secretExpiryAlert, type DueCertificate } from '../src/messages/expiry-alerts.js';
import type { Services } from '../src/core/services.js';
import { MANAGED_SELECTOR } from '../src/kubernetes/objects.js';
import { clientCaDrift, deviceClientCa } from '../src/openbao/client-ca.js';
import { ownerKey } from '../src/openbao/device-identity.js';
import { mapBounded } from '../src/concurrency.js';
import { byOwner, thresholdFor, withNewerOfSameName } from '../src/openbao/expiry-levels.js';
import { DeviceInventory, type DeviceCertificate, type Listing } from '../src/openbao/device-inventory.js';
import type { OpenBaoPort } from '../src/openbao/port.js';
import type { KubeObject } from '../src/kubernetes/port.js';
import type { Config } from '../src/config/load.js';
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

interface Due extends DueCertificate {
  key: string;
}

/** What one step of a scan sent: certificates (Secrets, CAs, drifts) alerted about, and messages posted. */
interface Sent {
  alerts: number;
  messages: number;
}

/** The device certificates a scan found due, and how many were alerted at their threshold before. */
interface DeviceFindings {
  listed: number;
  due: DeviceCertificate[];
  alreadyAlerted: number;
}

/** Marks a promise handled now (it travels while other reads run); a failure still surfaces where it is awaited. */
function early<T>(p: Promise<T>): Promise<T> {
  p.catch(() => {});
  return p;
}

/** When a certificate's notAfter is inside a threshold: that threshold, else undefined (expired ones too). */
function levelAt(notAfter: number, now: number, thresholds: readonly number[]): number | undefined {
  return notAfter > now ? thresholdFor(notAfter - now, thresholds) : undefined;
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
 * the sync. The alerts' text is in src/messages/expiry-alerts.ts.
 *
 * `listing`: OpenBao's listing when the caller already read it for this scan (the metrics use it too).
 */
export async function runExpiryScan(s: ScanServices, listing?: Listing): Promise<ScanResult> {
  const bao = s.ports.openbao;
  const cfg = s.config.openbao;
  if (!bao || !cfg) return { listed: 0, expiring: 0, alerts: 0, messages: 0, caDrift: 0 };
  const scan = new ExpiryScan(s, cfg, s.now());
  // The CA chain and the TLS Secrets do not depend on the device certificates: asked now, awaited later.
  const chainRead = early(bao.caChain());
  const secretsRead = early(listWhereWritable(s.ports.kubernetes, new ExposurePolicy(s.config), 'v1', 'Secret', { labelSelector: MANAGED_SELECTOR }));
  const devices = await scan.dueDeviceCertificates(bao, listing);
  const sent = [await scan.alertDevices(devices.due)];
  const chain = await chainRead;
  sent.push(await scan.alertCa(chain), await scan.alertSecrets(await secretsRead));
  const drift = await clientCaDrift(s.ports.kubernetes, s.config, await deviceClientCa(bao, s.config));
  sent.push(await scan.alertClientCaDrift(drift.changes.map((c) => c.summary), chain));
  return {
    listed: devices.listed,
    expiring: devices.due.length + devices.alreadyAlerted,
    alerts: sent.reduce((n, x) => n + x.alerts, 0),
    messages: sent.reduce((n, x) => n + x.messages, 0),
    caDrift: drift.changes.length,
  };
}

/** One scan's clock, thresholds and alerts channel, and the steps that use them. */
class ExpiryScan {
  private readonly to;
  private readonly thresholds: readonly number[];

  constructor(
    private readonly s: ScanServices,
    private readonly cfg: NonNullable<Config['openbao']>,
    private readonly now: number,
  ) {
    this.to = alertsConversation(s.config);
    this.thresholds = cfg.expiry.thresholds;
  }

  /** An alert stays raised a week past what it is about; then it may go out again. */
  private keepFor(expiresAt: number): number {
    return Math.max(3600_000, expiresAt - this.now + 7 * DAY);
  }

  /** Builds and posts; if either fails, clears the alerts so the next scan retries. */
  private async postOrClear(build: () => Promise<OutMessage>, kind: string, keys: string[]): Promise<boolean> {
    try {
      await this.s.notifier.post(this.to, await build());
      return true;
    } catch (err) {
      await this.s.alerts.clear(kind, ...keys).catch(() => {});
      this.s.logger.warn({ err: (err as Error).message, alerts: keys.length, alert: `${kind}:${keys[0]}` }, 'could not post an expiry alert; the next scan retries');
      return false;
    }
  }

  /** Raises one alert, posts, and clears it if the post failed. */
  private async alertOnce(kind: string, key: string, expiresAt: number, build: () => Promise<OutMessage>): Promise<Sent> {
    const sent = (await this.s.alerts.raise(kind, key, this.keepFor(expiresAt))) && (await this.postOrClear(build, kind, [key]));
    return { alerts: sent ? 1 : 0, messages: sent ? 1 : 0 };
  }

  private renewButton(c: DeviceCertificate, label: string): Promise<Button | undefined> {
    if (c.profile === 'csr') return Promise.resolve(undefined);
    const profile = c.profile ?? this.cfg.defaultProfile;
    const text = `/cert issue device:${c.device} for:${c.owner.id} replace:true profile:${profile}`;
    return this.s.suggestions.button(label, { name: 'cert issue', options: { device: c.device, for: c.owner.id, replace: true, profile }, text });
  }

  /** One listing; PEMs (for the owner URN, which the listing lacks) only where an alert may be due. */
  async dueDeviceCertificates(bao: OpenBaoPort, listing: Listing | undefined): Promise<DeviceFindings> {
    const { now, thresholds } = this;
    const inventory = new DeviceInventory(bao, this.s.now);
    const { all, revoked } = listing ?? (await inventory.listing());
    const live = all.filter((c) => c.notAfter > now && !revoked.has(c.serial));
    const soon = live.filter((c) => c.notAfter - now <= Math.max(...thresholds));
    // A certificate already alerted at its present threshold needs no reading: a warm scan reads no PEM.
    const taken = await this.s.alerts.raised('cert', soon.map((c) => `${c.serial}:${levelAt(c.notAfter, now, thresholds)}`));
    const fresh = soon.filter((_, i) => !taken[i]);
    const devices = await inventory.details(withNewerOfSameName(fresh, live), revoked);
    // The newest valid certificate per owner and device; older ones were replaced.
    const newest = new Map<string, DeviceCertificate>();
    for (const c of devices) {
      if (c.status !== 'valid') continue;
      const id = `${ownerKey(c.owner)}/${c.device}`;
      const seen = newest.get(id);
      if (!seen || c.notBefore > seen.notBefore || (c.notBefore === seen.notBefore && c.notAfter > seen.notAfter)) newest.set(id, c);
    }
    const freshSerials = new Set(fresh.map((c) => c.serial));
    const due = [...newest.values()].filter((c) => freshSerials.has(c.serial)).sort((a, b) => a.notAfter - b.notAfter);
    return { listed: all.length, due, alreadyAlerted: soon.length - fresh.length };
  }

  /**
   * Raises every due certificate's alert in one round trip and posts those this scan raised.
   * Many crossing a threshold at once (a batch issued on one day a year ago) go out as one
   * digest per owner instead of a flood the chat's rate limits would stretch over hours.
   */
  async alertDevices(expiring: DeviceCertificate[]): Promise<Sent> {
    const items: Due[] = expiring.map((c) => {
      const level = levelAt(c.notAfter, this.now, this.thresholds)!;
      return { c, level, key: `${c.serial}:${level}` };
    });
    const raised = await this.s.alerts.raiseAll('cert', items.map((it) => ({ key: it.key, keepMs: this.keepFor(it.c.notAfter) })));
    const due = items.filter((_, i) => raised[i]);
    const groups: Due[][] = due.length > this.cfg.expiry.digestOver ? byOwner(due) : due.map((d) => [d]);
    const sent: Sent = { alerts: 0, messages: 0 };
    await mapBounded(groups, ALERT_CONCURRENCY, async (group) => {
      const build = () => (group.length === 1 ? this.certificateAlert(group[0]!) : this.digest(group));
      if (await this.postOrClear(build, 'cert', group.map((d) => d.key))) {
        sent.alerts += group.length;
        sent.messages++;
      }
    });
    return sent;
  }

  private async certificateAlert(d: Due): Promise<OutMessage> {
    return certificateExpiryAlert(d, this.now, await this.renewButton(d.c, 'Renew'));
  }

  private async digest(group: Due[]): Promise<OutMessage> {
    const buttons: Button[] = [];
    for (const d of group) {
      if (buttons.length === DIGEST_BUTTONS) break;
      const b = await this.renewButton(d.c, `Renew ${d.c.device}`.slice(0, 80));
      if (b) buttons.push(b);
    }
    return expiryDigestAlert(group, this.now, buttons);
  }

  /** OpenBao's own CA chain. */
  async alertCa(chain: string[]): Promise<Sent> {
    const sent: Sent = { alerts: 0, messages: 0 };
    for (const pem of chain) {
      const ca = new X509Certificate(pem);
      const notAfter = Date.parse(ca.validTo);
      const level = levelAt(notAfter, this.now, this.thresholds);
      if (level === undefined) continue;
      const subject = ca.subject.replace(/\n/g, ', ');
      add(sent, await this.alertOnce('ca', `${ca.fingerprint256}:${level}`, notAfter, async () => caExpiryAlert(subject, notAfter, this.now)));
    }
    return sent;
  }

  /** TLS Secrets labgate manages (their keys stay in the Secret: only tls.crt is read). */
  async alertSecrets(secrets: KubeObject[]): Promise<Sent> {
    const sent: Sent = { alerts: 0, messages: 0 };
    for (const secret of secrets) {
      const cert = secret.type === 'kubernetes.io/tls' ? tlsCertificate(secret) : undefined;
      if (!cert) continue;
      const notAfter = Date.parse(cert.validTo);
      const level = levelAt(notAfter, this.now, this.thresholds);
      if (level === undefined) continue;
      const where = `${secret.metadata.namespace}/${secret.metadata.name}`;
      const key = `${where}:${cert.serialNumber.toLowerCase()}:${level}`;
      add(sent, await this.alertOnce('secret', key, notAfter, async () => secretExpiryAlert(where, cert.subject.replace(/\n/g, ', '), notAfter, this.now)));
    }
    return sent;
  }

  /** Client-CA Secrets that no longer hold OpenBao's chain (a CA rotation): once per chain. */
  async alertClientCaDrift(summaries: string[], chain: string[]): Promise<Sent> {
    if (!summaries.length) return { alerts: 0, messages: 0 };
    const chainHash = createHash('sha256').update(chain.join('\n')).digest('hex').slice(0, 16);
    return this.alertOnce('client-ca', chainHash, this.now + 30 * DAY, async () =>
      clientCaDriftAlert(summaries, await this.s.suggestions.button('Sync client CA', { name: 'cert ca-sync', options: {}, text: '/cert ca-sync' })),
    );
  }
}

function add(total: Sent, one: Sent): void {
  total.alerts += one.alerts;
  total.messages += one.messages;
}

/** The certificate in a TLS Secret's tls.crt, or undefined when there is none or it does not parse. */
function tlsCertificate(secret: KubeObject): X509Certificate | undefined {
  const crt = (secret.data as Record<string, string> | undefined)?.['tls.crt'];
  if (!crt) return undefined;
  try {
    return new X509Certificate(Buffer.from(crt, 'base64'));
  } catch {
    return undefined;
  }
}
