import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../sandbox/sandbox.js';
import { startLab, type Lab } from '../support/lab.js';

describe('a failing outside system is named by the type of its error, not its text', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await startLab({ configure: (c) => (c.kubernetes.timeout = 1_000) });
  });
  afterAll(async () => {
    lab.sandbox.faults.kubernetes.clear();
    await lab.close();
  });

  it('GIVEN Redis is up and the Kubernetes API drops every connection WHEN a command is planned THEN the person is told the Kubernetes API failed, not Redis', async () => {
    lab.sandbox.faults.kubernetes.add({ match: /.*/, drop: true, times: 10_000 });
    const out = await lab.run('/expose service:immich namespace:media port:2283 host:photos auth:tailscale-only');
    lab.sandbox.faults.kubernetes.clear();
    expect(out.fault).toBe(true);
    expect(out.replies).toHaveLength(1);
    const reply = out.replies[0]!;
    expect(reply.kind).toBe('error');
    expect(reply.system).toBe('kubernetes');
    expect(reply.text).toMatch(/^\/expose .* failed: Kubernetes .*\. What failed is the Kubernetes API: /);
    expect(reply.text).toContain("check that the API server is up and that labgate's kubeconfig or service account reaches it (log: standard output).");
    expect(reply.text).not.toMatch(/Redis/);
    expect(reply.ref).toMatch(/^ref-[0-9a-f]{8}$/);
    expect(lab.logs.text).toContain(reply.ref!);
  });

  it('GIVEN the Kubernetes API answers again THEN the same command plans without a restart', async () => {
    const out = await lab.run('/expose service:immich namespace:media port:2283 host:photos auth:tailscale-only');
    expect(out.fault).toBeFalsy();
    expect(out.planId).toMatch(/^p-/);
  });
});

describe('with the Kubernetes API stopped (connection refused) and Redis up', () => {
  let sandbox: Sandbox;
  let lab: Lab;
  beforeAll(async () => {
    sandbox = await startSandbox({ dir: `/tmp/labgate-test-system-errors-${process.pid}` });
    lab = await startLab({ sandbox, configure: (c) => (c.kubernetes.timeout = 1_000) });
    await sandbox.kubernetes.close();
  });
  afterAll(async () => {
    await lab.close();
    await sandbox.close().catch(() => {});
  });

  it('WHEN a command is planned THEN the reply names the Kubernetes API and says nothing of Redis (it used to say "Redis … is unreachable")', async () => {
    const out = await lab.run('/expose service:immich namespace:media port:2283 host:photos auth:tailscale-only');
    expect(out.fault).toBe(true);
    const reply = out.replies[0]!;
    expect(reply.system).toBe('kubernetes');
    expect(reply.text).toContain('What failed is the Kubernetes API');
    expect(reply.text).toContain('ECONNREFUSED');
    expect(reply.text).not.toMatch(/Redis/);
  });
});
