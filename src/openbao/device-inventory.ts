import { certificateFields } from '../pki/certificate-fields.js';
import { mapBounded } from '../concurrency.js';
import { parseDeviceUris, sameOwner, type DeliveryProfile, type Platform } from './device-identity.js';
import type { CertificateSummary, OpenBaoPort } from './port.js';

/** One of labgate's device certificates as OpenBao holds it. */
export interface DeviceCertificate {
  serial: string;
  device: string;
  owner: { platform: Platform; id: string };
  profile?: DeliveryProfile;
  notBefore: number;
  notAfter: number;
  status: 'valid' | 'revoked' | 'expired';
  revokedAt?: number;
  /** SHA-256 of the SubjectPublicKeyInfo, to recognise the certificate of a signed CSR. */
  keySha256: string;
}

type Parsed = Omit<DeviceCertificate, 'status' | 'revokedAt'>;

// A certificate never changes once issued, so what was read of a serial is kept per port
// instance (revocation is read fresh every time from certs/revoked).
const parsedByPort = new WeakMap<OpenBaoPort, Map<string, Parsed | null>>();
const CACHE_LIMIT = 200_000;
const FETCH_CONCURRENCY = 16;

/** What labgate reads from a certificate PEM: its device identity, validity and key. */
export function parseDeviceCertificate(serial: string, pem: string): Parsed | null {
  const f = certificateFields(pem);
  const id = parseDeviceUris(f.uris);
  if (!id) return null;
  return { serial, device: id.device, owner: id.owner, ...(id.profile ? { profile: id.profile } : {}), notBefore: f.notBefore, notAfter: f.notAfter, keySha256: f.keySha256 };
}

/** What OpenBao lists: every certificate's summary, and the revoked serials. */
export interface Listing {
  all: CertificateSummary[];
  revoked: Set<string>;
}

/**
 * labgate's device certificates, read from OpenBao (the only record of them): `LIST
 * certs/detailed` for serials, names (the device) and validity, `LIST certs/revoked` for
 * revocations, and `GET cert/<serial>` for the owner URN of each candidate, which OpenBao's
 * listing does not carry (cached per serial: a certificate never changes).
 */
export class DeviceInventory {
  private readonly parsed: Map<string, Parsed | null>;

  constructor(
    private readonly bao: OpenBaoPort,
    private readonly now: () => number,
  ) {
    let cache = parsedByPort.get(bao);
    if (!cache) parsedByPort.set(bao, (cache = new Map()));
    this.parsed = cache;
  }

  /** Device certificates among the listed ones that pass `candidate` (cheap filter on name and expiry first). */
  async read(candidate: (s: CertificateSummary) => boolean = () => true): Promise<DeviceCertificate[]> {
    return this.select((all) => all.filter(candidate));
  }

  /** Like read, with the choice made over the whole listing (e.g. "these names, when one of them expires soon"). */
  async select(pick: (all: CertificateSummary[]) => CertificateSummary[]): Promise<DeviceCertificate[]> {
    const { all, revoked } = await this.listing();
    return this.details(pick(all), revoked);
  }

  /** `LIST certs/detailed` (every page) and `LIST certs/revoked`, once. */
  async listing(): Promise<Listing> {
    const [all, revoked] = await Promise.all([this.bao.listCertificates(), this.bao.listRevoked()]);
    return { all, revoked: new Set(revoked) };
  }

  /** The device certificates among `picked`, with their status; PEMs are read only for serials not read before. */
  async details(picked: readonly CertificateSummary[], revoked: ReadonlySet<string>): Promise<DeviceCertificate[]> {
    const parsed = await mapBounded(picked, FETCH_CONCURRENCY, (s) => this.parse(s.serial));
    const now = this.now();
    const out: DeviceCertificate[] = [];
    for (const p of parsed) {
      if (!p) continue;
      const status = revoked.has(p.serial) ? 'revoked' : p.notAfter <= now ? 'expired' : 'valid';
      out.push({ ...p, status });
    }
    return out;
  }

  /** Certificates of one owner's device (any status), newest first. */
  async forDevice(owner: { platform: Platform; id: string }, device: string): Promise<DeviceCertificate[]> {
    const certs = await this.read((s) => s.commonName === device);
    return certs.filter((c) => c.device === device && sameOwner(c.owner, owner)).sort((a, b) => b.notBefore - a.notBefore || b.notAfter - a.notAfter);
  }

  /** One certificate by serial with its status, or undefined when it is not one of labgate's device certificates. */
  async bySerial(serial: string): Promise<DeviceCertificate | undefined> {
    const stored = await this.bao.readCertificate(serial);
    if (!stored) return undefined;
    const p = this.remember(stored.serial, parseDeviceCertificate(stored.serial, stored.certificatePem));
    if (!p) return undefined;
    const status = stored.revokedAt !== undefined ? 'revoked' : p.notAfter <= this.now() ? 'expired' : 'valid';
    return { ...p, status, ...(stored.revokedAt !== undefined ? { revokedAt: stored.revokedAt } : {}) };
  }

  private async parse(serial: string): Promise<Parsed | null> {
    if (this.parsed.has(serial)) return this.parsed.get(serial)!;
    const stored = await this.bao.readCertificate(serial);
    // Gone between the list and the read (tidied): nothing to remember.
    if (!stored) return null;
    return this.remember(serial, parseDeviceCertificate(serial, stored.certificatePem));
  }

  private remember(serial: string, p: Parsed | null): Parsed | null {
    if (this.parsed.size >= CACHE_LIMIT) this.parsed.clear();
    this.parsed.set(serial, p);
    return p;
  }
}
