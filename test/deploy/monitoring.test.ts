import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { startOpsServer, type OpsServer } from '../../src/ops/http.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dashboard = JSON.parse(readFileSync(join(root, 'deploy/grafana/labgate.json'), 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[] };

/** The metric names a PromQL expression reads (strings, label matchers, ranges, groupings and function names taken out). */
function metricNames(expr: string): string[] {
  const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  return [...bare.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)].filter((m) => !m[2] && !KEYWORDS.has(m[1]!.toLowerCase())).map((m) => m[1]!);
}

describe('deploy/grafana/labgate.json: every query reads metrics labgate exports', () => {
  let server: OpsServer;
  let exported: Set<string>;
  let families: { name: string; type: string }[];

  beforeAll(async () => {
    server = await startOpsServer({ host: '127.0.0.1', port: 0 });
    const text = await (await fetch(`${server.url}/metrics`)).text();
    families = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => ({ name: m[1]!, type: m[2]! }));
    // A histogram (or summary) is read through its _bucket, _sum and _count series.
    exported = new Set(families.flatMap((f) => (f.type === 'histogram' || f.type === 'summary' ? [f.name, `${f.name}_bucket`, `${f.name}_sum`, `${f.name}_count`] : [f.name])));
  });
  afterAll(() => server?.close());

  it('GIVEN the names in a real /metrics THEN each panel query uses only those, and each panel has a query', () => {
    const unknown: string[] = [];
    for (const p of dashboard.panels) {
      expect(p.targets.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets) {
        const names = metricNames(t.expr);
        expect(names.length, `${p.title}: ${t.expr}`).toBeGreaterThan(0);
        for (const n of names) if (!exported.has(n)) unknown.push(`${p.title}: ${n}`);
      }
    }
    expect(unknown).toEqual([]);
  });

  it('GIVEN labgate\'s own metrics THEN the dashboard shows every one of them', () => {
    const used = new Set(dashboard.panels.flatMap((p) => p.targets.flatMap((t) => metricNames(t.expr))));
    const ours = families.filter((f) => f.name.startsWith('labgate_')).map((f) => f.name);
    expect(ours.length).toBeGreaterThan(8);
    expect(ours.filter((n) => ![n, `${n}_bucket`, `${n}_sum`, `${n}_count`].some((x) => used.has(x)))).toEqual([]);
  });

  it('reads names out of PromQL as Prometheus would', () => {
    expect(metricNames('histogram_quantile(0.95, sum by (le) (rate(labgate_x_bucket{a="b(c)"}[5m])))')).toEqual(['labgate_x_bucket']);
    expect(metricNames('count(min by (serial) (m_one) < 30 * 86400) or vector(0)')).toEqual(['m_one']);
  });
});

describe('deploy/kubernetes/components/monitoring: a kustomize Component for Prometheus', () => {
  const dir = mkdtempSync(join(tmpdir(), 'labgate-monitoring-'));
  let objs: Record<string, any>[];

  beforeAll(() => {
    // An overlay of the component alone, rendered by kubectl as a user's overlay would be.
    cpSync(join(root, 'deploy/kubernetes/components/monitoring'), join(dir, 'monitoring'), { recursive: true });
    writeFileSync(join(dir, 'kustomization.yaml'), 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\ncomponents: [monitoring]\n');
    const out = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
    objs = parseAllDocuments(out).map((d) => d.toJS() as Record<string, any>);
  });

  it('GIVEN it rendered THEN the ServiceMonitor scrapes the Service\'s port 9464 of every labgate pod, and the NetworkPolicy admits that port', () => {
    expect(objs.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(['NetworkPolicy/labgate-metrics', 'Service/labgate-metrics', 'ServiceMonitor/labgate']);
    const svc = objs.find((o) => o.kind === 'Service')!;
    const sm = objs.find((o) => o.kind === 'ServiceMonitor')!;
    const np = objs.find((o) => o.kind === 'NetworkPolicy')!;
    expect(svc.spec.ports).toEqual([{ name: 'http-metrics', port: 9464, targetPort: 9464, protocol: 'TCP' }]);
    for (const [k, v] of Object.entries(sm.spec.selector.matchLabels)) expect(svc.metadata.labels[k]).toBe(v);
    expect(sm.spec.namespaceSelector.matchNames).toEqual([svc.metadata.namespace]);
    expect(sm.spec.endpoints.map((e: { port: string; path: string }) => [e.port, e.path])).toEqual([['http-metrics', '/metrics']]);
    expect(np.spec.ingress[0].ports).toEqual([{ protocol: 'TCP', port: 9464 }]);
    expect(np.spec.podSelector.matchLabels).toEqual(svc.spec.selector);
    for (const o of objs) expect(o.metadata.namespace).toBe('labgate');
  });

  it('GIVEN the base\'s Deployments THEN the Service selects the bot\'s and the workers\' pods', () => {
    const svc = objs.find((o) => o.kind === 'Service')!;
    const base = join(root, 'deploy/kubernetes');
    const deployments = readdirSync(base)
      .filter((f) => f.endsWith('.yaml'))
      .flatMap((f) => parseAllDocuments(readFileSync(join(base, f), 'utf8')).map((d) => d.toJS() as Record<string, any>))
      .filter((o) => o?.kind === 'Deployment' && o.metadata?.namespace === 'labgate');
    expect(deployments.length).toBeGreaterThan(1);
    for (const d of deployments) for (const [k, v] of Object.entries(svc.spec.selector)) expect(d.spec.template.metadata.labels[k], d.metadata.name).toBe(v);
  });
});
