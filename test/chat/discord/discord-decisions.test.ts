import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newPlanId, planHash, type Plan } from '../../../src/plan/model.js';
import { startDiscordFixture, waitFor, type DiscordFixture } from './discord-fixture.js';
import { buttonsOf, forgedClick, privateAnswer, requestExpose, titleOf } from './plan-helpers.js';

describe('Discord: who may click what, and what a click changes', () => {
  let f: DiscordFixture;

  beforeAll(async () => {
    f = await startDiscordFixture();
  }, 30_000);

  afterAll(async () => {
    await f?.close();
  });

  const status = async (planId: string) => (await f.app.services.store.get(planId))?.status;
  const applies = async (planId: string) => (await f.app.services.audit.latest(500)).filter((e) => e.planId === planId && e.action === 'apply').length;
  const currentPlanMessage = (id: string) => f.harness.messages('ops').find((m) => m.id === id)!;

  it('GIVEN a pending plan WHEN someone who may not approve clicks Approve THEN only they are told, and the plan stays pending with live buttons', async () => {
    const plan = await requestExpose(f, 'bob', { service: 'jellyfin', namespace: 'media', port: 8096, host: 'tv' });
    const byMallory = await f.harness.clickButton('mallory', plan.message, plan.approve);
    await byMallory.firstResponse;
    await f.bot.idle();
    expect(privateAnswer(byMallory)).toBe('✗ you may not approve /expose plans (allowed: approvers)');

    const byRequester = await f.harness.clickButton('bob', plan.message, plan.approve);
    await byRequester.firstResponse;
    await f.bot.idle();
    expect(privateAnswer(byRequester)).toBe('✗ you may not approve /expose plans (allowed: approvers)');

    expect(await status(plan.planId)).toBe('pending');
    expect(buttonsOf(currentPlanMessage(plan.message.id)).map((b) => b.disabled)).toEqual([false, false]);
    const denials = (await f.app.services.audit.latest(50)).filter((e) => e.planId === plan.planId && e.action === 'deny');
    expect(denials.map((e) => e.actor)).toEqual([`discord:bob(${f.harness.users.bob.id})`, `discord:mallory(${f.harness.users.mallory.id})`]);
  });

  it('GIVEN self-approval is off WHEN the approver who requested the plan approves it THEN they are told someone else must, and nothing is applied', async () => {
    const plan = await requestExpose(f, 'alice', { service: 'grafana', namespace: 'monitoring', port: 3000, host: 'grafana' });
    const click = await f.harness.clickButton('alice', plan.message, plan.approve);
    await click.firstResponse;
    await f.bot.idle();
    expect(privateAnswer(click)).toBe('✗ you requested this plan; someone else must approve it (self-approval is off for /expose)');
    expect(await status(plan.planId)).toBe('pending');
    expect(await applies(plan.planId)).toBe(0);
  });

  it('GIVEN forged or stale buttons WHEN clicked THEN each gets a private error and no plan changes', async () => {
    const plan = await requestExpose(f, 'bob', { service: 'prometheus', namespace: 'monitoring', port: 9090, host: 'metrics' });
    const otherHash = plan.approve.replace(/:[0-9a-f]{12}$/, ':0123456789ab');

    const garbage = await forgedClick(f, 'alice', plan.message, 'approve:../../etc/passwd');
    expect(privateAnswer(garbage)).toBe("✗ that button is not one of labgate's plan buttons; nothing was changed");
    expect(garbage.responseType).toBe(4);

    const unknown = await forgedClick(f, 'alice', plan.message, `approve:${newPlanId()}:0123456789ab`);
    expect(privateAnswer(unknown)).toMatch(/^✗ no plan p-[a-z0-9]+$/);

    const wrongHash = await forgedClick(f, 'alice', plan.message, otherHash);
    expect(privateAnswer(wrongHash)).toBe(`✗ that button does not belong to plan ${plan.planId}; nothing was changed`);

    // A plan posted in another guild: the click names it correctly, but from the wrong server.
    // (Sealed by labgate itself: a genuine plan, so what refuses the click is the conversation, not its seal.)
    const unsealed: Plan = { ...(await f.app.services.store.get(plan.planId))!.plan, id: newPlanId(), conversation: { platform: 'discord', guildId: '1999999999999999999', channelId: '1999999999999999998' } };
    unsealed.hash = planHash(unsealed.command, unsealed.changes);
    const foreign = f.app.services.binding.sealPlan(unsealed);
    await f.app.services.store.create(foreign);
    const crossGuild = await forgedClick(f, 'alice', plan.message, `approve:${foreign.id}:${foreign.hash.slice(0, 12)}`);
    expect(privateAnswer(crossGuild)).toBe(`✗ plan ${foreign.id} belongs to another conversation; nothing was changed`);

    expect(await status(plan.planId)).toBe('pending');
    expect(await status(foreign.id)).toBe('pending');
    expect(buttonsOf(currentPlanMessage(plan.message.id)).map((b) => b.disabled)).toEqual([false, false]);
  });

  it('GIVEN an approver double-clicks Approve WHEN both clicks arrive THEN one approves, the other is told it is already approved, and the plan is applied once', async () => {
    const plan = await requestExpose(f, 'bob', { service: 'oauth2-proxy', namespace: 'auth', port: 4180, host: 'login' });
    const [first, second] = await Promise.all([f.harness.clickButton('alice', plan.message, plan.approve), f.harness.clickButton('alice', plan.message, plan.approve)]);
    await Promise.all([first.firstResponse, second.firstResponse]);
    await f.bot.idle();
    const answers = [privateAnswer(first), privateAnswer(second)].sort();
    expect(answers).toEqual([
      `✓ Approved ${plan.planId}; applying. The result follows in <#${f.harness.channels.ops}>.`,
      `✗ plan ${plan.planId} is already approved; nothing was changed`,
    ]);

    await waitFor(async () => (await status(plan.planId)) === 'applied', 'the apply');
    // A late third click on the (still enabled, as a slow client shows it) button changes nothing either.
    const late = await forgedClick(f, 'alice', plan.message, plan.approve);
    expect(privateAnswer(late)).toBe(`✗ plan ${plan.planId} is already applied by alice; nothing was changed`);

    // Room for a second apply to show up, were the apply job not keyed by the plan hash.
    await new Promise((r) => setTimeout(r, 300));
    const results = f.harness.messages('ops').filter((m) => titleOf(m).startsWith(`Applied ${plan.planId}`));
    expect(results).toHaveLength(1);
    expect(await applies(plan.planId)).toBe(1);
    const approvals = (await f.app.services.audit.latest(500)).filter((e) => e.planId === plan.planId && e.action === 'approve');
    expect(approvals).toHaveLength(1);
  });

  it('GIVEN a pending plan WHEN its requester clicks Reject THEN the plan is withdrawn: buttons disabled, nothing applied', async () => {
    const plan = await requestExpose(f, 'bob', { service: 'immich', namespace: 'media', port: 2283, host: 'pics' });
    const click = await f.harness.clickButton('bob', plan.message, plan.reject);
    await click.firstResponse;
    await f.bot.idle();
    expect(privateAnswer(click)).toBe(`✓ Rejected ${plan.planId}; nothing will change`);
    expect(await status(plan.planId)).toBe('rejected');
    const edited = currentPlanMessage(plan.message.id);
    expect(buttonsOf(edited).map((b) => b.disabled)).toEqual([true, true]);
    expect(JSON.stringify(edited.embeds)).toContain(`Rejected by <@${f.harness.users.bob.id}>.`);
  });

  it('GIVEN a message with a suggestion button WHEN people click it THEN its command runs as whoever clicked, with their access', async () => {
    const button = await f.app.services.suggestions.button('List routes', { name: 'route list', options: {}, text: '/route list' });
    const ops = { platform: 'discord' as const, guildId: f.harness.guildId, channelId: f.harness.channels.ops };
    const posted = await f.notifier.post(ops, { kind: 'alert', text: 'Something to look at', buttons: [button] });
    const message = f.harness.messages('ops').find((m) => m.id === posted.messageId)!;

    const byMallory = await f.harness.clickButton('mallory', message, button.id);
    await byMallory.firstResponse;
    await f.bot.idle();
    expect(privateAnswer(byMallory)).toBe('✗ you may not run /route list (allowed: operators)');

    const byBob = await f.harness.clickButton('bob', message, button.id);
    await byBob.firstResponse;
    await f.bot.idle();
    expect(privateAnswer(byBob)).toBe(`Posted in <#${f.harness.channels.ops}>.`);
    // The /route list report: its title counts the hosts, or says there are none yet (other tests may have exposed some).
    expect(titleOf(f.harness.messages('ops').at(-1))).toMatch(/^(\d+ hosts? exposed by labgate|No hosts are exposed by labgate yet; try \/expose)/);

    const stale = await forgedClick(f, 'bob', message, 'run:s-0000000000000000');
    expect(privateAnswer(stale)).toBe("✗ that button has expired or is not labgate's; run the command yourself");
  });
});
