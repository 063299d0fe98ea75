import { generateKeyPairSync, sign } from 'node:crypto';
import { bitString, octetString, pemEncode, readChildren, readElement, sequence, tlv, unsignedInteger, utf8String, x509Time } from './der.js';
import { resolveIssuer } from './issuer-store.js';
import { buildLeafCertificate } from './leaf-certificate.js';
import type { PkiMountState, PkiRole } from './openbao-state.js';
import { encodeSubjectAltNames, isHostname } from './pki-names.js';
import { rebuildCrl, type IssuerKeyring } from './pki-issuer.js';
import { colonSerial, hyphenSerial, randomSerialBytes } from './serials.js';

/** One certificate to seed. */
export interface BulkCertificateSpec {
  commonName: string;
  notAfter: Date;
  /** Default: one day before notAfter or now - 30 s, whichever is earlier. */
  notBefore?: Date;
  /** Revocation time; the certificate then appears in certs/revoked and on the CRL. */
  revokedAt?: Date;
  /** URI SANs, e.g. labgate's device owner `urn:labgate:device:…`. */
  uris?: string[];
}

const OID_CN = Buffer.from([0x06, 0x03, 0x55, 0x04, 0x03]);
const OID_SAN = Buffer.from([0x06, 0x03, 0x55, 0x1d, 0x11]);

/**
 * Adds many certificates signed by the role's issuer, fast: one EC P-256 key pair for all,
 * one template certificate built the normal way for `roleName`, then per certificate only the
 * serial, validity, subject and subjectAltName change, signed with node:crypto's synchronous
 * `sign`. Returns the colon-form serials. The caller reports the change.
 */
export async function addBulkCertificates(
  pki: PkiMountState,
  keyring: IssuerKeyring,
  specs: BulkCertificateSpec[],
  opts: { now: number; roleName?: string },
): Promise<string[]> {
  const role: PkiRole = pki.roles[opts.roleName ?? 'device'] ?? Object.values(pki.roles)[0]!;
  // Signed by the role's issuer, as `issue/<role>` would (the device role names the devices intermediate).
  const issuer = resolveIssuer(pki, role.issuer_ref) ?? pki.issuers[pki.defaultIssuerId]!;
  const keys = await keyring.keys(issuer);
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });

  const template = await buildLeafCertificate({
    issuer: keys,
    spki,
    serialHex: '01',
    commonName: 'template',
    role,
    sans: { dnsNames: [], emails: [], ips: [], uris: [], otherSans: [] },
    notBefore: new Date(opts.now),
    notAfter: new Date(opts.now + 1000),
  });
  const [tbs, signatureAlgorithm] = readChildren(readElement(Buffer.from(template.rawData)).content);
  const [version, , tbsAlgorithm, issuerName, , , subjectKeyInfo, extensionsWrapper] = readChildren(tbs!.content);
  const templateExtensions = readChildren(readElement(extensionsWrapper!.content).content).map((e) => e.raw);
  const hash = keys.algorithm.hash.replace('-', '').toLowerCase();

  const serials: string[] = [];
  for (const spec of specs) {
    const serialBytes = randomSerialBytes();
    const notBefore = spec.notBefore ?? new Date(Math.min(spec.notAfter.getTime() - 86_400_000, opts.now - 30_000));
    const extensions = [...templateExtensions];
    const dnsNames = isHostname(spec.commonName) ? [spec.commonName] : [];
    const uris = spec.uris ?? [];
    if (dnsNames.length || uris.length) {
      extensions.push(sequence(OID_SAN, octetString(encodeSubjectAltNames({ dnsNames, emails: [], ips: [], uris, otherSans: [] }))));
    }
    const tbsDer = sequence(
      version!.raw,
      unsignedInteger(serialBytes),
      tbsAlgorithm!.raw,
      issuerName!.raw,
      sequence(x509Time(notBefore), x509Time(spec.notAfter)),
      sequence(tlv(0x31, sequence(OID_CN, utf8String(spec.commonName)))),
      subjectKeyInfo!.raw,
      tlv(0xa3, sequence(...extensions)),
    );
    const signature = sign(hash, tbsDer, keys.keyObject);
    const der = sequence(tbsDer, signatureAlgorithm!.raw, bitString(signature));
    const serial = colonSerial(serialBytes);
    pki.certs[hyphenSerial(serial)] = {
      serialNumber: serial,
      certificatePem: pemEncode(der, 'CERTIFICATE'),
      issuerId: issuer.id,
      commonName: spec.commonName,
      dnsNames: isHostname(spec.commonName) ? [spec.commonName] : [],
      keyType: 'ec',
      keyBits: 256,
      notBefore: Math.floor(notBefore.getTime() / 1000),
      notAfter: Math.floor(spec.notAfter.getTime() / 1000),
      ...(spec.revokedAt ? { revokedAt: spec.revokedAt.getTime() } : {}),
    };
    serials.push(serial);
  }
  if (specs.some((s) => s.revokedAt)) await rebuildCrl(pki, issuer, keyring, opts.now);
  return serials;
}
