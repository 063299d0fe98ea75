import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedOpenBaoState, startOpenBaoSandbox, type OpenBaoSandbox } from '../../sandbox/openbao/index.js';

// How OpenBao 2.x (v2.6.2) answers at the HTTP level, each case naming the source it follows.

let sb: OpenBaoSandbox;
let clock = Date.now();

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: { data?: Record<string, unknown> | null; warnings?: string[] | null; errors?: string[] } & Record<string, unknown>;
}

/** One request with any method (LIST included) through Node's HTTP client. */
function call(method: string, path: string, opts: { token?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...(opts.token ? { 'X-Vault-Token': opts.token } : {}), ...opts.headers };
    const req = http.request(`${sb.url}${path}`, { method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        let json = {} as Answer['json'];
        try {
          json = JSON.parse(text) as Answer['json'];
        } catch {
          // raw bodies stay text
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

const asRoot = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  call(method, path, { token: sb.rootToken, headers: { 'Content-Type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });

beforeAll(async () => {
  sb = await startOpenBaoSandbox({ state: await seedOpenBaoState({ now: () => clock }), now: () => clock });
});

afterAll(async () => {
  await sb.close();
});

describe('parameters (sdk/framework/backend.go HandleRequest, field_data.go Validate)', () => {
  it('GIVEN parameters the path does not know THEN it answers normally with "Endpoint ignored these unrecognized parameters: [...]", sorted', async () => {
    const res = await asRoot('POST', '/v1/pki/issue/server', { common_name: 'w.home.example.com', zeta: 1, alpha: 'x' });
    expect(res.status).toBe(200);
    expect(res.json.warnings).toEqual(['Endpoint ignored these unrecognized parameters: [alpha zeta]']);
    const serial = res.json.data!.serial_number as string;
    const read = await call('GET', `/v1/pki/cert/${serial}?verbose=1`);
    expect(read.json.warnings).toEqual(['Endpoint ignored these unrecognized parameters: [verbose]']);
    const clean = await asRoot('POST', '/v1/pki/issue/server', { common_name: 'w.home.example.com' });
    expect(clean.json.warnings).toBeNull();
  });

  it('GIVEN limit=abc, ttl=soon or a bool that is not one THEN 400 "Field validation failed" naming the field, and nothing is issued', async () => {
    const before = Object.keys(sb.state.pki.certs).length;
    const limit = await call('LIST', '/v1/pki/certs?limit=abc', { token: sb.rootToken });
    expect(limit).toMatchObject({ status: 400, json: { errors: [`Field validation failed: error converting input for field "limit": '' cannot parse value as 'int': strconv.ParseInt: invalid syntax`] } });
    const ttl = await asRoot('POST', '/v1/pki/issue/server', { common_name: 'w.home.example.com', ttl: 'soon' });
    expect(ttl.json.errors).toEqual([`Field validation failed: error converting input for field "ttl": time: invalid duration "soon"`]);
    const bool = await asRoot('POST', '/v1/pki/issue/server', { common_name: 'w.home.example.com', exclude_cn_from_sans: 'maybe' });
    expect(bool.json.errors).toEqual([`Field validation failed: error converting input for field "exclude_cn_from_sans": '' cannot parse value as 'bool': strconv.ParseBool: invalid syntax`]);
    expect(Object.keys(sb.state.pki.certs)).toHaveLength(before);
  });

  it('GIVEN ?list=maybe THEN 400 with no message (http/logical.go strconv.ParseBool)', async () => {
    expect(await call('GET', '/v1/pki/certs?list=maybe', { token: sb.rootToken })).toMatchObject({ status: 400, json: { errors: [] } });
  });
});

describe('the request (http/logical.go buildLogicalRequestNoAuth, http/handler.go isForm)', () => {
  it('GIVEN a percent-encoded serial in the path (as hvac sends it) THEN it is decoded and found', async () => {
    const issued = await asRoot('POST', '/v1/pki/issue/server', { common_name: 'enc.home.example.com' });
    const serial = issued.json.data!.serial_number as string;
    const res = await call('GET', `/v1/pki/cert/${encodeURIComponent(serial)}`);
    expect(res.status).toBe(200);
    expect(res.json.data!.certificate).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(sb.requests.at(-1)!.path).toBe(`/v1/pki/cert/${serial}`);
    expect((await call('GET', '/v1/pki/cert/%zz')).status).toBe(400);
  });

  it('GIVEN a JSON body sent as application/x-www-form-urlencoded THEN it is read as JSON; a real form body as a form, repeated keys joined by commas', async () => {
    const json = await call('POST', '/v1/pki/issue/server', {
      token: sb.rootToken,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: '  {"common_name":"sniffed.home.example.com"}',
    });
    expect(json.status).toBe(200);
    expect(json.json.data!.certificate).toBeTruthy();
    const form = await call('POST', '/v1/pki/issue/server', {
      token: sb.rootToken,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body: 'common_name=form.home.example.com&alt_names=a.home.example.com&alt_names=b.home.example.com',
    });
    expect(form.status).toBe(200);
    const serial = form.json.data!.serial_number as string;
    const detailed = await call('LIST', `/v1/pki/certs/detailed`, { token: sb.rootToken });
    expect((detailed.json.data!.key_info as Record<string, { dns_names: string[] }>)[serial]!.dns_names.sort()).toEqual(['a.home.example.com', 'b.home.example.com', 'form.home.example.com']);
    const array = await call('POST', '/v1/pki/issue/server', { token: sb.rootToken, body: '[1]' });
    expect(array.status).toBe(400);
    expect(array.json.errors![0]).toMatch(/^failed to decode JSON input: /);
  });
});

describe('X-Vault-Namespace (http/handler.go, vault/request_handling.go, helper/namespace)', () => {
  it('GIVEN "root" THEN the root namespace answers and the header is echoed; GIVEN another namespace THEN 404 "namespace not found", with or without a token', async () => {
    const ok = await asRoot('GET', '/v1/pki/roles/server', undefined, { 'X-Vault-Namespace': 'root' });
    expect(ok.status).toBe(200);
    expect(ok.headers['x-vault-namespace']).toBe('root');
    expect((await asRoot('GET', '/v1/pki/roles/server', undefined, { 'X-Vault-Namespace': 'team-a/' })).json).toEqual({ errors: ['namespace not found'] });
    const anonymous = await call('GET', '/v1/pki/ca/pem', { headers: { 'X-Vault-Namespace': 'team-a' } });
    expect(anonymous.status).toBe(404);
  });

  it('GIVEN any namespace on sys/health THEN 400 "operation unavailable in namespaces" (a root-only sys API)', async () => {
    expect(await call('GET', '/v1/sys/health', { headers: { 'X-Vault-Namespace': 'root' } })).toMatchObject({ status: 400, json: { errors: ['operation unavailable in namespaces'] } });
  });
});

describe('sys endpoints (http/sys_health.go, sys_seal.go, sys_leader.go, vault/logical_system.go)', () => {
  it('GIVEN no token THEN sys/health answers 200 with the v2.6.2 fields; HEAD answers the status alone; the *code parameters change it', async () => {
    const res = await call('GET', '/v1/sys/health');
    expect(res.status).toBe(200);
    expect(Object.keys(res.json)).toEqual(['initialized', 'sealed', 'standby', 'replication_performance_mode', 'replication_dr_mode', 'server_time_utc', 'version', 'cluster_name', 'cluster_id']);
    expect(res.json).toMatchObject({ initialized: true, sealed: false, standby: false, version: '2.6.2', server_time_utc: Math.floor(clock / 1000) });
    const head = await call('HEAD', '/v1/sys/health');
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
    expect((await call('GET', '/v1/sys/health?activecode=299')).status).toBe(299);
    expect((await call('GET', '/v1/sys/health?standbyok=perhaps')).status).toBe(400);
    expect((await call('POST', '/v1/sys/health')).status).toBe(405);
  });

  it('GIVEN no token THEN sys/seal-status and sys/leader answer', async () => {
    const seal = await call('GET', '/v1/sys/seal-status');
    expect(seal.json).toMatchObject({ type: 'shamir', initialized: true, sealed: false, t: 1, n: 1, progress: 0, version: '2.6.2', cluster_id: sb.state.clusterId });
    expect((await call('GET', '/v1/sys/leader')).json).toEqual({ ha_enabled: false });
  });

  it("GIVEN the root token THEN sys/mounts and sys/auth list the engines and auth methods (also at the top level, as OpenBao's injector does); labgate's token is refused", async () => {
    const mounts = await asRoot('GET', '/v1/sys/mounts');
    expect(Object.keys(mounts.json.data!).sort()).toEqual(['cubbyhole/', 'identity/', 'pki/', 'sys/']);
    expect(mounts.json.data!['pki/']).toMatchObject({ type: 'pki', accessor: expect.stringMatching(/^pki_[0-9a-f]{8}$/), config: { max_lease_ttl: 315360000 } });
    expect(mounts.json['pki/']).toEqual(mounts.json.data!['pki/']);
    const auth = await asRoot('GET', '/v1/sys/auth');
    expect(auth.json.data!['approle/']).toMatchObject({ type: 'approle', accessor: expect.stringMatching(/^auth_approle_/), config: { token_type: 'default-service' } });
    expect(Object.keys(auth.json.data!).sort()).toEqual(['approle/', 'kubernetes/', 'token/']);
    expect((await call('GET', '/v1/sys/mounts', { token: sb.createToken({ policies: ['labgate'] }) })).status).toBe(403);
  });
});

describe('roles (path_roles.go pathRoleCreate, validateRole)', () => {
  it('GIVEN a role written with issuer_ref=devices and client_flag=false THEN absent fields take their defaults and certificates come from that issuer', async () => {
    const written = await asRoot('POST', '/v1/pki/roles/kiosk', { issuer_ref: 'devices', allow_any_name: true, server_flag: false, max_ttl: '48h' });
    expect(written.status).toBe(200);
    expect(written.json.data).toMatchObject({ issuer_ref: 'devices', server_flag: false, client_flag: true, key_type: 'rsa', key_bits: 2048, max_ttl: 172800, allow_localhost: true });
    const issued = await asRoot('POST', '/v1/pki/issue/kiosk', { common_name: 'kiosk-1' });
    expect(issued.json.data!.issuing_ca).toBe(Object.values(sb.state.pki.issuers).find((i) => i.name === 'devices')!.certificatePem);
  });

  it('GIVEN ttl above max_ttl or an unsupported key size THEN 400 and the role is not written; an issuer_ref that names nothing yet is kept with a warning', async () => {
    expect((await asRoot('POST', '/v1/pki/roles/bad', { ttl: '2h', max_ttl: '1h' })).json.errors).toEqual(['"ttl" value must be less than "max_ttl" value']);
    expect((await asRoot('POST', '/v1/pki/roles/bad', { key_type: 'rsa', key_bits: 1024 })).json.errors).toEqual(['unsupported bit length for RSA key: 1024']);
    expect(sb.state.pki.roles.bad).toBeUndefined();
    const later = await asRoot('POST', '/v1/pki/roles/later', { issuer_ref: 'not-yet' });
    expect(later.json.warnings).toEqual(['Issuing Certificate was set to not-yet but no issuing certificate currently has that name']);
    expect((await asRoot('DELETE', '/v1/pki/roles/later')).status).toBe(204);
    expect((await asRoot('GET', '/v1/pki/roles/later')).status).toBe(404);
  });
});

describe('PKI configuration and housekeeping (path_config_urls.go, path_tidy.go, path_fetch.go)', () => {
  it('GIVEN config/urls THEN it reads empty lists, stores given URLs, and refuses one without a scheme, changing nothing', async () => {
    expect((await asRoot('GET', '/v1/pki/config/urls')).json.data).toEqual({
      issuing_certificates: [],
      crl_distribution_points: [],
      delta_crl_distribution_points: [],
      ocsp_servers: [],
      enable_templating: false,
    });
    const written = await asRoot('POST', '/v1/pki/config/urls', { crl_distribution_points: 'http://bao.home.example.com:8200/v1/pki/crl' });
    expect(written.json.data!.crl_distribution_points).toEqual(['http://bao.home.example.com:8200/v1/pki/crl']);
    const bad = await asRoot('POST', '/v1/pki/config/urls', { ocsp_servers: ['bao.home.example.com/ocsp'] });
    expect(bad.json.errors).toEqual(['invalid URL found in Authority Information Access (AIA) parameter ocsp_servers: bao.home.example.com/ocsp']);
    expect((await asRoot('GET', '/v1/pki/config/urls')).json.data!.ocsp_servers).toEqual([]);
  });

  it('GIVEN certificates expired past the safety buffer WHEN tidy runs THEN it answers 202, the status goes to Finished and only those are gone', async () => {
    const [old, recent] = await sb.addCertificates([
      { commonName: 'long-gone', notAfter: new Date(clock - 10 * 86_400_000) },
      { commonName: 'just-expired', notAfter: new Date(clock - 3_600_000) },
    ]);
    const idle = await asRoot('GET', '/v1/pki/tidy-status');
    expect(idle.json.data).toMatchObject({ state: 'Inactive', tidy_cert_store: null });

    const none = await asRoot('POST', '/v1/pki/tidy', {});
    expect(none.status).toBe(202);
    expect(none.json.warnings![0]).toMatch(/^Manual tidy requested but no tidy operations were set/);

    const started = await asRoot('POST', '/v1/pki/tidy', { tidy_cert_store: true, tidy_revoked_certs: true, safety_buffer: '72h' });
    expect(started.status).toBe(202);
    expect(started.json.warnings).toEqual(["Tidy operation successfully started. Any information from the operation will be printed to OpenBao's server logs."]);
    let status = (await asRoot('GET', '/v1/pki/tidy-status')).json.data!;
    for (let i = 0; i < 50 && status.state !== 'Finished'; i++) {
      await new Promise((r) => setImmediate(r));
      status = (await asRoot('GET', '/v1/pki/tidy-status')).json.data!;
    }
    expect(status).toMatchObject({ state: 'Finished', tidy_cert_store: true, safety_buffer: 259200, cert_store_deleted_count: 1, time_finished: expect.any(String) });
    const keys = (await call('LIST', '/v1/pki/certs', { token: sb.rootToken })).json.data!.keys as string[];
    expect(keys).not.toContain(old);
    expect(keys).toContain(recent);
    expect((await asRoot('POST', '/v1/pki/tidy', { safety_buffer: '0s', tidy_cert_store: true })).json.errors).toEqual(['safety_buffer must be greater than zero']);
  });

  it('GIVEN LIST certs/detailed with after and limit THEN pages follow the storage order and each entry has OpenBao’s details', async () => {
    await sb.addCertificates(Array.from({ length: 5 }, (_, i) => ({ commonName: `page-${i}.home.example.com`, notAfter: new Date(clock + 86_400_000) })));
    const all = (await call('LIST', '/v1/pki/certs/detailed', { token: sb.rootToken })).json.data!;
    const keys = all.keys as string[];
    const first = (await call('LIST', '/v1/pki/certs/detailed?limit=2', { token: sb.rootToken })).json.data!;
    expect(first.keys).toEqual(keys.slice(0, 2));
    const after = keys[1]!.replace(/:/g, '-');
    const next = (await call('GET', `/v1/pki/certs/detailed?list=true&after=${after}&limit=2`, { token: sb.rootToken })).json.data!;
    expect(next.keys).toEqual(keys.slice(2, 4));
    const info = all.key_info as Record<string, Record<string, unknown>>;
    const page0 = Object.values(info).find((i) => i.common_name === 'page-0.home.example.com')!;
    expect(page0).toEqual({
      common_name: 'page-0.home.example.com',
      issuer: 'CN=labgate sandbox devices CA (home.example.com)',
      key_type: 'ec',
      key_bits: 256,
      not_after: new Date(Math.floor((clock + 86_400_000) / 1000) * 1000).toISOString().replace('.000Z', 'Z'),
      not_before: expect.stringMatching(/Z$/),
      dns_names: ['page-0.home.example.com'],
    });
  });
});
