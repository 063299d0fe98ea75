import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planMessage, resultMessage } from '../../../src/messages/plan-messages.js';
import type { PlanRecord } from '../../../src/stores/plan-store.js';
import { startLab, type Lab } from '../../support/lab.js';

const last = (lab: Lab, kind: string) => [...lab.printed].reverse().find((m) => m.kind === kind);

describe('what the chat says, for who is asking', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await startLab();
  });
  afterAll(async () => {
    await lab?.close();
  });

  it('GIVEN someone with no rights WHEN they ask for /help THEN they get it, with nothing in it but how to ask for access', async () => {
    const out = await lab.run('/help', 'mallory');
    expect(out.replies).toEqual([
      {
        kind: 'help',
        text: 'You may not run any labgate command yet',
        lines: ['To get access, ask whoever runs labgate to add shell:mallory to a group in access.groups of labgate.yaml (or to a command\'s rule in access.commands).', '/help — this message'],
        private: true,
      },
    ]);
  });

  it('GIVEN an operator and an approver WHEN they ask for /help THEN approve is listed only for the approver', async () => {
    const bob = (await lab.run('/help', 'bob')).replies[0]!;
    const alice = (await lab.run('/help', 'alice')).replies[0]!;
    expect(bob.text).toBe('labgate commands you may run');
    expect(bob.lines).toContain('reject [PLAN] — withdraw a plan of yours before it is approved');
    expect(bob.lines!.some((l) => l.startsWith('approve'))).toBe(false);
    expect(alice.lines).toContain('approve [PLAN] / reject [PLAN] — decide a plan of any command (default: the newest pending one)');
  });

  it('GIVEN bob lists alice\'s certificates THEN the refusal names /cert list and who may', async () => {
    const out = await lab.run('/cert list for:alice', 'bob');
    expect(last(lab, 'refusal')?.text ?? out.replies[0]?.text).toBe('/cert list for: someone else is for approvers of /cert issue only; leave for: out to see your own');
  });

  it('GIVEN a plan of one change WHEN /audit shows it THEN it says 1 change', async () => {
    await lab.run('/expose service:immich namespace:media port:2283 host:audit auth:tailscale-only', 'bob');
    const audit = (await lab.run('/audit count:5', 'alice')).replies[0]!;
    const outcomes = audit.table!.rows.map((r) => r[6]);
    expect(outcomes).toContain('1 change');
    expect(outcomes).not.toContain('1 changes');
  });
});

describe('plan and result wording', () => {
  const rec = (over: Partial<PlanRecord>): PlanRecord =>
    ({
      plan: { id: 'p-abcd23', hash: 'f'.repeat(64), command: { name: 'expose', options: {}, text: '/expose …' }, requester: { platform: 'shell', id: 'bob', name: 'bob', roles: [] }, createdAt: 0, expiresAt: 1, summary: [], notes: [], changes: [] },
      conversation: { platform: 'shell', channel: 'shell' },
      status: 'failed',
      decidedBy: { platform: 'shell', id: 'alice', name: 'alice', roles: [] },
      progress: 0,
      ...over,
    }) as PlanRecord;

  it('GIVEN an apply refused because the state changed THEN the plan does not say "apply failed"', () => {
    const refused = planMessage(rec({ result: { status: 'refused', text: 'Not applied p-abcd23: state changed since the plan; run it again', at: 1 } }));
    expect(refused.fields?.find((f) => f.name === 'Status')?.value).toBe('Approved by alice; not applied: the state changed since the plan.');
    const failed = planMessage(rec({ result: { status: 'failed', text: 'Apply of p-abcd23 failed', at: 1 } }));
    expect(failed.fields?.find((f) => f.name === 'Status')?.value).toBe('Approved by alice; apply failed.');
  });

  it('GIVEN changes not all in place THEN the ✓ ✗ ? marks come with a legend, and not when all are done', () => {
    const partly = resultMessage(rec({ result: { status: 'failed', text: 't', at: 1, changes: [{ summary: 'a', state: 'done' }, { summary: 'b', state: 'not-done' }, { summary: 'c', state: 'unknown' }] } }));
    expect(partly.lines).toEqual(['✓ a', '✗ b', '? c', '(✓ in place · ✗ not in place · ? could not be read back)']);
    const done = resultMessage(rec({ status: 'applied', result: { status: 'applied', text: 't', at: 1, changes: [{ summary: 'a', state: 'done' }] } }));
    expect(done.lines).toEqual(['✓ a']);
  });
});
