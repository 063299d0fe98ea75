import { pemBlock } from '../support/pem.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { AdapterError } from '../../src/errors.js';
import { baoLoginFromConfig, NodeVaultOpenBao } from '../../src/openbao/node-vault-adapter.js';
import { seedOpenBaoState, startOpenBaoSandbox, type OpenBaoSandbox } from '../../sandbox/openbao/index.js';

const MINUTE = 60_000;
let clock = Date.UTC(2031, 5, 1);
const now = () => clock;
let sb: OpenBaoSandbox;
const adapters: NodeVaultOpenBao[] = [];

function adapter(login: ConstructorParameters<typeof NodeVaultOpenBao>[0]['login'], timeoutMs?: number) {
  const a = new NodeVaultOpenBao({ endpoint: sb.url, login, mount: 'pki', now, timeoutMs });
  adapters.push(a);
  return a;
}
const since = (n: number) => sb.requests.slice(n).map((r) => `${r.method} ${r.path} ${r.status}`);

beforeAll(async () => {
  sb = await startOpenBaoSandbox({ state: await seedOpenBaoState({ now }), now });
});
afterAll(async () => {
  for (const a of adapters) a.close();
  await sb.close();
});

describe('logging in to OpenBao through node-vault', () => {
  it('GIVEN BAO_TOKEN THEN the token is looked up once and used; before it expires it is renewed with renew-self', async () => {
    const token = sb.createToken({ policies: ['labgate'], ttlSeconds: 3600, maxTtlSeconds: 86_400 });
    const bao = adapter({ method: 'token', token });
    const n = sb.requests.length;
    await bao.caChain();
    await bao.caChain();
    expect(since(n)).toEqual(['GET /v1/auth/token/lookup-self 200', 'GET /v1/pki/cert/ca_chain 200', 'GET /v1/pki/cert/ca_chain 200']);

    clock += 45 * MINUTE; // a quarter of the hour left: due
    const m = sb.requests.length;
    await bao.caChain();
    expect(since(m)).toEqual(['POST /v1/auth/token/renew-self 200', 'GET /v1/pki/cert/ca_chain 200']);
    expect(sb.state.auth.tokens[token]!.expiresAt).toBe(clock + 3600_000);
  });

  it('GIVEN a BAO_TOKEN that expired while nobody called THEN the call fails saying a new token is needed', async () => {
    const token = sb.createToken({ policies: ['labgate'], ttlSeconds: 600, maxTtlSeconds: 600 });
    const bao = adapter({ method: 'token', token });
    await bao.caChain();
    clock += 11 * MINUTE;
    const err = await bao.caChain().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AdapterError);
    expect((err as Error).message).toMatch(/the OpenBao token \(BAO_TOKEN\) has expired and cannot be renewed; give labgate a new one/);
  });

  it('GIVEN AppRole credentials THEN labgate logs in, renews before expiry, and logs in again when its token was revoked', async () => {
    const bao = adapter({ method: 'approle', roleId: sb.approle.roleId, secretId: sb.approle.secretId, mount: 'approle' });
    const n = sb.requests.length;
    await bao.caChain();
    expect(since(n)[0]).toBe('POST /v1/auth/approle/login 200');

    clock += 50 * MINUTE;
    const m = sb.requests.length;
    await bao.caChain();
    expect(since(m)[0]).toBe('POST /v1/auth/token/renew-self 200');

    // Someone revokes labgate's token in OpenBao.
    for (const [id, t] of Object.entries(sb.state.auth.tokens)) if (t.path === 'auth/approle/login') delete sb.state.auth.tokens[id];
    const k = sb.requests.length;
    await bao.listRevoked(); // needs a token, unlike ca_chain
    // An empty list is a 404 in OpenBao; other tests may have revoked something by now.
    const answered = since(k).map((r) => r.replace(/revoked 404$/, 'revoked 200'));
    expect(answered).toEqual(['LIST /v1/pki/certs/revoked 403', 'POST /v1/auth/approle/login 200', 'LIST /v1/pki/certs/revoked 200']);
  });

  it('GIVEN a service-account token file THEN labgate logs in with Kubernetes auth on its mount', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'labgate-sa-'));
    const jwtPath = join(dir, 'token');
    writeFileSync(jwtPath, sb.kubernetes.jwt + '\n');
    const bao = adapter({ method: 'kubernetes', role: sb.kubernetes.role, mount: 'kubernetes', jwtPath });
    const n = sb.requests.length;
    expect((await bao.caChain()).length).toBe(1);
    expect(since(n)[0]).toBe('POST /v1/auth/kubernetes/login 200');
  });

  it('GIVEN wrong AppRole credentials THEN the failure names the login and is not retried as transient', async () => {
    const bao = adapter({ method: 'approle', roleId: sb.approle.roleId, secretId: 'wrong', mount: 'approle' });
    const err = (await bao.caChain().catch((e: unknown) => e)) as AdapterError;
    expect(err).toBeInstanceOf(AdapterError);
    expect(err.message).toBe('OpenBao POST /v1/auth/…/login failed (400): invalid role or secret ID');
    expect(err.transient).toBe(false);
  });

  it('picks the login from the environment: BAO_TOKEN, else AppRole, else Kubernetes', () => {
    const cfg = (env: Record<string, string>) => {
      const r = parseConfig({ domain: 'home.example.com', openbao: { approleMount: 'ar', kubernetesAuth: { role: 'lg', mount: 'k8s' } } }, env, 't');
      if (!r.ok) throw new Error(r.problems.join());
      return baoLoginFromConfig(r.config);
    };
    expect(cfg({ BAO_TOKEN: 't', BAO_ROLE_ID: 'r', BAO_SECRET_ID: 's' })).toEqual({ method: 'token', token: 't' });
    expect(cfg({ BAO_ROLE_ID: 'r', BAO_SECRET_ID: 's' })).toEqual({ method: 'approle', roleId: 'r', secretId: 's', mount: 'ar' });
    expect(cfg({})).toEqual({ method: 'kubernetes', role: 'lg', mount: 'k8s', jwtPath: '/var/run/secrets/kubernetes.io/serviceaccount/token' });
  });
});

describe('the PKI calls', () => {
  let bao: NodeVaultOpenBao;
  beforeAll(() => {
    bao = adapter({ method: 'token', token: sb.rootToken }, 1500);
  });

  it('GIVEN 2,500 certificates THEN listCertificates reads every page of certs/detailed (the root and the devices CA included) with names and expiry', async () => {
    const notAfter = new Date(clock + 40 * 86_400_000);
    const before = Object.keys(sb.state.pki.certs).length; // the root, the devices CA, and what other tests issued
    expect(before).toBeGreaterThanOrEqual(2);
    await sb.addCertificates(Array.from({ length: 2500 }, (_, i) => ({ commonName: `bulk-${i}`, notAfter })));
    const n = sb.requests.length;
    const all = await bao.listCertificates();
    expect(all).toHaveLength(before + 2500);
    expect(since(n).filter((r) => r.startsWith('LIST'))).toEqual(['LIST /v1/pki/certs/detailed 200', 'LIST /v1/pki/certs/detailed 200', 'LIST /v1/pki/certs/detailed 200']);
    expect(new Set(all.map((c) => c.serial)).size).toBe(before + 2500);
    const one = all.find((c) => c.commonName === 'bulk-7')!;
    expect(one.serial).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2})+$/);
    expect(one.notAfter).toBe(Math.floor(notAfter.getTime() / 1000) * 1000);
  });

  it('GIVEN an issue THEN the answer has serial, certificate, chain, key and expiry; readCertificate and revoke work on the serial in either form', async () => {
    const issued = await bao.issue('device', { commonName: 'adapter-test', uriSans: ['urn:labgate:device:shell:bob:adapter-test'], ttlSeconds: 3600, keyType: 'rsa', keyBits: 2048 });
    expect(issued.privateKeyPem).toMatch(pemBlock('PRIVATE KEY'));
    // The device role's issuer is the devices intermediate: its chain is it, then the root.
    expect(issued.caChainPem).toEqual(await bao.issuerChain('devices'));
    expect(issued.caChainPem).toHaveLength(2);
    expect(issued.expiresAt).toBe(Math.floor((clock + 3600_000) / 1000) * 1000);
    expect((await bao.readCertificate(issued.serial.replace(/:/g, '-').toUpperCase()))?.certificatePem).toBe(issued.certificatePem.trim());
    const revoked = await bao.revoke(issued.serial);
    expect(revoked.revokedAt).toBe(Math.floor(clock / 1000) * 1000);
    expect((await bao.readCertificate(issued.serial))?.revokedAt).toBe(revoked.revokedAt);
    expect(await bao.listRevoked()).toContain(issued.serial);
    await bao.rotateCrl();
    expect(await bao.crlPem()).toMatch(/^-----BEGIN X509 CRL-----/);
    expect(await bao.readCertificate('01:02:03')).toBeNull();
  });

  it('GIVEN OpenBao errors THEN they are AdapterErrors with method, path and status: 400 is final, 503 and a dropped connection are transient', async () => {
    const unknown = (await bao.issue('nope', { commonName: 'x', uriSans: [], ttlSeconds: 60, keyType: 'rsa', keyBits: 2048 }).catch((e: unknown) => e)) as AdapterError;
    expect(unknown.message).toBe('OpenBao POST /v1/pki/issue/nope failed (400): unknown role: nope');
    expect([unknown.status, unknown.transient, unknown.target]).toEqual([400, false, '/v1/pki/issue/nope']);

    sb.faults.add({ match: 'POST /v1/pki/revoke', status: 503 });
    const sealed = (await bao.revoke('01:02').catch((e: unknown) => e)) as AdapterError;
    expect(sealed.message).toBe('OpenBao POST /v1/pki/revoke failed (503): Vault is sealed');
    expect(sealed.transient).toBe(true);

    sb.faults.add({ match: 'GET /v1/pki/cert/ca_chain', drop: true });
    const dropped = (await bao.caChain().catch((e: unknown) => e)) as AdapterError;
    expect(dropped.status).toBeUndefined();
    expect(dropped.transient).toBe(true);

    sb.faults.add({ match: 'GET /v1/pki/cert/ca_chain', hang: true });
    const hung = (await bao.caChain().catch((e: unknown) => e)) as AdapterError;
    expect(hung.message).toMatch(/^OpenBao GET \/v1\/pki\/cert\/ca_chain failed: ECONNABORTED/);
    expect(hung.transient).toBe(true);
  });
});
