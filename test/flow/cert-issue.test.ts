import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openssl } from '../pki/openssl.js';
import { lastPlan, startLab, type Lab } from '../support/lab.js';
import { findingsIn, needlesFor, redisFindings, type KnownSecrets } from '../support/secret-scan.js';
import { channelText, delivered, dmsTo, openBundle, serialOf, uriSans, verifyClientCert, type Delivered } from './cert-helpers.js';

describe('/cert issue → approve → DM with a .p12 and a separate passphrase, through node-vault and the sandbox OpenBao', () => {
  let lab: Lab;
  const secrets: Required<KnownSecrets> = { privateKeysPem: [], bundles: [], passphrases: [] };
  const remember = async (d: Delivered) => {
    const { keyPem } = await openBundle(d);
    secrets.privateKeysPem.push(keyPem);
    secrets.bundles.push(d.p12);
    secrets.passphrases.push(d.passphrase);
  };

  beforeAll(async () => {
    lab = await startLab();
  });
  afterAll(async () => {
    await lab?.close();
  });

  // Each test issues what it needs under its own device name and decides plans by id: any order works.
  const decide = async (planId: string | undefined, action = 'approve') => lab.run(`${action} ${planId}`, 'alice');
  const issued = async (line: string, as = 'bob') => {
    const { planId } = await lab.run(line, as);
    await decide(planId);
    const result = lab.printed.filter((m) => m.kind === 'result' && m.planId === planId).pop();
    expect(result?.result?.status).toBe('applied');
    return planId!;
  };

  /** After every issuing test: no key, bundle or passphrase in Redis (labgate's keys and BullMQ's) or the logs. */
  async function expectNoSecretsStored() {
    const needles = needlesFor(secrets);
    const redis = await redisFindings(lab.config.env.REDIS_URL, lab.config.redis.prefix, needles);
    expect(redis.keys).toBeGreaterThan(5);
    expect(redis.findings).toEqual([]);
    expect(findingsIn('logs', lab.logs.text, needles)).toEqual([]);
    expect(findingsIn('channel', channelText(lab), needles)).toEqual([]);
  }

  it('GIVEN bob WHEN he asks for a modern certificate for his pixel-8 THEN the plan describes subject, owner URI, role, lifetime and profile, and holds no key', async () => {
    const issues = () => lab.sandbox.openbao.requests.filter((r) => r.path.includes('/issue/')).length;
    const issuesBefore = issues();
    const planned = await lab.run('/cert issue device:pixel-7 profile:modern ttl:90d', 'bob');
    expect(planned.replies).toEqual([]);
    const plan = lastPlan(lab);
    expect(plan.text).toBe(`Plan ${planned.planId}: /cert issue device:pixel-7 profile:modern ttl:90d`);
    expect(plan.diff).toContain('+++ b/device/shell/bob/pixel-7');
    for (const line of ['+device: pixel-7', '+subject: CN=pixel-7', '+  - urn:labgate:device:shell:bob:pixel-7', '+  - urn:labgate:device:profile:modern', '+role: device', '+lifetime: 90d', '+profile: modern', '+key: rsa-2048'])
      expect(plan.diff).toContain(line);
    expect(plan.diff).not.toMatch(/PRIVATE|passphrase:/i);
    // Nothing is issued before an approval.
    expect(issues()).toBe(issuesBefore);
    await decide(planned.planId, 'reject');
  });

  it('GIVEN bob asks for a modern pixel-8 certificate WHEN alice approves THEN bob gets the bundle and the CA chain in one DM and the passphrase alone in the next; openssl opens it (AES-256/SHA-256) and verifies the certificate against the chain', async () => {
    const planId = await issued('/cert issue device:pixel-8 profile:modern ttl:90d');
    const d = delivered(dmsTo(lab, 'bob'));
    await remember(d);
    expect(d.first.files?.map((f) => f.name)).toEqual(['pixel-8.p12', 'labgate-ca.pem']);
    expect(d.first.text).not.toContain(d.passphrase);
    expect(d.second.files ?? []).toEqual([]);
    expect(d.passphrase).toMatch(/^[a-z2-9]{6}(-[a-z2-9]{6}){3}$/);

    const { info, certPem, keyPem } = await openBundle(d);
    expect(info).toContain('MAC: sha256, Iteration 2048');
    expect(info.join('\n')).toContain('Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256');
    const v = await verifyClientCert(certPem, d.caPath);
    expect(v.out).toContain(': OK');
    expect(v.code).toBe(0);

    const cert = new X509Certificate(certPem);
    expect(cert.subject).toBe('CN=pixel-8');
    expect(uriSans(certPem).sort()).toEqual(['urn:labgate:device:profile:modern', 'urn:labgate:device:shell:bob:pixel-8']);
    expect(cert.checkPrivateKey((await import('node:crypto')).createPrivateKey(keyPem))).toBe(true);
    const days = (Date.parse(cert.validTo) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(89);
    expect(days).toBeLessThan(90.1);

    // The channel sees the serial, owner, device and expiry, nothing more.
    const serial = serialOf(certPem);
    const notice = lab.printed.find((m) => m.kind === 'info' && m.text.startsWith(`Issued serial ${serial} `));
    expect(notice?.text).toBe(`Issued serial ${serial} for @bob's pixel-8, expires ${new Date(cert.validTo).toISOString().replace(/\.\d{3}Z$/, 'Z')}`);
    expect(lab.printed.find((m) => m.kind === 'result' && m.planId === planId)?.result?.status).toBe('applied');
    await expectNoSecretsStored();
  });

  it('GIVEN the default profile WHEN bob gets a certificate for his old tablet THEN the bundle is android-legacy: openssl reports 3DES and a SHA-1 MAC', async () => {
    await issued('/cert issue device:old-tablet');
    const d = delivered(dmsTo(lab, 'bob'));
    await remember(d);
    expect(d.first.files?.map((f) => f.name)).toEqual(['old-tablet.p12', 'labgate-ca.pem']);
    const { info, certPem } = await openBundle(d);
    expect(info).toEqual(expect.arrayContaining(['MAC: sha1, Iteration 2048', 'Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 2048']));
    expect(info.join('\n')).toContain('PKCS7 Encrypted data: pbeWithSHA1And3-KeyTripleDES-CBC');
    expect((await verifyClientCert(certPem, d.caPath)).code).toBe(0);
    expect(uriSans(certPem)).toContain('urn:labgate:device:profile:android-legacy');
    await expectNoSecretsStored();
  });

  it('GIVEN bob already has a valid pixel-8 certificate WHEN he asks again THEN it is refused, naming the serial and how to revoke or replace', async () => {
    await issued('/cert issue device:pixel-6 profile:modern');
    await remember(delivered(dmsTo(lab, 'bob')));
    const out = await lab.run('/cert issue device:pixel-6', 'bob');
    expect(out.replies[0]?.kind).toBe('refusal');
    expect(out.replies[0]?.text).toMatch(/^@bob's pixel-6 already has a valid certificate \(serial [0-9a-f:]+, expires .+\); revoke it first \(\/cert revoke device:pixel-6\) or replace it \(replace:true\)$/);
  });

  it('GIVEN someone who is not an approver WHEN they use for: THEN it is refused; mallory may not issue at all', async () => {
    const forAlice = await lab.run('/cert issue device:laptop for:alice', 'bob');
    expect(forAlice.replies[0]?.text).toBe('only approvers of /cert issue may act for someone else (for:); leave for: out to act for yourself');
    const mallory = await lab.run('/cert issue device:laptop', 'mallory');
    expect(mallory.replies[0]?.text).toMatch(/^you may not run \/cert issue/);
    const badName = await lab.run('/cert issue device:Pixel_8!', 'bob');
    expect(badName.replies[0]?.text).toMatch(/^\/cert issue: device: must be a device name of 1–32 lowercase letters, digits and -/);
  });

  it('GIVEN an approver WHEN she issues for:bob with replace:true THEN the plan issues a new one and revokes the old serial after delivery; bob holds only the new one', async () => {
    await issued('/cert issue device:pixel-5 profile:modern');
    await remember(delivered(dmsTo(lab, 'bob')));
    const before = await lab.run('/cert list', 'bob');
    // The list is bob's alone: it comes back to him privately, not into the conversation.
    expect(before.replies[0]?.private).toBe(true);
    const oldRow = before.replies[0]!.table!.rows.find((r) => r[0] === 'pixel-5');
    const oldSerial = oldRow![1]!;
    const { planId } = await lab.run('/cert issue device:pixel-5 for:bob replace:true', 'alice');
    const plan = lastPlan(lab);
    expect(plan.diff).toContain(`-serial: ${oldSerial}`);
    expect(plan.diff).toContain('+replaces: ' + oldSerial);
    expect(plan.diff).toContain(`+++ b/cert/${oldSerial}`);
    expect(plan.diff).toContain('+status: revoked');
    const order = plan.lines!.join('\n');
    expect(order.indexOf('issue a rsa-2048 certificate')).toBeLessThan(order.indexOf(`revoke certificate ${oldSerial}`));

    await decide(planId);
    const d = delivered(dmsTo(lab, 'bob'));
    await remember(d);
    const { certPem } = await openBundle(d);
    const newSerial = serialOf(certPem);
    expect(newSerial).not.toBe(oldSerial);
    const old = await lab.sandbox.openbao.state.pki.certs[oldSerial.replace(/:/g, '-')];
    expect(old?.revokedAt).toBeGreaterThan(0);

    const all = await lab.run('/cert list all:true', 'bob');
    const rows = all.replies[0]!.table!.rows;
    expect(rows.filter((r) => r[0] === 'pixel-5').map((r) => [r[1], r[4]])).toEqual(
      expect.arrayContaining([
        [newSerial, 'valid'],
        [oldSerial, 'revoked'],
      ]),
    );
    await expectNoSecretsStored();
  });

  it('GIVEN an apply that crashed after issuing but before the DM (journal says issued) WHEN the plan is applied THEN that orphan is revoked first and bob gets exactly one new bundle', async () => {
    await lab.run('/cert issue device:desk', 'bob');
    const planId = lastPlan(lab).planId!;
    // What a crashed attempt leaves: a valid certificate whose key died with it, and the journal entry.
    const res = await fetch(`${lab.sandbox.openbao.url}/v1/pki/issue/device`, {
      method: 'POST',
      headers: { 'X-Vault-Token': lab.sandbox.openbao.rootToken },
      body: JSON.stringify({ common_name: 'desk', uri_sans: 'urn:labgate:device:shell:bob:desk,urn:labgate:device:profile:android-legacy', exclude_cn_from_sans: true }),
    });
    const orphan = ((await res.json()) as { data: { serial_number: string } }).data.serial_number;
    const keys = lab.app.services.keys;
    await lab.app.services.redis.set(keys.certDelivery('openbao:device/shell/bob/desk'), JSON.stringify({ state: 'issued', at: Date.now(), serial: orphan }));
    const dmsBefore = dmsTo(lab, 'bob').length;

    await lab.run(`approve ${planId}`, 'alice');
    expect(lab.printed.filter((m) => m.kind === 'result' && m.planId === planId).pop()?.result?.status).toBe('applied');
    expect(lab.sandbox.openbao.state.pki.certs[orphan.replace(/:/g, '-')]?.revokedAt).toBeGreaterThan(0);
    expect(dmsTo(lab, 'bob').length - dmsBefore).toBe(2);
    const d = delivered(dmsTo(lab, 'bob'));
    await remember(d);
    expect(serialOf((await openBundle(d)).certPem)).not.toBe(orphan);
    expect(await lab.app.services.redis.exists(keys.certDelivery('openbao:device/shell/bob/desk'))).toBe(0);
    expect(lab.logs.text).toContain('revoked a certificate an interrupted apply issued but did not deliver');
    await issued('/cert revoke device:desk');
    await expectNoSecretsStored();
  });

  it('GIVEN /cert list THEN bob sees his own devices only, may not list alice’s, and an approver may list everyone’s', async () => {
    await issued('/cert issue device:listed-a');
    await remember(delivered(dmsTo(lab, 'bob')));
    await issued('/cert issue device:listed-b profile:modern');
    await remember(delivered(dmsTo(lab, 'bob')));
    const mine = (await lab.run('/cert list', 'bob')).replies[0]!;
    expect(mine.text).toMatch(/^\d+ valid device certificates for @bob's devices$/);
    expect(mine.table?.columns).toEqual(['device', 'serial', 'profile', 'expires']);
    expect(mine.table?.rows.map((r) => [r[0], r[2]])).toEqual(
      expect.arrayContaining([
        ['listed-a', 'android-legacy'],
        ['listed-b', 'modern'],
      ]),
    );
    expect(mine.table?.rows.length).toBe(Number(mine.text.split(' ')[0]));
    const denied = await lab.run('/cert list for:alice', 'bob');
    expect(denied.replies[0]?.text).toBe('/cert list for: someone else is for approvers of /cert issue only; leave for: out to see your own');
    const all = (await lab.run('/cert list everyone:true', 'alice')).replies[0]!;
    expect(all.table?.columns[0]).toBe('owner');
    expect(all.table?.rows.every((r) => r[0] === '@bob')).toBe(true);
  });

  it('GIVEN bob’s old tablet WHEN he revokes it and alice approves THEN OpenBao reports the serial revoked and the published CRL lists it', async () => {
    await issued('/cert issue device:tablet-r');
    await remember(delivered(dmsTo(lab, 'bob')));
    const serial = (await lab.run('/cert list', 'bob')).replies[0]!.table!.rows.find((r) => r[0] === 'tablet-r')![1]!;
    const { planId } = await lab.run('/cert revoke device:tablet-r', 'bob');
    const plan = lastPlan(lab);
    expect(plan.diff).toContain(`--- a/cert/${serial}`);
    expect(plan.diff).toContain('-status: valid');
    expect(plan.diff).toContain('+status: revoked');
    expect(plan.lines?.join('\n')).toContain('Traefik does not check CRLs');
    await decide(planId);
    expect(lab.printed.filter((m) => m.kind === 'result' && m.planId === planId).pop()?.result?.status).toBe('applied');

    const res = await fetch(`${lab.sandbox.openbao.url}/v1/pki/cert/${serial}`);
    const body = (await res.json()) as { data: { revocation_time: number } };
    expect(body.data.revocation_time).toBeGreaterThan(0);
    // Device certificates come from the devices issuer: its CRL (not the root's, at pki/crl/pem) lists them.
    const crl = await (await fetch(`${lab.sandbox.openbao.url}/v1/pki/issuer/devices/crl/pem`)).text();
    const file = `/tmp/labgate-crl-${process.pid}.pem`;
    writeFileSync(file, crl);
    const text = await openssl(['crl', '-in', file, '-noout', '-text']);
    expect(text.stdout.toUpperCase()).toContain(serial.replace(/:/g, '').toUpperCase());
    expect(lab.sandbox.openbao.requests.some((r) => r.path === '/v1/pki/crl/rotate' && r.status === 200)).toBe(true);

    const again = await lab.run(`/cert revoke serial:${serial}`, 'bob');
    expect(again.replies[0]?.text).toBe(`certificate ${serial} is already revoked; nothing to revoke`);
  });
});
