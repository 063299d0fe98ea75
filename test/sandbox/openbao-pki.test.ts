import { pemBlock } from '../support/pem.js';
import { spawnSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, webcrypto } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import vault from 'node-vault';
import { x509 } from '../../src/pki/x509.js';
import { seedOpenBaoState, startOpenBaoSandbox, type OpenBaoSandbox } from '../../sandbox/openbao/index.js';

const workDir = mkdtempSync(join(tmpdir(), 'openbao-pki-'));
let fileCounter = 0;

/** Runs openssl with inputs written to temp files; stdout and stderr together, and the exit status. */
function openssl(args: (string | { file: string | Buffer })[]): { ok: boolean; out: string } {
  const argv = args.map((a) => {
    if (typeof a === 'string') return a;
    const path = join(workDir, `f${fileCounter++}`);
    writeFileSync(path, a.file);
    return path;
  });
  const run = spawnSync('openssl', argv, { encoding: 'utf8' });
  return { ok: run.status === 0, out: `${run.stdout}${run.stderr}` };
}

/** openssl verify against a trusted CA, with intermediates from `untrusted` (e.g. the devices issuer). */
const verifies = (caPem: string, certPem: string, purpose = 'sslclient', untrusted?: string) => {
  // -attime: the sandbox clock runs ahead of the real one in some tests.
  const chain: (string | { file: string })[] = untrusted ? ['-untrusted', { file: untrusted }] : [];
  const run = openssl(['verify', '-attime', String(Math.floor(clock / 1000)), '-purpose', purpose, '-CAfile', { file: caPem }, ...chain, { file: certPem }]);
  return run.ok && run.out.includes(': OK');
};

/** The seeded device intermediate's certificate. */
const devicesPem = (of: OpenBaoSandbox = sb) => Object.values(of.state.pki.issuers).find((i) => i.name === 'devices')!.certificatePem;

const sanNames = (cert: x509.X509Certificate) =>
  cert.getExtension(x509.SubjectAlternativeNameExtension)?.names.toJSON().map((n) => `${n.type}:${n.value}`) ?? [];

const ekus = (cert: x509.X509Certificate) => cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? [];

let clock = Date.now();
let sb: OpenBaoSandbox;
let client: ReturnType<typeof vault>;

beforeAll(async () => {
  const state = await seedOpenBaoState({
    now: () => clock,
    roles: {
      'any-key': { key_type: 'any', key_bits: 0, allow_any_name: true, enforce_hostnames: false },
      ephemeral: { no_store: true, key_type: 'ec', key_bits: 256, allow_any_name: true, enforce_hostnames: false },
    },
  });
  sb = await startOpenBaoSandbox({ state, now: () => clock });
  client = vault({ endpoint: sb.url, token: sb.rootToken, noCustomHTTPVerbs: true });
});

afterAll(async () => {
  await sb.close();
  rmSync(workDir, { recursive: true, force: true });
});

describe('POST pki/issue/<role>', () => {
  it('GIVEN the device role WHEN a certificate is issued THEN it carries the CN, SANs and clientAuth only, and openssl verifies it against ca/pem through the devices intermediate', async () => {
    const res = await client.write('pki/issue/device', {
      common_name: 'alice-phone',
      alt_names: 'alice@home.example.com,alice-tablet',
      uri_sans: 'urn:labgate:device:alice-phone',
      ttl: '24h',
    });
    const cert = new x509.X509Certificate(res.data.certificate);

    expect(cert.subjectName.getField('CN')).toEqual(['alice-phone']);
    expect(sanNames(cert).sort()).toEqual(['dns:alice-phone', 'dns:alice-tablet', 'email:alice@home.example.com', 'url:urn:labgate:device:alice-phone'].sort());
    expect(ekus(cert)).toEqual([x509.ExtendedKeyUsage.clientAuth]);
    expect(cert.getExtension(x509.BasicConstraintsExtension)?.ca).toBe(false);

    const caPem = (await client.read('pki/ca/pem')) as unknown as string;
    expect(verifies(caPem, res.data.certificate, 'sslclient', devicesPem())).toBe(true);
    expect(verifies(caPem, res.data.certificate, 'sslserver', devicesPem())).toBe(false);
    // The root alone does not vouch for it: the intermediate is part of the chain.
    expect(verifies(caPem, res.data.certificate, 'sslclient')).toBe(false);
  });

  it('returns serial_number in colon hex, expiration/not_before in unix seconds, issuing_ca (the devices issuer) and ca_chain (devices, root), and the matching RSA private key', async () => {
    const res = await client.write('pki/issue/device', { common_name: 'bob-laptop', ttl: 3600 });
    const cert = new x509.X509Certificate(res.data.certificate);

    expect(res.data.serial_number).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){1,19}$/);
    expect(res.data.serial_number.replace(/:/g, '')).toBe(cert.serialNumber.replace(/^00/, ''));
    expect(res.data.expiration).toBe(Math.floor(cert.notAfter.getTime() / 1000));
    expect(res.data.not_before).toBe(Math.floor(cert.notBefore.getTime() / 1000));
    expect(res.data.expiration - Math.floor(clock / 1000)).toBeGreaterThanOrEqual(3599);
    expect(res.data.expiration - Math.floor(clock / 1000)).toBeLessThanOrEqual(3600);
    expect(Math.floor(clock / 1000) - res.data.not_before).toBeGreaterThanOrEqual(29);
    expect(res.data.issuing_ca).toBe(devicesPem());
    expect(res.data.ca_chain).toEqual([devicesPem(), sb.state.pki.issuers[sb.state.pki.defaultIssuerId]!.certificatePem]);
    const withoutRoot = await client.write('pki/issue/device', { common_name: 'bob-laptop', ttl: 3600, remove_roots_from_chain: true });
    expect(withoutRoot.data.ca_chain).toEqual([devicesPem()]);
    expect(res.data.private_key_type).toBe('rsa');
    expect(res.data.private_key).toMatch(pemBlock('RSA PRIVATE KEY', { whole: true }));

    const fromKey = createPublicKey(createPrivateKey(res.data.private_key)).export({ type: 'spki', format: 'der' });
    expect(Buffer.from(cert.publicKey.rawData).equals(fromKey)).toBe(true);
    expect(createPrivateKey(res.data.private_key).asymmetricKeyDetails?.modulusLength).toBe(2048);
  });

  it("GIVEN a device name that is not a hostname THEN it is the CN only, not a DNS SAN", async () => {
    const res = await client.write('pki/issue/device', { common_name: "Alice's iPhone" });
    const cert = new x509.X509Certificate(res.data.certificate);
    expect(cert.subjectName.getField('CN')).toEqual(["Alice's iPhone"]);
    expect(sanNames(cert)).toEqual([]);
  });

  it('GIVEN private_key_format pkcs8 THEN the key is a PKCS#8 "PRIVATE KEY" PEM', async () => {
    const res = await client.write('pki/issue/device', { common_name: 'carol', private_key_format: 'pkcs8' });
    expect(res.data.private_key).toMatch(pemBlock('PRIVATE KEY'));
  });

  it('GIVEN the server role THEN the certificate is EC P-256 with serverAuth, and a name outside the homelab domain is refused', async () => {
    const res = await client.write('pki/issue/server', { common_name: 'photos.home.example.com' });
    const cert = new x509.X509Certificate(res.data.certificate);
    expect(res.data.private_key).toMatch(pemBlock('EC PRIVATE KEY'));
    expect(res.data.private_key_type).toBe('ec');
    expect(ekus(cert)).toEqual([x509.ExtendedKeyUsage.serverAuth]);
    expect(verifies((await client.read('pki/ca/pem')) as unknown as string, res.data.certificate, 'sslserver')).toBe(true);

    await expect(client.write('pki/issue/server', { common_name: 'evil.example.org' })).rejects.toMatchObject({
      message: 'common name evil.example.org not allowed by this role',
      response: { statusCode: 400 },
    });
  });

  it('GIVEN a role with key_type any WHEN key_type/key_bits are sent THEN RSA 2048 and EC P-256 keys are issued; without key_type it is a 400', async () => {
    const rsa = await client.write('pki/issue/any-key', { common_name: 'bench-rsa', key_type: 'rsa', key_bits: 2048 });
    const ec = await client.write('pki/issue/any-key', { common_name: 'bench-ec', key_type: 'ec', key_bits: 256 });
    expect(createPrivateKey(rsa.data.private_key).asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(createPrivateKey(ec.data.private_key).asymmetricKeyDetails?.namedCurve).toBe('prime256v1');

    await expect(client.write('pki/issue/any-key', { common_name: 'x' })).rejects.toMatchObject({
      message: 'role key type "any" not allowed for issuing certificates without providing key_type and/or key_bits request parameters',
    });
  });

  it('GIVEN a role with a fixed key type WHEN key_type is sent THEN it is ignored with a warning', async () => {
    const res = await client.write('pki/issue/device', { common_name: 'dave', key_type: 'ec' });
    expect(res.data.private_key_type).toBe('rsa');
    expect(res.warnings).toContain('parameters key_type and key_bits ignored as role had specific values');
  });

  it('GIVEN a ttl above the role max_ttl THEN the certificate gets max_ttl and a warning', async () => {
    const res = await client.write('pki/issue/device', { common_name: 'erin', ttl: '20000h' });
    expect(res.data.expiration - Math.floor(clock / 1000)).toBe(8760 * 3600);
    expect(res.warnings).toEqual(['TTL "20000h0m0s" is longer than permitted maxTTL "8760h0m0s", so maxTTL is being used']);
  });

  it('GIVEN not_after THEN the certificate ends exactly then', async () => {
    const notAfter = new Date(Math.floor(clock / 1000) * 1000 + 10 * 86_400_000);
    const res = await client.write('pki/issue/device', { common_name: 'frank', not_after: notAfter.toISOString().replace(/\.\d+Z$/, 'Z') });
    expect(res.data.expiration).toBe(notAfter.getTime() / 1000);
  });

  it('GIVEN an unknown role THEN 400 "unknown role"', async () => {
    await expect(client.write('pki/issue/nope', { common_name: 'x' })).rejects.toMatchObject({
      message: 'unknown role: nope',
      response: { statusCode: 400, body: { errors: ['unknown role: nope'] } },
    });
  });

  it('GIVEN a URI SAN outside the role patterns THEN 400', async () => {
    await expect(client.write('pki/issue/device', { common_name: 'x', uri_sans: 'https://elsewhere' })).rejects.toMatchObject({
      message: 'URI Subject Alternative Names were provided via the API which are not valid for this role',
    });
  });
});

describe('POST pki/sign/<role>', () => {
  async function makeCsr(cn: string, dns: string[] = []) {
    const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
    const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({
      name: `CN=${cn}`,
      keys,
      signingAlgorithm: alg,
      extensions: dns.length ? [new x509.SubjectAlternativeNameExtension(dns.map((value) => ({ type: 'dns' as const, value })))] : [],
    });
    return { csr, keys };
  }

  it('GIVEN a CSR made with Pkcs10CertificateRequestGenerator THEN the certificate certifies its key with the CSR CN and SANs and no private key is returned', async () => {
    const { csr } = await makeCsr('photos.home.example.com', ['photos-alt.home.example.com']);
    const res = await client.write('pki/sign/server', { csr: csr.toString('pem') });
    const cert = new x509.X509Certificate(res.data.certificate);

    expect(Buffer.from(cert.publicKey.rawData).equals(Buffer.from(csr.publicKey.rawData))).toBe(true);
    expect(cert.subjectName.getField('CN')).toEqual(['photos.home.example.com']);
    expect(sanNames(cert).sort()).toEqual(['dns:photos-alt.home.example.com', 'dns:photos.home.example.com']);
    expect(res.data.private_key).toBeUndefined();
    expect(verifies((await client.read('pki/ca/pem')) as unknown as string, res.data.certificate, 'sslserver')).toBe(true);
  });

  it('GIVEN common_name with use_csr_common_name THEN the CSR CN wins and a warning says so', async () => {
    const { csr } = await makeCsr('api.home.example.com');
    const res = await client.write('pki/sign/server', { csr: csr.toString('pem'), common_name: 'other.home.example.com' });
    expect(new x509.X509Certificate(res.data.certificate).subjectName.getField('CN')).toEqual(['api.home.example.com']);
    expect(res.warnings).toContain('the common_name field was provided but the role is set with "use_csr_common_name" set to true');
  });

  it('GIVEN a CSR whose signature does not match THEN 400 "request signature invalid"', async () => {
    const { csr } = await makeCsr('tampered.home.example.com');
    const der = Buffer.from(csr.rawData);
    der[der.length - 5] ^= 0xff; // inside the signature value
    const pem = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----`;
    await expect(client.write('pki/sign/server', { csr: pem })).rejects.toMatchObject({
      message: 'request signature invalid',
      response: { statusCode: 400 },
    });
  });

  it('GIVEN no PEM block or an empty csr THEN 400 with OpenBao messages', async () => {
    await expect(client.write('pki/sign/server', { csr: 'not a csr' })).rejects.toMatchObject({ message: 'csr contains no data' });
    await expect(client.write('pki/sign/server', {})).rejects.toMatchObject({ message: '"csr" is empty' });
  });

  it('GIVEN the device role (use_csr_common_name and use_csr_sans off) THEN the request names the certificate, not the CSR', async () => {
    const alg = { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' };
    const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({
      name: 'CN=whatever.local',
      keys,
      signingAlgorithm: alg,
      extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: 'whatever.local' }])],
    });
    const res = await client.write('pki/sign/device', { csr: csr.toString('pem'), common_name: 'laptop', uri_sans: 'urn:labgate:device:shell:bob:laptop', exclude_cn_from_sans: true });
    const cert = new x509.X509Certificate(res.data.certificate);
    expect(cert.subjectName.getField('CN')).toEqual(['laptop']);
    expect(sanNames(cert)).toEqual(['url:urn:labgate:device:shell:bob:laptop']);
    expect(Buffer.from(cert.publicKey.rawData).equals(Buffer.from(csr.publicKey.rawData))).toBe(true);
  });

  it('GIVEN an EC CSR on the RSA device role THEN 400 "role requires keys of type rsa"', async () => {
    const { csr } = await makeCsr('phone');
    await expect(client.write('pki/sign/device', { csr: csr.toString('pem') })).rejects.toMatchObject({ message: 'role requires keys of type rsa' });
  });
});

describe('listing and reading certificates', () => {
  it('LIST pki/certs returns colon serials of issued certificates and of the generated CA, paged by after/limit', async () => {
    const issued = await client.write('pki/issue/device', { common_name: 'lister' });
    const all = (await client.list('pki/certs')).data.keys as string[];
    const caSerial = new x509.X509Certificate((await client.read('pki/ca/pem')) as unknown as string).serialNumber;

    expect(all).toContain(issued.data.serial_number);
    expect(all.map((k) => k.replace(/:/g, ''))).toContain(caSerial.replace(/^00/, ''));
    expect([...all].sort()).toEqual(all);

    const firstTwo = (await client.read('pki/certs?list=true&limit=2')).data.keys;
    expect(firstTwo).toEqual(all.slice(0, 2));
    const afterSecond = (await client.read(`pki/certs?list=true&after=${all[1]!.replace(/:/g, '-')}`)).data.keys;
    expect(afterSecond).toEqual(all.slice(2));
  });

  it('LIST pki/certs/detailed gives key_info with common name and dates', async () => {
    const issued = await client.write('pki/issue/device', { common_name: 'detailed-one' });
    const res = await client.list('pki/certs/detailed');
    const info = res.data.key_info[issued.data.serial_number];
    expect(info).toMatchObject({ common_name: 'detailed-one', key_type: 'rsa', key_bits: 2048 });
    expect(Date.parse(info.not_after) / 1000).toBe(issued.data.expiration);
  });

  it('GET pki/cert/<serial> answers the same certificate for colon and hyphen forms, with revocation_time 0; unknown serials are 404', async () => {
    const issued = await client.write('pki/issue/device', { common_name: 'reader' });
    const colon = await client.read(`pki/cert/${issued.data.serial_number}`);
    const hyphen = await client.read(`pki/cert/${issued.data.serial_number.replace(/:/g, '-')}`);
    expect(colon.data.certificate).toBe(issued.data.certificate);
    expect(hyphen.data.certificate).toBe(issued.data.certificate);
    expect(colon.data).toMatchObject({ revocation_time: 0, revocation_time_rfc3339: '' });

    await expect(client.read('pki/cert/01:02:03')).rejects.toMatchObject({ message: 'Status 404', response: { statusCode: 404 } });
  });

  it('GET pki/ca/pem has no trailing newline and matches ca (DER), cert/ca and ca_chain', async () => {
    const pem = (await client.read('pki/ca/pem')) as unknown as string;
    expect(pem.startsWith('-----BEGIN CERTIFICATE-----')).toBe(true);
    expect(pem.endsWith('-----END CERTIFICATE-----')).toBe(true);
    const der = await fetch(`${sb.url}/v1/pki/ca`);
    expect(der.headers.get('content-type')).toBe('application/pkix-cert');
    expect(Buffer.from(await der.arrayBuffer()).equals(Buffer.from(new x509.X509Certificate(pem).rawData))).toBe(true);
    expect((await client.read('pki/cert/ca')).data.certificate).toBe(pem);
    expect((await fetch(`${sb.url}/v1/pki/ca_chain`).then((r) => r.text())).trim()).toBe(pem);
  });
});

describe('revocation', () => {
  it("GIVEN an issued device certificate WHEN revoked THEN it is in certs/revoked, cert/<serial> shows the time, and its issuer's signed CRL (DER and PEM) lists it, not the root's", async () => {
    const issued = await client.write('pki/issue/device', { common_name: 'lost-phone' });
    const serial: string = issued.data.serial_number;
    const revoked = await client.write('pki/revoke', { serial_number: serial });

    expect(revoked.data).toEqual({
      revocation_time: Math.floor(clock / 1000),
      revocation_time_rfc3339: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/),
      state: 'revoked',
    });
    expect((await client.list('pki/certs/revoked')).data.keys).toContain(serial);
    const read = await client.read(`pki/cert/${serial}`);
    expect(read.data.revocation_time).toBe(Math.floor(clock / 1000));
    const devices = Object.values(sb.state.pki.issuers).find((i) => i.name === 'devices')!;
    expect(read.data.issuer_id).toBe(devices.id);

    const crlDer = Buffer.from(await (await fetch(`${sb.url}/v1/pki/issuer/devices/crl/der`)).arrayBuffer());
    const text = openssl(['crl', '-inform', 'DER', '-noout', '-text', '-in', { file: crlDer }]);
    expect(text.ok).toBe(true);
    expect(text.out.toUpperCase()).toContain(serial.replace(/:/g, '').toUpperCase());
    const signature = openssl(['crl', '-inform', 'DER', '-noout', '-in', { file: crlDer }, '-CAfile', { file: devices.certificatePem }]);
    expect(signature.out).toContain('verify OK');

    const crlPem = await fetch(`${sb.url}/v1/pki/issuer/devices/crl/pem`).then((r) => r.text());
    expect(crlPem.startsWith('-----BEGIN X509 CRL-----')).toBe(true);
    const crl = new x509.X509Crl(crlPem);
    expect(await crl.verify({ publicKey: new x509.X509Certificate(devices.certificatePem) })).toBe(true);
    expect(crl.entries.map((e) => e.serialNumber.replace(/^00/, ''))).toContain(serial.replace(/:/g, ''));
    const rootCrl = new x509.X509Crl(await fetch(`${sb.url}/v1/pki/crl/pem`).then((r) => r.text()));
    expect(rootCrl.entries.map((e) => e.serialNumber.replace(/^00/, ''))).not.toContain(serial.replace(/:/g, ''));

    // openssl verify with both CRLs now rejects the certificate.
    const caPem = (await client.read('pki/ca/pem')) as unknown as string;
    const rootCrlPem = await fetch(`${sb.url}/v1/pki/crl/pem`).then((r) => r.text());
    const check = openssl(['verify', '-attime', String(Math.floor(clock / 1000)), '-crl_check_all', '-CAfile', { file: caPem }, '-untrusted', { file: devices.certificatePem }, '-CRLfile', { file: `${crlPem}\n${rootCrlPem}` }, { file: issued.data.certificate }]);
    expect(check.ok).toBe(false);
    expect(check.out).toContain('certificate revoked');
  });

  it("GET pki/crl/rotate rebuilds every issuer's CRL now: a new CRL number, still listing what was revoked", async () => {
    const issued = await client.write('pki/issue/device', { common_name: 'rotate-me' });
    await client.write('pki/revoke', { serial_number: issued.data.serial_number });
    const number = (pem: string) => openssl(['crl', '-noout', '-crlnumber', '-in', { file: pem }]).out.trim();
    const before = await fetch(`${sb.url}/v1/pki/issuer/devices/crl/pem`).then((r) => r.text());
    const rootBefore = await fetch(`${sb.url}/v1/pki/crl/pem`).then((r) => r.text());
    const rotated = await client.read('pki/crl/rotate');
    expect(rotated.data).toEqual({ success: true });
    expect(number(await fetch(`${sb.url}/v1/pki/crl/pem`).then((r) => r.text()))).not.toBe(number(rootBefore));
    const after = await fetch(`${sb.url}/v1/pki/issuer/devices/crl/pem`).then((r) => r.text());
    expect(number(after)).not.toBe(number(before));
    expect(new x509.X509Crl(after).entries.map((e) => e.serialNumber.replace(/^00/, ''))).toContain(issued.data.serial_number.replace(/:/g, ''));
    // labgate's policy may rebuild it; a token without that grant may not.
    const labgate = vault({ endpoint: sb.url, token: sb.createToken({ policies: ['labgate'] }), noCustomHTTPVerbs: true });
    await expect(labgate.read('pki/crl/rotate')).resolves.toMatchObject({ data: { success: true } });
    const other = vault({ endpoint: sb.url, token: sb.createToken({ policies: [] }), noCustomHTTPVerbs: true });
    await expect(other.read('pki/crl/rotate')).rejects.toMatchObject({ response: { statusCode: 403 } });
  });

  it('revoking again is idempotent and keeps the first revocation time; by certificate PEM works too', async () => {
    const issued = await client.write('pki/issue/device', { common_name: 'twice' });
    const first = await client.write('pki/revoke', { certificate: issued.data.certificate });
    clock += 5_000;
    const second = await client.write('pki/revoke', { serial_number: issued.data.serial_number.replace(/:/g, '-') });
    expect(second.data.revocation_time).toBe(first.data.revocation_time);
  });

  it('GIVEN a no_store certificate WHEN revoked by its PEM THEN it is stored as revoked; a certificate from a foreign CA is refused', async () => {
    const issued = await client.write('pki/issue/ephemeral', { common_name: 'short-lived' });
    await expect(client.read(`pki/cert/${issued.data.serial_number}`)).rejects.toMatchObject({ response: { statusCode: 404 } });

    await client.write('pki/revoke', { certificate: issued.data.certificate });
    expect((await client.list('pki/certs/revoked')).data.keys).toContain(issued.data.serial_number);
    const crl = new x509.X509Crl(await fetch(`${sb.url}/v1/pki/crl/pem`).then((r) => r.text()));
    expect(crl.entries.map((e) => e.serialNumber.replace(/^00/, ''))).toContain(issued.data.serial_number.replace(/:/g, ''));

    const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
    const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    const foreign = await x509.X509CertificateGenerator.createSelfSigned({ name: 'CN=someone else', keys, signingAlgorithm: alg });
    await expect(client.write('pki/revoke', { certificate: foreign.toString('pem') })).rejects.toMatchObject({
      message: expect.stringMatching(/^unable to verify signature on presented cert from any present issuer in this mount/),
      response: { statusCode: 400 },
    });
  });

  it('GIVEN an unknown serial THEN 400; GIVEN the CA serial THEN 400 (an issuer cannot be on its own CRL)', async () => {
    await expect(client.write('pki/revoke', { serial_number: '0a:0b' })).rejects.toMatchObject({
      message: 'certificate with serial 0a:0b not found.',
      response: { statusCode: 400 },
    });
    const root = sb.state.pki.issuers[sb.state.pki.defaultIssuerId]!;
    await expect(client.write('pki/revoke', { serial_number: root.serialNumber })).rejects.toMatchObject({
      message: `adding issuer (id: ${root.id}) to its own CRL is not allowed`,
    });
    const devices = Object.values(sb.state.pki.issuers).find((i) => i.name === 'devices')!;
    await expect(client.write('pki/revoke', { serial_number: devices.serialNumber })).rejects.toMatchObject({
      message: `adding issuer (id: ${devices.id}) to its own CRL is not allowed`,
    });
  });

  it('GIVEN an expired certificate WHEN revoked THEN 200 with a warning and it is not added to the CRL', async () => {
    const issued = await client.write('pki/issue/device', { common_name: 'old', ttl: '1h' });
    clock += 2 * 3600_000;
    const res = await client.write('pki/revoke', { serial_number: issued.data.serial_number });
    expect(res.data).toBeNull();
    expect(res.warnings).toEqual([`certificate with serial ${issued.data.serial_number} already expired; refusing to add to CRL`]);
    await expect(client.read(`pki/cert/${issued.data.serial_number}`)).resolves.toMatchObject({ data: { revocation_time: 0 } });
  });
});

describe('CA rotation', () => {
  it('GIVEN rotateCa THEN ca/pem and ca_chain change, old certificates stay listed, and new ones from the default issuer verify only against the new CA', async () => {
    // Its own OpenBao: rotating the root of the shared one would change what every other test verifies against.
    const own = await startOpenBaoSandbox({ state: await seedOpenBaoState({ now: () => clock }), now: () => clock });
    try {
      const bao = vault({ endpoint: own.url, token: own.rootToken, noCustomHTTPVerbs: true });
      const before = (await bao.read('pki/ca/pem')) as unknown as string;
      const old = await bao.write('pki/issue/server', { common_name: 'before-rotation.home.example.com' });

      const rotated = await own.rotateCa();
      const after = (await bao.read('pki/ca/pem')) as unknown as string;
      expect(after).not.toBe(before);
      expect(after).toBe(rotated.certificatePem);
      expect((await fetch(`${own.url}/v1/pki/ca_chain`).then((r) => r.text())).trim()).toBe(after);
      expect((await bao.list('pki/certs')).data.keys).toContain(old.data.serial_number);

      const fresh = await bao.write('pki/issue/server', { common_name: 'after-rotation.home.example.com' });
      expect(fresh.data.issuing_ca).toBe(after);
      expect(verifies(after, fresh.data.certificate, 'sslserver')).toBe(true);
      expect(verifies(before, fresh.data.certificate, 'sslserver')).toBe(false);
      expect(verifies(before, old.data.certificate, 'sslserver')).toBe(true);
      // The devices intermediate was signed by the old root and still chains to it, as in OpenBao.
      const device = await bao.write('pki/issue/device', { common_name: 'after-rotation' });
      expect(device.data.ca_chain).toEqual([devicesPem(own), before]);
    } finally {
      await own.close();
    }
  });
});
