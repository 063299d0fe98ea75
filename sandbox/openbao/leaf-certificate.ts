import { encodeSubjectAltNames, type SubjectAltNames } from './pki-names.js';
import type { IssuerKeys } from './pki-issuer.js';
import type { PkiRole } from './openbao-state.js';
import { x509 } from '../../src/pki/x509.js';

/** What goes into a leaf certificate once the role checks have passed. */
export interface LeafCertificateParams {
  issuer: IssuerKeys;
  /** SubjectPublicKeyInfo DER of the certified key. */
  spki: Uint8Array;
  serialHex: string;
  commonName: string;
  role: Pick<PkiRole, 'organization' | 'ou' | 'key_usage' | 'server_flag' | 'client_flag' | 'code_signing_flag' | 'email_protection_flag'>;
  sans: SubjectAltNames;
  notBefore: Date;
  notAfter: Date;
}

const KEY_USAGE: Record<string, number> = {
  digitalsignature: x509.KeyUsageFlags.digitalSignature,
  contentcommitment: x509.KeyUsageFlags.nonRepudiation,
  keyencipherment: x509.KeyUsageFlags.keyEncipherment,
  dataencipherment: x509.KeyUsageFlags.dataEncipherment,
  keyagreement: x509.KeyUsageFlags.keyAgreement,
  certsign: x509.KeyUsageFlags.keyCertSign,
  crlsign: x509.KeyUsageFlags.cRLSign,
  encipheronly: x509.KeyUsageFlags.encipherOnly,
  decipheronly: x509.KeyUsageFlags.decipherOnly,
};

const SAN_OID = '2.5.29.17';

const hasNames = (s: SubjectAltNames) =>
  s.dnsNames.length + s.emails.length + s.ips.length + s.uris.length + s.otherSans.length > 0;

/**
 * Signs a leaf the way OpenBao's certutil does: key usage and basic constraints (CA:false)
 * critical, extended key usage from the role's flags, subject and authority key
 * identifiers, subjectAltName when there are names, subject O/OU/CN from role and request.
 */
export async function buildLeafCertificate(p: LeafCertificateParams): Promise<x509.X509Certificate> {
  const usage = p.role.key_usage.reduce((flags, name) => flags | (KEY_USAGE[name.toLowerCase()] ?? 0), 0);
  const eku: string[] = [];
  if (p.role.server_flag) eku.push(x509.ExtendedKeyUsage.serverAuth);
  if (p.role.client_flag) eku.push(x509.ExtendedKeyUsage.clientAuth);
  if (p.role.code_signing_flag) eku.push(x509.ExtendedKeyUsage.codeSigning);
  if (p.role.email_protection_flag) eku.push(x509.ExtendedKeyUsage.emailProtection);
  const ski = p.issuer.certificate.getExtension(x509.SubjectKeyIdentifierExtension);

  const extensions: x509.Extension[] = [];
  if (usage) extensions.push(new x509.KeyUsagesExtension(usage, true));
  if (eku.length) extensions.push(new x509.ExtendedKeyUsageExtension(eku, false));
  extensions.push(new x509.BasicConstraintsExtension(false, undefined, true));
  extensions.push(await x509.SubjectKeyIdentifierExtension.create(p.spki));
  if (ski) extensions.push(new x509.AuthorityKeyIdentifierExtension(ski.keyId));
  if (hasNames(p.sans)) extensions.push(new x509.Extension(SAN_OID, false, encodeSubjectAltNames(p.sans)));

  const subject: Record<string, string[]>[] = [];
  if (p.role.organization.length) subject.push({ O: p.role.organization });
  if (p.role.ou.length) subject.push({ OU: p.role.ou });
  if (p.commonName) subject.push({ CN: [p.commonName] });

  return x509.X509CertificateGenerator.create({
    serialNumber: p.serialHex,
    subject,
    issuer: p.issuer.certificate.subjectName,
    notBefore: p.notBefore,
    notAfter: p.notAfter,
    publicKey: p.spki,
    signingKey: p.issuer.signingKey,
    signingAlgorithm: p.issuer.algorithm,
    extensions,
  });
}
