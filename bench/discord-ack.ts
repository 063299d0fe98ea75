import { startDiscordFixture, type DiscordFixture } from '../test/chat/discord/discord-fixture.js';
import type { InteractionHandle } from '../test/harness/discord/discord-harness.js';
import { percentile, round, type Figure, type Scenario } from './figures.js';

const SAMPLES = 200;
const WARMUP = 10;

/** Sends one interaction, waits for its first callback and for the bot to finish with it; returns the ack latency. */
async function measure(f: DiscordFixture, send: () => Promise<InteractionHandle>): Promise<number> {
  const handle = await send();
  const first = await handle.firstResponse;
  await f.bot.idle();
  return first.ms;
}

function figures(kind: string, samples: number[], note: string): Figure[] {
  return [
    { scenario: 'discord-ack', metric: `${kind} ack p50`, value: round(percentile(samples, 50), 2), unit: 'ms', note },
    { scenario: 'discord-ack', metric: `${kind} ack p99`, value: round(percentile(samples, 99), 2), unit: 'ms', note: `${note}; target p99 ≤ 50 ms` },
  ];
}

/**
 * Interaction received → acknowledgement sent, through the real discord.js client against the
 * loopback Discord (gateway frame written → callback request arrived), with real Redis and the
 * sandbox Kubernetes behind it. Three paths: a slash command that plans (deferred reply), a
 * button click that decides (deferred reply), and a refusal decided in memory (direct reply).
 * Interactions go one at a time, each handled to the end before the next.
 */
export const discordAckScenario: Scenario = {
  name: 'discord-ack',
  async run(): Promise<Figure[]> {
    const f = await startDiscordFixture();
    try {
      const expose = (user: 'bob' | 'mallory', i: number) => () =>
        f.harness.chatInput(user, 'expose', { service: 'immich', namespace: 'media', port: 2283, host: `bench-${i}`, auth: 'tailscale-only' });
      for (let i = 0; i < WARMUP; i++) await measure(f, expose('bob', -1 - i));

      const commands: number[] = [];
      for (let i = 0; i < SAMPLES; i++) commands.push(await measure(f, expose('bob', i)));

      // Each plan above waits in #ops; its requester withdraws it: a click that decides, nothing applied.
      const plans = f.harness.messages('ops').filter((m) => String(m.embeds[0]?.title ?? '').startsWith('Plan ')).slice(WARMUP);
      const clicks: number[] = [];
      for (const m of plans.slice(0, SAMPLES)) {
        const reject = (m.components[0]!.components as { custom_id: string }[])[1]!.custom_id;
        clicks.push(await measure(f, () => f.harness.clickButton('bob', m, reject)));
      }

      const refusals: number[] = [];
      for (let i = 0; i < SAMPLES; i++) refusals.push(await measure(f, expose('mallory', i)));

      return [
        ...figures('slash command (deferred)', commands, `n=${commands.length}`),
        ...figures('button click (deferred)', clicks, `n=${clicks.length}`),
        ...figures('refusal in memory (direct reply)', refusals, `n=${refusals.length}`),
        { scenario: 'discord-ack', metric: 'all acks max', value: round(Math.max(...commands, ...clicks, ...refusals), 2), unit: 'ms', note: `n=${commands.length + clicks.length + refusals.length}` },
      ];
    } finally {
      await f.close();
    }
  },
};
