import { createPublicKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openssl } from '../pki/openssl.js';
import { lastPlan, startLab, type Lab } from '../support/lab.js';
import { dmsTo, uriSans, verifyClientCert } from './cert-helpers.js';

describe('/cert sign: a CSR made on the device is signed; its key never leaves it', () => {
  let lab: Lab;
  const dir = mkdtempSync(join(tmpdir(), 'labgate-csr-'));

  /** A CSR and its key made with Debian's openssl, as a laptop would. */
  async function makeCsr(name: string, args: string[] = ['-newkey', 'rsa:2048']): Promise<{ csr: string; key: string }> {
    const csr = join(dir, `${name}.csr`);
    const key = join(dir, `${name}.key`);
    const r = await openssl(['req', '-new', ...args, '-nodes', '-keyout', key, '-subj', `/CN=${name}.local/O=Whatever`, '-out', csr]);
    if (r.code !== 0) throw new Error(r.stderr);
    return { csr, key };
  }

  // Each test gets its own lab: no test reads the plans, certificates or DMs another one left.
  beforeEach(async () => {
    lab = await startLab();
  });
  afterEach(async () => {
    await lab?.close();
  });

  it('GIVEN a CSR file WHEN bob asks to sign it THEN the plan shows the CSR key and that labgate names the certificate; after approval his DM holds the certificate and CA chain, no bundle and no passphrase', async () => {
    const { csr, key } = await makeCsr('work-laptop');
    await lab.run(`/cert sign device:work-laptop csr:${csr} ttl:30d`, 'bob');
    const plan = lastPlan(lab);
    expect(plan.lines?.join('\n')).toContain('(rsa-2048, key sha256 ');
    expect(plan.lines?.join('\n')).toContain("The CSR's own subject (CN=work-laptop.local, O=Whatever) and names are not used");
    expect(plan.diff).toContain('+  pem: |-');
    expect(plan.diff).toContain('+profile: csr');

    await lab.run('approve', 'alice');
    const [dm, ...rest] = dmsTo(lab, 'bob');
    expect(rest).toEqual([]);
    expect(dm!.files?.map((f) => f.name)).toEqual(['work-laptop.crt', 'labgate-ca.pem']);
    expect(JSON.stringify(dm)).not.toMatch(/passphrase|\.p12/i);
    const certPem = readFileSync(dm!.files![0]!.path!, 'utf8');
    const cert = new X509Certificate(certPem);
    expect(cert.subject).toBe('CN=work-laptop');
    expect(uriSans(certPem).sort()).toEqual(['urn:labgate:device:profile:csr', 'urn:labgate:device:shell:bob:work-laptop']);
    const csrKey = createPublicKey(readFileSync(key)).export({ type: 'spki', format: 'der' });
    expect(cert.publicKey.export({ type: 'spki', format: 'der' }).equals(csrKey)).toBe(true);
    expect((await verifyClientCert(certPem, dm!.files![1]!.path!)).code).toBe(0);
    expect(lab.printed.filter((m) => m.kind === 'result').pop()?.result?.status).toBe('applied');
  });

  it('GIVEN a CSR whose signature was altered, or a weak key, or no file THEN the request is refused before anything is planned', async () => {
    const { csr } = await makeCsr('tampered');
    const pem = readFileSync(csr, 'utf8');
    const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    der[der.length - 10] ^= 0xff;
    const bad = join(dir, 'bad.csr');
    writeFileSync(bad, `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`);
    const tampered = await lab.run(`/cert sign device:phone csr:${bad}`, 'bob');
    expect(tampered.replies[0]?.text).toBe("csr: the CSR's signature does not verify: it was altered or is not signed by its own key");

    const weak = await makeCsr('weak', ['-newkey', 'rsa:1024']);
    expect((await lab.run(`/cert sign device:phone csr:${weak.csr}`, 'bob')).replies[0]?.text).toBe('csr: the CSR has an RSA key of 1024 bits; use at least 2048');
    expect((await lab.run(`/cert sign device:phone csr:${join(dir, 'missing.csr')}`, 'bob')).replies[0]?.text).toMatch(/^csr: .*missing\.csr: no such file/);
    // Nothing was sent to OpenBao to sign: all three were refused before a plan.
    expect(lab.sandbox.openbao.requests.filter((r) => r.path.startsWith('/v1/pki/sign/'))).toHaveLength(0);
  });

  it('GIVEN a device role that copies the CSR\'s names (use_csr_sans) WHEN OpenBao returns a certificate with an extra SAN THEN labgate revokes it, delivers nothing and refuses', async () => {
    const role = lab.sandbox.openbao.state.pki.roles.device!;
    role.use_csr_sans = true;
    try {
      const csr = join(dir, 'sneaky.csr');
      const r = await openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'sneaky.key'), '-subj', '/CN=sneaky', '-addext', 'subjectAltName=DNS:photos.home.example.com', '-out', csr]);
      expect(r.code).toBe(0);
      const dmsBefore = dmsTo(lab, 'bob').length;
      await lab.run(`/cert sign device:sneaky csr:${csr}`, 'bob');
      await lab.run('approve', 'alice');
      const result = lab.printed.filter((m) => m.kind === 'result').pop()!;
      expect(result.result?.status).toBe('refused');
      // With use_csr_sans, OpenBao takes the CSR's names instead of the URIs labgate asked for.
      expect(result.text).toMatch(/OpenBao returned a certificate for sneaky that labgate did not ask for \(it carries names labgate did not ask for \(dns:photos\.home\.example\.com\); it lacks the URIs urn:labgate:device:shell:bob:sneaky, urn:labgate:device:profile:csr\); labgate revoked it \(serial ([0-9a-f:]+)\)/);
      const serial = /serial ([0-9a-f:]+)\)/.exec(result.text)![1]!;
      expect(lab.sandbox.openbao.state.pki.certs[serial.replace(/:/g, '-')]?.revokedAt).toBeGreaterThan(0);
      expect(dmsTo(lab, 'bob')).toHaveLength(dmsBefore);
    } finally {
      role.use_csr_sans = false;
    }
  });

  it('GIVEN a valid certificate for the device WHEN a second CSR is signed without replace THEN it is refused; with replace:true the old one is revoked after delivery', async () => {
    const first = await makeCsr('first');
    await lab.run(`/cert sign device:work-laptop csr:${first.csr} ttl:30d`, 'bob');
    await lab.run('approve', 'alice');
    expect(lab.printed.filter((m) => m.kind === 'result').pop()?.result?.status).toBe('applied');
    const { csr } = await makeCsr('second');
    const refused = await lab.run(`/cert sign device:work-laptop csr:${csr}`, 'bob');
    expect(refused.replies[0]?.text).toMatch(/already has a valid certificate/);
    await lab.run(`/cert sign device:work-laptop csr:${csr} replace:true`, 'bob');
    expect(lastPlan(lab).lines?.join('\n')).toMatch(/revoke certificate [0-9a-f:]+ \(@bob's work-laptop/);
    await lab.run('approve', 'alice');
    expect(lab.printed.filter((m) => m.kind === 'result').pop()?.result?.status).toBe('applied');
    await lab.run('/cert list all:true', 'bob');
    const rows = lab.printed.filter((m) => m.kind === 'report').pop()!.table!.rows;
    expect(rows.map((r) => [r[0], r[2], r[4]]).sort()).toEqual([
      ['work-laptop', 'csr', 'revoked'],
      ['work-laptop', 'csr', 'valid'],
    ]);
  });
});
