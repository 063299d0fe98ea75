import { createPrivateKey, createPublicKey, generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatePassphrase } from '../../src/pki/passphrase.js';
import { buildPkcs12, type Pkcs12Input } from '../../src/pki/pkcs12-bundle.js';
import type { Pkcs12Profile } from '../../src/pki/pkcs12-profile.js';
import { createTestCa, issueTestDevice, type KeyKind, type KeyPemFormat, type TestCa } from './device-certificates.js';
import { openssl } from './openssl.js';

// What `openssl pkcs12 -info -noout` (OpenSSL 3.0) prints for each profile, in order: one
// encrypted bag with the three certificates, then the shrouded key.
const EXPECTED_INFO: Record<Pkcs12Profile, string[]> = {
  'android-legacy': [
    'MAC: sha1, Iteration 2048',
    'MAC length: 20, salt length: 8',
    'PKCS7 Encrypted data: pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 2048',
    'Certificate bag',
    'Certificate bag',
    'Certificate bag',
    'PKCS7 Data',
    'Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 2048',
  ],
  modern: [
    'MAC: sha256, Iteration 2048',
    'MAC length: 32, salt length: 8',
    'PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256',
    'Certificate bag',
    'Certificate bag',
    'Certificate bag',
    'PKCS7 Data',
    'Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256',
  ],
};

const FRIENDLY_NAME = 'alice-phone (labgate)';

let ca: TestCa;
let dir: string;
let fileCount = 0;

beforeAll(async () => {
  ca = await createTestCa();
  dir = mkdtempSync(join(tmpdir(), 'labgate-pkcs12-'));
});

afterAll(() => {
  ca?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

function writeBundle(bundle: Uint8Array): string {
  const file = join(dir, `bundle-${++fileCount}.p12`);
  writeFileSync(file, bundle);
  return file;
}

function pemBlocks(text: string, label: string): string[] {
  return text.match(new RegExp(`-----BEGIN ${label}-----[\\s\\S]+?-----END ${label}-----`, 'g')) ?? [];
}

function bagAttribute(text: string, name: string): string | undefined {
  return new RegExp(`^\\s+${name}: (.+?)\\s*$`, 'm').exec(text)?.[1];
}

function spki(key: KeyObject): Buffer {
  return (key.type === 'private' ? createPublicKey(key) : key).export({ type: 'spki', format: 'der' });
}

const profiles: Pkcs12Profile[] = ['android-legacy', 'modern'];
const kinds: KeyKind[] = ['rsa', 'ec'];
const formats: KeyPemFormat[] = ['traditional', 'pkcs8'];
const cases = profiles.flatMap((profile) =>
  kinds.flatMap((kind) => formats.map((format) => ({ profile, kind, format }))),
);

describe.each(cases)('a $profile bundle for an $kind key given as $format PEM', ({ profile, kind, format }) => {
  let input: Pkcs12Input;
  let file: string;
  const pass = (args: string[]) => openssl(['pkcs12', '-in', file, '-passin', 'env:P12_PASS', ...args], input.passphrase);

  beforeAll(async () => {
    const device = await issueTestDevice(ca, kind, format);
    input = {
      privateKeyPem: device.privateKeyPem,
      certificatePem: device.certificatePem,
      caChainPem: [ca.intermediatePem, ca.rootPem],
      passphrase: generatePassphrase(),
      profile,
      friendlyName: FRIENDLY_NAME,
    };
    file = writeBundle(buildPkcs12(input));
  });

  // No -legacy here: OpenSSL 3 reads 3DES with its default provider; only RC2 needs -legacy.
  it('opens in OpenSSL with the passphrase and reports the profile’s algorithms', async () => {
    const result = await pass(['-info', '-noout']);
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stderr.split('\n').filter((line) => line.trim() !== '');
    expect(lines).toEqual(EXPECTED_INFO[profile]);
  });

  it('is refused by OpenSSL with a wrong passphrase', async () => {
    const result = await openssl(['pkcs12', '-in', file, '-passin', 'env:P12_PASS', '-info', '-noout'], input.passphrase + 'x');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/Mac verify error: invalid password/);
  });

  it('holds the leaf certificate byte for byte, named and linked to the key by localKeyID', async () => {
    const certs = await pass(['-nokeys', '-clcerts']);
    expect(certs.code, certs.stderr).toBe(0);
    const blocks = pemBlocks(certs.stdout, 'CERTIFICATE');
    expect(blocks).toHaveLength(1);
    expect(new X509Certificate(blocks[0]!).raw.equals(new X509Certificate(input.certificatePem).raw)).toBe(true);

    const key = await pass(['-nocerts', '-nodes']);
    expect(key.code, key.stderr).toBe(0);
    expect(bagAttribute(certs.stdout, 'friendlyName')).toBe(FRIENDLY_NAME);
    expect(bagAttribute(key.stdout, 'friendlyName')).toBe(FRIENDLY_NAME);
    const certKeyId = bagAttribute(certs.stdout, 'localKeyID');
    expect(certKeyId).toMatch(/^([0-9A-F]{2} ){19}[0-9A-F]{2}$/);
    expect(bagAttribute(key.stdout, 'localKeyID')).toBe(certKeyId);
  });

  it('holds a private key that matches the certificate', async () => {
    const result = await pass(['-nocerts', '-nodes']);
    expect(result.code, result.stderr).toBe(0);
    const [keyPem] = pemBlocks(result.stdout, 'PRIVATE KEY');
    expect(keyPem).toBeDefined();
    const extracted = createPrivateKey(keyPem!);
    expect(extracted.asymmetricKeyType).toBe(kind);
    expect(spki(extracted).equals(spki(new X509Certificate(input.certificatePem).publicKey))).toBe(true);
  });

  it('holds the CA chain certificates', async () => {
    const result = await pass(['-nokeys', '-cacerts']);
    expect(result.code, result.stderr).toBe(0);
    const found = pemBlocks(result.stdout, 'CERTIFICATE').map((pem) => new X509Certificate(pem).fingerprint256);
    const expected = [ca.intermediatePem, ca.rootPem].map((pem) => new X509Certificate(pem).fingerprint256);
    expect(found.sort()).toEqual(expected.sort());
  });
});

describe('bundle encoding', () => {
  it.each(profiles)('GIVEN the %s profile THEN the outer PFX and its AuthenticatedSafe use definite lengths only (DER)', async (profile) => {
    const device = await issueTestDevice(ca, 'rsa', 'traditional');
    const file = writeBundle(
      buildPkcs12({
        ...device,
        caChainPem: [ca.intermediatePem, ca.rootPem],
        passphrase: generatePassphrase(),
        profile,
        friendlyName: FRIENDLY_NAME,
      }),
    );
    const outer = await openssl(['asn1parse', '-inform', 'DER', '-in', file]);
    expect(outer.code, outer.stderr).toBe(0);
    // PFX > authSafe ContentInfo > [0] > OCTET STRING holding the AuthenticatedSafe.
    const offset = /^\s*(\d+):d=3\s+hl=\d+\s+l=\s*\d+\s+prim:\s+OCTET STRING/m.exec(outer.stdout)?.[1];
    expect(offset).toBeDefined();
    const inner = await openssl(['asn1parse', '-inform', 'DER', '-in', file, '-strparse', offset!]);
    expect(inner.code, inner.stderr).toBe(0);
    expect(inner.stdout).toContain('pkcs7-encryptedData');
    expect(outer.stdout + inner.stdout).not.toMatch(/l=inf/);
  });

  it('GIVEN the same input twice THEN the bundles differ, because every salt and IV is fresh', async () => {
    const device = await issueTestDevice(ca, 'ec', 'pkcs8');
    const input: Pkcs12Input = {
      ...device,
      caChainPem: [],
      passphrase: 'same-passphrase',
      profile: 'modern',
      friendlyName: FRIENDLY_NAME,
    };
    expect(Buffer.from(buildPkcs12(input)).equals(Buffer.from(buildPkcs12(input)))).toBe(false);
  });
});

describe('bundle inputs', () => {
  it('GIVEN OpenBao’s issuing_ca repeated in ca_chain and the leaf in the chain THEN each certificate is bundled once', async () => {
    const device = await issueTestDevice(ca, 'ec', 'traditional');
    const passphrase = generatePassphrase();
    const file = writeBundle(
      buildPkcs12({
        ...device,
        caChainPem: [ca.intermediatePem, `${ca.intermediatePem}\n${ca.rootPem}`, device.certificatePem],
        passphrase,
        profile: 'modern',
        friendlyName: FRIENDLY_NAME,
      }),
    );
    const result = await openssl(['pkcs12', '-in', file, '-passin', 'env:P12_PASS', '-nokeys'], passphrase);
    expect(result.code, result.stderr).toBe(0);
    expect(pemBlocks(result.stdout, 'CERTIFICATE')).toHaveLength(3);
  });

  it('GIVEN a key that does not belong to the certificate THEN no bundle is built', async () => {
    const device = await issueTestDevice(ca, 'ec', 'traditional');
    const other = await issueTestDevice(ca, 'ec', 'traditional', 'bob-laptop');
    expect(() =>
      buildPkcs12({
        privateKeyPem: other.privateKeyPem,
        certificatePem: device.certificatePem,
        caChainPem: [],
        passphrase: generatePassphrase(),
        profile: 'android-legacy',
        friendlyName: FRIENDLY_NAME,
      }),
    ).toThrow(/private key does not belong to the certificate/);
  });

  it('GIVEN an Ed25519 key THEN it is refused, since devices import only RSA and EC client keys', async () => {
    const device = await issueTestDevice(ca, 'ec', 'traditional');
    const ed25519 = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() =>
      buildPkcs12({
        ...device,
        privateKeyPem: ed25519,
        caChainPem: [],
        passphrase: generatePassphrase(),
        profile: 'modern',
        friendlyName: FRIENDLY_NAME,
      }),
    ).toThrow(/unsupported key type ed25519/);
  });

  it('GIVEN an unreadable key THEN the error says so without echoing the input', async () => {
    const device = await issueTestDevice(ca, 'rsa', 'pkcs8');
    const damaged = device.privateKeyPem.replace(/[A-Za-z]{8}/, 'AAAAAAAA').slice(0, 200);
    let message = '';
    try {
      buildPkcs12({ ...device, privateKeyPem: damaged, caChainPem: [], passphrase: 'p', profile: 'modern', friendlyName: 'x' });
    } catch (e) {
      message = `${(e as Error).message} ${String((e as Error).cause)}`;
    }
    expect(message).toMatch(/cannot read the private key/);
    const body = damaged.split('\n')[1]!;
    expect(message).not.toContain(body.slice(0, 16));
  });

  it('GIVEN a passphrase with characters beyond printable ASCII THEN it is refused', async () => {
    const device = await issueTestDevice(ca, 'ec', 'pkcs8');
    const build = (passphrase: string) =>
      buildPkcs12({ ...device, caChainPem: [], passphrase, profile: 'android-legacy', friendlyName: FRIENDLY_NAME });
    expect(() => build('pässwort')).toThrow(/printable ASCII/);
    expect(() => build('')).toThrow(/printable ASCII/);
  });

  it('GIVEN a blank friendly name THEN it is refused', async () => {
    const device = await issueTestDevice(ca, 'ec', 'pkcs8');
    expect(() =>
      buildPkcs12({ ...device, caChainPem: [], passphrase: 'p', profile: 'modern', friendlyName: '  ' }),
    ).toThrow(/friendly name/);
  });
});
