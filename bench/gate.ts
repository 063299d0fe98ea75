import { randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import { request } from 'node:https';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import autocannon from 'autocannon';
import type { ChatNotifier } from '../src/messages/notifier.js';
import { loadConfig } from '../src/config/load.js';
import { startConfiguredGate } from '../src/gate/run-gate.js';
import { GateDecider } from '../src/gate/gate-decision.js';
import { RevocationList } from '../src/gate/revocation-list.js';
import { createLogger } from '../src/log.js';
import { OpenBaoApplier } from '../src/openbao/applier.js';
import { openBaoFromConfig } from '../src/openbao/node-vault-adapter.js';
import { certTarget } from '../src/openbao/certificate-changes.js';
import { x509 } from '../src/pki/x509.js';
import type { Change } from '../src/plan/model.js';
import { createRedis, dropPrefix, redisKeys } from '../src/stores/redis.js';
import { ObjectStore } from '../sandbox/kubernetes/object-store.js';
import { clientCertHeader } from '../sandbox/edge/traefik-headers.js';
import { startSandbox } from '../sandbox/sandbox.js';
import { renderClientCaSecret, renderExposure } from '../src/traefik/render.js';
import { percentile, round, type Figure, type Scenario } from './figures.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const silent = () => createLogger({ level: 'warn', destination: { write: () => true } as never });
const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;

/** A device CA and one valid device certificate, made here (no OpenBao needed for the load test). */
async function deviceCertificate(): Promise<{ issuerPem: string; header: string }> {
  const caKeys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const now = Date.now();
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    name: 'CN=bench devices',
    keys: caKeys,
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + 86_400_000),
    signingAlgorithm: SIGN,
    extensions: [new x509.BasicConstraintsExtension(true, 0, true)],
  });
  const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: '7f0102',
    subject: 'CN=pixel-8',
    issuer: ca.subject,
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + 86_400_000),
    publicKey: keys.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: SIGN,
    extensions: [new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]), new x509.SubjectAlternativeNameExtension([{ type: 'url', value: 'urn:labgate:device:shell:alice:pixel-8' }])],
  });
  return { issuerPem: ca.toString('pem'), header: clientCertHeader([Buffer.from(leaf.rawData)]) };
}

function serve(mode: 'gate' | 'floor', issuerPem: string, revoked: string[]): Promise<{ port: number; worker: Worker }> {
  const worker = new Worker(new URL('./gate-worker.js', import.meta.url), { workerData: { mode, issuerPem, revoked } });
  return new Promise((resolve, reject) => {
    worker.once('message', (m: { port?: number; error?: string }) => (m.port ? resolve({ port: m.port, worker }) : reject(new Error(m.error))));
    worker.once('error', reject);
  });
}

async function load(port: number, header: string): Promise<autocannon.Result> {
  return autocannon({ url: `http://127.0.0.1:${port}/verify`, connections: 50, duration: 10, headers: { 'X-Forwarded-Tls-Client-Cert': header } });
}

/** Decisions per second and p99 with 10,000 revoked serials, beside the floor (a handler that answers 200 at once). */
async function decisions(): Promise<Figure[]> {
  const { issuerPem, header } = await deviceCertificate();
  const revoked = Array.from({ length: 10_000 }, () => randomBytes(20).toString('hex'));
  const floor = await serve('floor', issuerPem, revoked);
  const floorResult = await load(floor.port, header);
  await floor.worker.terminate();
  const gate = await serve('gate', issuerPem, revoked);
  const result = await load(gate.port, header);
  await gate.worker.terminate();
  if (result.non2xx > 0) throw new Error(`the gate refused ${result.non2xx} requests of a valid certificate`);
  // The decision alone, without HTTP: what the gate itself costs per request.
  const list = new RevocationList();
  list.replace(revoked.map((s) => [s, Date.now()] as [string, number]), Date.now(), Date.now() + 3600_000);
  const issuers = [new X509Certificate(issuerPem)];
  const decider = new GateDecider(() => issuers, list);
  const n = 200_000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) decider.decide(header, undefined, Date.now());
  const perDecision = ((performance.now() - t0) * 1000) / n;
  // A certificate the gate has not seen yet: parsed and its signature checked.
  const m = 2000;
  const t1 = performance.now();
  for (let i = 0; i < m; i++) {
    decider.reset();
    decider.decide(header, undefined, Date.now());
  }
  const firstSight = ((performance.now() - t1) * 1000) / m;
  const scenario = 'gate: forwardAuth decisions (10,000 revoked serials, 50 connections, 10 s)';
  return [
    { scenario, metric: 'decision alone, known certificate', value: round(perDecision, 2), unit: 'µs', note: 'no HTTP; parsed certificates are cached by header' },
    { scenario, metric: 'decision alone, first sight', value: round(firstSight, 1), unit: 'µs', note: 'no HTTP; parse + ECDSA signature check' },
    { scenario, metric: 'decisions per second', value: round(result.requests.average, 0), unit: '/s', note: `target ≥ 10000; floor (200 at once) ${round(floorResult.requests.average, 0)}/s` },
    { scenario, metric: 'p99 decision latency', value: result.latency.p99, unit: 'ms', note: `target ≤ 2 ms; floor ${floorResult.latency.p99} ms` },
  ];
}

function viaEdge(port: number, ca: string, host: string, cert: string, key: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, servername: host, path: '/', headers: { host }, ca, cert, key, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end();
  });
}

/** From a revocation applied (OpenBao revoke, CRL rotated, push sent) to the edge refusing the certificate, 20 times. */
async function revokeToRefused(): Promise<Figure[]> {
  const sandbox = await startSandbox({ dir: mkdtempSync(join(tmpdir(), 'labgate-bench-gate-')) });
  const res = loadConfig({ ...process.env, REDIS_URL, ...sandbox.env });
  if (!res.ok) throw new Error(res.problems.join('\n'));
  const config = res.config;
  config.redis.prefix = `lgbench-gate-${process.pid}`;
  config.gate.refreshEvery = 3600_000;
  const notifier: ChatNotifier = { post: async (to) => ({ conversation: to, messageId: '0' }), edit: async () => {}, dm: async () => ({ delivered: true, files: [] }) };
  const gate = await startConfiguredGate(config, { listen: { host: '127.0.0.1', port: 0 }, notifier, logger: silent() });
  await gate.subscribed;
  sandbox.edge.setUpstream(new URL(config.gate.address).host, gate.url);
  // The route as an approved /expose … auth:mtls-strict leaves it.
  const bao = openBaoFromConfig(config)!;
  const store = new ObjectStore(sandbox.state.kubernetes);
  store.put(renderClientCaSecret('media', config.traefik.mtls.clientCaSecret, await bao.issuerChain('devices').then((c) => c.slice(0, 1))));
  for (const obj of renderExposure({ host: 'photos.home.example.com', namespace: 'media', service: 'immich', port: 2283, mode: 'mtls-strict' }, config.traefik, config.domain, config.gate)) store.put(obj);
  const redis = createRedis(REDIS_URL, 'client');
  const applier = new OpenBaoApplier({ bao, notifier, config, redis, keys: redisKeys(config.redis.prefix), logger: silent(), now: Date.now });
  const samples: number[] = [];
  try {
    for (let i = 0; i < 20; i++) {
      const issued = await bao.issue('device', { commonName: `bench-${i}`, uriSans: [`urn:labgate:device:shell:alice:bench-${i}`], ttlSeconds: 3600, keyType: 'ec', keyBits: 256 });
      const call = () => viaEdge(sandbox.edge.ports.websecure!, sandbox.edge.caPem, 'photos.home.example.com', issued.certificatePem, issued.privateKeyPem);
      if ((await call()) !== 200) throw new Error('the edge did not let a fresh device certificate through');
      const change = { system: 'openbao', action: 'revoke', target: certTarget(issued.serial), before: { serial: issued.serial, owner: { platform: 'shell', id: 'alice' } }, after: null, summary: '' } as unknown as Change;
      await applier.apply(change);
      const applied = performance.now();
      while ((await call()) !== 403) if (performance.now() - applied > 10_000) throw new Error('the edge still lets a revoked certificate through after 10 s');
      samples.push(performance.now() - applied);
    }
  } finally {
    redis.disconnect();
    await gate.closeAll();
    await sandbox.close();
    await dropPrefix(REDIS_URL, config.redis.prefix);
  }
  const scenario = 'gate: revoke applied → refused at the edge (20 runs)';
  return [
    { scenario, metric: 'p50', value: round(percentile(samples, 50)), unit: 'ms', note: 'target ≤ 1000 ms; the push alone (CRL refresh 1 h)' },
    { scenario, metric: 'max', value: round(Math.max(...samples)), unit: 'ms', note: 'target ≤ 1000 ms' },
  ];
}

export const gateScenarios: Scenario[] = [
  { name: 'gate decisions', run: decisions },
  { name: 'gate revoke to refused', run: revokeToRefused },
];
