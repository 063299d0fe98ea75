import { writeFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { startConfiguredGate } from '../../src/gate/run-gate.js';
import { clientCertHeader } from '../../sandbox/edge/traefik-headers.js';
import { createSelfSignedCertificate } from '../../sandbox/routeros/self-signed-certificate.js';
import { startSandbox, type Sandbox } from '../../sandbox/sandbox.js';
import { delivered, dmsTo, openBundle, type Delivered } from '../flow/cert-helpers.js';
import { lastPlan, startLab, LogCapture, type Lab } from '../support/lab.js';
import { LabgateProcess, until } from '../support/labgate-process.js';
import { curlViaEdge, viaEdge } from './edge-client.js';

const HOST = 'photos.home.example.com';
const DAY = 86_400_000;

describe('mtls-strict through the sandbox edge: Traefik checks the chain, labgate gate checks revocation, expiry and who', () => {
  let lab: Lab;
  let sandbox: Sandbox;
  let offset = 0;
  let gate: Awaited<ReturnType<typeof startConfiguredGate>>;
  let gateProcess: LabgateProcess | undefined;
  let alice: { d: Delivered; certPem: string; keyPem: string };
  let bob: { d: Delivered; certPem: string; keyPem: string };
  const dir = mkdtempSync(join(tmpdir(), 'labgate-gate-'));

  const bao = async (path: string, body: unknown) => {
    const res = await fetch(`${sandbox.openbao.url}/v1/${path}`, { method: 'POST', headers: { 'X-Vault-Token': sandbox.openbao.rootToken, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { data: Record<string, string> }).data;
  };
  /** /cert issue as `who`, approved by alice; the bundle as delivered. */
  const issue = async (who: string, device: string) => {
    await lab.run(`/cert issue device:${device} profile:modern`, who);
    await lab.run(`approve ${lastPlan(lab).planId}`, 'alice');
    const d = delivered(dmsTo(lab, who));
    const { certPem, keyPem } = await openBundle(d);
    return { d, certPem, keyPem };
  };
  /** Exposes `host` as mtls-strict (bob plans, alice approves), so a test can change it without touching photos. */
  const exposeStrict = async (host: string, service = 'jellyfin', port = 8096) => {
    await lab.run(`/expose service:${service} namespace:media port:${port} host:${host} auth:mtls-strict`, 'bob');
    await lab.run(`approve ${lastPlan(lab).planId}`, 'alice');
  };
  /** Asks a gate directly, with the header Traefik's passTLSClientCert sets. */
  const askGate = async (url: string, certPem: string, query = '') => {
    const der = Buffer.from(certPem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, ''), 'base64');
    const res = await fetch(`${url}/verify${query}`, { headers: { 'X-Forwarded-Tls-Client-Cert': clientCertHeader([der]) } });
    return { status: res.status, body: await res.text() };
  };

  beforeAll(async () => {
    sandbox = await startSandbox({ dir: join(dir, 'sandbox'), now: () => Date.now() + offset });
    lab = await startLab({
      sandbox,
      configure: (c) => {
        c.tailscale.monitor.enabled = false;
        // Only a push can tell a gate of a revocation within this test.
        c.gate.refreshEvery = 3600_000;
      },
    });
    gate = await startConfiguredGate(lab.config, { listen: { host: '127.0.0.1', port: 0 }, notifier: lab.app.services.notifier, logger: createLogger({ destination: new LogCapture(), level: 'debug' }) });
    sandbox.edge.setUpstream(new URL(lab.config.gate.address).host, gate.url);
    await gate.subscribed;

    await lab.run(`/expose service:immich namespace:media port:2283 host:photos auth:mtls-strict`, 'bob');
    const plan = lastPlan(lab);
    expect(plan.diff).toContain('+++ b/Middleware/media/photos-gate');
    expect(plan.diff).toContain(`address: ${lab.config.gate.address}`);
    await lab.run(`approve ${plan.planId}`, 'alice');
    alice = await issue('alice', 'pixel-8');
    bob = await issue('bob', 'iphone');
  }, 120_000);

  afterAll(async () => {
    await gateProcess?.kill();
    await gate?.closeAll();
    await lab?.close();
    await sandbox?.close();
  });

  it('GIVEN alice’s device certificate WHEN she calls the host through the edge THEN the backend answers and sees X-Labgate-Owner and X-Labgate-Device', async () => {
    const r = await viaEdge(sandbox.edge, HOST, { cert: alice.certPem, key: alice.keyPem });
    expect(r.status).toBe(200);
    expect(r.seen!.service).toBe('media/immich:2283');
    expect(r.seen!.headers['x-labgate-owner']).toBe('shell:alice');
    expect(r.seen!.headers['x-labgate-device']).toBe('pixel-8');
  });

  it('GIVEN the .p12 from /cert issue WHEN curl --cert uses it THEN the backend answers for alice', async () => {
    const r = await curlViaEdge(sandbox.edge, sandbox.env.LABGATE_SANDBOX_EDGE_CA!, HOST, alice.d.p12Path, alice.d.passphrase);
    expect(r.stderr).toBe('');
    expect(r.status).toBe('200');
    expect(JSON.parse(r.body).headers['x-labgate-owner']).toBe('shell:alice');
  });

  it('GIVEN no client certificate WHEN connecting THEN the TLS handshake fails (Node and curl)', async () => {
    await expect(viaEdge(sandbox.edge, HOST)).rejects.toThrow();
    const r = await curlViaEdge(sandbox.edge, sandbox.env.LABGATE_SANDBOX_EDGE_CA!, HOST);
    expect(r.code).not.toBe(0);
    expect(r.status).toBe('000');
  });

  it('GIVEN a certificate from another CA WHEN connecting THEN the handshake fails', async () => {
    const other = createSelfSignedCertificate('pixel-8');
    await expect(viaEdge(sandbox.edge, HOST, { cert: other.certPem, key: other.keyPem })).rejects.toThrow();
  });

  it('GIVEN a server certificate from the same OpenBao mount WHEN used as a client certificate THEN it gets nowhere', async () => {
    const server = await bao('pki/issue/server', { common_name: HOST });
    await expect(viaEdge(sandbox.edge, HOST, { cert: server.certificate, key: server.private_key })).rejects.toThrow();
    // Nor would the gate take it, were it ever forwarded.
    expect(await askGate(gate.url, server.certificate!)).toMatchObject({ status: 403, body: 'certificate not issued by the device CA\n' });
  });

  it('GIVEN an expired device certificate WHEN connecting THEN it is refused (handshake), and the gate says why', async () => {
    offset = -400 * DAY;
    const old = await bao('pki/issue/device', { common_name: 'old-phone', uri_sans: 'urn:labgate:device:shell:alice:old-phone', ttl: '8760h' });
    offset = 0;
    await expect(viaEdge(sandbox.edge, HOST, { cert: old.certificate, key: old.private_key })).rejects.toThrow();
    expect((await askGate(gate.url, old.certificate!)).body).toMatch(/^certificate expired on \d{4}-\d{2}-\d{2}\n$/);
  });

  it('GIVEN a client that sends its own X-Forwarded-Tls-Client-Cert and X-Labgate-Owner WHEN it calls THEN the edge replaces them: the gate and backend see its real certificate', async () => {
    const forgedCert = clientCertHeader([Buffer.from(bob.certPem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, ''), 'base64')]);
    const r = await viaEdge(sandbox.edge, HOST, { cert: alice.certPem, key: alice.keyPem, headers: { 'X-Forwarded-Tls-Client-Cert': forgedCert, 'X-Labgate-Owner': 'shell:bob' } });
    expect(r.status).toBe(200);
    expect(r.seen!.headers['x-labgate-owner']).toBe('shell:alice');
    expect(r.seen!.headers['x-forwarded-tls-client-cert']).not.toBe(forgedCert);
    const c = await curlViaEdge(sandbox.edge, sandbox.env.LABGATE_SANDBOX_EDGE_CA!, HOST, alice.d.p12Path, alice.d.passphrase, { 'X-Forwarded-Tls-Client-Cert': forgedCert, 'X-Labgate-Owner': 'shell:bob' });
    expect(c.status).toBe('200');
    expect(JSON.parse(c.body).headers['x-labgate-owner']).toBe('shell:alice');
  });

  it('GIVEN allow:@alice WHEN planned, approved and applied THEN alice’s device gets in, bob’s is refused, and /route list shows it', async () => {
    // Its own host: photos stays open to every valid device for the other tests.
    const ALBUM = 'album.home.example.com';
    await exposeStrict('album', 'immich', 2283);
    await lab.run('/route mode host:album mode:mtls-strict allow:@alice', 'alice');
    const plan = lastPlan(lab);
    expect(plan.diff).toContain('+    labgate.dev/allow: "@alice"');
    expect(plan.diff).toContain('?allow=shell%3Aalice');
    await lab.run(`approve ${plan.planId}`, 'alice');
    expect((await viaEdge(sandbox.edge, ALBUM, { cert: alice.certPem, key: alice.keyPem })).status).toBe(200);
    const denied = await viaEdge(sandbox.edge, ALBUM, { cert: bob.certPem, key: bob.keyPem });
    expect(denied).toMatchObject({ status: 403, body: 'this device is not allowed on this host\n' });
    expect(await curlViaEdge(sandbox.edge, sandbox.env.LABGATE_SANDBOX_EDGE_CA!, ALBUM, bob.d.p12Path, bob.d.passphrase)).toMatchObject({ status: '403', body: 'this device is not allowed on this host\n' });
    // Bob forging alice's certificate in the header does not help him either.
    const forged = await viaEdge(sandbox.edge, ALBUM, { cert: bob.certPem, key: bob.keyPem, headers: { 'X-Forwarded-Tls-Client-Cert': clientCertHeader([Buffer.from(alice.certPem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, ''), 'base64')]) } });
    expect(forged.status).toBe(403);
    await lab.run('/route list', 'alice');
    const report = [...lab.printed].reverse().find((m) => m.kind === 'report' && m.table)!;
    const row = report.table!.rows.find((r) => r[0] === ALBUM)!;
    expect(row[2]).toBe('@alice');
  });

  it('GIVEN a bad allow: value WHEN planned THEN the message names the field and what it takes', async () => {
    const out = await lab.run('/route mode host:photos mode:mtls-strict allow:nosuchgroup', 'alice');
    expect(out.replies[0]!.text).toMatch(/allow: "nosuchgroup" is neither a person \(@name\) nor a group \(groups: approvers, operators\)/);
  });

  it('GIVEN allow: on a mode that checks no certificate WHEN planned THEN it is refused, naming the field', async () => {
    const out = await lab.run('/expose service:grafana namespace:monitoring port:3000 host:grafana auth:tailscale-only allow:@alice', 'alice');
    expect(out.replies[0]!.text).toBe('allow: only auth:mtls-strict checks who a device belongs to (got auth:tailscale-only)');
  });

  it('GIVEN two gates (this process and a `labgate gate` process) WHEN /cert revoke is applied THEN both refuse the certificate, from the push alone', async () => {
    const yaml = join(dir, 'labgate.yaml');
    writeFileSync(yaml, readFileSync(sandbox.files.config, 'utf8').replace('prefix: labgate-sandbox', `prefix: ${lab.config.redis.prefix}`).replace('refreshEvery: 60s', 'refreshEvery: 1h'));
    gateProcess = new LabgateProcess(['gate', '--listen', '127.0.0.1:0'], { cwd: dir, env: { ...sandbox.env, PATH: process.env.PATH!, LABGATE_CONFIG: yaml, REDIS_URL: lab.config.env.REDIS_URL, LABGATE_LOG_FILE: join(dir, 'gate.log') } });
    await gateProcess.waitFor(/listening on (http:\/\/\S+)/);
    const other = /listening on (http:\/\/\S+)/.exec(gateProcess.stdout)![1]!;
    await until(() => readFileSync(join(dir, 'gate.log'), 'utf8').includes('labgate gate running'), 'the gate process to run', 10_000);
    // Subscribed before it says it runs? Wait for Redis to list its subscription.
    const { Redis } = await import('ioredis');
    const r = new Redis(lab.config.env.REDIS_URL);
    await until(async () => ((await r.pubsub('NUMSUB', lab.app.services.keys.gateRevoked)) as [string, number])[1] >= 2, 'both gates subscribed', 10_000);
    r.disconnect();
    // A device of bob's that only this test uses: his iphone stays valid for the others.
    const lost = await issue('bob', 'old-ipad');
    expect((await askGate(other, lost.certPem)).status).toBe(200);

    await lab.run(`/cert revoke device:old-ipad for:bob`, 'alice');
    await lab.run(`approve ${lastPlan(lab).planId}`, 'alice');
    const today = new Date().toISOString().slice(0, 10);
    let edgeAnswer = { status: 0, body: '' };
    let otherAnswer = { status: 0, body: '' };
    await until(async () => {
      edgeAnswer = await viaEdge(sandbox.edge, HOST, { cert: lost.certPem, key: lost.keyPem });
      otherAnswer = await askGate(other, lost.certPem);
      return edgeAnswer.body.startsWith('certificate revoked') && otherAnswer.body.startsWith('certificate revoked');
    }, 'both gates to refuse the revoked certificate', 10_000, () => JSON.stringify({ edgeAnswer, otherAnswer, printed: lab.printed.slice(-4).map((m) => m.text) }));
    expect(edgeAnswer).toEqual({ status: 403, body: `certificate revoked on ${today}\n` });
    expect(otherAnswer).toEqual({ status: 403, body: `certificate revoked on ${today}\n` });
    expect(await curlViaEdge(sandbox.edge, sandbox.env.LABGATE_SANDBOX_EDGE_CA!, HOST, lost.d.p12Path, lost.d.passphrase)).toMatchObject({ status: '403', body: `certificate revoked on ${today}\n` });
    // alice, and bob's other device, are untouched.
    expect((await viaEdge(sandbox.edge, HOST, { cert: bob.certPem, key: bob.keyPem })).status).toBe(200);
    expect((await viaEdge(sandbox.edge, HOST, { cert: alice.certPem, key: alice.keyPem })).status).toBe(200);
  }, 60_000);

  const lastReport = () => [...lab.printed].reverse().find((m) => m.kind === 'report' && m.text.startsWith('mTLS check'))!;

  it('GIVEN a healthy mtls-strict host WHEN /mtls-check runs THEN every check passes and its throwaway certificate ends revoked', async () => {
    await exposeStrict('jelly');
    await lab.run('/mtls-check host:jelly', 'alice');
    const report = lastReport();
    expect(report.text).toBe('mTLS check of https://jelly.home.example.com: OK');
    expect(report.table!.rows.map((r) => [r[0], r[1]])).toEqual([
      ['handshake demands a client certificate', 'ok'],
      ['a valid device certificate gets through', 'ok'],
      ['a revoked certificate is refused', 'ok'],
      ['the gate answers', 'ok'],
    ]);
    const serial = /serial ([0-9a-f:]+)/.exec(report.lines![0]!)![1]!;
    const stored = await fetch(`${sandbox.openbao.url}/v1/pki/cert/${serial}`).then((r) => r.json() as Promise<{ data: { revocation_time: number } }>);
    expect(stored.data.revocation_time).toBeGreaterThan(0);
    // A route that has its gate: /route upgrade has nothing to propose.
    const up = await lab.run('/route upgrade host:jelly', 'alice');
    expect(up.replies[0]!.text).toBe('jelly.home.example.com is already mtls-strict and has every object that mode needs; nothing to change');
  }, 60_000);

  it('GIVEN the gate Middleware removed from the route by hand WHEN /mtls-check runs THEN it says a revoked certificate gets in and why', async () => {
    await exposeStrict('films');
    const route = (await lab.kube.read({ apiVersion: 'traefik.io/v1alpha1', kind: 'IngressRoute', metadata: { name: 'films-public', namespace: 'media' } })) as unknown as { spec: { routes: { middlewares: { name: string }[] }[] } };
    route.spec.routes[0]!.middlewares = route.spec.routes[0]!.middlewares.filter((m) => m.name !== 'films-gate');
    await lab.kube.replace(route as never);
    await lab.run('/mtls-check host:films', 'alice');
    const report = lastReport();
    expect(report.text).toBe('mTLS check of https://films.home.example.com: 2 problems');
    const rows = new Map(report.table!.rows.map((r) => [r[0], r]));
    expect(rows.get('a revoked certificate is refused')![1]).toBe('PROBLEM');
    expect(rows.get('the gate answers')![2]).toMatch(/the route has no gate Middleware \(removed by hand\?\).*\/route upgrade host:films/);
    // And /route list says so too.
    await lab.run('/route list', 'alice');
    const listed = [...lab.printed].reverse().find((m) => m.kind === 'report' && m.table?.columns.includes('access'))!;
    expect(listed.table!.rows.find((r) => r[0] === 'films.home.example.com')![2]).toMatch(/NO GATE/);
    // /route upgrade proposes putting it back, as a plan.
    await lab.run('/route upgrade host:films', 'alice');
    expect(lastPlan(lab).diff).toContain('+        - name: films-gate');
  }, 60_000);

  it('GIVEN OpenBao unreachable past gate.maxStaleness WHEN requests come THEN the gate answers 503 and the alert is posted once, and once more when it recovers', async () => {
    const stale = await startConfiguredGate(
      { ...lab.config, gate: { ...lab.config.gate, refreshEvery: 100, maxStaleness: 600 } },
      { listen: { host: '127.0.0.1', port: 0 }, notifier: lab.app.services.notifier, logger: createLogger({ destination: new LogCapture(), level: 'debug' }) },
    );
    const alerts = () => lab.printed.filter((m) => m.kind === 'alert' && m.text.startsWith('mTLS gate'));
    try {
      expect((await askGate(stale.url, alice.certPem)).status).toBe(200);
      const heal = sandbox.faults.openbao.add({ match: /crl/, drop: true, times: 1_000_000 });
      await until(async () => (await askGate(stale.url, alice.certPem)).status === 503, 'the gate to fail closed', 15_000);
      expect((await askGate(stale.url, alice.certPem)).body).toMatch(/revocation list is out of date/);
      // Several more failed refreshes: still one alert.
      const failedSoFar = sandbox.faults.openbao.list()[0]!.hits;
      await until(() => sandbox.faults.openbao.list()[0]!.hits >= failedSoFar + 5, 'more failed refreshes', 15_000);
      expect(alerts().map((m) => m.text)).toEqual(['mTLS gate: the revocation list is out of date; every mtls-strict request is refused (503) until it is refreshed']);
      heal();
      await until(async () => (await askGate(stale.url, alice.certPem)).status === 200, 'the gate to recover', 15_000);
      await until(() => alerts().length === 2, 'the recovery alert', 5_000);
      expect(alerts()[1]!.text).toMatch(/fresh again/);
    } finally {
      await stale.closeAll();
    }
  }, 60_000);
});
