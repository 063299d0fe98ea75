import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUES } from '../../../src/queue/jobs.js';
import { startDiscordFixture, waitFor, type DiscordFixture } from './discord-fixture.js';
import { commandReads, EPHEMERAL, privateAnswer, titleOf } from './plan-helpers.js';

const CALLBACK = /^POST \/interactions\/\d+\/[^/]+\/callback$/;

describe('Discord: acknowledgement first, refusals in memory', () => {
  let f: DiscordFixture;

  beforeAll(async () => {
    f = await startDiscordFixture();
  }, 30_000);

  afterAll(async () => {
    await f?.close();
  });

  /** Plan jobs in every state, completed and failed included. */
  const planJobs = async () => {
    const queue = new Queue(QUEUES.plan, { connection: f.app.services.redis.duplicate(), prefix: f.app.services.keys.bullPrefix });
    try {
      return Object.values(await queue.getJobCounts()).reduce((a, b) => a + b, 0);
    } finally {
      await queue.close();
    }
  };
  const plansPosted = () => f.harness.messages('ops').filter((m) => titleOf(m).startsWith('Plan ')).length;

  it('GIVEN Discord no longer takes the acknowledgement (10062) WHEN bob runs /expose THEN nothing is queued and no plan appears', async () => {
    const before = { plans: plansPosted(), pending: (await f.app.services.store.pending()).length, requests: commandReads(f), planJobs: await planJobs() };
    f.harness.failNext(CALLBACK, { kind: 'unknown-interaction' });
    const handle = await f.harness.chatInput('bob', 'expose', { service: 'immich', namespace: 'media', port: 2283, host: 'late', auth: 'tailscale-only' });
    await waitFor(() => f.harness.requests.find((r) => r.path === `/interactions/${handle.id}/${handle.token}/callback`), 'the acknowledgement attempt');
    await f.bot.idle();
    // Time for a plan job to have run, had one been queued.
    await new Promise((r) => setTimeout(r, 500));
    expect(handle.acknowledged).toBe(false);
    expect(plansPosted()).toBe(before.plans);
    expect((await f.app.services.store.pending()).length).toBe(before.pending);
    expect(commandReads(f)).toBe(before.requests);
    // Jobs other tests queued stay counted; this one added none, in any state.
    expect(await planJobs()).toBe(before.planJobs);
    expect(f.logs.some((l) => l.includes('could not acknowledge an interaction in time'))).toBe(true);
  });

  it('GIVEN mallory may not run /expose WHEN she runs it THEN she gets a private refusal at once (no deferral), it is audited, and the cluster is not asked', async () => {
    const requests = commandReads(f);
    const handle = await f.harness.chatInput('mallory', 'expose', { service: 'immich', namespace: 'media', port: 2283, host: 'sneaky', auth: 'tailscale-only' });
    const ack = await handle.firstResponse;
    expect(ack.type).toBe(4);
    expect(ack.data).toMatchObject({ flags: EPHEMERAL, content: '✗ you may not run /expose (allowed: operators)' });
    await f.bot.idle();
    const [entry] = await f.app.services.audit.latest(1);
    expect(entry).toMatchObject({ action: 'deny', actor: `discord:mallory(${f.harness.users.mallory.id})`, command: '/expose service:immich namespace:media port:2283 host:sneaky auth:tailscale-only' });
    expect(commandReads(f)).toBe(requests);
  });

  it('GIVEN an option Discord delivers but labgate refuses WHEN bob runs /expose THEN he is told which option is wrong and why, privately', async () => {
    const handle = await f.harness.chatInput('bob', 'expose', { service: 'immich', namespace: 'media', port: 70000, host: 'photos', auth: 'tailscale-only' });
    await handle.firstResponse;
    await f.bot.idle();
    expect(privateAnswer(handle)).toBe('✗ /expose: port: must be a whole number from 1 to 65535 (got 70000)');
  });

  it('GIVEN a local command WHEN bob runs /help THEN the answer is private and lists only what he may run', async () => {
    const handle = await f.harness.chatInput('bob', 'help');
    await handle.firstResponse;
    await f.bot.idle();
    const m = handle.originalMessage()!;
    expect(m.flags & EPHEMERAL).toBe(EPHEMERAL);
    expect(m.embeds[0]).toMatchObject({ title: 'labgate commands you may run' });
    expect(String(m.embeds[0]!.description)).toContain('/expose service:<service> namespace:<namespace> port:<number> host:<host> auth:<auth>');
  });

  it('GIVEN a read command WHEN bob runs /route list THEN the report is posted in #ops and he is told where', async () => {
    const handle = await f.harness.chatInput('bob', 'route', {}, { subcommand: 'list' });
    await handle.firstResponse;
    await f.bot.idle();
    expect(privateAnswer(handle)).toBe(`Posted in <#${f.harness.channels.ops}>.`);
    expect(titleOf(f.harness.messages('ops').at(-1))).toBe('No hosts are exposed by labgate yet; try /expose');
  });

  it('GIVEN the whole run WHEN the logs are read THEN the bot token and interaction tokens never appear', () => {
    const text = f.logs.join('');
    expect(text).not.toContain(f.harness.token);
    for (const i of f.harness.interactions()) expect(text).not.toContain(i.token);
  });
});

describe('Discord: Redis down', () => {
  let f: DiscordFixture;

  beforeAll(async () => {
    // Nothing listens on port 1: the chat side must say so instead of hanging or failing silently.
    f = await startDiscordFixture({ redisUrl: 'redis://127.0.0.1:1', workers: false });
  }, 30_000);

  afterAll(async () => {
    await f?.close();
  });

  it('GIVEN Redis is unreachable WHEN bob runs /expose THEN he is told privately that nothing was queued, with a reference', async () => {
    expect(f.app.redisReady).toBe(false);
    const handle = await f.harness.chatInput('bob', 'expose', { service: 'immich', namespace: 'media', port: 2283, host: 'photos', auth: 'tailscale-only' });
    expect((await handle.firstResponse).type).toBe(5);
    await f.bot.idle();
    expect(privateAnswer(handle)).toMatch(/^⚠ Redis at redis:\/\/127\.0\.0\.1:1 is unreachable; nothing was queued or changed\. Try again when it is back \(log: standard output\)\.\nReference: `ref-[0-9a-f]{8}`$/);
  });
});
