import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { changeDiff } from '../../src/plan/diff.js';
import type { Change } from '../../src/plan/model.js';
import { generateServingCertificates } from '../../sandbox/kubernetes/serving-certificates.js';
import { pemBlock } from '../support/pem.js';

const secret = (data: Record<string, string>, stringData?: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 'wildcard-tls', namespace: 'media' },
  type: 'kubernetes.io/tls',
  data,
  ...(stringData ? { stringData } : {}),
});
const change = (before: unknown, after: unknown): Change =>
  ({ system: 'kubernetes', target: 'kubernetes:v1/Secret/media/wildcard-tls', action: before ? 'update' : 'create', summary: 's', before, after }) as unknown as Change;
const b64 = (s: string) => Buffer.from(s).toString('base64');

describe("a Secret's values in a plan diff", () => {
  it('GIVEN certificate data and a private key THEN the certificates show subject, issuer, serial and expiry, and the key only its size', async () => {
    const { caPem, certPem, keyPem } = await generateServingCertificates('diff-test');
    const diff = changeDiff(change(null, secret({ 'tls.crt': b64(certPem + caPem), 'tls.key': b64(keyPem), 'ca.der': new X509Certificate(caPem).raw.toString('base64') })));
    const ca = new X509Certificate(caPem);
    expect(diff).toContain('+  tls.crt:\n+    - subject: CN=diff-test\n+      issuer: CN=diff-test-ca\n');
    expect(diff).toContain(`+    - subject: CN=diff-test-ca\n+      issuer: CN=diff-test-ca\n+      serial: ${ca.serialNumber.toLowerCase().replace(/(..)(?=.)/g, '$1:')}\n+      expires: ${new Date(ca.validTo).toISOString().replace(/\.\d{3}Z$/, 'Z')}`);
    expect(diff).toContain('+  ca.der:\n+    - subject: CN=diff-test-ca');
    expect(diff).toContain(`+  tls.key: not shown (${Buffer.byteLength(keyPem)} bytes)`);
    expect(diff).not.toMatch(new RegExp(pemBlock('PRIVATE KEY').source.slice(1)));
    expect(diff).not.toContain(b64(keyPem).slice(0, 40));
    expect(diff).not.toContain(b64(certPem).slice(0, 40));
  });

  it('GIVEN a changed password of the same length THEN the diff says it changed without showing either value; an unchanged one shows no line', () => {
    const diff = changeDiff(change(secret({ password: b64('hunter22'), user: b64('admin') }, { token: 'old-token' }), secret({ password: b64('s3cret!!'), user: b64('admin') }, { token: 'new-token' })));
    expect(diff).toContain('-  password: not shown (8 bytes)\n+  password: not shown (8 bytes, changed)');
    expect(diff).toContain('-  token: not shown (9 bytes)\n+  token: not shown (9 bytes, changed)');
    expect(diff).not.toMatch(/[-+]\s+user:/);
    for (const v of ['hunter22', 's3cret!!', 'old-token', 'new-token', b64('hunter22'), b64('s3cret!!'), b64('admin')]) expect(diff).not.toContain(v);
  });
});
