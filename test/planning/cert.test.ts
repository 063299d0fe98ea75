import { ExposurePolicy } from '../../src/policy/exposure-policy.js';
import { describe, expect, it } from 'vitest';
import type { CommandContext } from '../../src/core/command.js';
import { parseConfig, type Config } from '../../src/config/load.js';
import { isUserError, type UserError } from '../../src/errors.js';
import { planIssue, planRevoke } from '../../src/planning/cert.js';
import { deviceUrn, parseDeviceUris, profileUrn } from '../../src/openbao/device-identity.js';
import { thresholdFor } from '../../jobs/expiry-scan.js';
import type { OpenBaoPort } from '../../src/openbao/port.js';
import type { Identity } from '../../src/plan/model.js';

const DAY = 86_400_000;

/** An OpenBao with no certificates: enough for the planner's duplicate check. */
const emptyBao: OpenBaoPort = {
  issue: async () => Promise.reject(new Error('not in a plan')),
  sign: async () => Promise.reject(new Error('not in a plan')),
  listCertificates: async () => [],
  listRevoked: async () => [],
  readCertificate: async () => null,
  revoke: async () => Promise.reject(new Error('not in a plan')),
  rotateCrl: async () => {},
  caChain: async () => [],
  issuerChain: async () => [],
  crlPem: async () => '',
};

function config(openbao: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Config {
  const res = parseConfig(
    {
      domain: 'home.example.com',
      openbao,
      shell: { users: ['alice', 'bob'] },
      access: { groups: { approvers: ['shell:alice', 'discord:role:111111111111111111'] }, defaults: { request: ['*'], approve: ['approvers'] } },
      ...extra,
    },
    {},
    'test',
  );
  if (!res.ok) throw new Error(res.problems.join('\n'));
  return res.config;
}

const shell = (name: string): Identity => ({ platform: 'shell', id: name, name, roles: [] });
const ctx = (who: Identity, cfg = config(), bao: OpenBaoPort | null = emptyBao): CommandContext => ({
  config: cfg,
  ports: { kubernetes: {} as never, ...(bao ? { openbao: bao } : {}) },
  policy: new ExposurePolicy(cfg),
  requester: who,
  now: () => Date.UTC(2031, 0, 1),
});

async function refusal(p: Promise<unknown>): Promise<UserError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isUserError(err)) throw new Error(`expected a refusal, got ${String(err)}`);
  return err;
}

describe('self-service and for:', () => {
  it('GIVEN selfService off THEN an own-device certificate is planned for approval like any change', async () => {
    const draft = await planIssue({ device: 'pixel-8' }, ctx(shell('bob')));
    expect(draft.autoApprove).toBeUndefined();
    expect(draft.changes).toHaveLength(1);
  });

  it('GIVEN selfService on THEN a certificate for one’s own device goes ahead without an approver, and the plan says why', async () => {
    const draft = await planIssue({ device: 'pixel-8' }, ctx(shell('bob'), config({ selfService: true })));
    expect(draft.autoApprove).toEqual({ reason: 'self-service: a certificate for your own device (openbao.selfService)' });
    expect(draft.notes).toContain('No approval needed: self-service: a certificate for your own device (openbao.selfService).');
  });

  it('GIVEN selfService on WHEN an approver issues for someone else THEN it still needs an approval', async () => {
    const draft = await planIssue({ device: 'pixel-8', for: 'bob' }, ctx(shell('alice'), config({ selfService: true })));
    expect(draft.autoApprove).toBeUndefined();
    expect((draft.changes[0]!.after as { owner: unknown }).owner).toEqual({ platform: 'shell', id: 'bob', name: 'bob' });
  });

  it('GIVEN for: naming oneself THEN it is one’s own device (no approver rights needed)', async () => {
    const draft = await planIssue({ device: 'pixel-8', for: 'bob' }, ctx(shell('bob'), config({ selfService: true })));
    expect(draft.autoApprove).toBeDefined();
  });

  it('GIVEN a non-approver, an unknown shell user, a Discord for: that is not a user id, or an approver by Discord role THEN for: is judged accordingly', async () => {
    expect((await refusal(planIssue({ device: 'x', for: 'alice' }, ctx(shell('bob'))))).code).toBe('denied');
    expect((await refusal(planIssue({ device: 'x', for: 'carol' }, ctx(shell('alice'))))).message).toBe('for: carol is not a shell user (shell.users: alice, bob)');
    const discordUser: Identity = { platform: 'discord', id: '222222222222222222', name: 'dana', roles: ['111111111111111111'] };
    expect((await refusal(planIssue({ device: 'x', for: 'bob' }, ctx(discordUser)))).message).toBe('for: must be a Discord user (pick one from the list); got bob');
    const forSomeone = await planIssue({ device: 'x', for: '333333333333333333' }, ctx(discordUser));
    expect(forSomeone.summary[0]).toContain("<@333333333333333333>'s x");
  });

  it('GIVEN a ttl above openbao.maxDeviceTtl or no OpenBao THEN the request is refused with what to change', async () => {
    expect((await refusal(planIssue({ device: 'x', ttl: 400 * DAY }, ctx(shell('bob'))))).message).toBe('ttl: at most 365d (openbao.maxDeviceTtl); got 400d');
    expect((await refusal(planIssue({ device: 'x' }, ctx(shell('bob'), config(), null)))).code).toBe('unavailable');
    expect((await refusal(planRevoke({}, ctx(shell('bob'))))).message).toBe('/cert revoke: give either device: or serial:');
  });
});

describe('device identity in the certificate', () => {
  it('round-trips owner, device and profile through the URI SANs and ignores other URIs', () => {
    const owner = { platform: 'discord' as const, id: '123456789012345678' };
    const uris = ['https://example.com/x', deviceUrn(owner, 'pixel-8'), profileUrn('modern'), 'urn:labgate:device:shell:Bad Name:x'];
    expect(parseDeviceUris(uris)).toEqual({ owner, device: 'pixel-8', profile: 'modern' });
    expect(parseDeviceUris(['urn:labgate:device:profile:modern'])).toBeUndefined();
    expect(parseDeviceUris(['urn:labgate:device:discord:bob:pixel-8'])).toBeUndefined();
  });

  it('picks the smallest threshold the remaining time is within', () => {
    const t = [30 * DAY, 7 * DAY, DAY];
    expect([29, 6, 0.2, 31].map((d) => thresholdFor(d * DAY, t))).toEqual([30 * DAY, 7 * DAY, DAY, undefined]);
  });
});
