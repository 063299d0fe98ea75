import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDerpMonitor } from '../../jobs/derp-monitor.js';
import type { StoredMessage } from '../harness/discord/discord-harness.js';
import { startDiscordFixture, waitFor, type DiscordFixture } from '../chat/discord/discord-fixture.js';
import { buttonsOf } from '../chat/discord/plan-helpers.js';

type Embed = { title?: string; description?: string };
const embedOf = (m: StoredMessage) => (m.embeds[0] ?? {}) as Embed;

describe('Discord: /derp-check, its fix button, and relay-fallback alerts', () => {
  let f: DiscordFixture;

  beforeAll(async () => {
    f = await startDiscordFixture();
  }, 30_000);
  afterAll(async () => {
    await f?.close();
  });

  it('GIVEN bob runs /derp-check THEN the table is posted with a Fix button; his click plans /router sync, alice approves, the rule exists', async () => {
    const cmd = await f.harness.chatInput('bob', 'derp-check', {});
    expect((await cmd.firstResponse).type).toBe(5);
    await f.bot.idle();
    const report = await waitFor(() => f.harness.messages('ops').find((m) => String(embedOf(m).title ?? '').startsWith('Tailscale paths of 3 Traefik nodes')), 'the derp-check report');
    expect(embedOf(report).title).toBe('Tailscale paths of 3 Traefik nodes: 2 direct-capable, 1 misconfigured');
    const shown = `${embedOf(report).description ?? ''}\n${report.attachments.map((a) => a.filename).join(' ')}`;
    expect(shown).toContain('node-23: no enabled dst-nat rule forwards udp 41623 to 192.168.10.23:41623');
    const [fix] = buttonsOf(report);
    expect(fix).toMatchObject({ label: 'Fix: /router sync', custom_id: expect.stringMatching(/^run:s-[0-9a-f]{16}$/) });

    const click = await f.harness.clickButton('bob', report, fix!.custom_id);
    await click.firstResponse;
    await f.bot.idle();
    const plan = await waitFor(() => f.harness.messages('ops').find((m) => /^Plan p-[a-z0-9]+: \/router sync$/.test(String(embedOf(m).title ?? ''))), 'the router sync plan');
    expect(embedOf(plan).description).toContain('+++ b//ip/firewall/nat/labgate:tailscale:node-23');
    const approve = buttonsOf(plan).find((b) => b.label === 'Approve')!;
    await (await f.harness.clickButton('alice', plan, approve.custom_id)).firstResponse;
    await waitFor(() => f.harness.messages('ops').find((m) => /^Applied p-/.test(String(embedOf(m).title ?? ''))), 'the applied result');
    expect(f.sandbox.router.rules().filter((r) => r.comment === 'labgate:tailscale:node-23')).toHaveLength(1);
  });

  it('GIVEN node-21 falls back to DERP THEN the monitor posts one alert into #alerts, and one more when it recovers', async () => {
    await runDerpMonitor(f.app.services);
    f.sandbox.tailscale.setNode('node-21', { connectivity: 'relayed' });
    await runDerpMonitor(f.app.services);
    await runDerpMonitor(f.app.services);
    f.sandbox.tailscale.setNode('node-21', { connectivity: 'auto' });
    await runDerpMonitor(f.app.services);
    // (node-23's recovery after the sync may be there too, if the start-up run saw it relayed.)
    const node21 = f.harness.messages('alerts').filter((m) => String(embedOf(m).title).startsWith('node-21'));
    expect(node21.map((m) => embedOf(m).title)).toEqual(['node-21 fell back to DERP relays', 'node-21 is direct again']);
    const fell = node21[0]!;
    expect(embedOf(fell).description).toContain('alice-phone: direct → DERP (fra)');
    expect(embedOf(fell).description).toContain('Diagnosis (relayed)');
  });
});
