import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { webcrypto } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { x509 } from '../../src/pki/x509.js';
import { seedOpenBaoState, startOpenBaoSandbox, type OpenBaoSandbox } from '../../sandbox/openbao/index.js';
import { requirePythonModule, runPython } from './python-client.js';

// The sandbox OpenBao driven by an independent client, Debian's python3-hvac (0.11), not by
// labgate's code. Each case names the OpenBao 2.x behaviour it holds the sandbox to and where
// that behaviour is documented: the API docs (website/content/docs/api/secret/pki.mdx,
// .../api/system/{health,seal-status,leader,mounts,auth}.mdx) and the source of v2.6.2.

const SCRIPT = String.raw`
import json, sys, time
import hvac
from hvac import exceptions

inp = json.load(sys.stdin)
url, token = inp['url'], inp['token']
c = hvac.Client(url=url, token=token)
anon = hvac.Client(url=url)
out = {}

def failure(fn):
    try:
        fn()
        return None
    except exceptions.VaultError as e:
        return {'type': type(e).__name__, 'errors': e.errors}

issued = c.secrets.pki.generate_certificate('server', 'hvac.home.example.com', extra_params={'ttl': '1h'})
out['issued'] = {k: v for k, v in issued['data'].items() if k != 'private_key'}
out['issued_has_key'] = issued['data']['private_key'].startswith('-----BEGIN')
out['issued_warnings'] = issued['warnings']
out['ignored'] = c.secrets.pki.generate_certificate('server', 'w.home.example.com', extra_params={'colour': 'blue', 'shape': 'round'})['warnings']

signed = c.secrets.pki.sign_certificate('device', inp['csr'], 'hvac-laptop', extra_params={'uri_sans': inp['uri']})
out['signed'] = signed['data']

out['detailed_page'] = c.adapter.list('/v1/pki/certs/detailed', params={'limit': 2})['data']
out['detailed'] = c.adapter.list('/v1/pki/certs/detailed')['data']
serial = out['issued']['serial_number']
out['read'] = c.secrets.pki.read_certificate(serial)['data']

out['revoked'] = c.secrets.pki.revoke_certificate(serial)['data']
out['read_after_revoke'] = c.secrets.pki.read_certificate(serial)['data']
out['crl'] = c.secrets.pki.read_crl()

tidy = c.secrets.pki.tidy(extra_params={'tidy_cert_store': True, 'safety_buffer': '1h'})
out['tidy_status_code'] = tidy.status_code
out['tidy_warnings'] = tidy.json()['warnings']
status = None
for _ in range(200):
    status = c.adapter.get('/v1/pki/tidy-status')['data']
    if status['state'] == 'Finished':
        break
    time.sleep(0.05)
out['tidy_status'] = status
out['after_tidy'] = c.secrets.pki.list_certificates()['data']['keys']

out['bad_limit'] = failure(lambda: c.adapter.list('/v1/pki/certs', params={'limit': 'abc'}))
out['other_namespace'] = failure(lambda: hvac.Client(url=url, token=token, namespace='team-a').secrets.pki.read_role('server'))
out['root_namespace'] = hvac.Client(url=url, token=token, namespace='root').secrets.pki.read_role('server')['data']['client_flag']
out['health_head'] = anon.sys.read_health_status(method='HEAD').status_code
out['health_get'] = anon.sys.read_health_status(method='GET')
out['seal'] = anon.sys.read_seal_status()
out['leader'] = anon.sys.read_leader_status()
out['mounts'] = c.sys.list_mounted_secrets_engines()
out['auth'] = c.sys.list_auth_methods()
out['issuers'] = anon.adapter.list('/v1/pki/issuers')['data']
out['urls'] = c.secrets.pki.read_urls()['data']
c.secrets.pki.create_or_update_role('hvac-devices', extra_params={'issuer_ref': 'devices', 'allow_any_name': True, 'server_flag': False, 'max_ttl': '24h'})
out['role'] = c.secrets.pki.read_role('hvac-devices')['data']
out['role_issue_ca'] = c.secrets.pki.generate_certificate('hvac-devices', 'role-test')['data']['issuing_ca']
out['devices_pem'] = anon.adapter.get('/v1/pki/issuer/devices/json')['data']['certificate']
print(json.dumps(out))
`;

interface Out {
  issued: Record<string, unknown> & { serial_number: string; certificate: string; ca_chain: string[]; issuing_ca: string };
  issued_has_key: boolean;
  issued_warnings: string[] | null;
  ignored: string[];
  signed: Record<string, unknown> & { certificate: string; ca_chain: string[] };
  detailed_page: { keys: string[] };
  detailed: { keys: string[]; key_info: Record<string, Record<string, unknown>> };
  read: { certificate: string; revocation_time: number };
  revoked: { revocation_time: number; revocation_time_rfc3339: string; state: string };
  read_after_revoke: { revocation_time: number; issuer_id: string };
  crl: string;
  tidy_status_code: number;
  tidy_warnings: string[];
  tidy_status: Record<string, unknown>;
  after_tidy: string[];
  bad_limit: { type: string; errors: string[] };
  other_namespace: { type: string; errors: string[] };
  root_namespace: boolean;
  health_head: number;
  health_get: Record<string, unknown>;
  seal: Record<string, unknown>;
  leader: Record<string, unknown>;
  mounts: Record<string, unknown> & { data: Record<string, { type: string }> };
  auth: Record<string, unknown> & { data: Record<string, { type: string }> };
  issuers: { keys: string[]; key_info: Record<string, { issuer_name: string; is_default: boolean }> };
  urls: Record<string, unknown>;
  role: Record<string, unknown>;
  role_issue_ca: string;
  devices_pem: string;
}

const workDir = mkdtempSync(join(tmpdir(), 'fidelity-hvac-'));
let sb: OpenBaoSandbox;
let out: Out;
let expiredSerial = '';
const clock = Date.now();

beforeAll(async () => {
  await requirePythonModule('hvac', 'python3-hvac');
  sb = await startOpenBaoSandbox({ state: await seedOpenBaoState() });
  // Expired a day ago: tidy with a 1h safety buffer must remove it.
  [expiredSerial] = (await sb.addCertificates([{ commonName: 'long-expired', notAfter: new Date(clock - 86_400_000) }])) as [string];
  // The seeded device role takes RSA keys only (key_type=rsa).
  const alg = { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' };
  const keys = (await webcrypto.subtle.generateKey(alg, false, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=ignored-by-role', keys, signingAlgorithm: alg });
  out = await runPython<Out>(SCRIPT, { url: sb.url, token: sb.rootToken, csr: csr.toString('pem'), uri: 'urn:labgate:device:shell:bob:hvac-laptop' });
}, 180_000);

afterAll(async () => {
  await sb?.close();
  rmSync(workDir, { recursive: true, force: true });
});

const file = (name: string, text: string) => {
  const path = join(workDir, name);
  writeFileSync(path, text);
  return path;
};

describe('OpenBao PKI through python3-hvac', () => {
  it('issue (pki.mdx "Generate certificate and key"): serial in colon hex, certificate, issuing_ca, ca_chain, private key and its type, expiration', () => {
    expect(out.issued).toMatchObject({ serial_number: expect.stringMatching(/^[0-9a-f]{2}(:[0-9a-f]{2})+$/), private_key_type: 'ec', expiration: expect.any(Number) });
    expect(out.issued_has_key).toBe(true);
    expect(out.issued.ca_chain).toEqual([out.issued.issuing_ca]);
    expect(out.issued_warnings).toBeNull();
  });

  it('unknown parameters (sdk/framework/backend.go): answered, with "Endpoint ignored these unrecognized parameters: [colour shape]"', () => {
    expect(out.ignored).toEqual(['Endpoint ignored these unrecognized parameters: [colour shape]']);
  });

  it('sign (pki.mdx "Sign certificate"): the role names the certificate (use_csr_common_name=false) and its chain is the devices issuer then the root', () => {
    const cert = new x509.X509Certificate(out.signed.certificate);
    expect(cert.subjectName.getField('CN')).toEqual(['hvac-laptop']);
    // A hostname-like CN is also a DNS SAN unless exclude_cn_from_sans (labgate sets it; hvac here does not).
    expect(cert.getExtension(x509.SubjectAlternativeNameExtension)!.names.toJSON()).toEqual([
      { type: 'dns', value: 'hvac-laptop' },
      { type: 'url', value: 'urn:labgate:device:shell:bob:hvac-laptop' },
    ]);
    expect(out.signed.ca_chain).toHaveLength(2);
    const verify = spawnSync('openssl', ['verify', '-CAfile', file('root.pem', out.signed.ca_chain[1]!), '-untrusted', file('devices.pem', out.signed.ca_chain[0]!), file('leaf.pem', out.signed.certificate)], { encoding: 'utf8' });
    expect(verify.stdout).toContain(': OK');
  });

  it('LIST certs/detailed (pki.mdx "List certificates detailed"): keys and key_info with common name, issuer, key, validity and DNS names; limit pages it', () => {
    expect(out.detailed_page.keys).toEqual(out.detailed.keys.slice(0, 2));
    expect(out.detailed.key_info[out.issued.serial_number]).toEqual({
      common_name: 'hvac.home.example.com',
      issuer: `CN=labgate sandbox root CA (home.example.com)`,
      key_type: 'ec',
      key_bits: 256,
      not_after: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      not_before: expect.stringMatching(/Z$/),
      dns_names: ['hvac.home.example.com'],
    });
  });

  it('read by serial (pki.mdx "Read certificate"): hvac percent-encodes the colons, and the certificate comes back unrevoked', () => {
    expect(out.read.certificate).toBe(out.issued.certificate);
    expect(out.read.revocation_time).toBe(0);
  });

  it('revoke (pki.mdx "Revoke certificate") and CRL (pki.mdx "Read issuer CRL"): the time, then the serial on the default issuer’s CRL', () => {
    expect(out.revoked).toMatchObject({ state: 'revoked', revocation_time: expect.any(Number), revocation_time_rfc3339: expect.stringMatching(/Z$/) });
    expect(out.read_after_revoke.revocation_time).toBe(out.revoked.revocation_time);
    const text = spawnSync('openssl', ['crl', '-noout', '-text', '-in', file('crl.pem', out.crl)], { encoding: 'utf8' }).stdout.toUpperCase();
    expect(text).toContain(out.issued.serial_number.replace(/:/g, '').toUpperCase());
  });

  it('tidy (pki.mdx "Tidy", path_tidy.go): 202 with the started warning; tidy-status reaches Finished and the expired certificate is gone', () => {
    expect(out.tidy_status_code).toBe(202);
    expect(out.tidy_warnings).toEqual(["Tidy operation successfully started. Any information from the operation will be printed to OpenBao's server logs."]);
    expect(out.tidy_status).toMatchObject({ state: 'Finished', tidy_cert_store: true, safety_buffer: 3600, cert_store_deleted_count: 1 });
    expect(out.after_tidy).not.toContain(expiredSerial);
    expect(out.after_tidy).toContain(out.issued.serial_number);
  });

  it('a bad parameter type (field_data.go Validate): hvac raises InvalidRequest with "Field validation failed" for limit=abc', () => {
    expect(out.bad_limit).toEqual({ type: 'InvalidRequest', errors: [`Field validation failed: error converting input for field "limit": '' cannot parse value as 'int': strconv.ParseInt: invalid syntax`] });
  });

  it('X-Vault-Namespace (vault/request_handling.go): an unknown namespace is InvalidPath "namespace not found"; "root" is the root namespace', () => {
    expect(out.other_namespace).toEqual({ type: 'InvalidPath', errors: ['namespace not found'] });
    expect(out.root_namespace).toBe(false);
  });

  it('sys/health, seal-status and leader (api/system/*.mdx): no token needed; HEAD answers 200', () => {
    expect(out.health_head).toBe(200);
    expect(out.health_get).toMatchObject({ initialized: true, sealed: false, standby: false, version: '2.6.2' });
    expect(out.seal).toMatchObject({ type: 'shamir', sealed: false, version: '2.6.2' });
    expect(out.leader).toEqual({ ha_enabled: false });
  });

  it('sys/mounts and sys/auth (api/system/mounts.mdx, auth.mdx): the pki engine and the auth methods, also at the top level', () => {
    expect(out.mounts.data['pki/']!.type).toBe('pki');
    expect(out.mounts['pki/']).toEqual(out.mounts.data['pki/']);
    expect(Object.keys(out.auth.data).sort()).toEqual(['approle/', 'kubernetes/', 'token/']);
  });

  it('roles (pki.mdx "Create/Update role"): written with issuer_ref=devices and server_flag=false, the rest defaults; issuing with it uses the devices issuer', () => {
    expect(out.role).toMatchObject({ issuer_ref: 'devices', server_flag: false, client_flag: true, max_ttl: 86400, key_type: 'rsa', key_bits: 2048 });
    expect(`${out.role_issue_ca}\n`).toBe(out.devices_pem);
  });

  it('LIST issuers without a token and config/urls (pki.mdx "List issuers", "Read URLs")', () => {
    const names = Object.values(out.issuers.key_info).map((i) => (i.is_default ? 'default' : i.issuer_name)).sort();
    expect(names).toEqual(['default', 'devices']);
    expect(out.urls).toEqual({ issuing_certificates: [], crl_distribution_points: [], delta_crl_distribution_points: [], ocsp_servers: [], enable_templating: false });
  });
});
