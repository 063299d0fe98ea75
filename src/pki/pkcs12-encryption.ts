import { createCipheriv, pbkdf2Sync, randomBytes } from 'node:crypto';
import * as asn1js from 'asn1js';
import { AlgorithmIdentifier, PBES2Params, PBKDF2Params } from 'pkijs';
import { Pkcs12KeyPurpose, pkcs12Kdf } from './pkcs12-kdf.js';

const OID = {
  pbeWithSha1And3KeyTripleDesCbc: '1.2.840.113549.1.12.1.3',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  hmacWithSha256: '1.2.840.113549.2.9',
  aes256Cbc: '2.16.840.1.101.3.4.1.42',
} as const;

// OpenSSL 3.0 writes 8-byte salts; macOS Keychain has been seen rejecting bundles whose
// only difference was a longer salt, so keep to what OpenSSL writes.
const SALT_BYTES = 8;

/** Ciphertext plus the AlgorithmIdentifier a reader needs to decrypt it with the passphrase. */
export interface PasswordEncrypted {
  algorithm: AlgorithmIdentifier;
  ciphertext: Uint8Array;
}

/** Encrypts one PKCS#12 payload (a key or a SafeContents) under a passphrase. */
export type PasswordEncryption = (plaintext: Uint8Array, passphrase: string) => PasswordEncrypted;

/**
 * pbeWithSHAAnd3-KeyTripleDES-CBC (RFC 7292 appendix C): what OpenSSL 1.x used for keys and
 * what every PKCS#12 importer, old or new, reads.
 */
export function pbeSha1TripleDes(iterations: number): PasswordEncryption {
  return (plaintext, passphrase) => {
    const salt = randomBytes(SALT_BYTES);
    const key = pkcs12Kdf('sha1', passphrase, salt, Pkcs12KeyPurpose.encryptionKey, iterations, 24);
    const iv = pkcs12Kdf('sha1', passphrase, salt, Pkcs12KeyPurpose.iv, iterations, 8);
    const cipher = createCipheriv('des-ede3-cbc', key, iv);
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const params = new asn1js.Sequence({
      value: [new asn1js.OctetString({ valueHex: salt }), new asn1js.Integer({ value: iterations })],
    });
    return {
      algorithm: new AlgorithmIdentifier({ algorithmId: OID.pbeWithSha1And3KeyTripleDesCbc, algorithmParams: params }),
      ciphertext,
    };
  };
}

/** PBES2 with PBKDF2-HMAC-SHA256 and AES-256-CBC (RFC 8018): what OpenSSL 3 writes by default. */
export function pbes2Aes256(iterations: number): PasswordEncryption {
  return (plaintext, passphrase) => {
    const salt = randomBytes(SALT_BYTES);
    const iv = randomBytes(16);
    // PBKDF2 takes the passphrase's bytes as they are, not as a BMPString.
    const key = pbkdf2Sync(Buffer.from(passphrase, 'utf8'), salt, iterations, 32, 'sha256');
    const cipher = createCipheriv('aes-256-cbc', key, iv);
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const kdfParams = new PBKDF2Params({
      salt: new asn1js.OctetString({ valueHex: salt }),
      iterationCount: iterations,
      prf: new AlgorithmIdentifier({ algorithmId: OID.hmacWithSha256, algorithmParams: new asn1js.Null() }),
    });
    const params = new PBES2Params({
      keyDerivationFunc: new AlgorithmIdentifier({ algorithmId: OID.pbkdf2, algorithmParams: kdfParams.toSchema() }),
      encryptionScheme: new AlgorithmIdentifier({
        algorithmId: OID.aes256Cbc,
        algorithmParams: new asn1js.OctetString({ valueHex: iv }),
      }),
    });
    return {
      algorithm: new AlgorithmIdentifier({ algorithmId: OID.pbes2, algorithmParams: params.toSchema() }),
      ciphertext,
    };
  };
}
