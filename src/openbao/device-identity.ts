import type { Identity } from '../plan/model.js';
import { pkcs12ProfileSchema, type Pkcs12Profile } from '../pki/pkcs12-profile.js';

/**
 * Who and which device a client certificate is for. The device name is the subject CN; the
 * owner is a URI SAN `urn:labgate:device:<platform>:<owner id>:<device>`, which Traefik's
 * passTLSClientCert forwards (its `sans` info includes URIs) and which OpenBao roles can
 * restrict with `allowed_uri_sans=urn:labgate:device:*`. How the key was delivered is a
 * second URI SAN, `urn:labgate:device:profile:<android-legacy|modern|csr>`, so /cert list can
 * show it without labgate keeping any state of its own.
 */
export const DEVICE_URN_PREFIX = 'urn:labgate:device:';

export type Platform = Identity['platform'];

/** A device's owner: platform and stable id (Discord user id, shell user name). */
export interface DeviceOwner {
  platform: Platform;
  id: string;
  /** For messages; the Discord user id when the name is not known. */
  name: string;
}

/** How the key reached the device: a PKCS#12 profile, or `csr` when the device made its own key. */
export type DeliveryProfile = Pkcs12Profile | 'csr';

export interface DeviceIdentity {
  owner: { platform: Platform; id: string };
  device: string;
  profile?: DeliveryProfile;
}

export const DEVICE_NAME_RE = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;
export const DEVICE_NAME_ALLOWED = 'a device name of 1–32 lowercase letters, digits and -, like pixel-8 or work-laptop';

const OWNER_ID_RE = { shell: /^[a-z0-9][a-z0-9._-]*$/i, discord: /^\d{17,20}$/ } as const;

export function ownerOf(who: Identity): DeviceOwner {
  return { platform: who.platform, id: who.id, name: who.name };
}

export function sameOwner(a: { platform: Platform; id: string }, b: { platform: Platform; id: string }): boolean {
  return a.platform === b.platform && a.id === b.id;
}

/** `discord:123…` / `shell:bob`: the owner as one string (lock targets, alert keys). */
export function ownerKey(o: { platform: Platform; id: string }): string {
  return `${o.platform}:${o.id}`;
}

export function deviceUrn(owner: { platform: Platform; id: string }, device: string): string {
  return `${DEVICE_URN_PREFIX}${owner.platform}:${owner.id}:${device}`;
}

export function profileUrn(profile: DeliveryProfile): string {
  return `${DEVICE_URN_PREFIX}profile:${profile}`;
}

/** The identity in a certificate's URI SANs, or undefined when it is not one of labgate's device certificates. */
export function parseDeviceUris(uris: readonly string[]): DeviceIdentity | undefined {
  let found: DeviceIdentity | undefined;
  let profile: DeliveryProfile | undefined;
  for (const uri of uris) {
    if (!uri.startsWith(DEVICE_URN_PREFIX)) continue;
    const parts = uri.slice(DEVICE_URN_PREFIX.length).split(':');
    if (parts.length === 2 && parts[0] === 'profile') {
      const p = parts[1]!;
      if (p === 'csr' || pkcs12ProfileSchema.safeParse(p).success) profile = p as DeliveryProfile;
      continue;
    }
    if (parts.length !== 3) continue;
    const [platform, id, device] = parts as [string, string, string];
    if ((platform === 'shell' || platform === 'discord') && OWNER_ID_RE[platform].test(id) && DEVICE_NAME_RE.test(device)) {
      found = { owner: { platform, id }, device };
    }
  }
  return found ? { ...found, ...(profile ? { profile } : {}) } : undefined;
}

/** How an owner is written in messages: a Discord mention, or the shell user's name. */
export function displayOwner(o: { platform: Platform; id: string; name?: string }): string {
  return o.platform === 'discord' ? `<@${o.id}>` : `@${o.name ?? o.id}`;
}
