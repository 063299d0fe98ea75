import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { metricsText } from '../../src/ops/metrics.js';
import { readiness } from '../../src/ops/readiness.js';
import { startDiscordFixture, type DiscordFixture } from '../chat/discord/discord-fixture.js';
import { parseExposition, total } from '../support/prometheus.js';
import { until } from '../support/labgate-process.js';

const scrape = async () => parseExposition(await metricsText());

describe('Discord in /readyz and /metrics: the gateway state and REST 429s, with discord.js on the loopback Discord', () => {
  let f: DiscordFixture;
  // A bot per test: the gateway state is process-wide, and the last test closes its bot.
  beforeEach(async () => {
    f = await startDiscordFixture();
  }, 30_000);
  afterEach(async () => {
    await f?.close();
  });

  it('GIVEN the bot on the gateway THEN the discord check passes and the gauge is 1; WHEN the gateway drops THEN it comes back to 1 after the resume', async () => {
    expect(readiness.state().checks.discord).toBe(true);
    expect(total(await scrape(), 'labgate_discord_gateway_up')).toBe(1);
    const before = f.harness.gatewayFrames.length;
    f.harness.disconnectGateway();
    await until(() => f.harness.gatewayFrames.length > before + 1 && readiness.state().checks.discord === true, 'the gateway to resume', 20_000);
    expect(total(await scrape(), 'labgate_discord_gateway_up')).toBe(1);
  });

  it('GIVEN Discord answers 429 to a post WHEN labgate posts THEN the message lands after the wait and the 429 is counted by route', async () => {
    const route = `/channels/${f.harness.channels.ops}/messages`;
    const counted = () => scrape().then((all) => all.filter((s) => s.name === 'labgate_discord_rest_rate_limited_total' && s.labels.route?.startsWith('/channels/')).reduce((n, s) => n + Number(s.value), 0));
    const was = await counted();
    f.harness.failNext(`POST ${route}`, { kind: 'rate-limited', retryAfterSeconds: 0.05 });
    await f.notifier.post({ platform: 'discord', guildId: f.harness.guildId, channelId: f.harness.channels.ops }, { kind: 'info', text: 'counted 429' });
    expect(f.harness.requests.filter((r) => r.method === 'POST' && r.path === route).map((r) => r.status).slice(-2)).toEqual([429, 200]);
    expect(await counted()).toBe(was + 1);
  });

  it('GIVEN the bot closes THEN the discord check fails and the gauge is 0', async () => {
    await f.bot.close();
    expect(readiness.state().checks.discord).toBe(false);
    expect(total(await scrape(), 'labgate_discord_gateway_up')).toBe(0);
  });
});
