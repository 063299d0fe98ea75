import type { OutMessage } from './message.js';
import type { OutgoingFile } from './notifier.js';
import { describeProfile, type Pkcs12Profile } from '../pki/pkcs12-profile.js';
import { iso } from '../duration.js';
import { displayOwner, type DeviceOwner } from '../openbao/device-identity.js';

/**
 * The direct messages that carry a device's credentials. The bundle travels with the first
 * message, the passphrase alone in the second: a screenshot or forward of one is not enough.
 */
export function bundleDm(a: {
  device: string;
  serial: string;
  expiresAt: number;
  profile: Pkcs12Profile;
  bundle: Uint8Array;
  passphrase: string;
  caChainPem: string[];
}): { msgs: OutMessage[]; files: OutgoingFile[] } {
  return {
    msgs: [
      {
        kind: 'dm',
        text: `Your client certificate for ${a.device}`,
        lines: [
          `Serial ${a.serial}, valid until ${iso(a.expiresAt)}.`,
          `${a.device}.p12 is the certificate and its key, ${a.profile} format: ${describeProfile(a.profile)}`,
          `Import it on ${a.device} (Android: Settings → Security → Encryption & credentials → Install a certificate → VPN & app user certificate; iOS: open the file, then Settings → Profile Downloaded).`,
          'labgate-ca.pem is the CA that issued it; install it only if an app asks for it.',
          'The passphrase follows in the next message. Delete both messages once the certificate is imported.',
        ],
      },
      { kind: 'dm', text: `Passphrase for ${a.device}.p12: ${a.passphrase}` },
    ],
    files: [
      { name: `${a.device}.p12`, data: a.bundle, contentType: 'application/x-pkcs12' },
      { name: 'labgate-ca.pem', data: Buffer.from(a.caChainPem.join('\n') + '\n'), contentType: 'application/x-pem-file' },
    ],
  };
}

/** The certificate for a CSR: no key and no passphrase, the device made and kept its own key. */
export function certificateDm(a: { device: string; serial: string; expiresAt: number; certificatePem: string; caChainPem: string[] }): {
  msgs: OutMessage[];
  files: OutgoingFile[];
} {
  return {
    msgs: [
      {
        kind: 'dm',
        text: `Your signed certificate for ${a.device}`,
        lines: [
          `Serial ${a.serial}, valid until ${iso(a.expiresAt)}.`,
          `${a.device}.crt belongs with the key your CSR was made from; labgate-ca.pem is the CA that issued it.`,
        ],
      },
    ],
    files: [
      { name: `${a.device}.crt`, data: Buffer.from(a.certificatePem.trim() + '\n'), contentType: 'application/x-pem-file' },
      { name: 'labgate-ca.pem', data: Buffer.from(a.caChainPem.join('\n') + '\n'), contentType: 'application/x-pem-file' },
    ],
  };
}

/** What the owner can do about a refused DM; the one place this advice is worded. */
export function dmRefusedAdvice(reason: 'dms-closed' | 'unknown-user' | 'failed', owner: DeviceOwner): string | undefined {
  if (reason === 'dms-closed')
    return `${displayOwner(owner)}'s privacy settings do not let this server's members (or its apps) message them directly. Allow direct messages for this server (server name → Privacy Settings → Direct Messages), then run the command again.`;
  if (reason === 'unknown-user') return `Discord does not know ${displayOwner(owner)}'s account as a recipient; check the user and run the command again.`;
  return undefined;
}
