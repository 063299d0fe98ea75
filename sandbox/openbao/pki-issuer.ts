import { createPrivateKey, createPublicKey, generateKeyPair, randomUUID, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { pemEncode, unsignedInteger } from './der.js';
import type { PkiIssuer, PkiMountState, StoredCertificate } from './openbao-state.js';
import { ALL_ISSUER_USAGES, rebuildIssuerChains } from './issuer-store.js';
import { colonSerial, hyphenSerial, randomSerialBytes, serialHex } from './serials.js';
import { subtle, x509, type CryptoKey, type SigningAlgorithm } from '../../src/pki/x509.js';

const generateKeyPairAsync = promisify(generateKeyPair);

/** An issuer's key and certificate, loaded once per sandbox instance. */
export interface IssuerKeys {
  certificate: x509.X509Certificate;
  signingKey: CryptoKey;
  /** Same key for node:crypto's synchronous `sign` (bulk seeding). */
  keyObject: KeyObject;
  algorithm: SigningAlgorithm;
}

/** The signature algorithm an issuer of this key type uses (SHA-256, as OpenBao's default signature_bits). */
export function signingAlgorithm(keyType: 'ec' | 'rsa'): SigningAlgorithm {
  return keyType === 'ec' ? { name: 'ECDSA', hash: 'SHA-256' } : { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
}

const WEB_CURVES: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };

/** The WebCrypto import parameters for an issuer key (its curve read from the key itself). */
function importAlgorithm(key: KeyObject) {
  return key.asymmetricKeyType === 'ec'
    ? { name: 'ECDSA', namedCurve: WEB_CURVES[key.asymmetricKeyDetails?.namedCurve ?? ''] ?? 'P-256' }
    : { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
}

/** A PKCS#8 key as a WebCrypto signing key. */
export function importSigningKey(keyObject: KeyObject): Promise<CryptoKey> {
  const pkcs8 = keyObject.export({ type: 'pkcs8', format: 'der' });
  return subtle.importKey('pkcs8', pkcs8, importAlgorithm(keyObject), false, ['sign']);
}

/** Caches parsed issuer keys and orders per-issuer work; one per sandbox so instances share nothing. */
export class IssuerKeyring {
  private readonly cache = new Map<string, Promise<IssuerKeys>>();
  private readonly queues = new Map<string, Promise<unknown>>();

  /** Runs `work` after earlier work for the same issuer has finished. */
  exclusive<T>(issuerId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(issuerId) ?? Promise.resolve();
    const next = previous.then(work, work);
    this.queues.set(issuerId, next.catch(() => undefined));
    return next;
  }

  keys(issuer: PkiIssuer): Promise<IssuerKeys> {
    const cacheKey = `${issuer.id}:${issuer.certificatePem.length}`;
    let entry = this.cache.get(cacheKey);
    if (!entry) {
      entry = loadIssuerKeys(issuer);
      this.cache.set(cacheKey, entry);
    }
    return entry;
  }
}

async function loadIssuerKeys(issuer: PkiIssuer): Promise<IssuerKeys> {
  const keyObject = createPrivateKey(issuer.privateKeyPem);
  const signingKey = await importSigningKey(keyObject);
  return {
    certificate: new x509.X509Certificate(issuer.certificatePem),
    signingKey,
    keyObject,
    algorithm: signingAlgorithm(issuer.keyType),
  };
}

/** PEM the way OpenBao returns it: no trailing newline. */
export const trimPem = (pem: string) => pem.trim();

export interface NewRootIssuer {
  issuer: PkiIssuer;
  /** The CA certificate as OpenBao stores it under certs/ so it can be revoked. */
  stored: StoredCertificate;
}

/**
 * A self-signed root like `POST <mount>/root/generate/internal`: CA basic constraints,
 * keyCertSign + cRLSign, subject key identifier, random 159-bit serial.
 */
export async function generateRootIssuer(opts: {
  keyType: 'ec' | 'rsa';
  commonName: string;
  name: string;
  ttlSeconds: number;
  now: number;
}): Promise<NewRootIssuer> {
  const { privateKey } =
    opts.keyType === 'ec'
      ? await generateKeyPairAsync('ec', { namedCurve: 'prime256v1' })
      : await generateKeyPairAsync('rsa', { modulusLength: 2048 });
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const algorithm = signingAlgorithm(opts.keyType);
  const signingKey = await importSigningKey(privateKey);
  const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  const serial = colonSerial(randomSerialBytes());
  const notBefore = new Date(Math.floor((opts.now - 30_000) / 1000) * 1000);
  const notAfter = new Date(Math.floor((opts.now + opts.ttlSeconds * 1000) / 1000) * 1000);
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: serialHex(serial),
    subject: [{ CN: [opts.commonName] }],
    issuer: [{ CN: [opts.commonName] }],
    notBefore,
    notAfter,
    publicKey: spki,
    signingKey,
    signingAlgorithm: algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(spki),
    ],
  });
  const id = randomUUID();
  const certificatePem = trimPem(certificate.toString('pem'));
  const issuer: PkiIssuer = {
    id,
    name: opts.name,
    keyId: randomUUID(),
    keyType: opts.keyType,
    serialNumber: serial,
    certificatePem,
    privateKeyPem,
    caChain: [certificatePem],
    leafNotAfterBehavior: 'err',
    usage: [...ALL_ISSUER_USAGES],
    crl: { number: 0, pem: '', thisUpdate: 0, nextUpdate: 0 },
  };
  const stored: StoredCertificate = {
    serialNumber: serial,
    certificatePem: issuer.certificatePem,
    issuerId: id,
    commonName: opts.commonName,
    dnsNames: [],
    keyType: opts.keyType,
    keyBits: opts.keyType === 'ec' ? 256 : 2048,
    notBefore: notBefore.getTime() / 1000,
    notAfter: notAfter.getTime() / 1000,
    isCa: true,
  };
  return { issuer, stored };
}

/** Adds a freshly generated root to the mount, makes it the default issuer, and gives it an empty CRL. */
export async function installRootIssuer(
  pki: PkiMountState,
  root: NewRootIssuer,
  keyring: IssuerKeyring,
  now: number,
): Promise<void> {
  pki.issuers[root.issuer.id] = root.issuer;
  pki.certs[hyphenSerial(root.stored.serialNumber)] = root.stored;
  pki.defaultIssuerId = root.issuer.id;
  rebuildIssuerChains(pki);
  await rebuildCrl(pki, root.issuer, keyring, now);
}

const OID_CRL_NUMBER = '2.5.29.20';

/**
 * Rebuilds an issuer's CRL (v2, thisUpdate now, nextUpdate now + crl expiry, CRL number
 * incremented, authority key identifier) listing the revoked certificates it issued.
 */
export function rebuildCrl(pki: PkiMountState, issuer: PkiIssuer, keyring: IssuerKeyring, now: number): Promise<void> {
  // Serialised so that concurrent revocations cannot publish an older, shorter CRL last.
  return keyring.exclusive(issuer.id, () => buildCrl(pki, issuer, keyring, now));
}

async function buildCrl(pki: PkiMountState, issuer: PkiIssuer, keyring: IssuerKeyring, now: number): Promise<void> {
  const keys = await keyring.keys(issuer);
  const entries = Object.values(pki.certs)
    .filter((c) => c.issuerId === issuer.id && c.revokedAt !== undefined)
    .map((c) => ({ serialNumber: serialHex(c.serialNumber), revocationDate: new Date(Math.floor(c.revokedAt! / 1000) * 1000) }));
  const number = issuer.crl.number + 1;
  const thisUpdate = Math.floor(now / 1000) * 1000;
  const nextUpdate = thisUpdate + pki.crlExpirySeconds * 1000;
  const ski = keys.certificate.getExtension(x509.SubjectKeyIdentifierExtension);
  const crl = await x509.X509CrlGenerator.create({
    issuer: keys.certificate.subjectName,
    thisUpdate: new Date(thisUpdate),
    nextUpdate: new Date(nextUpdate),
    signingAlgorithm: keys.algorithm,
    signingKey: keys.signingKey,
    entries,
    extensions: [
      ...(ski ? [new x509.AuthorityKeyIdentifierExtension(ski.keyId)] : []),
      new x509.Extension(OID_CRL_NUMBER, false, unsignedInteger(integerBytes(number))),
    ],
  });
  issuer.crl = { number, pem: pemEncode(new Uint8Array(crl.rawData), 'X509 CRL'), thisUpdate, nextUpdate };
}

function integerBytes(n: number): Buffer {
  const hex = n.toString(16);
  return Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
}
