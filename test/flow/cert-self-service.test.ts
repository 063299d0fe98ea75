import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startLab, type Lab } from '../support/lab.js';
import { findingsIn, needlesFor, redisFindings } from '../support/secret-scan.js';
import { delivered, dmsTo, openBundle } from './cert-helpers.js';

describe('self-service certificates (openbao.selfService: true)', () => {
  let lab: Lab;
  // Each test gets its own lab: no test counts the requests or DMs another one made.
  beforeEach(async () => {
    lab = await startLab({
      configure: (c) => {
        c.openbao!.selfService = true;
        // The secure default everywhere else: someone other than the requester approves.
        c.access.defaults.selfApprove = false;
      },
    });
  });
  afterEach(async () => {
    await lab?.close();
  });

  it('GIVEN bob WHEN he asks for a certificate for his own device THEN it is issued and DMed right away, audited with the reason', async () => {
    const out = await lab.run('/cert issue device:laptop profile:modern', 'bob');
    expect(out.replies).toEqual([]);
    const d = delivered(dmsTo(lab, 'bob'));
    const { certPem, keyPem } = await openBundle(d);
    expect(certPem).toContain('BEGIN CERTIFICATE');
    const edit = lab.printed.filter((m) => m.planId === out.planId && m.edit).map((m) => m.fields?.find((f) => f.name === 'Status')?.value);
    expect(edit).toContain('Approved by bob; applying…');
    expect(lab.printed.find((m) => m.kind === 'result' && m.planId === out.planId)?.result?.status).toBe('applied');
    const audit = (await lab.run('/audit count:10')).replies[0]!.table!.rows;
    const approve = audit.find((r) => r[2] === 'approve' && r[3] === out.planId);
    expect(approve?.[1]).toBe('shell:bob');
    expect(approve?.[6]).toMatch(/^approved: self-service/);
    const needles = needlesFor({ privateKeysPem: [keyPem], bundles: [d.p12], passphrases: [d.passphrase] });
    expect((await redisFindings(lab.config.env.REDIS_URL, lab.config.redis.prefix, needles)).findings).toEqual([]);
    expect(findingsIn('logs', lab.logs.text, needles)).toEqual([]);
  });

  it('GIVEN an approver WHEN she issues for someone else THEN it still waits for an approval', async () => {
    const before = dmsTo(lab, 'bob').length;
    const out = await lab.run('/cert issue device:phone for:bob', 'alice');
    expect((await lab.app.services.store.get(out.planId!))?.status).toBe('pending');
    expect(dmsTo(lab, 'bob').length).toBe(before);
    // Nothing was issued: the plan waits.
    expect(lab.sandbox.openbao.requests.filter((r) => r.path.includes('/issue/')).length).toBe(0);
  });
});
