import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import vault from 'node-vault';
import { seedOpenBaoState, startOpenBaoSandbox, type OpenBaoSandbox, type OpenBaoState } from '../../sandbox/openbao/index.js';
import { x509 } from '../../src/pki/x509.js';

const workDir = mkdtempSync(join(tmpdir(), 'openbao-state-'));
const open: OpenBaoSandbox[] = [];

async function start(state: OpenBaoState, extra: { onChange?: () => void; now?: () => number } = {}) {
  const sb = await startOpenBaoSandbox({ state, ...extra });
  open.push(sb);
  return { sb, client: vault({ endpoint: sb.url, token: sb.rootToken, noCustomHTTPVerbs: true }) };
}

afterAll(async () => {
  await Promise.all(open.map((sb) => sb.close()));
  rmSync(workDir, { recursive: true, force: true });
});

const body = (pem: string) => pem.replace(/-----[^-]+-----|\s/g, '');

describe('state', () => {
  it('GIVEN a state written to JSON WHEN a new sandbox starts from the parsed copy THEN certificates, revocations, the CA, the CRL and login tokens survive', async () => {
    let persisted = '';
    const state = await seedOpenBaoState();
    const first = await start(state, { onChange: () => (persisted = JSON.stringify(state)) });
    const kept = await first.client.write('pki/issue/device', { common_name: 'kept' });
    const gone = await first.client.write('pki/issue/device', { common_name: 'gone' });
    await first.client.write('pki/revoke', { serial_number: gone.data.serial_number });
    const login = vault({ endpoint: first.sb.url, noCustomHTTPVerbs: true });
    await login.approleLogin({ role_id: first.sb.approle.roleId, secret_id: first.sb.approle.secretId });
    const caBefore = await first.client.read('pki/ca/pem');
    await first.sb.close();

    const second = await start(JSON.parse(persisted) as OpenBaoState);
    expect(second.sb.port).not.toBe(first.sb.port);
    const keys = (await second.client.list('pki/certs')).data.keys;
    expect(keys).toEqual(expect.arrayContaining([kept.data.serial_number, gone.data.serial_number]));
    expect((await second.client.list('pki/certs/revoked')).data.keys).toEqual([gone.data.serial_number]);
    expect(await second.client.read('pki/ca/pem')).toBe(caBefore);
    const crl = new x509.X509Crl(await fetch(`${second.sb.url}/v1/pki/issuer/devices/crl/pem`).then((r) => r.text()));
    expect(crl.entries.map((e) => e.serialNumber.replace(/^00/, ''))).toEqual([gone.data.serial_number.replace(/:/g, '')]);

    // The old AppRole token works against the restarted server, and the CA still signs.
    const resumed = vault({ endpoint: second.sb.url, token: login.token, noCustomHTTPVerbs: true });
    const fresh = await resumed.write('pki/issue/device', { common_name: 'after-restart' });
    expect(fresh.data.ca_chain.at(-1)).toBe(caBefore);
    expect(fresh.data.issuing_ca).toBe(kept.data.issuing_ca);
  });

  it('never contains an issued private key; the only private keys are the issuers\'', async () => {
    const state = await seedOpenBaoState();
    const { sb, client } = await start(state);
    const issued = await client.write('pki/issue/device', { common_name: 'secret-holder', private_key_format: 'pkcs8' });
    const issuedDer = await client.write('pki/issue/device', { common_name: 'secret-holder-der', format: 'der' });
    await sb.rotateCa();

    const json = JSON.stringify(state);
    expect(json).not.toContain(body(issued.data.private_key).slice(0, 64));
    expect(json).not.toContain(issuedDer.data.private_key.slice(0, 64));
    expect(json.match(/PRIVATE KEY-----/g)?.length).toBe(2 * Object.keys(state.pki.issuers).length);
    // The root, the devices intermediate, and the rotated root.
    expect(Object.keys(state.pki.issuers)).toHaveLength(3);
    expect(json).toContain(body(issued.data.certificate).slice(0, 64));
  });

  it('calls onChange after every mutation: issue, revoke, login, renew, rotation, bulk seeding', async () => {
    let changes = 0;
    const { sb, client } = await start(await seedOpenBaoState(), { onChange: () => changes++ });
    const step = async (fn: () => Promise<unknown>) => {
      const before = changes;
      await fn();
      return changes - before;
    };
    const issued = await client.write('pki/issue/device', { common_name: 'c' });
    expect(changes).toBeGreaterThanOrEqual(1);
    expect(await step(() => client.write('pki/revoke', { serial_number: issued.data.serial_number }))).toBeGreaterThanOrEqual(1);
    const user = vault({ endpoint: sb.url, noCustomHTTPVerbs: true });
    expect(await step(() => user.approleLogin({ role_id: sb.approle.roleId, secret_id: sb.approle.secretId }))).toBeGreaterThanOrEqual(1);
    expect(await step(() => user.tokenRenewSelf())).toBeGreaterThanOrEqual(1);
    expect(await step(() => sb.rotateCa())).toBeGreaterThanOrEqual(1);
    expect(await step(() => sb.addCertificates([{ commonName: 'bulk', notAfter: new Date(Date.now() + 86_400_000) }]))).toBe(1);
    expect(await step(() => client.read('pki/ca/pem'))).toBe(0);
  });

  it('GIVEN bulk certificates with URI SANs THEN the URIs are in the certificate, next to the DNS name of a hostname CN', async () => {
    const { sb, client } = await start(await seedOpenBaoState());
    const [serial] = await sb.addCertificates([{ commonName: 'phone.home.example.com', notAfter: new Date(Date.now() + 86_400_000), uris: ['urn:labgate:device:shell:bob:phone'] }]);
    const cert = new x509.X509Certificate((await client.read(`pki/cert/${serial}`)).data.certificate);
    const names = cert.getExtension(x509.SubjectAlternativeNameExtension)!.names.toJSON().map((n) => `${n.type}:${n.value}`);
    expect(names).toEqual(['dns:phone.home.example.com', 'url:urn:labgate:device:shell:bob:phone']);
  });

  it('GIVEN two sandboxes in one process THEN they share nothing', async () => {
    const a = await start(await seedOpenBaoState());
    const b = await start(await seedOpenBaoState());
    const issued = await a.client.write('pki/issue/device', { common_name: 'only-in-a' });
    expect(await a.client.read('pki/ca/pem')).not.toBe(await b.client.read('pki/ca/pem'));
    expect((await b.client.list('pki/certs')).data.keys).not.toContain(issued.data.serial_number);
    await expect(b.client.read('pki/cert/' + issued.data.serial_number)).rejects.toMatchObject({ response: { statusCode: 404 } });
  });

  it('GIVEN a mount with no stored certificates THEN LIST certs is 404 {"errors":[]}', async () => {
    const state = await seedOpenBaoState({ mount: 'pki-empty' });
    state.pki.certs = {};
    const { client } = await start(state);
    await expect(client.list('pki-empty/certs')).rejects.toMatchObject({ message: 'Status 404', response: { statusCode: 404, body: { errors: [] } } });
  });
});

describe('bulk seeding', () => {
  it("GIVEN 10,000 specs with chosen notAfter dates THEN they are added, listed, signed by the device role's issuer, verifiable with openssl, and the revoked ones are on that issuer's CRL", async () => {
    const now = Date.now();
    const { sb, client } = await start(await seedOpenBaoState());
    const specs = Array.from({ length: 10_000 }, (_, i) => ({
      commonName: `device-${i}`,
      notAfter: new Date(now + (i - 100) * 3_600_000),
      ...(i % 1000 === 500 ? { revokedAt: new Date(now - 60_000) } : {}),
    }));

    const serials = await sb.addCertificates(specs);
    expect(new Set(serials).size).toBe(10_000);

    const keys = (await client.list('pki/certs')).data.keys as string[];
    expect(keys).toHaveLength(10_002); // plus the root and the devices intermediate
    const sample = await client.read(`pki/cert/${serials[4321]}`);
    const cert = new x509.X509Certificate(sample.data.certificate);
    expect(cert.subjectName.getField('CN')).toEqual(['device-4321']);
    expect(cert.notAfter.getTime()).toBe(Math.floor(specs[4321]!.notAfter.getTime() / 1000) * 1000);
    expect(cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages).toEqual([x509.ExtendedKeyUsage.clientAuth]);

    const caPem = (await client.read('pki/ca/pem')) as unknown as string;
    const devices = await client.read('pki/issuer/devices/json');
    expect(cert.issuer).toBe(new x509.X509Certificate(devices.data.certificate).subject);
    writeFileSync(join(workDir, 'ca.pem'), caPem);
    writeFileSync(join(workDir, 'devices.pem'), devices.data.certificate);
    writeFileSync(join(workDir, 'leaf.pem'), sample.data.certificate);
    const verify = spawnSync('openssl', ['verify', '-CAfile', join(workDir, 'ca.pem'), '-untrusted', join(workDir, 'devices.pem'), join(workDir, 'leaf.pem')], { encoding: 'utf8' });
    expect(verify.stdout).toContain(': OK');

    const revoked = (await client.list('pki/certs/revoked')).data.keys as string[];
    expect(revoked.sort()).toEqual(serials.filter((_, i) => i % 1000 === 500).sort());
    const crl = new x509.X509Crl(await fetch(`${sb.url}/v1/pki/issuer/devices/crl/pem`).then((r) => r.text()));
    expect(crl.entries).toHaveLength(10);
  }, 60_000);
});
