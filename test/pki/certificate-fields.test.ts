import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { certificateFields } from '../../src/pki/certificate-fields.js';
import { openssl } from './openssl.js';

const dir = mkdtempSync(join(tmpdir(), 'labgate-fields-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A self-signed certificate from Debian's openssl, as an independent reference. */
async function make(name: string, args: string[]): Promise<string> {
  const out = join(dir, `${name}.pem`);
  const r = await openssl(['req', '-x509', '-nodes', '-keyout', join(dir, `${name}.key`), '-subj', `/CN=${name}`, '-out', out, ...args]);
  if (r.code !== 0) throw new Error(r.stderr);
  return readFileSync(out, 'utf8');
}

describe('certificateFields reads validity, URI SANs and the key hash straight from the DER', () => {
  it.each([
    ['an EC key with URI and DNS SANs', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-days', '30', '-addext', 'subjectAltName=DNS:a.example,URI:urn:labgate:device:shell:bob:pixel-8,URI:urn:labgate:device:profile:modern']],
    ['an RSA key, no SANs', ['-newkey', 'rsa:2048', '-days', '400']],
    ['a validity past 2049 (GeneralizedTime)', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-days', '12000', '-addext', 'subjectAltName=URI:urn:x:y']],
  ])('agrees with node:crypto for %s', async (name, args) => {
    const pem = await make(name.replace(/\W+/g, '-'), args);
    const ref = new X509Certificate(pem);
    const f = certificateFields(pem);
    expect(f.notBefore).toBe(Date.parse(ref.validFrom));
    expect(f.notAfter).toBe(Date.parse(ref.validTo));
    expect(f.uris).toEqual([...(ref.subjectAltName ?? '').matchAll(/URI:([^,\s]+)/g)].map((m) => m[1]));
    expect(f.keySha256).toBe(createHash('sha256').update(ref.publicKey.export({ type: 'spki', format: 'der' })).digest('hex'));
  });

  it('refuses what is not a certificate', () => {
    expect(() => certificateFields('-----BEGIN CERTIFICATE-----\nMAMCAQA=\n-----END CERTIFICATE-----')).toThrow();
  });
});
