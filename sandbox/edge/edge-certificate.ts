import { createSelfSignedCertificate, type SelfSignedCertificate } from '../routeros/self-signed-certificate.js';

/**
 * The edge's serving certificate for `*.<domain>`: self-signed and its own trust anchor (so a
 * client passes it as its CA), made at start so no key is ever committed.
 */
export function edgeCertificate(domain: string): SelfSignedCertificate {
  return createSelfSignedCertificate(`labgate sandbox edge *.${domain}`, ['127.0.0.1'], { dnsNames: [`*.${domain}`, domain, 'localhost'], ca: true });
}
