import { X509Certificate } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StoredMessage } from '../harness/discord/discord-harness.js';
import { startDiscordFixture, waitFor, type DiscordFixture } from '../chat/discord/discord-fixture.js';
import { buttonsOf, EPHEMERAL, privateAnswer, titleOf } from '../chat/discord/plan-helpers.js';
import { openssl } from '../pki/openssl.js';
import { findingsIn, needlesFor, redisFindings, type KnownSecrets } from '../support/secret-scan.js';
import { pemBlocks, uriSans, verifyClientCert } from './cert-helpers.js';

/** The device certificates of one owner's device in the sandbox OpenBao, newest last. */
function certsOf(f: DiscordFixture, ownerId: string, device: string) {
  return Object.values(f.sandbox.openbao.state.pki.certs).filter((c) => {
    if (c.isCa) return false;
    return uriSans(c.certificatePem).includes(`urn:labgate:device:discord:${ownerId}:${device}`);
  });
}

describe('/cert on Discord: DM delivery, closed DMs and OpenBao outages, through discord.js, node-vault and the sandbox', () => {
  let f: DiscordFixture;
  const dir = mkdtempSync(join(tmpdir(), 'labgate-cert-discord-'));
  let secrets: Required<KnownSecrets>;

  // Each test gets its own fixture (bot, harness, sandbox): no test reads the DMs, certificates or faults another one left.
  beforeEach(async () => {
    secrets = { privateKeysPem: [], bundles: [], passphrases: [] };
    f = await startDiscordFixture();
    // Fast retries, so the outage tests take a second, not a minute.
    f.config.apply.attempts = 3;
    f.config.apply.backoff = 100;
  }, 30_000);
  afterEach(async () => {
    await f?.close();
  });

  /** `user` runs /cert <sub>; resolves with the plan posted in #ops, or throws with what they were told. */
  async function requestCert(user: 'alice' | 'bob', sub: string, options: Record<string, unknown>) {
    const handle = await f.harness.chatInput(user, 'cert', options as never, { subcommand: sub });
    await handle.firstResponse;
    await f.bot.idle();
    const reply = privateAnswer(handle);
    const planId = /Plan (p-[a-z0-9]+) is posted/.exec(reply)?.[1];
    if (!planId) throw new Error(`no plan: ${reply}`);
    const message = f.harness.messages('ops').find((m) => titleOf(m).startsWith(`Plan ${planId}:`))!;
    return { planId, message, approve: buttonsOf(message)[0]!.custom_id };
  }

  async function approveAndSettle(plan: { planId: string; message: StoredMessage; approve: string }) {
    await f.harness.clickButton('alice', plan.message, plan.approve);
    await f.bot.idle();
    await waitFor(async () => {
      const st = (await f.app.services.store.get(plan.planId))?.status;
      return st === 'applied' || st === 'failed';
    }, `the apply of ${plan.planId}`, 20_000);
    return (await f.app.services.store.get(plan.planId))!;
  }

  /** bob's `device` certificate, issued and delivered, for the tests that start from one. */
  async function issuedFor(device: string, options: Record<string, unknown> = {}) {
    const rec = await approveAndSettle(await requestCert('bob', 'issue', { device, ...options }));
    expect(rec.status).toBe('applied');
    expect(certsOf(f, f.harness.users.bob.id, device)).toHaveLength(1);
  }

  async function expectNoSecretsStored() {
    const needles = needlesFor(secrets);
    const redis = await redisFindings(f.config.env.REDIS_URL, f.config.redis.prefix, needles);
    expect(redis.findings).toEqual([]);
    expect(findingsIn('logs', f.logs.join('\n'), needles)).toEqual([]);
    const channels = JSON.stringify(['ops', 'alerts'].flatMap((c) => f.harness.messages(c)));
    expect(findingsIn('#ops/#alerts', channels, needles)).toEqual([]);
  }

  it('GIVEN bob on Discord WHEN his modern pixel-8 certificate is approved THEN his DMs hold the .p12 and CA chain, then the passphrase alone; #ops shows only serial, owner and expiry', async () => {
    const plan = await requestCert('bob', 'issue', { device: 'pixel-8', profile: 'modern' });
    const embed = JSON.stringify(plan.message.embeds);
    expect(embed).toContain(`urn:labgate:device:discord:${f.harness.users.bob.id}:pixel-8`);
    const rec = await approveAndSettle(plan);
    expect(rec.status).toBe('applied');

    const dms = f.harness.dms('bob');
    expect(dms).toHaveLength(2);
    const [first, second] = dms as [StoredMessage, StoredMessage];
    expect(first.attachments.map((a) => a.filename)).toEqual(['pixel-8.p12', 'labgate-ca.pem']);
    expect(second.attachments).toEqual([]);
    const passphrase = /Passphrase for pixel-8\.p12: ([a-z2-9]{6}(?:-[a-z2-9]{6}){3})/.exec(JSON.stringify(second))?.[1];
    expect(passphrase).toMatch(/^[a-z2-9]{6}(-[a-z2-9]{6}){3}$/);
    expect(JSON.stringify(first)).not.toContain(passphrase!);

    const p12 = f.harness.attachmentBytes(first.attachments[0]!);
    const ca = f.harness.attachmentBytes(first.attachments[1]!).toString('utf8');
    const p12Path = join(dir, 'pixel-8.p12');
    const caPath = join(dir, 'ca.pem');
    writeFileSync(p12Path, p12);
    writeFileSync(caPath, ca);
    const info = await openssl(['pkcs12', '-in', p12Path, '-passin', 'env:P12_PASS', '-info', '-noout'], passphrase);
    expect(info.code, info.stderr).toBe(0);
    expect(info.stderr).toContain('MAC: sha256');
    const certs = await openssl(['pkcs12', '-in', p12Path, '-passin', 'env:P12_PASS', '-nokeys', '-clcerts'], passphrase);
    const keys = await openssl(['pkcs12', '-in', p12Path, '-passin', 'env:P12_PASS', '-nocerts', '-nodes'], passphrase);
    const certPem = pemBlocks(certs.stdout, 'CERTIFICATE')[0]!;
    expect((await verifyClientCert(certPem, caPath)).code).toBe(0);
    secrets.privateKeysPem.push(pemBlocks(keys.stdout, 'PRIVATE KEY')[0]!);
    secrets.bundles.push(p12);
    secrets.passphrases.push(passphrase!);

    const cert = new X509Certificate(certPem);
    const serial = cert.serialNumber.toLowerCase().match(/../g)!.join(':').replace(/^(00:)+/, '');
    const notice = await waitFor(() => f.harness.messages('ops').find((m) => m.content.includes(`Issued serial ${serial}`)), 'the issue notice');
    expect(notice.content).toContain(`<@${f.harness.users.bob.id}>'s pixel-8, expires `);
    await expectNoSecretsStored();
  });

  it('GIVEN a CSR attached to /cert sign on Discord WHEN approved THEN labgate downloads the attachment, and bob gets the signed certificate by DM', async () => {
    const csrPath = join(dir, 'phone.csr');
    const made = await openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'phone.key'), '-subj', '/CN=phone', '-out', csrPath]);
    expect(made.code, made.stderr).toBe(0);
    const { readFileSync } = await import('node:fs');
    const plan = await requestCert('bob', 'sign', { device: 'phone', csr: { attachment: { filename: 'phone.csr', bytes: readFileSync(csrPath), contentType: 'application/pkcs10' } } });
    expect(JSON.stringify(plan.message.embeds)).toContain('rsa-2048');
    const before = f.harness.dms('bob').length;
    expect((await approveAndSettle(plan)).status).toBe('applied');
    const [dm] = f.harness.dms('bob').slice(before);
    expect(dm!.attachments.map((a) => a.filename)).toEqual(['phone.crt', 'labgate-ca.pem']);
    const cert = new X509Certificate(f.harness.attachmentBytes(dm!.attachments[0]!));
    expect(cert.subject).toBe('CN=phone');
    expect(f.harness.dms('bob').slice(before)).toHaveLength(1);
  });

  it('GIVEN the user option WHEN alice (an approver) lists for:@bob or everyone:true THEN the report reaches her alone (ephemeral), never #ops; bob may not list alice’s', async () => {
    // Two valid certificates of bob's, as the tests before it in the file left.
    await issuedFor('pixel-8', { profile: 'modern' });
    await issuedFor('phone');
    const opsBefore = f.harness.messages('ops').length;
    const handle = await f.harness.chatInput('alice', 'cert', { for: { user: 'bob' } }, { subcommand: 'list' });
    await handle.firstResponse;
    await f.bot.idle();
    const report = await waitFor(() => (handle.originalMessage()?.embeds.length ? handle.originalMessage() : undefined), 'the private report');
    expect(report.flags & EPHEMERAL).toBe(EPHEMERAL);
    expect(JSON.stringify(report)).toContain(`valid device certificates for <@${f.harness.users.bob.id}>'s devices`);
    expect(JSON.stringify(report)).toContain('pixel-8');
    const everyone = await f.harness.chatInput('alice', 'cert', { everyone: true }, { subcommand: 'list' });
    await everyone.firstResponse;
    await f.bot.idle();
    const all = await waitFor(() => (everyone.originalMessage()?.embeds.length ? everyone.originalMessage() : undefined), 'the private everyone report');
    expect(all.flags & EPHEMERAL).toBe(EPHEMERAL);
    expect(JSON.stringify(all)).toContain("everyone's devices");
    const publicReports = f.harness.messages('ops').slice(opsBefore).filter((m) => !(m.flags & EPHEMERAL) && JSON.stringify(m).includes('device certificates for'));
    expect(publicReports).toEqual([]);
    const denied = await f.harness.chatInput('bob', 'cert', { for: { user: 'alice' } }, { subcommand: 'list' });
    await denied.firstResponse;
    await f.bot.idle();
    expect(privateAnswer(denied)).toContain('/cert list for: someone else is for approvers of /cert issue only');
  });

  it('GIVEN bob closed his DMs WHEN his tablet certificate is approved THEN the new certificate is revoked, the requester is told in #ops, and no valid one is left', async () => {
    f.harness.closeDms('bob');
    try {
      const plan = await requestCert('bob', 'issue', { device: 'tablet' });
      const rec = await approveAndSettle(plan);
      expect(rec.status).toBe('failed');
      expect(rec.result?.text).toMatch(/could not deliver tablet's certificate to <@\d+>: .*does not accept direct messages.*; certificate [0-9a-f:]+ was revoked/);
      const issued = certsOf(f, f.harness.users.bob.id, 'tablet');
      expect(issued).toHaveLength(1);
      expect(issued[0]!.revokedAt).toBeGreaterThan(0);
      const told = f.harness.messages('ops').find((m) => m.content.includes('could not be delivered'))!;
      expect(told.content).toContain(`<@${f.harness.users.bob.id}>`);
      expect(told.content).toContain(`labgate revoked it (serial ${issued[0]!.serialNumber})`);
      // The advice the README promises, on the path that runs.
      expect(told.content).toContain('Allow direct messages for this server (server name → Privacy Settings → Direct Messages), then run the command again.');
      expect(f.harness.dms('bob').filter((m) => m.content.includes('tablet') || m.attachments.length > 2)).toEqual([]);
    } finally {
      f.harness.openDms('bob');
    }
  });

  it('GIVEN OpenBao answers 503 twice WHEN an issue is approved THEN the apply retries with backoff and bob gets exactly one bundle', async () => {
    const dmsBefore = f.harness.dms('bob').length;
    f.sandbox.faults.openbao.add({ match: 'POST /v1/pki/issue/device', status: 503, times: 2 });
    const plan = await requestCert('bob', 'issue', { device: 'laptop' });
    const rec = await approveAndSettle(plan);
    expect(rec.status).toBe('applied');
    const issues = f.sandbox.openbao.requests.filter((r) => r.path === '/v1/pki/issue/device');
    expect(issues.slice(-3).map((r) => r.status)).toEqual([503, 503, 200]);
    expect(f.harness.dms('bob').length - dmsBefore).toBe(2);
    expect(certsOf(f, f.harness.users.bob.id, 'laptop')).toHaveLength(1);
  });

  it('GIVEN OpenBao stays sealed WHEN an issue is approved THEN after the retries the plan fails with a clear message, and nothing is issued or delivered', async () => {
    const dmsBefore = f.harness.dms('bob').length;
    const remove = f.sandbox.faults.openbao.add({ match: 'POST /v1/pki/issue/device', status: 503, times: 100 });
    try {
      const plan = await requestCert('bob', 'issue', { device: 'watch' });
      const rec = await approveAndSettle(plan);
      expect(rec.status).toBe('failed');
      expect(rec.result?.text).toMatch(/^Not applied p-\w+ after 3 attempts: OpenBao POST \/v1\/pki\/issue\/device failed \(503\): Vault is sealed\. 0 of 1 change in place/);
      const result = await waitFor(() => f.harness.messages('ops').find((m) => titleOf(m).startsWith(`Not applied ${plan.planId}`) || JSON.stringify(m.embeds).includes(`Not applied ${plan.planId}`)), 'the failure in #ops');
      expect(JSON.stringify(result)).toContain('Vault is sealed');
    } finally {
      remove();
    }
    expect(f.harness.dms('bob').length).toBe(dmsBefore);
    expect(certsOf(f, f.harness.users.bob.id, 'watch')).toEqual([]);
  });

  it('GIVEN a replace whose revoke of the old serial meets a 503 WHEN retried THEN the new bundle is delivered once and the old serial ends revoked', async () => {
    await issuedFor('laptop');
    const dmsBefore = f.harness.dms('bob').length;
    const old = certsOf(f, f.harness.users.bob.id, 'laptop')[0]!;
    f.sandbox.faults.openbao.add({ match: 'POST /v1/pki/revoke', status: 503, times: 1 });
    const plan = await requestCert('bob', 'issue', { device: 'laptop', replace: true });
    const rec = await approveAndSettle(plan);
    expect(rec.status).toBe('applied');
    expect(f.harness.dms('bob').length - dmsBefore).toBe(2);
    const all = certsOf(f, f.harness.users.bob.id, 'laptop');
    expect(all).toHaveLength(2);
    expect(all.find((c) => c.serialNumber === old.serialNumber)?.revokedAt).toBeGreaterThan(0);
    expect(all.find((c) => c.serialNumber !== old.serialNumber)?.revokedAt).toBeUndefined();
    expect(f.sandbox.openbao.requests.filter((r) => r.path === '/v1/pki/revoke').slice(-2).map((r) => r.status)).toEqual([503, 200]);
  });
});
