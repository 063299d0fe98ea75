import { createPublicKey } from 'node:crypto';
import { userError } from './http-envelope.js';
import { decodeSubjectAltNames, type SubjectAltNames } from './pki-names.js';
import { x509 } from '../../src/pki/x509.js';

export type KeyType = 'rsa' | 'ec' | 'ed25519';

const CURVE_BITS: Record<string, number> = { secp224r1: 224, prime256v1: 256, secp384r1: 384, secp521r1: 521 };

export interface CsrInfo {
  /** The parsed request, for callers that need more of it (sign-intermediate). */
  request: x509.Pkcs10CertificateRequest;
  commonName: string;
  sans: SubjectAltNames;
  spki: Buffer;
  keyType: KeyType;
  keyBits: number;
  hasBasicConstraints: boolean;
  verify: () => Promise<boolean>;
}

/** Parses a PEM CSR the way OpenBao's signCert does (pem.Decode, then x509.ParseCertificateRequest). */
export async function parseCsr(pem: string): Promise<CsrInfo> {
  if (pem === '') throw userError('"csr" is empty');
  const block = /-----BEGIN ([^-\r\n]+)-----([\s\S]*?)-----END \1-----/.exec(pem);
  if (!block) throw userError('csr contains no data');
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(Buffer.from(block[2]!.replace(/\s+/g, ''), 'base64'));
  } catch (err) {
    throw userError(`certificate request could not be parsed: ${(err as Error).message}`);
  }
  const spki = Buffer.from(csr.publicKey.rawData);
  let key: { keyType: KeyType; keyBits: number };
  try {
    key = describePublicKey(spki);
  } catch {
    throw userError(
      'Refusing to sign CSR with empty PublicKey. This usually means the SubjectPublicKeyInfo field has an OID not recognized by Go, such as 1.2.840.113549.1.1.10 for rsaPSS.',
    );
  }
  const sanExt = csr.getExtension('2.5.29.17');
  return {
    request: csr,
    commonName: csr.subjectName.getField('CN')[0] ?? '',
    sans: sanExt ? decodeSubjectAltNames(Buffer.from(sanExt.value)) : { dnsNames: [], emails: [], ips: [], uris: [], otherSans: [] },
    spki,
    ...key,
    hasBasicConstraints: csr.getExtension('2.5.29.19') !== null,
    verify: async () => {
      try {
        return await csr.verify();
      } catch {
        return false;
      }
    },
  };
}

/** Key type and size of a SubjectPublicKeyInfo; throws for algorithms OpenBao does not sign. */
export function describePublicKey(spki: Buffer): { keyType: KeyType; keyBits: number } {
  const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return { keyType: 'rsa', keyBits: key.asymmetricKeyDetails?.modulusLength ?? 0 };
    case 'ec':
      return { keyType: 'ec', keyBits: CURVE_BITS[key.asymmetricKeyDetails?.namedCurve ?? ''] ?? 0 };
    case 'ed25519':
      return { keyType: 'ed25519', keyBits: 0 };
    default:
      throw new Error(`unsupported key type ${key.asymmetricKeyType}`);
  }
}
