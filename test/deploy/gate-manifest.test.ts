import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { DEFAULT_GATE_ADDRESS } from '../../src/traefik/render.js';

const dir = fileURLToPath(new URL('../../deploy/kubernetes/', import.meta.url));
const docs = parseAllDocuments(readFileSync(dir + 'gate.yaml', 'utf8')).map((d) => d.toJS() as Record<string, any>);
const of = (kind: string) => docs.find((d) => d.kind === kind)!;

describe('deploy/kubernetes/gate.yaml', () => {
  it('is listed in the kustomization', () => {
    expect(parse(readFileSync(dir + 'kustomization.yaml', 'utf8')).resources).toContain('gate.yaml');
  });

  it('runs `labgate gate` hardened: non-root, read-only root, no capabilities, RuntimeDefault seccomp, limits, probes, no token', () => {
    const dep = of('Deployment');
    const pod = dep.spec.template.spec;
    const c = pod.containers[0];
    expect(c.args).toEqual(['gate', '--listen', '0.0.0.0:8080']);
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(c.securityContext).toMatchObject({ runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(c.resources.limits.memory).toBeDefined();
    expect(c.readinessProbe.httpGet.path).toBe('/readyz');
    expect(c.livenessProbe.httpGet.path).toBe('/healthz');
    // It needs no secret at all.
    expect(c.envFrom).toBeUndefined();
  });

  it('is reachable at the address the plans put in the forwardAuth Middleware by default', () => {
    const svc = of('Service');
    const url = new URL(DEFAULT_GATE_ADDRESS);
    expect(`${svc.metadata.name}.${svc.metadata.namespace}.svc.cluster.local`).toBe(url.hostname);
    expect(svc.spec.ports[0].port).toBe(Number(url.port));
    expect(svc.spec.selector).toEqual(of('Deployment').spec.selector.matchLabels);
  });

  it('admits only Traefik through its NetworkPolicy', () => {
    const np = of('NetworkPolicy');
    expect(np.spec.policyTypes).toEqual(['Ingress']);
    expect(np.spec.podSelector.matchLabels).toEqual(of('Deployment').spec.selector.matchLabels);
    const from = np.spec.ingress[0].from;
    expect(from[0].podSelector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'traefik' });
    expect(np.spec.ingress).toHaveLength(1);
  });
});
