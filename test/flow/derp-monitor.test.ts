import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runDerpMonitor } from '../../jobs/derp-monitor.js';
import type { App } from '../../src/app.js';
import type { Config } from '../../src/config/load.js';
import { printedOrder, startLab, type Lab } from '../support/lab.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => T | undefined, ms = 8000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

describe('relay-fallback monitor', () => {
  let first: Lab;
  const others: Lab[] = [];
  const closeApp = (app: App) => app.close();

  /** Another labgate process on the same Redis prefix and sandbox (another worker, or a restart). */
  const worker = async (configure: (c: Config) => void = () => {}) => {
    const lab = await startLab({
      sandbox: first.sandbox,
      configure: (c) => {
        c.redis.prefix = first.config.redis.prefix;
        configure(c);
      },
    });
    others.push(lab);
    return lab;
  };
  /** The alerts every given lab printed, in the order they were posted across labs. */
  const alerts = (labs: Lab[]) =>
    labs.flatMap((l) => l.printed.filter((m) => m.kind === 'alert')).sort((x, y) => printedOrder(x) - printedOrder(y));

  // Each test starts from a fresh homelab and an empty alert ledger: the monitor's state is what it tests.
  beforeEach(async () => {
    // Runs are driven by the test here, as two workers picking up the job at once would.
    first = await startLab({ configure: (c) => (c.tailscale.monitor.enabled = false) });
  });
  afterEach(async () => {
    for (const l of others.splice(0)) await closeApp(l.app).catch(() => {});
    await first?.close();
  });

  it('GIVEN two workers and a restart WHEN node-21 goes direct → relayed → direct THEN exactly two alerts are posted, with the diagnosis', async () => {
    const a = first;
    const b = await worker((c) => (c.tailscale.monitor.enabled = false));
    const tailscale = a.sandbox.tailscale;

    // Both workers check at the same time: the first sighting sets the baseline, nobody alerts.
    await Promise.all([runDerpMonitor(a.app.services), runDerpMonitor(b.app.services)]);
    expect(alerts([a, b])).toEqual([]);

    tailscale.setNode('node-21', { connectivity: 'relayed' });
    const round1 = await Promise.all([runDerpMonitor(a.app.services), runDerpMonitor(b.app.services)]);
    expect(round1.map((r) => r.alerts).sort()).toEqual([0, 1]);
    await Promise.all([runDerpMonitor(a.app.services), runDerpMonitor(b.app.services)]);
    const fell = alerts([a, b]);
    expect(fell).toHaveLength(1);
    expect(fell[0]).toMatchObject({ kind: 'alert', text: 'node-21 fell back to DERP relays' });
    expect(fell[0]!.lines).toEqual([
      'node-21: direct → DERP',
      'alice-phone: direct → DERP (fra)',
      'bob-laptop: direct → DERP (ams)',
      'office-router: peer-relay → DERP (lhr)',
      'Diagnosis (relayed): 3 active peers relayed by DERP: alice-phone via fra, bob-laptop via ams, office-router via lhr',
    ]);
    expect(fell[0]!.table?.rows[0]?.[0]).toBe('node-21');

    // Worker b restarts: the last state lives in Redis, not in the process.
    await b.app.close();
    const c = await worker((cfg) => (cfg.tailscale.monitor.enabled = false));
    await runDerpMonitor(c.app.services);
    expect(alerts([a, b, c])).toHaveLength(1);

    tailscale.setNode('node-21', { connectivity: 'auto' });
    await Promise.all([runDerpMonitor(a.app.services), runDerpMonitor(c.app.services)]);
    await Promise.all([runDerpMonitor(a.app.services), runDerpMonitor(c.app.services)]);
    const all = alerts([a, b, c]);
    expect(all.map((m) => m.text)).toEqual(['node-21 fell back to DERP relays', 'node-21 is direct again']);
    expect(all[1]!.lines).toContain('alice-phone: DERP → direct 198.51.100.23:41641');
    expect(all[1]!.lines).toContain('office-router: DERP → peer-relay 198.51.100.200:7777:vni:42');
    await c.app.close();
  });

  it('GIVEN node-23 is not forwarded WHEN it falls back THEN the alert carries the fix button; idle peers and failed checks raise nothing', async () => {
    const tailscale = first.sandbox.tailscale;
    // Baseline for node-23: hard NAT, two peers already on DERP.
    await runDerpMonitor(first.app.services);
    const before = alerts([first]).length;
    tailscale.setNode('node-23', { udp: false });
    await runDerpMonitor(first.app.services);
    const [alert] = alerts([first]).slice(before);
    expect(alert).toMatchObject({ text: 'node-23 fell back to DERP relays', lines: ['office-router: peer-relay → DERP (lhr)', expect.stringMatching(/^Diagnosis \(misconfigured\): no enabled dst-nat rule forwards udp 41623/)] });
    expect(alert!.buttons).toEqual([expect.objectContaining({ label: 'Fix: /router sync', command: '/router sync' })]);

    tailscale.failExec('node-23', { exitCode: 1, stderr: 'boom\n' });
    tailscale.setNode('node-23', { udp: true });
    await runDerpMonitor(first.app.services);
    expect(alerts([first]).length).toBe(before + 1);
    tailscale.failExec('node-23', null);
    await runDerpMonitor(first.app.services);
    expect(alerts([first]).slice(before + 1).map((m) => m.text)).toEqual(['node-23 is direct again']);
  });

  it('GIVEN the scheduler runs the monitor every 300 ms WHEN node-22 goes relayed and back THEN its alerts arrive once each', async () => {
    const lab = await worker((c) => {
      c.tailscale.monitor.every = 300;
    });
    const tailscale = first.sandbox.tailscale;
    await sleep(700);
    tailscale.setNode('node-22', { connectivity: 'relayed' });
    // Any worker on the prefix may pick a run up (first's is idle but listening): count them all.
    const node22 = () => alerts([first, ...others]).filter((m) => m.text.startsWith('node-22'));
    await until('the fall-back alert', () => node22().find((m) => m.text === 'node-22 fell back to DERP relays'));
    tailscale.setNode('node-22', { connectivity: 'auto' });
    await until('the recovery alert', () => node22().find((m) => m.text === 'node-22 is direct again'));
    await sleep(700);
    expect(node22().map((m) => m.text)).toEqual(['node-22 fell back to DERP relays', 'node-22 is direct again']);
    await lab.app.close();
  });
});
