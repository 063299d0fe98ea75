import { createHash } from 'node:crypto';
import { x509 } from './x509.js';

/** What labgate asked OpenBao for: the certificate it returns must say exactly this. */
export interface ExpectedClientCertificate {
  commonName: string;
  uriSans: string[];
  /** SHA-256 of the SubjectPublicKeyInfo, when the key is known in advance (a CSR). */
  keySha256?: string;
}

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

/**
 * The ways a certificate OpenBao returned differs from a device certificate as labgate asked
 * for it: subject, every SAN, key usage, extended key usage (client authentication only) and
 * CA:FALSE. An empty list means it is exactly that. A role with `use_csr_sans` or a wide
 * `ext_key_usage` can otherwise slip a server name or a CA bit into a device certificate.
 */
export function clientCertificateProblems(pem: string, want: ExpectedClientCertificate): string[] {
  const cert = new x509.X509Certificate(pem);
  const problems: string[] = [];
  if (cert.subject !== `CN=${want.commonName}`) problems.push(`subject is ${cert.subject}, not CN=${want.commonName}`);
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const names = san?.names.items ?? [];
  const uris = names.filter((n) => n.type === 'url').map((n) => n.value);
  const others = names.filter((n) => n.type !== 'url').map((n) => `${n.type}:${n.value}`);
  if (others.length) problems.push(`it carries names labgate did not ask for (${others.join(', ')})`);
  const extraUris = uris.filter((u) => !want.uriSans.includes(u));
  const missingUris = want.uriSans.filter((u) => !uris.includes(u));
  if (extraUris.length) problems.push(`it carries URIs labgate did not ask for (${extraUris.join(', ')})`);
  if (missingUris.length) problems.push(`it lacks the URIs ${missingUris.join(', ')}`);
  const basic = cert.getExtension(x509.BasicConstraintsExtension);
  if (basic?.ca) problems.push('it is a CA certificate (CA:TRUE)');
  const eku = cert.getExtension(x509.ExtendedKeyUsageExtension);
  const usages = (eku?.usages ?? []).map(String);
  if (!usages.includes(CLIENT_AUTH)) problems.push('its extended key usage lacks client authentication');
  const extraEku = usages.filter((u) => u !== CLIENT_AUTH);
  if (extraEku.length) problems.push(`its extended key usage also allows ${extraEku.join(', ')} (1.3.6.1.5.5.7.3.1 is server authentication)`);
  const ku = cert.getExtension(x509.KeyUsagesExtension);
  if (!ku || !(ku.usages & x509.KeyUsageFlags.digitalSignature)) problems.push('its key usage lacks digitalSignature');
  if (ku && ku.usages & (x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign)) problems.push('its key usage allows signing certificates or CRLs');
  if (want.keySha256) {
    const key = createHash('sha256').update(Buffer.from(cert.publicKey.rawData)).digest('hex');
    if (key !== want.keySha256) problems.push("it certifies another key than the CSR's");
  }
  return problems;
}
