import { Queue } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SHELL_CONVERSATION, shellIdentity } from '../../src/chat/shell/shell.js';
import { runExpiryScan } from '../../jobs/expiry-scan.js';
import { SCHEDULED_QUEUE } from '../../src/queue/scheduled.js';
import { startSandbox, type Sandbox } from '../../sandbox/sandbox.js';
import { startLab, type Lab } from '../support/lab.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const urns = (owner: string, device: string, profile = 'modern') => [`urn:labgate:device:shell:${owner}:${device}`, `urn:labgate:device:profile:${profile}`];
const isoSeconds = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

describe('expiry alerts: many certificates at once are grouped into one alert per owner', () => {
  const t0 = Date.now();
  const now = () => t0;
  let sandbox: Sandbox;
  let lab: Lab;
  let worker: Lab | undefined;
  let bobSerials: string[] = [];
  let aliceSerial = '';
  let world = 0;

  const alerts = () => lab.printed.filter((m) => m.kind === 'alert' && m.text.includes('certificate'));

  /** What the first two tests leave: the scan has posted bob's digest and alice's alert. */
  async function alertedOnce() {
    expect(await runExpiryScan(lab.app.services)).toMatchObject({ expiring: 19, alerts: 19, messages: 2 });
  }

  // Each test gets its own sandbox and Redis prefix: no test reads the alert keys or messages another one left.
  beforeEach(async () => {
    worker = undefined;
    sandbox = await startSandbox({ dir: `/tmp/labgate-test-digest-${process.pid}-${world++}`, now });
    // bob: 18 devices expiring in 2..19 days (one made from a CSR), issued together a year ago.
    const bob = Array.from({ length: 18 }, (_, i) => ({
      commonName: `sensor-${String(i + 1).padStart(2, '0')}`,
      notAfter: new Date(t0 + (i + 2) * DAY + HOUR),
      uris: urns('bob', `sensor-${String(i + 1).padStart(2, '0')}`, i === 1 ? 'csr' : 'modern'),
    }));
    bobSerials = await sandbox.openbao.addCertificates(bob);
    [aliceSerial] = (await sandbox.openbao.addCertificates([{ commonName: 'laptop', notAfter: new Date(t0 + 20 * DAY + HOUR), uris: urns('alice', 'laptop') }])) as [string];
    // Runs are driven by the test (no scheduler): the digest limit is the default, 10.
    lab = await startLab({ sandbox, now, workers: false });
  });

  afterEach(async () => {
    await worker?.app.close();
    await lab?.close();
    await sandbox?.close();
  });

  it('GIVEN the chat is down WHEN 19 certificates are due THEN nothing is posted and every alert key is given back', async () => {
    const failing = { ...lab.app.services, notifier: { post: async () => Promise.reject(new Error('Discord answered 503')) } } as unknown as typeof lab.app.services;
    const result = await runExpiryScan(failing);
    expect(result).toMatchObject({ expiring: 19, alerts: 0, messages: 0 });
    expect(await lab.app.services.redis.keys(`${lab.config.redis.prefix}:alert:cert:*`)).toEqual([]);
    expect(lab.logs.text).toContain('could not post an expiry alert; the next scan retries');
  });

  it('GIVEN 18 of bob\'s and 1 of alice\'s certificates due in one scan (more than digestOver: 10) THEN bob gets one digest, alice her usual alert', async () => {
    const result = await runExpiryScan(lab.app.services);
    expect(result).toMatchObject({ expiring: 19, alerts: 19, messages: 2 });
    const posted = alerts();
    expect(posted).toHaveLength(2);

    const digest = posted.find((m) => m.text.startsWith('@bob'))!;
    expect(digest.text).toBe(`@bob: 18 of your device certificates expire within 30d, the first in 2 days (${isoSeconds(t0 + 2 * DAY + HOUR)})`);
    // The 15 soonest, one line each; the rest counted.
    expect(digest.lines).toHaveLength(17);
    expect(digest.lines![0]).toBe(`sensor-01: serial ${bobSerials[0]}, expires in 2 days (${isoSeconds(t0 + 2 * DAY + HOUR)}); alert at 7d`);
    expect(digest.lines![1]).toBe(`sensor-02: serial ${bobSerials[1]}, expires in 3 days (${isoSeconds(t0 + 3 * DAY + HOUR)}); alert at 7d; from a CSR: make a new one on the device`);
    expect(digest.lines![14]).toMatch(/^sensor-15: serial .*; alert at 30d$/);
    expect(digest.lines![15]).toBe('…and 3 more; /cert list shows them all.');
    expect(digest.lines![16]).toBe(
      'Renew plans a replacement (approved as usual), revoking the old certificate once the new one is delivered. The buttons are for the 5 soonest with a key labgate delivered; /cert issue device:NAME replace:true renews any other.',
    );
    // Renew for the five soonest that have a key labgate delivered (sensor-02 came from a CSR).
    expect(digest.buttons?.map((b) => [b.label, b.command])).toEqual(
      ['01', '03', '04', '05', '06'].map((n) => [`Renew sensor-${n}`, `/cert issue device:sensor-${n} for:bob replace:true profile:modern`]),
    );

    const single = posted.find((m) => m.text.startsWith('@alice'))!;
    expect(single.text).toBe(`@alice: the certificate for your laptop expires in 20 days (${isoSeconds(t0 + 20 * DAY + HOUR)})`);
    expect(single.lines?.[0]).toBe(`Serial ${aliceSerial}; alert at 30d before expiry.`);
    expect(single.buttons?.map((b) => b.label)).toEqual(['Renew']);
  });

  it('WHEN the scan runs again THEN nothing more is posted: each certificate still alerts once per threshold', async () => {
    await alertedOnce();
    const result = await runExpiryScan(lab.app.services);
    expect(result).toMatchObject({ expiring: 19, alerts: 0, messages: 0 });
    expect(alerts()).toHaveLength(2);
  });

  it('GIVEN a worker starts (its scheduler scans at once) WHEN bob clicks a Renew button of the digest there THEN the replacement of that device is planned, and no alert repeats', async () => {
    await alertedOnce();
    worker = await startLab({ sandbox, now, configure: (c) => (c.redis.prefix = lab.config.redis.prefix) });
    const connection = lab.app.services.redis.duplicate();
    const scheduled = new Queue(SCHEDULED_QUEUE, { connection, prefix: lab.app.services.keys.bullPrefix });
    try {
      const ran = async () => (await scheduled.getJobs(['completed'])).find((j) => j.name === 'cert-expiry-scan');
      for (let i = 0; i < 400 && !(await ran()); i++) await new Promise((r) => setTimeout(r, 25));
      expect((await ran())?.returnvalue).toMatchObject({ expiring: 19, alerts: 0 });
    } finally {
      await scheduled.close();
      connection.disconnect();
    }
    const digest = alerts().find((m) => m.text.startsWith('@bob'))!;
    const out = await worker.app.dispatcher!.runSuggestion(digest.buttons![1]!.id, shellIdentity('bob'), SHELL_CONVERSATION);
    expect(out.replies).toEqual([]);
    const plan = worker.printed.filter((m) => m.kind === 'plan' && !m.edit).pop()!;
    expect(plan.text).toBe(`Plan ${out.planId}: /cert issue device:sensor-03 for:bob replace:true profile:modern`);
    expect(plan.lines?.join('\n')).toContain(`revoke certificate ${bobSerials[2]} (@bob's sensor-03`);
    expect(worker.printed.filter((m) => m.kind === 'alert')).toEqual([]);
  });
});
