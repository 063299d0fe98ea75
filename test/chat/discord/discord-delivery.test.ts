import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConversationRef } from '../../../src/messages/message.js';
import { planDiff } from '../../../src/plan/diff.js';
import type { Identity } from '../../../src/plan/model.js';
import { startDiscordFixture, waitFor, type DiscordFixture } from './discord-fixture.js';
import { buttonsOf, privateAnswer, requestExpose, titleOf } from './plan-helpers.js';

describe('Discord: long diffs, direct messages and Discord trouble', () => {
  let f: DiscordFixture;
  let ops: ConversationRef;
  const person = (key: 'alice' | 'bob'): Identity => ({ platform: 'discord', id: f.harness.users[key].id, name: key, roles: f.harness.users[key].roles });

  beforeAll(async () => {
    f = await startDiscordFixture();
    ops = { platform: 'discord', guildId: f.harness.guildId, channelId: f.harness.channels.ops };
  }, 30_000);

  afterAll(async () => {
    await f?.close();
  });

  it('GIVEN a plan whose diff is over 2,000 characters WHEN posted THEN the message shows the summary and carries the full diff as plan-<id>.diff, and keeps it when edited', async () => {
    const plan = await requestExpose(f, 'bob', { service: 'grafana', namespace: 'monitoring', port: 3000, host: 'grafana-dashboards', auth: 'mtls-strict' });
    const rec = (await f.app.services.store.get(plan.planId))!;
    const diff = planDiff(rec.plan.changes);
    expect(diff.length).toBeGreaterThan(2000);

    const embed = plan.message.embeds[0] as { title: string; description: string; fields: { name: string; value: string }[] };
    expect(embed.description).not.toContain('```diff');
    expect(embed.description).toContain(`• Expose monitoring/grafana:3000 at https://grafana-dashboards.home.example.com as mtls-strict`);
    expect(embed.description).toContain(`The full diff (${diff.split('\n').length} lines) is attached as plan-${plan.planId}.diff.`);
    const shown = embed.title.length + embed.description.length + embed.fields.reduce((n, x) => n + x.name.length + x.value.length, 0) + plan.message.content.length;
    expect(shown).toBeLessThanOrEqual(2000);

    expect(plan.message.attachments.map((a) => a.filename)).toEqual([`plan-${plan.planId}.diff`]);
    expect(f.harness.attachmentBytes(plan.message.attachments[0]!).toString('utf8')).toBe(diff + '\n');
    const upload = f.harness.requests.find((r) => r.method === 'POST' && r.path === `/channels/${f.harness.channels.ops}/messages` && r.files?.length)!;
    expect(upload.bodyKind).toBe('multipart');
    expect(upload.files!.map((x) => [x.field, x.filename])).toEqual([['files[0]', `plan-${plan.planId}.diff`]]);

    await f.harness.clickButton('alice', plan.message, plan.approve);
    await waitFor(async () => (await f.app.services.store.get(plan.planId))?.status === 'applied', 'the apply');
    await waitFor(() => f.harness.messages('ops').find((m) => titleOf(m).startsWith(`Applied ${plan.planId}`)), 'the result');
    const edited = f.harness.messages('ops').find((m) => m.id === plan.message.id)!;
    expect(buttonsOf(edited).map((b) => b.disabled)).toEqual([true, true]);
    expect(edited.attachments.map((a) => a.filename)).toEqual([`plan-${plan.planId}.diff`]);
  });

  it('GIVEN a file for a person WHEN sent by DM THEN a DM channel is opened and the message arrives as multipart with the file', async () => {
    const bundle = Buffer.from([0x30, 0x82, 0x0a, 0x01, 0x02, 0x03, 0xff, 0x00]);
    const before = f.harness.requests.length;
    const res = await f.notifier.dm(person('alice'), [{ kind: 'dm', text: 'Your device certificate for alice-phone', lines: ['Import it, then delete this message.'] }], [
      { name: 'alice-phone.p12', data: bundle, contentType: 'application/x-pkcs12' },
    ]);
    expect(res).toEqual({ delivered: true, files: [{ name: 'alice-phone.p12' }] });

    const dmChannel = f.harness.dmChannelId('alice')!;
    const requests = f.harness.requests.slice(before);
    expect(requests.find((r) => r.path === '/users/@me/channels')).toMatchObject({ method: 'POST', json: { recipient_id: f.harness.users.alice.id } });
    const sent = requests.find((r) => r.method === 'POST' && r.path === `/channels/${dmChannel}/messages`)!;
    expect(sent.bodyKind).toBe('multipart');
    expect(sent.json).toMatchObject({ attachments: [{ id: 0, filename: 'alice-phone.p12' }] });
    expect(sent.files!.map((x) => [x.field, x.filename, x.contentType])).toEqual([['files[0]', 'alice-phone.p12', 'application/x-pkcs12']]);
    const [dm] = f.harness.dms('alice');
    expect(dm!.embeds[0]).toMatchObject({ title: 'Your device certificate for alice-phone', description: 'Import it, then delete this message.' });
    expect(f.harness.attachmentBytes(dm!.attachments[0]!).equals(bundle)).toBe(true);
  });

  it('GIVEN bob does not accept DMs WHEN labgate DMs him a file THEN the caller learns it failed (50007) and the file goes nowhere (what bob is told: test/flow/cert-discord.test.ts)', async () => {
    f.harness.closeDms('bob');
    try {
      const before = f.harness.requests.length;
      const res = await f.notifier.dm(person('bob'), [{ kind: 'dm', text: 'Your device certificate for bob-laptop' }], [{ name: 'bob-laptop.p12', data: Buffer.from('secret-bundle-bytes'), contentType: 'application/x-pkcs12' }]);
      expect(res).toMatchObject({ delivered: false, reason: 'dms-closed' });
      expect(f.harness.dms('bob')).toEqual([]);
      const uploads = f.harness.requests.slice(before).filter((r) => r.files?.length);
      expect(uploads.map((r) => r.status)).toEqual([403]);
    } finally {
      f.harness.openDms('bob');
    }
  });

  it('GIVEN Discord answers 500 once and then 429 with Retry-After WHEN a plan is posted and decided THEN @discordjs/rest retries and each message lands once', async () => {
    f.harness.failNext(`POST /channels/${f.harness.channels.ops}/messages`, { kind: 'server-error' });
    const plan = await requestExpose(f, 'bob', { service: 'jellyfin', namespace: 'media', port: 8096, host: 'movies' });
    const posts = f.harness.requests.filter((r) => r.method === 'POST' && r.path === `/channels/${f.harness.channels.ops}/messages` && JSON.stringify(r.json).includes(plan.planId));
    expect(posts.map((r) => r.status)).toEqual([500, 200]);
    expect(f.harness.messages('ops').filter((m) => titleOf(m).startsWith(`Plan ${plan.planId}:`))).toHaveLength(1);

    f.harness.failNext(`PATCH /channels/${f.harness.channels.ops}/messages/${plan.message.id}`, { kind: 'rate-limited', retryAfterSeconds: 0.05 });
    await f.harness.clickButton('alice', plan.message, plan.approve);
    await waitFor(() => f.harness.messages('ops').find((m) => titleOf(m).startsWith(`Applied ${plan.planId}`)), 'the result');
    const edits = f.harness.requests.filter((r) => r.method === 'PATCH' && r.path === `/channels/${f.harness.channels.ops}/messages/${plan.message.id}`);
    expect(edits[0]!.status).toBe(429);
    expect(edits.slice(1).every((r) => r.status === 200)).toBe(true);
    expect(buttonsOf(f.harness.messages('ops').find((m) => m.id === plan.message.id)!).map((b) => b.disabled)).toEqual([true, true]);
  });

  it('GIVEN Discord keeps failing WHEN a plan cannot be posted THEN the requester is told privately, with a reference to the log', async () => {
    f.harness.failNext(`POST /channels/${f.harness.channels.ops}/messages`, { kind: 'server-error', status: 502 }, 100);
    try {
      const handle = await f.harness.chatInput('bob', 'expose', { service: 'immich', namespace: 'media', port: 2283, host: 'album', auth: 'tailscale-only' });
      await handle.firstResponse;
      await f.bot.idle();
      const answer = privateAnswer(handle);
      expect(answer).toMatch(/^⚠ \/expose service:immich .* failed: Discord POST \/channels\/\d+\/messages failed: /);
      expect(answer).toMatch(/Reference: `ref-[0-9a-f]{8}`$/);
      const ref = /ref-[0-9a-f]{8}/.exec(answer)![0];
      expect(f.logs.some((l) => l.includes(ref))).toBe(true);
    } finally {
      f.harness.faults.clear();
    }
  }, 30_000);
});
