import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import vault from 'node-vault';
import { FaultInjector } from '../../sandbox/faults.js';
import { seedOpenBaoState, startOpenBaoSandbox, type OpenBaoSandbox } from '../../sandbox/openbao/index.js';

let sb: OpenBaoSandbox;
let faults: FaultInjector;
let root: ReturnType<typeof vault>;
let issuedSerial: string;

beforeAll(async () => {
  faults = new FaultInjector();
  sb = await startOpenBaoSandbox({ state: await seedOpenBaoState(), faults });
  root = vault({ endpoint: sb.url, token: sb.rootToken, noCustomHTTPVerbs: true });
  issuedSerial = (await root.write('pki/issue/server', { common_name: 'http.home.example.com' })).data.serial_number;
});

afterAll(async () => {
  await sb.close();
});

/** One request with any method through Node's own HTTP client. */
function rawRequest(method: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${sb.url}${path}`, { method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the LIST verb', () => {
  it('GIVEN a request with method LIST from Node http.request THEN it is served as a list operation', async () => {
    const res = await rawRequest('LIST', '/v1/pki/certs', { 'X-Vault-Token': sb.rootToken });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).data.keys).toContain(issuedSerial);
    expect(sb.requests.at(-1)).toEqual({ method: 'LIST', path: '/v1/pki/certs', status: 200 });
  });

  it('GIVEN node-vault without noCustomHTTPVerbs THEN its LIST requests work too', async () => {
    const listing = vault({ endpoint: sb.url, token: sb.rootToken });
    expect((await listing.list('pki/certs')).data.keys).toContain(issuedSerial);
  });

  it('GIVEN several requests pipelined on one keep-alive socket, with Content-Length and chunked bodies THEN every LIST among them is rewritten and answered in order', async () => {
    const token = `X-Vault-Token: ${sb.rootToken}\r\n`;
    const json = JSON.stringify({ common_name: 'pipelined.home.example.com' });
    const chunked = JSON.stringify({ common_name: 'chunked.home.example.com' });
    const wire =
      `POST /v1/pki/issue/server HTTP/1.1\r\nHost: x\r\n${token}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(json)}\r\n\r\n${json}` +
      `LIST /v1/pki/certs HTTP/1.1\r\nHost: x\r\n${token}\r\n` +
      `POST /v1/pki/issue/server HTTP/1.1\r\nHost: x\r\n${token}Transfer-Encoding: chunked\r\n\r\n` +
      `${(10).toString(16)}\r\n${chunked.slice(0, 10)}\r\n${(chunked.length - 10).toString(16)}\r\n${chunked.slice(10)}\r\n0\r\n\r\n` +
      `LIST /v1/pki/certs/revoked HTTP/1.1\r\nHost: x\r\n${token}\r\n` +
      `LIST /v1/pki/roles HTTP/1.1\r\nHost: x\r\n${token}Connection: close\r\n\r\n`;

    const received = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(sb.port, '127.0.0.1');
      let data = '';
      socket.setEncoding('utf8');
      // Split the bytes awkwardly so heads and bodies straddle TCP writes.
      socket.on('connect', async () => {
        for (let i = 0; i < wire.length; i += 37) {
          socket.write(wire.slice(i, i + 37));
          await new Promise((r) => setImmediate(r));
        }
      });
      socket.on('data', (c: string) => (data += c));
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });

    const statuses = [...received.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => Number(m[1]));
    expect(statuses).toEqual([200, 200, 200, 404, 200]);
    expect(received).toContain('"keys":["device","server"]');
    expect(sb.requests.slice(-5).map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /v1/pki/issue/server',
      'LIST /v1/pki/certs',
      'POST /v1/pki/issue/server',
      'LIST /v1/pki/certs/revoked',
      'LIST /v1/pki/roles',
    ]);
  });

  it('GIVEN ?list= with 1, t or true THEN it lists; with a non-boolean THEN 400 {"errors":[]}', async () => {
    for (const value of ['1', 't', 'true']) {
      const res = await rawRequest('GET', `/v1/pki/certs?list=${value}`, { 'X-Vault-Token': sb.rootToken });
      expect(res.status).toBe(200);
    }
    const bad = await rawRequest('GET', '/v1/pki/certs?list=yes', { 'X-Vault-Token': sb.rootToken });
    expect(bad).toEqual({ status: 400, body: '{"errors":[]}\n' });
    const read = await rawRequest('GET', '/v1/pki/certs?list=false', { 'X-Vault-Token': sb.rootToken });
    expect(read.status).toBe(405);
  });

  it('GIVEN nothing revoked THEN LIST certs/revoked is 404 {"errors":[]} and node-vault rejects with "Status 404"', async () => {
    await expect(root.list('pki/certs/revoked')).rejects.toMatchObject({
      message: 'Status 404',
      response: { statusCode: 404, body: { errors: [] } },
    });
  });
});

describe('errors and unauthenticated paths', () => {
  it('answers 405 for an unsupported operation, 404 "no handler for route" for an unknown path, and 404 outside /v1', async () => {
    await expect(root.read('pki/issue/server')).rejects.toMatchObject({ message: 'unsupported operation', response: { statusCode: 405 } });
    await expect(root.read('pki/nope')).rejects.toMatchObject({
      message: 'no handler for route "pki/nope". route entry not found.',
      response: { statusCode: 404 },
    });
    expect((await rawRequest('GET', '/elsewhere')).status).toBe(404);
    expect((await rawRequest('DELETE', '/v1/pki/certs', { 'X-Vault-Token': sb.rootToken })).status).toBe(405);
  });

  it('serves CA, CRL and certificates without a token but refuses listing without one', async () => {
    const anonymous = vault({ endpoint: sb.url, noCustomHTTPVerbs: true });
    expect((await anonymous.read(`pki/cert/${issuedSerial}`)).data.certificate).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect((await rawRequest('GET', '/v1/pki/ca/pem')).status).toBe(200);
    const crl = await rawRequest('GET', '/v1/pki/crl/pem');
    expect(crl.body).toMatch(/^-----BEGIN X509 CRL-----[\s\S]+-----END X509 CRL-----$/);
    await expect(anonymous.list('pki/certs')).rejects.toMatchObject({ response: { statusCode: 403 } });
  });

  it('GET sys/health reports an unsealed, initialized server', async () => {
    const health = await root.health();
    expect(health).toMatchObject({ initialized: true, sealed: false, standby: false, cluster_name: sb.state.clusterName });
  });
});

describe('fault injection', () => {
  it('GIVEN a 503 rule for "LIST /v1/pki/certs" THEN both list forms see "Vault is sealed" once, then normal service resumes', async () => {
    faults.add({ match: 'LIST /v1/pki/certs', status: 503, times: 2 });
    await expect(root.list('pki/certs')).rejects.toMatchObject({
      message: 'Vault is sealed',
      response: { statusCode: 503, body: { errors: ['Vault is sealed'] } },
    });
    const rawList = await rawRequest('LIST', '/v1/pki/certs', { 'X-Vault-Token': sb.rootToken });
    expect(rawList.status).toBe(503);
    expect((await root.list('pki/certs')).data.keys).toContain(issuedSerial);
    expect(faults.pending).toBe(0);
  });

  it('GIVEN a 503 rule for sys/health THEN node-vault health() resolves with sealed: true', async () => {
    faults.add({ match: 'GET /v1/sys/health', status: 503 });
    expect(await root.health()).toMatchObject({ sealed: true, initialized: true });
  });

  it('GIVEN a custom status and body THEN they are answered as given', async () => {
    faults.add({ match: /^POST \/v1\/pki\/issue\//, status: 429, body: { errors: ['request path "pki/issue/server": rate limit quota exceeded'] }, headers: { 'Retry-After': '1' } });
    await expect(root.write('pki/issue/server', { common_name: 'a.home.example.com' })).rejects.toMatchObject({
      message: 'request path "pki/issue/server": rate limit quota exceeded',
      response: { statusCode: 429 },
    });
  });

  it('GIVEN drop THEN the connection is cut; GIVEN hang THEN the client times out; GIVEN delayMs THEN the answer is late but normal', async () => {
    faults.add({ match: 'LIST /v1/pki/certs', drop: true });
    await expect(root.list('pki/certs')).rejects.toMatchObject({ code: expect.stringMatching(/ECONNRESET|ERR_BAD_RESPONSE|ECONNABORTED/) });

    faults.add({ match: 'LIST /v1/pki/certs', hang: true });
    const patient = vault({ endpoint: sb.url, token: sb.rootToken, noCustomHTTPVerbs: true, requestOptions: { timeout: 300 } });
    await expect(patient.list('pki/certs')).rejects.toMatchObject({ code: 'ECONNABORTED' });

    faults.add({ match: 'GET /v1/pki/ca/pem', delayMs: 250 });
    const started = Date.now();
    const res = await rawRequest('GET', '/v1/pki/ca/pem');
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(240);
  });
});
