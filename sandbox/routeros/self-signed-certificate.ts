import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

export interface SelfSignedCertificate {
  certPem: string;
  keyPem: string;
}

/**
 * A throwaway certificate for the sandbox's api-ssl port, made at start so no key is ever
 * committed. node-forge signs it (with a key from node:crypto, which is much faster);
 * @peculiar/x509 would need a Reflect metadata polyfill that is not installed.
 */
export function createSelfSignedCertificate(
  commonName: string,
  ipAddresses: string[] = ['127.0.0.1'],
  opts: { dnsNames?: string[]; ca?: boolean } = {},
): SelfSignedCertificate {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey);
  // A positive serial: clear the top bit of the first byte.
  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f;
  cert.serialNumber = serial.toString('hex');
  const now = Date.now();
  cert.validity.notBefore = new Date(now - 60_000);
  cert.validity.notAfter = new Date(now + 365 * 24 * 3600_000);
  const name = [{ name: 'commonName', value: commonName }];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([
    // A CA bit lets a self-signed serving certificate be its clients' trust anchor as well.
    { name: 'basicConstraints', cA: opts.ca === true, critical: opts.ca === true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, ...(opts.ca ? { keyCertSign: true, critical: true } : {}) },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: [...(opts.dnsNames ?? ['localhost']).map((value) => ({ type: 2, value })), ...ipAddresses.map((ip) => ({ type: 7, ip }))] },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(privateKey), forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: privateKey };
}
