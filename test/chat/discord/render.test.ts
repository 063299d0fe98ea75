import { describe, expect, it } from 'vitest';
import { renderDiscordMessage, type DiscordPayload } from '../../../src/chat/discord/render.js';
import { restBody } from '../../../src/chat/discord/rest-notifier.js';
import type { OutMessage } from '../../../src/messages/message.js';
import { planMessage, resultMessage } from '../../../src/messages/plan-messages.js';
import type { Change, Identity, Plan } from '../../../src/plan/model.js';
import type { PlanRecord } from '../../../src/stores/plan-store.js';
import { validateMessageBody } from '../../harness/discord/message-store.js';
import { expectGolden } from './golden.js';

const bob: Identity = { platform: 'discord', id: '1250000000000000005', name: 'bob', roles: ['1263000000000000002'] };
const alice: Identity = { platform: 'discord', id: '1250000000000000004', name: 'alice', roles: ['1263000000000000001'] };
const NOW = Date.UTC(2026, 0, 10, 12, 0, 0);
const conversation = { platform: 'discord' as const, guildId: '1260000000000000002', channelId: '1261000000000000003' };

function route(name: string, host: string, entryPoint: string, extra: Record<string, unknown> = {}) {
  return {
    apiVersion: 'traefik.io/v1alpha1',
    kind: 'IngressRoute',
    metadata: { name, namespace: 'media', labels: { 'app.kubernetes.io/managed-by': 'labgate' }, annotations: { 'labgate.dev/host': host, 'labgate.dev/access-mode': 'tailscale-only' } },
    spec: { entryPoints: [entryPoint], routes: [{ kind: 'Rule', match: `Host(\`${host}\`)`, services: [{ kind: 'Service', name: 'immich', port: 2283 }], ...extra }], tls: { certResolver: 'letsencrypt' } },
  };
}

function create(name: string, host: string, entryPoint = 'ts-secure', extra?: Record<string, unknown>): Change {
  return {
    system: 'kubernetes',
    action: 'create',
    target: `kubernetes:traefik.io/v1alpha1/IngressRoute/media/${name}`,
    before: null,
    after: route(name, host, entryPoint, extra),
    summary: `create IngressRoute media/${name} (${entryPoint} → immich:2283)`,
  };
}

function record(changes: Change[], over: Partial<PlanRecord> = {}): PlanRecord {
  const plan: Plan = {
    id: 'p-7kq2mx',
    command: { name: 'expose', options: {}, text: '/expose service:immich namespace:media port:2283 host:photos auth:tailscale-only' },
    requester: bob,
    conversation,
    createdAt: NOW,
    expiresAt: NOW + 15 * 60_000,
    changes,
    summary: ['Expose media/immich:2283 at https://photos.home.example.com as tailscale-only (tailnet only, no login)', ...changes.map((c) => c.summary)],
    notes: [],
    warnings: [],
    hash: '3f9a1c0b7e2d4a6f8b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f60718293a4b5c6',
  };
  return { plan, conversation, status: 'pending', raw: JSON.stringify(plan), ...over };
}

const small = record([create('photos-ts', 'photos.home.example.com')]);
const big = record(
  Array.from({ length: 6 }, (_, i) =>
    create(`photos-${i}`, `photos-${i}.home.example.com`, i % 2 ? 'websecure' : 'ts-secure', { middlewares: [{ name: 'oidc-auth', namespace: 'traefik' }] }),
  ),
);

/** The payload as a golden file holds it: files as text, so a diff shows what changed. */
function shown(p: DiscordPayload) {
  return { ...p, files: p.files.map((f) => ({ name: f.name, contentType: f.contentType, text: f.data.toString('utf8') })) };
}

/** What Discord itself would refuse (limits on content, embeds, fields, buttons). */
function expectDiscordAccepts(p: DiscordPayload) {
  const files = p.files.map((f, i) => ({ field: `files[${i}]`, filename: f.name, contentType: f.contentType, size: f.data.length, bytes: f.data }));
  expect(() => validateMessageBody(restBody(p, { withFiles: true }) as never, files, true)).not.toThrow();
}

const cases: Record<string, OutMessage> = {
  'plan-pending': planMessage(small),
  'plan-approved-applying': planMessage({ ...small, status: 'approved', decidedBy: alice, decidedAt: NOW + 60_000 }),
  'plan-applied': planMessage({ ...small, status: 'applied', decidedBy: alice, decidedAt: NOW + 60_000 }),
  'plan-rejected': planMessage({ ...small, status: 'rejected', decidedBy: bob, decidedAt: NOW + 60_000 }),
  'plan-expired': planMessage({ ...small, status: 'expired' }),
  'plan-long-diff': planMessage(big),
  'result-applied': resultMessage({ ...small, status: 'applied', result: { status: 'applied', text: 'Applied p-7kq2mx: 1 change', at: NOW, changes: [{ summary: small.plan.changes[0]!.summary, state: 'done' }] } }),
  'result-failed': resultMessage({
    ...big,
    status: 'failed',
    result: {
      status: 'failed',
      text: 'Partly applied p-7kq2mx after 5 attempts: kubernetes PATCH IngressRoute/media/photos-3 answered 500. 3 of 6 changes in place. Finish it or remove what it created with the buttons below, or run the command again',
      at: NOW,
      ref: 'ref-0a1b2c3d',
      changes: big.plan.changes.map((c, i) => ({ summary: c.summary, state: i < 3 ? 'done' : i === 3 ? 'unknown' : 'not-done' })),
    },
  }),
  refusal: { kind: 'refusal', text: 'you may not approve /expose plans (allowed: approvers)', private: true },
  error: { kind: 'error', text: 'Redis at redis://127.0.0.1:6379 is unreachable; nothing was queued or changed. Try again when it is back.', ref: 'ref-0a1b2c3d', private: true },
  'info-mention': { kind: 'info', text: 'your certificate bundle is waiting in your DMs', mentions: [bob.id, 'not-an-id'] },
  report: {
    kind: 'report',
    text: '2 hosts exposed by labgate',
    table: {
      columns: ['host', 'mode', 'backend', 'objects'],
      rows: [
        ['photos.home.example.com', 'tailscale-only', 'media/immich:2283', 'IngressRoute/photos-ts'],
        ['tv.home.example.com', 'mtls-strict', 'media/jellyfin:8096', 'TLSOption/tv-mtls Middleware/tv-client-cert IngressRoute/tv-public'],
      ],
    },
  },
  'report-wide-table': {
    kind: 'report',
    text: '120 audit entries',
    table: { columns: ['when', 'who', 'action', 'outcome'], rows: Array.from({ length: 120 }, (_, i) => [`2026-01-10T12:${String(i % 60).padStart(2, '0')}:00Z`, 'discord:alice(1250000000000000004)', 'approve', `approved p-${String(i).padStart(6, '0')}`]) },
  },
  help: { kind: 'help', text: 'labgate commands', lines: ['/expose service:<service> namespace:<namespace> port:<number> host:<host> auth:<auth> — Publish a Kubernetes Service', '    e.g. /expose service:immich namespace:media port:2283 host:photos auth:tailscale-only'], private: true },
  // What the expiry scan posts for one owner when many certificates reach a threshold at once.
  'alert-expiry-digest': {
    kind: 'alert',
    text: `<@${bob.id}>: 40 of your device certificates expire within 30d, the first in 2 days (2026-01-12T13:00:00Z)`,
    lines: [
      ...Array.from({ length: 15 }, (_, i) => {
        const serial = Array.from({ length: 20 }, (_, j) => ((i * 7 + j * 13) % 256).toString(16).padStart(2, '0')).join(':');
        return `sensor-${String(i + 1).padStart(2, '0')}: serial ${serial}, expires in ${i + 2} days (2026-01-${String(12 + i).padStart(2, '0')}T13:00:00Z); alert at ${i < 6 ? '7d' : '30d'}`;
      }),
      '…and 25 more; /cert list shows them all.',
      'Renew plans a replacement (approved as usual), revoking the old certificate once the new one is delivered. The buttons are for the 5 soonest with a key labgate delivered; /cert issue device:NAME replace:true renews any other.',
    ],
    mentions: [bob.id],
    buttons: Array.from({ length: 5 }, (_, i) => ({ id: `s-0000000${i}`, label: `Renew sensor-0${i + 1}`, style: 'secondary' as const, command: `/cert issue device:sensor-0${i + 1} for:${bob.id} replace:true profile:modern` })),
  },
  dm: { kind: 'dm', text: 'Your device certificate for alice-phone', lines: ['Import alice-phone.p12 with the passphrase shown once below, then delete this message.'] },
};

describe('Discord rendering (golden files)', () => {
  for (const [name, msg] of Object.entries(cases)) {
    it(`renders ${name} as in golden/render-${name}.json, within Discord's limits`, () => {
      const payload = renderDiscordMessage(msg);
      expectGolden(`render-${name}`, shown(payload));
      expectDiscordAccepts(payload);
    });
  }
});

describe('Discord rendering rules', () => {
  it('GIVEN a pending plan THEN the diff is inline in a diff block with Approve and Reject buttons that carry the plan id and hash prefix', () => {
    const p = renderDiscordMessage(cases['plan-pending']!);
    expect(p.embeds[0]!.description).toContain('```diff\n--- /dev/null\n+++ b/IngressRoute/media/photos-ts\n');
    expect(p.components[0]!.components.map((b) => [b.label, b.custom_id, b.style, b.disabled])).toEqual([
      ['Approve', 'approve:p-7kq2mx:3f9a1c0b7e2d', 3, false],
      ['Reject', 'reject:p-7kq2mx:3f9a1c0b7e2d', 4, false],
    ]);
    expect(p.files).toEqual([]);
  });

  it('GIVEN a decided plan THEN both buttons are disabled and the status says who decided', () => {
    const p = renderDiscordMessage(cases['plan-applied']!);
    expect(p.components[0]!.components.every((b) => b.disabled)).toBe(true);
    expect(p.embeds[0]!.fields).toContainEqual({ name: 'Status', value: `Approved by <@${alice.id}>; applied.`, inline: false });
  });

  it('GIVEN a diff that would make the message longer than 2,000 characters THEN it is attached whole and the message stays within 2,000', () => {
    const msg = cases['plan-long-diff']!;
    const p = renderDiscordMessage(msg);
    const e = p.embeds[0]!;
    const visible = (e.title?.length ?? 0) + (e.description?.length ?? 0) + (e.fields ?? []).reduce((n, f) => n + f.name.length + f.value.length, 0);
    expect(visible).toBeLessThanOrEqual(2000);
    expect(e.description).not.toContain('```diff');
    expect(p.files.map((f) => [f.name, f.data.toString('utf8')])).toEqual([['plan-p-7kq2mx.diff', msg.diff + '\n']]);
  });

  it('GIVEN text no message can hold THEN nothing is cut silently: the whole text is attached and Discord accepts the message', () => {
    const huge: OutMessage = { kind: 'report', text: 'x'.repeat(400), lines: Array.from({ length: 300 }, (_, i) => `line ${i} ${'y'.repeat(90)}`), fields: Array.from({ length: 30 }, (_, i) => ({ name: `f${i}`, value: 'v'.repeat(2000) })) };
    const p = renderDiscordMessage(huge);
    expectDiscordAccepts(p);
    expect(p.files.map((f) => f.name)).toEqual(['report-details.txt']);
    const details = p.files[0]!.data.toString('utf8');
    for (const part of [huge.text, huge.lines!.join('\n'), huge.fields!.map((x) => `${x.name}: ${x.value}`).join('\n')]) expect(details).toContain(part);
    const long = renderDiscordMessage({ kind: 'refusal', text: 'z'.repeat(5000), private: true });
    expectDiscordAccepts(long);
    expect(long.files[0]!.data.toString('utf8')).toBe(`✗ ${'z'.repeat(5000)}`);
  });

  it('GIVEN an alert whose heading names its owner THEN the heading is the content, where Discord shows the mention as a name (a card title would show <@id> as typed), and the owner is pinged once', () => {
    const single = renderDiscordMessage({ kind: 'alert', text: `<@${bob.id}>: the certificate for your pixel-8 expires in 6 days (2026-01-16T13:00:00Z)`, lines: ['Serial 0a:0b; alert at 7d before expiry.'], mentions: [bob.id, alice.id] });
    expect(single.content).toBe(`<@${alice.id}> <@${bob.id}>: the certificate for your pixel-8 expires in 6 days (2026-01-16T13:00:00Z)`);
    expect(single.embeds[0]).not.toHaveProperty('title');
    expect(single.embeds[0]!.description).toBe('Serial 0a:0b; alert at 7d before expiry.');
    expect(single.allowed_mentions).toEqual({ parse: [], users: [bob.id, alice.id] });
    expectDiscordAccepts(single);
    // Nothing left for a card: no empty embed.
    const bare = renderDiscordMessage({ kind: 'alert', text: `<@${bob.id}>: your tablet certificate expires within a day`, mentions: [bob.id] });
    expect(bare.embeds).toEqual([]);
    expect(bare.content).toBe(`<@${bob.id}>: your tablet certificate expires within a day`);
    expectDiscordAccepts(bare);
    // A plain notice that names its owner does not ping-prefix them a second time.
    const notice = renderDiscordMessage({ kind: 'info', text: `Issued serial 0a:0b for <@${bob.id}>'s pixel-8`, mentions: [bob.id] });
    expect(notice.content).toBe(`Issued serial 0a:0b for <@${bob.id}>'s pixel-8`);
  });

  it('GIVEN rendered text with @everyone THEN no one is pinged except the users the message names', () => {
    const p = renderDiscordMessage({ kind: 'info', text: 'hello @everyone', mentions: [bob.id] });
    expect(p.allowed_mentions).toEqual({ parse: [], users: [bob.id] });
    expect(renderDiscordMessage({ kind: 'refusal', text: '@here look' }).allowed_mentions).toEqual({ parse: [] });
  });

  it('GIVEN a diff containing a code fence THEN the diff block is not closed early', () => {
    const p = renderDiscordMessage({ kind: 'plan', text: 'Plan p-x', diff: '+note: ```\n+rest' });
    expect(p.embeds[0]!.description!.match(/```/g)).toHaveLength(2);
  });
});

describe('plan colours come from the plan state, not from its wording', () => {
  const colour = (m: OutMessage) => renderDiscordMessage(m).embeds?.[0]?.color;
  it('GIVEN the status line reads "applied." but the state is failed THEN the card is red, as for any failed plan', () => {
    const failed = planMessage({ ...small, status: 'failed', decidedBy: alice, decidedAt: NOW + 60_000 });
    const applied = planMessage({ ...small, status: 'applied', decidedBy: alice, decidedAt: NOW + 60_000 });
    expect(failed.planStatus?.state).toBe('failed');
    const reworded: OutMessage = { ...failed, fields: failed.fields?.map((f) => (f.name === 'Status' ? { ...f, value: 'Approved by alice; applied.' } : f)) };
    expect(colour(reworded)).toBe(colour(failed));
    expect(colour(failed)).not.toBe(colour(applied));
  });
  it('GIVEN a refused apply THEN its state is refused, not failed', () => {
    const refused = planMessage({ ...small, status: 'failed', decidedBy: alice, decidedAt: NOW + 60_000, result: { status: 'refused', text: 'Not applied', at: NOW + 61_000 } });
    expect(refused.planStatus).toEqual({ state: 'refused', line: 'Approved by <@1250000000000000004>; not applied: the state changed since the plan.' });
  });
});
