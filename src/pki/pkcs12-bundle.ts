import { createHash, createHmac, randomBytes, type X509Certificate } from 'node:crypto';
import * as asn1js from 'asn1js';
import {
  AlgorithmIdentifier,
  Attribute,
  AuthenticatedSafe,
  CertBag,
  ContentInfo,
  DigestInfo,
  EncryptedContentInfo,
  EncryptedData,
  MacData,
  PFX,
  PKCS8ShroudedKeyBag,
  SafeBag,
  SafeContents,
} from 'pkijs';
import { readCertificatesPem, readPrivateKeyPem } from './pem-input.js';
import { pbes2Aes256, pbeSha1TripleDes, type PasswordEncryption } from './pkcs12-encryption.js';
import { Pkcs12KeyPurpose, pkcs12Kdf } from './pkcs12-kdf.js';
import type { Pkcs12Profile } from './pkcs12-profile.js';

const OID = {
  pkcs8ShroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
} as const;

// OpenSSL's defaults. The passphrases we hand out carry ~121 random bits, so more stretching
// would only slow imports on old phones without making guessing any harder.
const ITERATIONS = 2048;
const MAC_SALT_BYTES = 8;

interface ProfileSettings {
  encryption: PasswordEncryption;
  macHash: 'sha1' | 'sha256';
}

// The certificates are encrypted like the key (3DES, not OpenSSL 1.x's RC2-40): importers
// that read the 3DES key read the 3DES cert bag too, and OpenSSL 3 reads RC2 only with -legacy.
const PROFILES: Record<Pkcs12Profile, ProfileSettings> = {
  'android-legacy': { encryption: pbeSha1TripleDes(ITERATIONS), macHash: 'sha1' },
  modern: { encryption: pbes2Aes256(ITERATIONS), macHash: 'sha256' },
};

const MAC_HASH_OID = { sha1: OID.sha1, sha256: OID.sha256 } as const;
const MAC_KEY_BYTES = { sha1: 20, sha256: 32 } as const;

// Printable ASCII only: importers disagree on how they encode other characters into the
// BMPString the PKCS#12 KDF hashes, which would show up as "wrong password" on one device.
const PASSPHRASE = /^[\x20-\x7e]+$/;

export interface Pkcs12Input {
  /** PKCS#1, SEC1 or PKCS#8 PEM, as OpenBao returns it. RSA or EC. */
  privateKeyPem: string;
  /** The leaf certificate; must belong to the private key. */
  certificatePem: string;
  /** Issuer chain (OpenBao `ca_chain`, `issuing_ca`); duplicates and the leaf are dropped. */
  caChainPem: string[];
  passphrase: string;
  profile: Pkcs12Profile;
  /** The name the device shows for the imported identity. */
  friendlyName: string;
}

/**
 * Builds a password-protected PKCS#12 (.p12) bundle holding the key, its certificate (with
 * friendlyName and localKeyID matching the key) and the CA chain, encrypted per profile.
 * Pure: no I/O, nothing logged.
 */
export function buildPkcs12(input: Pkcs12Input): Uint8Array {
  if (!PASSPHRASE.test(input.passphrase)) throw new Error('the passphrase must be non-empty printable ASCII');
  if (input.friendlyName.trim() === '') throw new Error('the friendly name must not be empty');
  const settings = PROFILES[input.profile];
  if (!settings) throw new Error(`unknown PKCS#12 profile: ${String(input.profile)}`);

  const key = readPrivateKeyPem(input.privateKeyPem);
  if (key.asymmetricKeyType !== 'rsa' && key.asymmetricKeyType !== 'ec') {
    throw new Error(`unsupported key type ${key.asymmetricKeyType}: devices import RSA and EC client keys only`);
  }
  const [leaf, ...extra] = readCertificatesPem(input.certificatePem);
  if (!leaf) throw new Error('no leaf certificate');
  if (!leaf.checkPrivateKey(key)) throw new Error('the private key does not belong to the certificate');
  const chain = distinctCertificates([...extra, ...input.caChainPem.flatMap(readCertificatesPem)], leaf);

  const attributes = [
    new Attribute({ type: OID.friendlyName, values: [new asn1js.BmpString({ value: input.friendlyName })] }),
    // SHA-1 of the leaf, as OpenSSL does: the link importers use to pair key and certificate.
    new Attribute({ type: OID.localKeyId, values: [new asn1js.OctetString({ valueHex: sha1(leaf.raw) })] }),
  ];

  const certBags = [leaf, ...chain].map(
    (cert, i) =>
      new SafeBag({
        bagId: OID.certBag,
        bagValue: new CertBag({
          certId: OID.x509Certificate,
          certValue: new asn1js.OctetString({ valueHex: cert.raw }),
        }),
        ...(i === 0 ? { bagAttributes: attributes } : {}),
      }),
  );
  const certs = settings.encryption(der(new SafeContents({ safeBags: certBags })), input.passphrase);
  const certsContent = new ContentInfo({
    contentType: ContentInfo.ENCRYPTED_DATA,
    content: new EncryptedData({
      encryptedContentInfo: new EncryptedContentInfo({
        contentType: ContentInfo.DATA,
        contentEncryptionAlgorithm: certs.algorithm,
        encryptedContent: new asn1js.OctetString({ valueHex: certs.ciphertext }),
        // pkijs would otherwise chunk long ciphertext into indefinite-length BER, which
        // strict DER readers refuse.
        disableSplit: true,
      }),
    }).toSchema(),
  });

  const shrouded = settings.encryption(key.export({ type: 'pkcs8', format: 'der' }), input.passphrase);
  const keyBag = new SafeBag({
    bagId: OID.pkcs8ShroudedKeyBag,
    bagValue: new PKCS8ShroudedKeyBag({
      encryptionAlgorithm: shrouded.algorithm,
      encryptedData: new asn1js.OctetString({ valueHex: shrouded.ciphertext }),
    }),
    bagAttributes: attributes,
  });
  const keyContent = new ContentInfo({
    contentType: ContentInfo.DATA,
    content: new asn1js.OctetString({ valueHex: der(new SafeContents({ safeBags: [keyBag] })) }),
  });

  // Certificates first, then the key: the order OpenSSL writes and importers are used to.
  const authenticatedSafe = der(new AuthenticatedSafe({ safeContents: [certsContent, keyContent] }));
  const pfx = new PFX({
    version: 3,
    authSafe: new ContentInfo({
      contentType: ContentInfo.DATA,
      content: new asn1js.OctetString({ valueHex: authenticatedSafe }),
    }),
    macData: passwordMac(authenticatedSafe, input.passphrase, settings.macHash),
  });
  return new Uint8Array(pfx.toSchema().toBER(false));
}

/** The PFX integrity MAC (RFC 7292 section 5.1): HMAC over the AuthenticatedSafe, keyed by the PKCS#12 KDF. */
function passwordMac(content: Uint8Array, passphrase: string, hash: 'sha1' | 'sha256'): MacData {
  const salt = randomBytes(MAC_SALT_BYTES);
  const macKey = pkcs12Kdf(hash, passphrase, salt, Pkcs12KeyPurpose.macKey, ITERATIONS, MAC_KEY_BYTES[hash]);
  const digest = createHmac(hash, macKey).update(content).digest();
  return new MacData({
    mac: new DigestInfo({
      digestAlgorithm: new AlgorithmIdentifier({ algorithmId: MAC_HASH_OID[hash], algorithmParams: new asn1js.Null() }),
      digest: new asn1js.OctetString({ valueHex: digest }),
    }),
    macSalt: new asn1js.OctetString({ valueHex: salt }),
    iterations: ITERATIONS,
  });
}

function distinctCertificates(certs: X509Certificate[], leaf: X509Certificate): X509Certificate[] {
  const seen = new Set([leaf.fingerprint256]);
  return certs.filter((cert) => {
    if (seen.has(cert.fingerprint256)) return false;
    seen.add(cert.fingerprint256);
    return true;
  });
}

function der(value: { toSchema(): { toBER(sizeOnly?: boolean): ArrayBuffer } }): Uint8Array {
  return new Uint8Array(value.toSchema().toBER(false));
}

function sha1(data: Uint8Array): Buffer {
  return createHash('sha1').update(data).digest();
}
