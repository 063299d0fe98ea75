import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import vault from 'node-vault';
import { seedOpenBaoState, serviceAccountJwt, startOpenBaoSandbox, type OpenBaoSandbox } from '../../sandbox/openbao/index.js';

const HOUR = 3600_000;
let clock = Date.UTC(2030, 0, 1);
let sb: OpenBaoSandbox;

const client = (token?: string) => vault({ endpoint: sb.url, noCustomHTTPVerbs: true, ...(token ? { token } : {}) });

beforeAll(async () => {
  const state = await seedOpenBaoState({ now: () => clock });
  sb = await startOpenBaoSandbox({ state, now: () => clock });
});

afterAll(async () => {
  await sb.close();
});

describe('tokens', () => {
  it('GIVEN no token, an unknown token or a bearer token THEN 403 permission denied, 403, and success', async () => {
    const denied = { message: 'permission denied', response: { statusCode: 403, body: { errors: ['permission denied'] } } };
    await expect(client().write('pki/issue/device', { common_name: 'x' })).rejects.toMatchObject(denied);
    await expect(client('hvs.notarealtoken').write('pki/issue/device', { common_name: 'x' })).rejects.toMatchObject(denied);

    const bearer = await fetch(`${sb.url}/v1/auth/token/lookup-self`, { headers: { Authorization: `Bearer ${sb.rootToken}` } });
    expect(bearer.status).toBe(200);
    expect(((await bearer.json()) as { data: unknown }).data).toMatchObject({ id: sb.rootToken, policies: ['root'], ttl: 0, expire_time: null });
  });

  it('GIVEN a token whose policy covers only issue/device THEN listing certificates is denied with 403', async () => {
    sb.state.auth.policies['issue-only'] = { paths: { 'pki/issue/device': ['update'] } };
    const token = sb.createToken({ policies: ['issue-only'] });
    const limited = client(token);
    await expect(limited.write('pki/issue/device', { common_name: 'ok' })).resolves.toMatchObject({ data: { serial_number: expect.any(String) } });
    await expect(limited.list('pki/certs')).rejects.toMatchObject({ message: 'permission denied', response: { statusCode: 403 } });
    await expect(limited.write('pki/issue/server', { common_name: 'a.home.example.com' })).rejects.toMatchObject({ response: { statusCode: 403 } });
  });

  it('GIVEN a deny rule THEN it wins over a broader grant', async () => {
    sb.state.auth.policies['broad-but-no-revoke'] = { paths: { 'pki/*': ['read', 'update', 'list'], 'pki/revoke': ['deny'] } };
    const limited = client(sb.createToken({ policies: ['broad-but-no-revoke'] }));
    const issued = await limited.write('pki/issue/device', { common_name: 'deny-test' });
    await expect(limited.write('pki/revoke', { serial_number: issued.data.serial_number })).rejects.toMatchObject({ response: { statusCode: 403 } });
  });
});

describe('AppRole login', () => {
  it('GIVEN the seeded role_id and secret_id WHEN logging in with node-vault THEN the token issues certificates and lists them but cannot read roles', async () => {
    const c = client();
    const login = await c.approleLogin({ role_id: sb.approle.roleId, secret_id: sb.approle.secretId });

    expect(login.auth).toMatchObject({
      client_token: expect.stringMatching(/^hvs\./),
      policies: ['default', 'labgate'],
      token_policies: ['default', 'labgate'],
      metadata: { role_name: 'labgate' },
      lease_duration: 3600,
      renewable: true,
      token_type: 'service',
    });
    expect(login.data).toBeNull();
    expect(c.token).toBe(login.auth.client_token);

    const issued = await c.write('pki/issue/device', { common_name: 'approle-device' });
    expect((await c.list('pki/certs/detailed')).data.keys).toContain(issued.data.serial_number);
    // labgate's policy is exactly what it calls: no roles, no plain certs list, no server certificates.
    await expect(c.read('pki/roles/device')).rejects.toMatchObject({ response: { statusCode: 403 } });
    await expect(c.list('pki/certs')).rejects.toMatchObject({ response: { statusCode: 403 } });
    await expect(c.write('pki/issue/server', { common_name: 'x.home.example.com' })).rejects.toMatchObject({ response: { statusCode: 403 } });
  });

  it('GIVEN a wrong secret_id or a missing role_id THEN 400 with OpenBao messages', async () => {
    await expect(client().approleLogin({ role_id: sb.approle.roleId, secret_id: 'wrong' })).rejects.toMatchObject({
      message: 'invalid role or secret ID',
      response: { statusCode: 400 },
    });
    await expect(client().write('auth/approle/login', { secret_id: sb.approle.secretId })).rejects.toMatchObject({ message: 'missing role_id' });
    await expect(client().approleLogin({ role_id: sb.approle.roleId })).rejects.toMatchObject({ message: 'missing secret_id' });
  });
});

describe('Kubernetes login', () => {
  it('GIVEN the accepted service-account JWT THEN node-vault logs in with metadata from its claims', async () => {
    const c = client();
    const login = await c.kubernetesLogin({ role: sb.kubernetes.role, jwt: sb.kubernetes.jwt, mount_point: 'kubernetes' });
    expect(login.auth.metadata).toMatchObject({ role: 'labgate', service_account_name: 'labgate', service_account_namespace: 'labgate' });
    await expect(c.write('pki/issue/device', { common_name: 'k8s-device' })).resolves.toBeDefined();
  });

  it('GIVEN a JWT the cluster does not know, or an unknown role THEN 403 and 400', async () => {
    const stranger = serviceAccountJwt('labgate', 'labgate', clock);
    await expect(client().kubernetesLogin({ role: 'labgate', jwt: stranger, mount_point: 'kubernetes' })).rejects.toMatchObject({ response: { statusCode: 403 } });
    await expect(client().kubernetesLogin({ role: 'nope', jwt: sb.kubernetes.jwt, mount_point: 'kubernetes' })).rejects.toMatchObject({
      message: 'invalid role name "nope"',
      response: { statusCode: 400 },
    });
  });

  it('GIVEN node-vault 0.12 kubernetesLogin without mount_point THEN it posts to auth//login and is denied (pass mount_point)', async () => {
    const before = sb.requests.length;
    await expect(client().kubernetesLogin({ role: sb.kubernetes.role, jwt: sb.kubernetes.jwt })).rejects.toMatchObject({ response: { statusCode: 403 } });
    expect(sb.requests.slice(before)).toEqual([{ method: 'POST', path: '/v1/auth//login', status: 403 }]);
  });
});

describe('token lifetime', () => {
  it('GIVEN a 1h login token WHEN the clock passes 1h THEN requests are denied', async () => {
    const c = client();
    await c.approleLogin({ role_id: sb.approle.roleId, secret_id: sb.approle.secretId });
    expect((await c.tokenLookupSelf()).data.ttl).toBe(3600);

    clock += HOUR - 1000;
    expect((await c.tokenLookupSelf()).data.ttl).toBe(1);
    clock += 1000;
    await expect(c.tokenLookupSelf()).rejects.toMatchObject({ message: 'permission denied', response: { statusCode: 403 } });
    await expect(c.list('pki/certs')).rejects.toMatchObject({ response: { statusCode: 403 } });
  });

  it('GIVEN a token near expiry WHEN renewed THEN it lives another TTL, and renewal stops at the 24h max TTL with a warning', async () => {
    const c = client();
    await c.approleLogin({ role_id: sb.approle.roleId, secret_id: sb.approle.secretId });
    const start = clock;

    clock += 50 * 60_000;
    const renewed = await c.tokenRenewSelf();
    expect(renewed.auth.lease_duration).toBe(3600);
    clock += 59 * 60_000;
    await expect(c.tokenLookupSelf()).resolves.toMatchObject({ data: { ttl: 60 } });

    const long = await c.tokenRenewSelf({ increment: '22h' });
    expect(long.auth.lease_duration).toBe(22 * 3600);
    expect(long.warnings).toBeNull();

    clock = start + 23.5 * HOUR;
    const capped = await c.tokenRenewSelf({ increment: '2h' });
    expect(capped.auth.lease_duration).toBe(1800);
    expect(capped.warnings).toEqual(['TTL of "2h0m0s" exceeded the effective max_ttl of "24h0m0s"; TTL value is capped accordingly']);

    clock = start + 24 * HOUR;
    await expect(c.tokenLookupSelf()).rejects.toMatchObject({ response: { statusCode: 403 } });
  });

  it('GIVEN the root token THEN renew-self is refused as not renewable', async () => {
    await expect(client(sb.rootToken).tokenRenewSelf()).rejects.toMatchObject({ message: 'lease is not renewable', response: { statusCode: 400 } });
  });
});
