import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * Reads an unencrypted private key PEM in any form OpenBao returns: PKCS#1 "RSA PRIVATE KEY",
 * SEC1 "EC PRIVATE KEY" or PKCS#8 "PRIVATE KEY".
 */
export function readPrivateKeyPem(pem: string): KeyObject {
  try {
    return createPrivateKey({ key: pem, format: 'pem' });
  } catch (cause) {
    // The cause names the decoder that failed, never the key's bytes.
    throw new Error('cannot read the private key: expected an unencrypted PKCS#1, SEC1 or PKCS#8 PEM', { cause });
  }
}

/** Every certificate in a PEM text, in order; OpenBao fields may hold one or a concatenated chain. */
export function readCertificatesPem(pem: string): X509Certificate[] {
  const blocks = pem.match(CERTIFICATE_BLOCK) ?? [];
  if (blocks.length === 0) throw new Error('no PEM certificate found');
  return blocks.map((block) => new X509Certificate(block));
}
