import { createHash, createPublicKey } from 'node:crypto';
import { x509 } from './x509.js';

/** What labgate shows and checks of a certificate signing request before OpenBao sees it. */
export interface CsrSummary {
  /** The PEM, normalised (one block, 64-column lines). */
  pem: string;
  /** Subject as the device wrote it; labgate names the certificate itself. */
  subject: string;
  /** "rsa-2048", "ec-p256". */
  key: string;
  /** SHA-256 of the SubjectPublicKeyInfo: the signed certificate must carry this key. */
  keySha256: string;
}

const CSR_BLOCK = /-----BEGIN (NEW )?CERTIFICATE REQUEST-----([\s\S]+?)-----END (NEW )?CERTIFICATE REQUEST-----/;

/**
 * Parses and verifies a PEM CSR: one request, a valid self-signature, an RSA key of at least
 * 2048 bits or an EC key on P-256/P-384. Throws an Error whose message is meant for a person.
 */
export async function readCsr(text: string): Promise<CsrSummary> {
  const m = CSR_BLOCK.exec(text);
  if (!m) throw new Error('no "-----BEGIN CERTIFICATE REQUEST-----" block found; make the CSR as PEM (openssl req -new … -out device.csr)');
  const der = Buffer.from(m[2]!.replace(/\s+/g, ''), 'base64');
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(der);
  } catch {
    throw new Error('the CSR could not be parsed');
  }
  const ok = await csr.verify().catch(() => false);
  if (!ok) throw new Error("the CSR's signature does not verify: it was altered or is not signed by its own key");
  const spki = Buffer.from(csr.publicKey.rawData);
  const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  let keyText: string;
  if (key.asymmetricKeyType === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < 2048) throw new Error(`the CSR has an RSA key of ${bits} bits; use at least 2048`);
    keyText = `rsa-${bits}`;
  } else if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    const name = curve === 'prime256v1' ? 'p256' : curve === 'secp384r1' ? 'p384' : undefined;
    if (!name) throw new Error(`the CSR's EC key is on ${curve ?? 'an unknown curve'}; use P-256 or P-384`);
    keyText = `ec-${name}`;
  } else {
    throw new Error(`the CSR has a ${key.asymmetricKeyType ?? 'unknown'} key; devices need RSA (2048+) or EC (P-256/P-384)`);
  }
  const body = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return {
    pem: `-----BEGIN CERTIFICATE REQUEST-----\n${body}\n-----END CERTIFICATE REQUEST-----`,
    subject: csr.subject || '(empty)',
    key: keyText,
    keySha256: createHash('sha256').update(spki).digest('hex'),
  };
}
