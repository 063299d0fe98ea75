import { X509Certificate } from 'node:crypto';
import { parseDeviceUris, ownerKey, type DeviceIdentity } from '../openbao/device-identity.js';

/** Headers Traefik's passTLSClientCert middleware sets (pem: true). */
export const CLIENT_CERT_HEADER = 'x-forwarded-tls-client-cert';
export const OWNER_HEADER = 'X-Labgate-Owner';
export const DEVICE_HEADER = 'X-Labgate-Device';

const CLIENT_AUTH_EKU = '1.3.6.1.5.5.7.3.2';

/**
 * The certificates in `X-Forwarded-Tls-Client-Cert`: Traefik v3 sends each as its PEM body
 * without the BEGIN/END lines and newlines (raw base64 DER), joined by ","; Traefik v2 sent the
 * whole PEM URL-escaped. Both are read. Undefined when the header is absent or unreadable.
 */
export function parseClientCertHeader(value: string | string[] | undefined): X509Certificate[] | undefined {
  if (value === undefined) return undefined;
  // Two headers of that name: not something Traefik sends (it sets one), so refuse to pick.
  if (Array.isArray(value)) return value.length === 1 ? parseClientCertHeader(value[0]) : undefined;
  let text = value.trim();
  if (!text) return undefined;
  if (text.includes('%')) {
    try {
      text = decodeURIComponent(text);
    } catch {
      return undefined;
    }
  }
  const parts = text.includes('-----BEGIN') ? (text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []) : text.split(',');
  try {
    const certs = parts.map((p) => new X509Certificate(Buffer.from(p.replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, ''), 'base64')));
    return certs.length ? certs : undefined;
  } catch {
    return undefined;
  }
}

/** A serial as one key: lowercase hex, no separators, no leading zero bytes (OpenBao drops them too). */
export function serialKey(serial: string): string {
  const hex = serial.toLowerCase().replace(/[^0-9a-f]/g, '');
  return hex.replace(/^(00)+(?=..)/, '');
}

/** What the gate needs of a certificate that chains to the device issuer; parsed once per distinct header. */
export interface CheckedCertificate {
  serial: string;
  notBefore: number;
  notAfter: number;
  identity?: DeviceIdentity;
  /** Why it can never pass, whatever the time or the list: not from the device issuer, not a client certificate. */
  refusal?: string;
}

export function checkCertificate(leaf: X509Certificate, issuers: readonly X509Certificate[]): CheckedCertificate {
  const base = { serial: serialKey(leaf.serialNumber), notBefore: Date.parse(leaf.validFrom), notAfter: Date.parse(leaf.validTo) };
  if (!issuers.some((i) => leaf.checkIssued(i) && leaf.verify(i.publicKey))) return { ...base, refusal: 'certificate not issued by the device CA' };
  if (leaf.ca) return { ...base, refusal: 'a CA certificate is not a device certificate' };
  const eku = leaf.keyUsage;
  if (eku && !eku.includes(CLIENT_AUTH_EKU)) return { ...base, refusal: 'not a client certificate (no clientAuth usage)' };
  const uris = [...(leaf.subjectAltName ?? '').matchAll(/URI:([^,\s]+)/g)].map((m) => m[1]!);
  const identity = parseDeviceUris(uris);
  if (!identity) return { ...base, refusal: 'not a labgate device certificate (no device owner in it)' };
  return { ...base, identity };
}

export function ownerOfIdentity(identity: DeviceIdentity): string {
  return ownerKey(identity.owner);
}
