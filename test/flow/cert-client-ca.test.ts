import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { Job } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { certExpiryScan } from '../../jobs/cert-expiry-scan.js';
import { SHELL_CONVERSATION, shellIdentity } from '../../src/chat/shell/shell.js';
import { lastPlan, startLab, type Lab } from '../support/lab.js';
import { delivered, dmsTo, openBundle, verifyClientCert } from './cert-helpers.js';

interface SecretObject {
  metadata: { labels?: Record<string, string>; annotations?: Record<string, string> };
  data?: Record<string, string>;
}

describe('mtls-strict: the client-CA Secret comes from OpenBao and follows its CA', () => {
  let lab: Lab;
  // What mtls-strict trusts: the device issuer's certificate alone, not OpenBao's root.
  const caPem = async () => (await (await fetch(`${lab.sandbox.openbao.url}/v1/pki/issuer/devices/pem`)).text()).trim();
  /** As an operator rotates the device CA: a new intermediate signed by the root takes the name "devices". */
  async function rotateDeviceIssuer(): Promise<void> {
    const bao = async (path: string, body: unknown) => {
      const res = await fetch(`${lab.sandbox.openbao.url}/v1/${path}`, { method: 'POST', headers: { 'X-Vault-Token': lab.sandbox.openbao.rootToken, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { data: Record<string, unknown> }).data;
    };
    const generated = await bao('pki/intermediate/generate/internal', { common_name: 'labgate devices CA 2', key_type: 'ec', key_bits: 256 });
    const signed = await bao('pki/root/sign-intermediate', { csr: generated.csr, common_name: 'labgate devices CA 2', ttl: '8760h' });
    const imported = await bao('pki/intermediate/set-signed', { certificate: signed.certificate });
    const [id] = imported.imported_issuers as string[];
    await bao('pki/issuer/devices', { issuer_name: 'devices-previous' });
    await bao(`pki/issuer/${id}`, { issuer_name: 'devices' });
  }
  const readSecret = async (namespace: string, name: string) => {
    try {
      return (await lab.kube.read({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace } })) as unknown as SecretObject;
    } catch (err) {
      if ((err as { code?: number }).code === 404) return undefined;
      throw err;
    }
  };
  const caCrt = (s: SecretObject | undefined) => Buffer.from(s?.data?.['ca.crt'] ?? '', 'base64').toString('utf8').trim();
  /** How a diff shows a certificate in a Secret: decoded, never as the base64 blob. */
  const certFields = (pem: string) => {
    const c = new X509Certificate(pem);
    return { subject: c.subject.split('\n').join(', '), issuer: c.issuer.split('\n').join(', '), serial: c.serialNumber.toLowerCase().replace(/(..)(?=.)/g, '$1:'), expires: new Date(c.validTo).toISOString().replace(/\.\d{3}Z$/, 'Z') };
  };
  const certLines = (sign: '+' | '-', pem: string) => {
    const c = certFields(pem);
    return [`${sign}  ca.crt:`, `${sign}    - subject: ${c.subject}`, `${sign}      issuer: ${c.issuer}`, `${sign}      serial: ${c.serial}`, `${sign}      expires: ${c.expires}`].join('\n');
  };

  /** What the first test does, for the tests after it: photos exposed mtls-strict and approved, its client-CA Secret in place. */
  async function exposePhotosStrict(): Promise<void> {
    await lab.run('/expose service:immich namespace:media port:2283 host:photos auth:mtls-strict', 'bob');
    await lab.run('approve', 'alice');
    expect(caCrt(await readSecret('media', 'labgate-client-ca'))).toBe(await caPem());
  }

  // Each test gets its own lab (and sandbox): no test reads the Secret, plans or CA another one left.
  beforeEach(async () => {
    lab = await startLab({
      configure: (c) => {
        const ts = c.tailscale as unknown as { monitor?: { enabled: boolean } };
        if (ts.monitor) ts.monitor.enabled = false;
      },
    });
  });
  afterEach(async () => {
    await lab?.close();
  });

  it('GIVEN a Service WHEN exposed mtls-strict THEN the plan creates the labgate-labelled client-CA Secret (ca.crt = the device issuer alone) before the TLSOption that reads it', async () => {
    await lab.run('/expose service:immich namespace:media port:2283 host:photos auth:mtls-strict', 'bob');
    const plan = lastPlan(lab);
    const diff = plan.diff!;
    expect(diff).toContain('+++ b/Secret/media/labgate-client-ca');
    expect(diff.indexOf('+++ b/Secret/media/labgate-client-ca')).toBeLessThan(diff.indexOf('+++ b/TLSOption/media/photos-mtls'));
    expect(diff).toContain(`+    app.kubernetes.io/managed-by: labgate`);
    expect(diff).toContain(`+    labgate.dev/client-ca: "true"`);
    expect(diff).toContain(certLines('+', await caPem()));
    expect(diff).not.toContain(Buffer.from((await caPem()) + '\n').toString('base64'));
    expect(plan.lines?.join('\n')).toMatch(/Secret media\/labgate-client-ca .* does not exist yet: this plan creates it from OpenBao's device CA/);

    await lab.run('approve', 'alice');
    const secret = await readSecret('media', 'labgate-client-ca');
    expect(secret?.metadata.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'labgate', 'labgate.dev/client-ca': 'true' });
    expect(caCrt(secret)).toBe(await caPem());
    expect(secret?.metadata.annotations?.['labgate.dev/ca-sha256']).toBe(new X509Certificate(await caPem()).fingerprint256);
  });

  it('GIVEN the Secret WHEN a device certificate is issued THEN openssl verifies it against the Secret’s ca.crt, as Traefik would; a server certificate from the same OpenBao mount does not', async () => {
    await exposePhotosStrict();
    await lab.run('/cert issue device:pixel-8', 'bob');
    await lab.run('approve', 'alice');
    const d = delivered(dmsTo(lab, 'bob'));
    const { certPem } = await openBundle(d);
    const file = `/tmp/labgate-client-ca-${process.pid}.pem`;
    writeFileSync(file, caCrt(await readSecret('media', 'labgate-client-ca')));
    expect((await verifyClientCert(certPem, file)).code).toBe(0);

    // A server certificate of the same mount (the server role, on the root issuer).
    const res = await fetch(`${lab.sandbox.openbao.url}/v1/pki/issue/server`, {
      method: 'POST',
      headers: { 'X-Vault-Token': lab.sandbox.openbao.rootToken, 'Content-Type': 'application/json' },
      body: JSON.stringify({ common_name: 'photos.home.example.com' }),
    });
    const server = ((await res.json()) as { data: { certificate: string } }).data.certificate;
    const refused = await verifyClientCert(server, file);
    expect(refused.code).not.toBe(0);
    expect(refused.out).toMatch(/unable to get local issuer certificate|unsupported certificate purpose/);
  });

  it('GIVEN the Secret is in sync THEN /cert ca-sync has nothing to do and a second mtls-strict host in the namespace adds no Secret change', async () => {
    await exposePhotosStrict();
    expect((await lab.run('/cert ca-sync', 'bob')).replies[0]?.text).toBe("the client-CA Secrets already hold OpenBao's device CA; nothing to change");
    await lab.run('/expose service:immich namespace:media port:2283 host:photos2 auth:mtls-strict', 'bob');
    expect(lastPlan(lab).diff).not.toContain('Secret/');
    await lab.run('reject', 'bob');
  });

  it('GIVEN the device CA is rotated in OpenBao WHEN the scan runs THEN one alert offers a sync whose plan shows the Secret’s CA change as a diff; applied, the Secret holds the new CA', async () => {
    await exposePhotosStrict();
    const oldPem = await caPem();
    await rotateDeviceIssuer();
    const newPem = await caPem();
    expect(newPem).not.toBe(oldPem);

    await certExpiryScan.run(lab.app.services, {} as Job);
    await certExpiryScan.run(lab.app.services, {} as Job);
    const alerts = lab.printed.filter((m) => m.kind === 'alert' && m.text.includes('client-CA'));
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.text).toBe("OpenBao's device CA differs from 1 client-CA Secret of mtls-strict services");
    expect(alerts[0]!.buttons?.map((b) => [b.label, b.command])).toEqual([['Sync client CA', '/cert ca-sync']]);

    const out = await lab.app.dispatcher!.runSuggestion(alerts[0]!.buttons![0]!.id, shellIdentity('bob'), SHELL_CONVERSATION);
    const plan = lastPlan(lab);
    expect(plan.planId).toBe(out.planId);
    expect(plan.diff).toContain('--- a/Secret/media/labgate-client-ca');
    // The CA's subject stays; its serial and expiry change, shown decoded, never as base64.
    expect(plan.diff).toContain(`-      serial: ${certFields(oldPem).serial}\n-      expires: ${certFields(oldPem).expires}\n+      serial: ${certFields(newPem).serial}\n+      expires: ${certFields(newPem).expires}`);
    expect(plan.diff).not.toContain(Buffer.from(newPem + '\n').toString('base64'));
    expect(plan.diff).toContain(`+    labgate.dev/ca-sha256: ${new X509Certificate(newPem).fingerprint256}`);
    expect(plan.lines?.join('\n')).toContain('Device certificates issued by a previous CA stop passing mtls-strict');

    await lab.run('approve', 'alice');
    expect(caCrt(await readSecret('media', 'labgate-client-ca'))).toBe(newPem);
    expect((await lab.run('/cert ca-sync', 'bob')).replies[0]?.text).toMatch(/nothing to change/);
  });
});
