import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import vault from 'node-vault';
import { NodeVaultOpenBao } from '../../src/openbao/node-vault-adapter.js';
import { x509 } from '../../src/pki/x509.js';
import { seedOpenBaoState, startOpenBaoSandbox, type OpenBaoSandbox } from '../../sandbox/openbao/index.js';

// OpenBao 2.x issuers (builtin/logical/pki/path_fetch_issuers.go, path_intermediate.go,
// path_root.go; docs website/content/docs/secrets/pki/setup.mdx "intermediate" steps).

const workDir = mkdtempSync(join(tmpdir(), 'openbao-issuers-'));
let files = 0;
const file = (text: string) => {
  const path = join(workDir, `f${files++}.pem`);
  writeFileSync(path, text);
  return path;
};

/** `openssl verify` with the given flags; true when it printed OK. */
function verify(args: string[], cert: string): { ok: boolean; out: string } {
  const run = spawnSync('openssl', ['verify', ...args, file(cert)], { encoding: 'utf8' });
  return { ok: run.status === 0 && run.stdout.includes(': OK'), out: `${run.stdout}${run.stderr}` };
}

let sb: OpenBaoSandbox;
let root: ReturnType<typeof vault>;
let anonymous: ReturnType<typeof vault>;

beforeAll(async () => {
  sb = await startOpenBaoSandbox({ state: await seedOpenBaoState() });
  root = vault({ endpoint: sb.url, token: sb.rootToken, noCustomHTTPVerbs: true });
  anonymous = vault({ endpoint: sb.url, noCustomHTTPVerbs: true });
});

afterAll(async () => {
  await sb.close();
  rmSync(workDir, { recursive: true, force: true });
});

describe('the seeded issuers', () => {
  it('GIVEN no token WHEN LIST pki/issuers THEN the root (default) and the devices intermediate are listed with name, serial and key id', async () => {
    const res = await anonymous.list('pki/issuers');
    const info = res.data.key_info as Record<string, { issuer_name: string; is_default: boolean; serial_number: string; key_id: string }>;
    expect(res.data.keys).toEqual(Object.keys(sb.state.pki.issuers).sort());
    const byName = Object.fromEntries(Object.values(info).map((i) => [i.is_default ? 'default' : i.issuer_name, i]));
    expect(byName.devices).toMatchObject({ issuer_name: 'devices', is_default: false, serial_number: expect.stringMatching(/^[0-9a-f]{2}(:[0-9a-f]{2})+$/) });
    expect(byName.default!.key_id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('GIVEN no token WHEN GET issuer/devices/json, /pem and /der THEN the intermediate and its chain to the root come back in each form', async () => {
    const json = await anonymous.read('pki/issuer/devices/json');
    const rootPem = (await anonymous.read('pki/ca/pem')) as unknown as string;
    expect(json.data.issuer_name).toBe('devices');
    expect(json.data.certificate.endsWith('-----END CERTIFICATE-----\n')).toBe(true);
    expect(json.data.ca_chain).toEqual([json.data.certificate, `${rootPem}\n`]);
    const cert = new x509.X509Certificate(json.data.certificate);
    expect(cert.issuer).toBe(new x509.X509Certificate(rootPem).subject);
    expect(cert.getExtension(x509.BasicConstraintsExtension)?.ca).toBe(true);

    const pem = await fetch(`${sb.url}/v1/pki/issuer/devices/pem`);
    expect(pem.headers.get('content-type')).toBe('application/pem-certificate-chain');
    expect(await pem.text()).toBe(json.data.certificate);
    const der = await fetch(`${sb.url}/v1/pki/issuer/${json.data.issuer_id}/der`);
    expect(der.headers.get('content-type')).toBe('application/pkix-cert');
    expect(Buffer.from(await der.arrayBuffer()).equals(Buffer.from(cert.rawData))).toBe(true);
  });

  it('GIVEN an unknown issuer reference THEN 400 names it, as OpenBao does', async () => {
    await expect(anonymous.read('pki/issuer/nosuch/json')).rejects.toMatchObject({
      response: { statusCode: 400, body: { errors: ['unable to find PKI issuer for reference: nosuch'] } },
    });
  });

  it('GIVEN the device and server roles WHEN each issues THEN the device certificate chains leaf → devices → root and verifies against the devices chain; the server certificate does not verify against the devices intermediate alone', async () => {
    const device = await root.write('pki/issue/device', { common_name: 'pixel-8', uri_sans: 'urn:labgate:device:shell:bob:pixel-8' });
    const server = await root.write('pki/issue/server', { common_name: 'photos.home.example.com' });
    const [devicesPem, rootPem] = device.data.ca_chain as string[];
    expect(device.data.issuing_ca).toBe(devicesPem);
    expect(server.data.ca_chain).toEqual([rootPem]);
    expect(new x509.X509Certificate(device.data.certificate).getExtension(x509.ExtendedKeyUsageExtension)?.usages).toEqual([x509.ExtendedKeyUsage.clientAuth]);
    expect(new x509.X509Certificate(server.data.certificate).getExtension(x509.ExtendedKeyUsageExtension)?.usages).toEqual([x509.ExtendedKeyUsage.serverAuth]);

    // The client-CA a mtls-strict route would trust: the devices chain.
    const chainFile = file(`${devicesPem}\n${rootPem}\n`);
    expect(verify(['-CAfile', chainFile, '-purpose', 'sslclient'], device.data.certificate).ok).toBe(true);
    expect(verify(['-partial_chain', '-CAfile', file(devicesPem!), '-purpose', 'sslclient'], device.data.certificate).ok).toBe(true);
    const refused = verify(['-partial_chain', '-CAfile', file(devicesPem!)], server.data.certificate);
    expect(refused.ok).toBe(false);
    expect(refused.out).toContain('unable to get local issuer certificate');
  });

  it("GIVEN labgate's adapter with labgate's policy THEN issuerChain('devices') is the intermediate then the root", async () => {
    const bao = new NodeVaultOpenBao({ endpoint: sb.url, login: { method: 'token', token: sb.createToken({ policies: ['labgate'] }) }, mount: 'pki' });
    try {
      const chain = await bao.issuerChain('devices');
      expect(chain).toHaveLength(2);
      expect(new x509.X509Certificate(chain[0]!).subject).toBe(`CN=labgate sandbox devices CA (home.example.com)`);
      expect(chain[1]).toBe((await bao.caChain())[0]);
      await expect(bao.issuerChain('nosuch')).rejects.toMatchObject({ status: 400, message: expect.stringContaining('unable to find PKI issuer for reference: nosuch') });
    } finally {
      bao.close();
    }
  });
});

describe('building an intermediate the way an operator does', () => {
  it('GIVEN generate/internal, root/sign-intermediate and set-signed THEN a new issuer exists with its key; named, it signs leaves that chain to the root; its own CRL lists what it revoked', async () => {
    const generated = await root.write('pki/intermediate/generate/internal', { common_name: 'Kiosk CA', key_type: 'ec', key_bits: 256, key_name: 'kiosk' });
    expect(generated.data.csr).toMatch(/^-----BEGIN CERTIFICATE REQUEST-----/);
    expect(generated.data.key_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(generated.data.private_key).toBeUndefined();

    const signed = await root.write('pki/root/sign-intermediate', { csr: generated.data.csr, common_name: 'Kiosk CA', ttl: '8760h' });
    const rootPem = (await anonymous.read('pki/ca/pem')) as unknown as string;
    expect(signed.data.ca_chain).toEqual([signed.data.certificate, rootPem]);
    expect((await root.list('pki/certs')).data.keys).toContain(signed.data.serial_number);

    const imported = await root.write('pki/intermediate/set-signed', { certificate: signed.data.certificate });
    const [id] = imported.data.imported_issuers as string[];
    expect(imported.data.mapping).toEqual({ [id!]: generated.data.key_id });
    expect(imported.data.existing_issuers).toBeNull();
    const again = await root.write('pki/intermediate/set-signed', { certificate: signed.data.certificate });
    expect(again.data).toMatchObject({ imported_issuers: null, existing_issuers: [id] });

    // Writing an issuer replaces every field; issuer_name is the one an operator sets.
    const named = await root.write(`pki/issuer/${id}`, { issuer_name: 'kiosk' });
    expect(named.data).toMatchObject({ issuer_id: id, issuer_name: 'kiosk', key_id: generated.data.key_id, leaf_not_after_behavior: 'err', usage: 'crl-signing,issuing-certificates,ocsp-signing,read-only' });
    expect((await root.read('pki/issuer/kiosk')).data.issuer_id).toBe(id);

    const leaf = await root.write('pki/issuer/kiosk/issue/device', { common_name: 'kiosk-1' });
    expect(leaf.data.ca_chain).toEqual([signed.data.certificate, rootPem]);
    expect(verify(['-CAfile', file(rootPem), '-untrusted', file(signed.data.certificate), '-purpose', 'sslclient'], leaf.data.certificate).ok).toBe(true);

    await root.write('pki/revoke', { serial_number: leaf.data.serial_number });
    const crl = new x509.X509Crl((await anonymous.read('pki/issuer/kiosk/crl')).data.crl);
    expect(await crl.verify({ publicKey: new x509.X509Certificate(signed.data.certificate) })).toBe(true);
    expect(crl.entries.map((e) => e.serialNumber.replace(/^00/, ''))).toEqual([leaf.data.serial_number.replace(/:/g, '')]);
  });

  it('GIVEN bad issuer names THEN each is refused with OpenBao’s message and the issuer keeps its name', async () => {
    const devices = (await anonymous.read('pki/issuer/devices/json')).data.issuer_id as string;
    const refuse = (name: string) => root.write(`pki/issuer/${devices}`, { issuer_name: name }).catch((e: { response: { body: { errors: string[] } } }) => e.response.body.errors[0]);
    expect(await refuse('default')).toBe("reserved keyword 'default' can not be used as issuer name");
    expect(await refuse('has space')).toBe('issuer name contained invalid characters');
    const rootId = sb.state.pki.defaultIssuerId;
    await root.write(`pki/issuer/${rootId}`, { issuer_name: 'home-root' });
    expect(await refuse('home-root')).toBe('issuer name already in use');
    expect((await anonymous.read('pki/issuer/devices/json')).data.issuer_id).toBe(devices);
  });

  it('GIVEN PATCH on an issuer THEN only the fields given change; a later POST without them puts the defaults back', async () => {
    const patched = await fetch(`${sb.url}/v1/pki/issuer/devices`, {
      method: 'PATCH',
      headers: { 'X-Vault-Token': sb.rootToken, 'Content-Type': 'application/merge-patch+json' },
      body: JSON.stringify({ leaf_not_after_behavior: 'truncate' }),
    }).then((r) => r.json() as Promise<{ data: Record<string, unknown> }>);
    expect(patched.data).toMatchObject({ issuer_name: 'devices', leaf_not_after_behavior: 'truncate' });
    const written = await root.write('pki/issuer/devices', { issuer_name: 'devices' });
    expect(written.data.leaf_not_after_behavior).toBe('err');
  });

  it('GIVEN a role that names the issuer WHEN the issuer is renamed THEN the answer warns how many roles referenced the old name', async () => {
    const renamed = await root.write('pki/issuer/devices', { issuer_name: 'phones' });
    expect(renamed.warnings).toEqual(['1 roles reference devices']);
    await root.write('pki/issuer/phones', { issuer_name: 'devices' });
  });
});
