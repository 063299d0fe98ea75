import type { DeliveryProfile, DeviceOwner, Platform } from './device-identity.js';
import type { DeviceCertificate } from './device-inventory.js';
import { iso } from '../duration.js';

/**
 * The OpenBao side of a plan: what a certificate change names (its plan and lock targets) and
 * carries (its before and after). The planners in src/planning/cert.ts make them; the applier
 * (./applier.ts) applies exactly them.
 */

/** What an issue or sign change will produce; its `after`. Describes the certificate, never its key. */
export interface DeviceCertificateSpec {
  device: string;
  owner: DeviceOwner;
  subject: string;
  uriSans: string[];
  role: string;
  lifetime: string;
  ttlSeconds: number;
  key: string;
  profile: DeliveryProfile;
  delivery: string;
  requestedBy: DeviceOwner;
  /** Signing: the request to sign (public data) and its key's SHA-256. */
  csr?: { pem: string; subject: string; keySha256: string };
  /** The serial this one replaces; it is revoked by the next change, after delivery. */
  replaces?: string;
}

/** A live certificate as before/after of a plan: identity, serial, expiry and status. */
export interface LiveDeviceCertificate {
  device: string;
  owner: { platform: Platform; id: string };
  serial: string;
  expires: string;
  status: DeviceCertificate['status'];
}

export function liveOf(c: DeviceCertificate): LiveDeviceCertificate {
  return { device: c.device, owner: c.owner, serial: c.serial, expires: iso(c.notAfter), status: c.status };
}

/** Lock and plan target of one owner's device. */
export function deviceTarget(owner: { platform: Platform; id: string }, device: string): string {
  return `openbao:device/${owner.platform}/${owner.id}/${device}`;
}

export function certTarget(serial: string): string {
  return `openbao:cert/${serial}`;
}
