import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDiscordFixture, waitFor, type DiscordFixture } from './discord-fixture.js';
import { buttonsOf, EPHEMERAL, titleOf } from './plan-helpers.js';

const planMessages = (f: DiscordFixture) => f.harness.messages('ops').filter((m) => /^Plan p-/.test(titleOf(m)));

describe('Discord: /expose from slash command to applied objects', () => {
  let f: DiscordFixture;

  beforeAll(async () => {
    f = await startDiscordFixture();
  }, 30_000);

  afterAll(async () => {
    await f?.close();
  });

  it('GIVEN bob may request and alice may approve WHEN bob runs /expose and alice clicks Approve THEN the plan is acked, posted with a diff and buttons, the buttons disable, the result is posted and the objects exist', async () => {
    const cmd = await f.harness.chatInput('bob', 'expose', { service: 'immich', namespace: 'media', port: 2283, host: 'photos', auth: 'tailscale-only' }, { channel: 'alerts' });
    const ack = await cmd.firstResponse;
    expect(ack.type).toBe(5);
    expect(ack.data).toMatchObject({ flags: EPHEMERAL });
    await f.bot.idle();

    const [plan] = planMessages(f);
    expect(plan, 'a plan message in #ops (the command came from #alerts)').toBeDefined();
    const planId = /^Plan (p-[a-z0-9]+)/.exec(String(plan!.embeds[0]!.title))![1]!;
    expect(cmd.originalMessage()).toMatchObject({ content: `Plan ${planId} is posted in <#${f.harness.channels.ops}> for approval.`, flags: EPHEMERAL });

    const embed = plan!.embeds[0] as { title: string; description: string; fields: { name: string; value: string }[] };
    expect(embed.title).toBe(`Plan ${planId}: /expose service:immich namespace:media port:2283 host:photos auth:tailscale-only`);
    expect(embed.fields).toEqual(
      expect.arrayContaining([
        { name: 'Requested by', value: `<@${f.harness.users.bob.id}>`, inline: true },
        expect.objectContaining({ name: 'Expires' }),
      ]),
    );
    expect(embed.description).toContain('```diff\n--- /dev/null\n+++ b/IngressRoute/media/photos-ts');
    expect(embed.description).toContain('+    - ts-secure');
    expect(plan!.attachments).toEqual([]);
    const buttons = buttonsOf(plan!);
    expect(buttons.map((b) => [b.label, b.disabled ?? false])).toEqual([
      ['Approve', false],
      ['Reject', false],
    ]);

    const click = await f.harness.clickButton('alice', plan!, buttons[0]!.custom_id);
    expect((await click.firstResponse).type).toBe(5);
    await f.bot.idle();
    expect(click.originalMessage()).toMatchObject({ flags: EPHEMERAL, content: `✓ Approved ${planId}; applying. The result follows in <#${f.harness.channels.ops}>.` });

    const result = await waitFor(() => f.harness.messages('ops').find((m) => titleOf(m).startsWith(`Applied ${planId}`)), 'the result message');
    expect(result.embeds[0]).toMatchObject({ title: `Applied ${planId}: 1 change`, description: '✓ create IngressRoute media/photos-ts (ts-secure → immich:2283)' });
    const edited = f.harness.messages('ops').find((m) => m.id === plan!.id)!;
    expect(buttonsOf(edited).map((b) => b.disabled)).toEqual([true, true]);
    expect((edited.embeds[0] as { fields: { name: string; value: string }[] }).fields).toContainEqual({
      name: 'Status',
      value: `Approved by <@${f.harness.users.alice.id}>; applied.`,
      inline: false,
    });

    const route = await f.app.services.ports.kubernetes.get({ apiVersion: 'traefik.io/v1alpha1', kind: 'IngressRoute', namespace: 'media', name: 'photos-ts' });
    expect(route?.metadata.annotations).toMatchObject({ 'labgate.dev/host': 'photos.home.example.com', 'labgate.dev/access-mode': 'tailscale-only' });
    expect(f.logs.join('')).not.toContain(f.harness.token);
  });
});
