import { formatDuration, iso } from '../duration.js';
import { displayOwner } from '../openbao/device-identity.js';
import type { DeviceCertificate } from '../openbao/device-inventory.js';
import { inDays } from '../openbao/expiry-levels.js';
import type { Button, OutMessage } from './message.js';

/** A certificate at the threshold it reached (`level`, ms before expiry). */
export interface DueCertificate {
  c: DeviceCertificate;
  level: number;
}

/** A digest lists this many certificates and offers this many Renew buttons (Discord: 25 at most). */
export const DIGEST_LINES = 15;
export const DIGEST_BUTTONS = 5;

const mentionsOf = (owner: DeviceCertificate['owner']) => (owner.platform === 'discord' ? [owner.id] : []);

/** One device certificate reached a threshold; `renew` plans its replacement (none for a CSR's). */
export function certificateExpiryAlert({ c, level }: DueCertificate, now: number, renew: Button | undefined): OutMessage {
  return {
    kind: 'alert',
    text: `${displayOwner(c.owner)}: the certificate for your ${c.device} expires ${inDays(c.notAfter - now)} (${iso(c.notAfter)})`,
    lines: [
      `Serial ${c.serial}; alert at ${formatDuration(level)} before expiry.`,
      c.profile === 'csr'
        ? `Make a new CSR on the device and run /cert sign device:${c.device} replace:true.`
        : 'Renew plans a replacement (approved as usual); this certificate is revoked once the new one is delivered.',
    ],
    mentions: mentionsOf(c.owner),
    buttons: renew ? [renew] : [],
  };
}

/** One owner's certificates that reached a threshold in one scan, soonest first, with up to DIGEST_BUTTONS Renew buttons. */
export function expiryDigestAlert(group: DueCertificate[], now: number, buttons: Button[]): OutMessage {
  const first = group[0]!.c;
  const shown = group.slice(0, DIGEST_LINES);
  const more = group.length - shown.length;
  return {
    kind: 'alert',
    text: `${displayOwner(first.owner)}: ${group.length} of your device certificates expire within ${formatDuration(Math.max(...group.map((d) => d.level)))}, the first ${inDays(first.notAfter - now)} (${iso(first.notAfter)})`,
    lines: [
      ...shown.map(({ c, level }) => `${c.device}: serial ${c.serial}, expires ${inDays(c.notAfter - now)} (${iso(c.notAfter)}); alert at ${formatDuration(level)}${c.profile === 'csr' ? '; from a CSR: make a new one on the device' : ''}`),
      // Addressed to the owner, whose own /cert list shows them all.
      ...(more > 0 ? [`…and ${more} more; /cert list shows them all.`] : []),
      buttons.length
        ? `Renew plans a replacement (approved as usual), revoking the old certificate once the new one is delivered. The buttons are for the ${buttons.length} soonest with a key labgate delivered; /cert issue device:NAME replace:true renews any other.`
        : 'All of these came from CSRs: make a new CSR on each device and run /cert sign device:NAME replace:true.',
    ],
    mentions: mentionsOf(first.owner),
    buttons,
  };
}

/** OpenBao's own CA (`subject` as one line) reached a threshold. */
export function caExpiryAlert(subject: string, notAfter: number, now: number): OutMessage {
  return {
    kind: 'alert',
    text: `OpenBao's CA ${subject} expires ${inDays(notAfter - now)} (${iso(notAfter)})`,
    lines: [
      'Every device certificate it issued stops working with it. Rotate the CA in OpenBao (a new root or intermediate on the PKI mount), then run /cert ca-sync and re-issue device certificates.',
    ],
  };
}

/** The certificate in a TLS Secret labgate manages (`where`: namespace/name) reached a threshold. */
export function secretExpiryAlert(where: string, subject: string, notAfter: number, now: number): OutMessage {
  return {
    kind: 'alert',
    text: `The TLS certificate in Secret ${where} (${subject}) expires ${inDays(notAfter - now)} (${iso(notAfter)})`,
    lines: ["labgate manages this Secret; renew the certificate it holds (from OpenBao's server role) before it expires."],
  };
}

/** Client-CA Secrets of mtls-strict services no longer hold OpenBao's device CA; `sync` plans /cert ca-sync. */
export function clientCaDriftAlert(summaries: string[], sync: Button): OutMessage {
  const n = summaries.length;
  return {
    kind: 'alert',
    text: `OpenBao's device CA differs from ${n} client-CA Secret${n === 1 ? '' : 's'} of mtls-strict services`,
    lines: [...summaries, 'Sync plans the update for approval; devices with certificates from the old CA need new ones.'],
    buttons: [sync],
  };
}
