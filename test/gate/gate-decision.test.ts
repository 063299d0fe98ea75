import { X509Certificate, webcrypto } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { serialKey } from '../../src/gate/client-certificate.js';
import { allowOf, GateDecider } from '../../src/gate/gate-decision.js';
import { RevocationList } from '../../src/gate/revocation-list.js';
import { x509 } from '../../src/pki/x509.js';
import { clientCertHeader } from '../../sandbox/edge/traefik-headers.js';

const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;
const T0 = Date.UTC(2030, 0, 1);
const DAY = 86_400_000;

async function makeCa(name: string) {
  const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${name}`,
    keys,
    notBefore: new Date(T0 - 365 * DAY),
    notAfter: new Date(T0 + 365 * DAY),
    signingAlgorithm: SIGN,
    extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)],
  });
  return { cert, keys };
}

async function makeLeaf(ca: Awaited<ReturnType<typeof makeCa>>, opts: { serial: string; uris?: string[]; eku?: string; from?: number; to?: number }) {
  const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: opts.serial,
    subject: 'CN=pixel-8',
    issuer: ca.cert.subject,
    notBefore: new Date(opts.from ?? T0 - DAY),
    notAfter: new Date(opts.to ?? T0 + 30 * DAY),
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    signingAlgorithm: SIGN,
    extensions: [
      new x509.ExtendedKeyUsageExtension([opts.eku ?? x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension((opts.uris ?? ['urn:labgate:device:shell:alice:pixel-8', 'urn:labgate:device:profile:modern']).map((value) => ({ type: 'url' as const, value }))),
    ],
  });
  return clientCertHeader([Buffer.from(cert.rawData)]);
}

describe('the gate decides from the forwarded certificate, the time, the revoked serials and the allow list', () => {
  let ca: Awaited<ReturnType<typeof makeCa>>;
  let list: RevocationList;
  let gate: GateDecider;
  let good: string;

  beforeAll(async () => {
    ca = await makeCa('labgate devices');
    list = new RevocationList(10 * 60_000);
    list.replace([], T0);
    gate = new GateDecider(() => [new X509Certificate(Buffer.from(ca.cert.rawData))], list);
    good = await makeLeaf(ca, { serial: '0a1b2c' });
  });

  it('GIVEN a valid device certificate THEN 200 with its owner and device', () => {
    expect(gate.decide(good, undefined, T0)).toEqual({ status: 200, owner: 'shell:alice', device: 'pixel-8' });
  });

  it('GIVEN no header, an unreadable one, or two of them THEN 403 naming that', () => {
    expect(gate.decide(undefined, undefined, T0)).toEqual({ status: 403, reason: 'no client certificate' });
    expect(gate.decide('bm90IGEgY2VydA==', undefined, T0)).toEqual({ status: 403, reason: 'client certificate unreadable' });
    expect(gate.decide([good, good], undefined, T0)).toEqual({ status: 403, reason: 'client certificate unreadable' });
  });

  it('GIVEN a certificate outside its validity THEN 403 with the date', async () => {
    list.replace([], T0 + 31 * DAY);
    expect(gate.decide(good, undefined, T0 + 31 * DAY)).toEqual({ status: 403, reason: 'certificate expired on 2030-01-31' });
    list.replace([], T0);
    const future = await makeLeaf(ca, { serial: '0a1b2d', from: T0 + DAY });
    expect(gate.decide(future, undefined, T0)).toEqual({ status: 403, reason: 'certificate not valid before 2030-01-02' });
  });

  it('GIVEN another CA, a server certificate, or no device owner THEN 403', async () => {
    const other = await makeLeaf(await makeCa('someone else'), { serial: '01' });
    expect(gate.decide(other, undefined, T0)).toEqual({ status: 403, reason: 'certificate not issued by the device CA' });
    const server = await makeLeaf(ca, { serial: '02', eku: x509.ExtendedKeyUsage.serverAuth });
    expect(gate.decide(server, undefined, T0)).toEqual({ status: 403, reason: 'not a client certificate (no clientAuth usage)' });
    const anon = await makeLeaf(ca, { serial: '03', uris: ['urn:example:x'] });
    expect(gate.decide(anon, undefined, T0)).toMatchObject({ status: 403, reason: expect.stringMatching(/not a labgate device certificate/) });
  });

  it('GIVEN a pushed revocation (colon form, as OpenBao writes it) THEN 403 with the day, and a CRL read before the push does not undo it', async () => {
    const leaf = await makeLeaf(ca, { serial: '00ff01' });
    expect(gate.decide(leaf, undefined, T0).status).toBe(200);
    list.add('ff:01', T0 + 3 * 3600_000);
    expect(gate.decide(leaf, undefined, T0)).toEqual({ status: 403, reason: 'certificate revoked on 2030-01-01' });
    list.replace([], T0 + 1000);
    expect(gate.decide(leaf, undefined, T0 + 1000).status).toBe(403);
    expect(serialKey('00:FF:01')).toBe('ff01');
  });

  it('GIVEN an allow list THEN only its owners pass', () => {
    expect(gate.decide(good, allowOf('/verify?allow=shell%3Aalice%2Cshell%3Abob'), T0).status).toBe(200);
    expect(gate.decide(good, allowOf('/verify?allow=shell%3Abob'), T0)).toEqual({ status: 403, reason: 'this device is not allowed on this host' });
    expect(allowOf('/verify')).toBeUndefined();
  });

  it('GIVEN a list older than gate.maxStaleness, or never loaded, THEN 503 for everyone', () => {
    const fresh = new RevocationList(60_000);
    const g = new GateDecider(() => [new X509Certificate(Buffer.from(ca.cert.rawData))], fresh);
    expect(g.decide(good, undefined, T0).status).toBe(503);
    fresh.replace([], T0);
    expect(g.decide(good, undefined, T0 + 60_000).status).toBe(200);
    expect(g.decide(good, undefined, T0 + 60_001)).toMatchObject({ status: 503 });
    // Without maxStaleness the CRL's nextUpdate is the limit.
    const byCrl = new RevocationList();
    byCrl.replace([], T0, T0 + DAY);
    expect(byCrl.isStale(T0 + DAY - 1)).toBe(false);
    expect(byCrl.isStale(T0 + DAY + 1)).toBe(true);
  });
});
