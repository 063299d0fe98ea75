import { Queue, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { certExpiryScan } from '../../jobs/cert-expiry-scan.js';
import { createApp, type App } from '../../src/app.js';
import { PlatformNotifier } from '../../src/messages/notifier.js';
import { ShellNotifier, ShellOutput } from '../../src/chat/shell/shell-notifier.js';
import { SHELL_CONVERSATION, shellIdentity } from '../../src/chat/shell/shell.js';
import type { Config } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import { SCHEDULED_QUEUE } from '../../src/queue/scheduled.js';
import { startSandbox, type Sandbox } from '../../sandbox/sandbox.js';
import { dropPrefix, LogCapture, startLab, type Lab } from '../support/lab.js';
import type { Printed } from './cert-helpers.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const urns = (owner: string, device: string) => [`urn:labgate:device:shell:${owner}:${device}`, 'urn:labgate:device:profile:modern'];

/** A second labgate process (chat + workers) on the same Redis prefix and sandbox. */
interface Worker {
  app: App;
  printed: Printed[];
}

async function startWorker(config: Config, now: () => number): Promise<Worker> {
  const printed: Printed[] = [];
  const out = new ShellOutput((line) => printed.push(JSON.parse(line)), true, false);
  const app = await createApp({
    config,
    logger: createLogger({ destination: new LogCapture(), level: 'warn' }),
    notifier: new PlatformNotifier({ shell: new ShellNotifier(out, `/tmp/labgate-test-dm-${process.pid}`) }),
    chat: true,
    workers: true,
    now,
  });
  return { app, printed };
}

describe('expiry alerts: one per certificate per threshold, across two workers and a restart, with a fake clock', () => {
  const t0 = Date.now();
  let clock = t0;
  const now = () => clock;
  let sandbox: Sandbox;
  let lab: Lab;
  let second: Worker;
  let restarted: Worker | undefined;
  const serials: Record<string, string> = {};
  let world = 0;

  const all = () => [...lab.printed, ...second.printed, ...(restarted?.printed ?? [])];
  const certAlerts = () => all().filter((m) => m.kind === 'alert' && /certificate|CA /.test(m.text));

  /** Both workers scan at the same moment, twice. */
  async function scanEverywhere() {
    const workers = [lab.app, second.app, ...(restarted ? [restarted.app] : [])];
    for (let i = 0; i < 2; i++) await Promise.all(workers.map((a) => certExpiryScan.run(a.services, {} as Job)));
    // A worker that starts runs the scheduled scan at once; let it finish before counting.
    await scheduledSettled();
  }

  /** Waits until the scheduler's runs so far have finished (the first runs on start). */
  async function scheduledSettled() {
    const r = new Redis(lab.config.env.REDIS_URL);
    const q = new Queue(SCHEDULED_QUEUE, { connection: r, prefix: lab.app.services.keys.bullPrefix });
    try {
      for (let i = 0; i < 200; i++) {
        const c = await q.getJobCounts('active', 'waiting', 'completed', 'failed');
        if (c.completed + c.failed > 0 && c.active === 0 && c.waiting === 0) return c;
        await new Promise((res) => setTimeout(res, 25));
      }
      throw new Error('the scheduled scan never ran');
    } finally {
      await q.close();
      r.disconnect();
    }
  }

  /** What the tests before it in the file did: the alerts at t0, then (to `day`) the clock moved on and a third worker scanning too. */
  async function scannedUpTo(day: 0 | 23) {
    await scanEverywhere();
    if (day === 0) return;
    clock = t0 + day * DAY;
    restarted = await startWorker(lab.config, now);
    await scanEverywhere();
  }

  // Each test gets its own sandbox, Redis prefix, clock and workers: no test reads the alerts or ledger another one left.
  beforeEach(async () => {
    clock = t0;
    restarted = undefined;
    sandbox = await startSandbox({ dir: `/tmp/labgate-test-expiry-${process.pid}-${world++}`, now });
    const day = (d: number, h = 0) => new Date(t0 + d * DAY + h * HOUR);
    const [a, b, c, far, revoked, replacedOld, replacedNew] = await sandbox.openbao.addCertificates([
      { commonName: 'phone-a', notAfter: day(29, 1), uris: urns('bob', 'phone-a') },
      { commonName: 'phone-b', notAfter: day(6, 1), uris: urns('bob', 'phone-b') },
      { commonName: 'phone-c', notAfter: day(0, 6), uris: urns('alice', 'phone-c') },
      { commonName: 'phone-far', notAfter: day(45, 1), uris: urns('bob', 'phone-far') },
      { commonName: 'phone-lost', notAfter: day(5), uris: urns('bob', 'phone-lost'), revokedAt: new Date(t0 - DAY) },
      { commonName: 'tablet', notAfter: day(3), notBefore: new Date(t0 - 200 * DAY), uris: urns('bob', 'tablet') },
      { commonName: 'tablet', notAfter: day(300), notBefore: new Date(t0 - DAY), uris: urns('bob', 'tablet') },
    ]);
    Object.assign(serials, { a, b, c, far, revoked, replacedOld, replacedNew });
    // Not labgate's: no owner URN, so no alert however close its expiry.
    await sandbox.openbao.addCertificates([{ commonName: 'someone-elses.home.example.com', notAfter: day(2) }]);
    // A TLS Secret labgate manages, whose certificate expires in 5 days.
    const [tlsSerial] = await sandbox.openbao.addCertificates([{ commonName: 'wiki.home.example.com', notAfter: day(5, 1) }], { roleName: 'server' });
    const tlsPem = sandbox.openbao.state.pki.certs[tlsSerial!.replace(/:/g, '-')]!.certificatePem;
    sandbox.kubernetes.objects.put({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'wiki-tls', namespace: 'media', labels: { 'app.kubernetes.io/managed-by': 'labgate' } },
      type: 'kubernetes.io/tls',
      data: { 'tls.crt': Buffer.from(tlsPem).toString('base64'), 'tls.key': '' },
    } as never);

    const quiet = (c: Config) => {
      const ts = c.tailscale as unknown as { monitor?: { enabled: boolean } };
      if (ts.monitor) ts.monitor.enabled = false;
    };
    lab = await startLab({ sandbox, now, configure: quiet });
    second = await startWorker(lab.config, now);
  });

  afterEach(async () => {
    await second?.app.close();
    await restarted?.app.close();
    await lab?.close();
    await sandbox?.close();
    await dropPrefix(lab.config.redis.prefix);
  });

  it('GIVEN device certificates at 29, 6 and 0 days, a revoked one, a replaced one and a TLS Secret at 5 days WHEN the scheduler and two workers scan THEN exactly one alert each is posted', async () => {
    // The scheduler's first run happens on start; it must have succeeded.
    expect((await scheduledSettled()).failed).toBe(0);
    await scanEverywhere();
    const alerts = certAlerts();
    expect(alerts.map((m) => m.text).sort()).toEqual(
      [
        `@alice: the certificate for your phone-c expires within a day (${new Date(t0 + 6 * HOUR).toISOString().replace(/\.\d{3}Z$/, 'Z')})`,
        `@bob: the certificate for your phone-a expires in 29 days (${new Date(t0 + 29 * DAY + HOUR).toISOString().replace(/\.\d{3}Z$/, 'Z')})`,
        `@bob: the certificate for your phone-b expires in 6 days (${new Date(t0 + 6 * DAY + HOUR).toISOString().replace(/\.\d{3}Z$/, 'Z')})`,
        expect.stringMatching(/^The TLS certificate in Secret media\/wiki-tls \(CN=wiki\.home\.example\.com\) expires in 5 days/),
      ].sort() as string[],
    );
    const a = alerts.find((m) => m.text.includes('phone-a'))!;
    expect(a.lines?.[0]).toBe(`Serial ${serials.a}; alert at 30d before expiry.`);
    expect(a.buttons?.map((b) => [b.label, b.command])).toEqual([['Renew', '/cert issue device:phone-a for:bob replace:true profile:modern']]);
    expect(alerts.find((m) => m.text.includes('phone-b'))!.lines?.[0]).toBe(`Serial ${serials.b}; alert at 7d before expiry.`);
    expect(alerts.find((m) => m.text.includes('phone-c'))!.lines?.[0]).toBe(`Serial ${serials.c}; alert at 1d before expiry.`);
  });

  it('GIVEN a worker restarts WHEN everyone scans again THEN nothing is posted twice', async () => {
    await scannedUpTo(0);
    const before = certAlerts().length;
    await second.app.close();
    second = await startWorker(lab.config, now);
    await scanEverywhere();
    expect(certAlerts().length).toBe(before);
  });

  it('GIVEN the clock moves on 23 days WHEN three workers scan THEN phone-a alerts once more at its 7-day threshold, phone-far at its 30-day one; expired ones stay quiet', async () => {
    await scannedUpTo(0);
    const before = certAlerts().length;
    clock = t0 + 23 * DAY;
    restarted = await startWorker(lab.config, now);
    await scanEverywhere();
    const fresh = certAlerts().slice(before);
    expect(fresh.map((m) => m.text).sort()).toEqual([
      expect.stringMatching(/^@bob: the certificate for your phone-a expires in 6 days/),
      expect.stringMatching(/^@bob: the certificate for your phone-far expires in 22 days/),
    ]);
    expect(fresh.find((m) => m.text.includes('phone-a'))!.lines?.[0]).toBe(`Serial ${serials.a}; alert at 7d before expiry.`);
    expect(fresh.find((m) => m.text.includes('phone-far'))!.lines?.[0]).toBe(`Serial ${serials.far}; alert at 30d before expiry.`);
  });

  it('WHEN bob clicks Renew THEN a plan for a replacement is posted: a new certificate for phone-a and the revoke of the old serial', async () => {
    await scannedUpTo(23);
    const alert = certAlerts().filter((m) => m.text.includes('phone-a')).pop()!;
    const out = await lab.app.dispatcher!.runSuggestion(alert.buttons![0]!.id, shellIdentity('bob'), SHELL_CONVERSATION);
    expect(out.replies).toEqual([]);
    const plan = all().filter((m) => m.kind === 'plan' && !m.edit).pop()!;
    expect(plan.text).toBe(`Plan ${out.planId}: /cert issue device:phone-a for:bob replace:true profile:modern`);
    expect(plan.lines?.join('\n')).toContain(`revoke certificate ${serials.a} (@bob's phone-a`);
  });

  it('GIVEN the certificate is revoked WHEN its next threshold comes THEN it no longer alerts', async () => {
    await scannedUpTo(23);
    await fetch(`${sandbox.openbao.url}/v1/pki/revoke`, { method: 'POST', headers: { 'X-Vault-Token': sandbox.openbao.rootToken }, body: JSON.stringify({ serial_number: serials.a }) });
    const before = certAlerts().length;
    clock = t0 + 28 * DAY + 12 * HOUR;
    await scanEverywhere();
    expect(certAlerts().slice(before)).toEqual([]);
  });
});
