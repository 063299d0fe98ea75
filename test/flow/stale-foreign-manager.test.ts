import { PatchStrategy } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from '../support/lab.js';

// A route someone edits by hand between plan and approval: the refusal names the field manager
// the API server recorded for that edit (https://kubernetes.io/docs/reference/using-api/server-side-apply/#field-management).

describe('a stale plan names who edited its target', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await startLab();
  });
  afterAll(async () => {
    await lab?.close();
  });

  it('GIVEN an exposed route WHEN someone edits it with kubectl before the plan is approved THEN the refusal names "kubectl-edit" and the field', async () => {
    const exposed = await lab.run('/expose service:prometheus namespace:monitoring port:9090 host:prom auth:tailscale-only');
    await lab.run(`approve ${exposed.planId}`);
    const { planId } = await lab.run('/route mode host:prom mode:tailscale-bypass');
    await lab.kube.patch(
      { apiVersion: 'traefik.io/v1alpha1', kind: 'IngressRoute', metadata: { name: 'prom-ts', namespace: 'monitoring' }, spec: { entryPoints: ['ts-secure', 'web'] } } as never,
      undefined,
      undefined,
      'kubectl-edit',
      undefined,
      PatchStrategy.MergePatch,
    );
    await lab.run(`approve ${planId}`);
    const result = lab.printed.filter((m) => m.kind === 'result' && m.planId === planId).pop();
    expect(result?.result?.status).toBe('refused');
    expect(result?.text).toMatch(/state changed since the plan; run it again \(IngressRoute\/monitoring\/prom-ts changed\); IngressRoute\/monitoring\/prom-ts: "kubectl-edit" \(Update at [0-9T:-]+Z\) owns \.spec\.entryPoints/);
  });
});
