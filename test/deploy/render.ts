import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';

export const DEPLOY = fileURLToPath(new URL('../../deploy/', import.meta.url));
export const BASE = join(DEPLOY, 'kubernetes');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type K8sObject = Record<string, any>;

/** `kubectl kustomize DIR`, parsed: what `kubectl apply -k DIR` would send. */
export function kustomize(dir: string): K8sObject[] {
  const out = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  return parseAllDocuments(out).map((d) => {
    if (d.errors.length) throw new Error(`${dir}: ${d.errors.map((e) => e.message).join('; ')}`);
    return d.toJS() as K8sObject;
  });
}

/** The components shipped under deploy/kubernetes/components (each one folder with a kustomization). */
export function componentNames(): string[] {
  const dir = join(BASE, 'components');
  return existsSync(dir) ? readdirSync(dir).filter((n) => existsSync(join(dir, n, 'kustomization.yaml'))).sort() : [];
}

/**
 * The base with one component, rendered through a throwaway overlay (kustomize wants components
 * applied from an overlay outside the base's folder, by relative paths).
 */
export function kustomizeWithComponent(name: string): K8sObject[] {
  const dir = mkdtempSync(join(tmpdir(), 'labgate-kustomize-'));
  try {
    const rel = (p: string) => relative(dir, p);
    writeFileSync(
      join(dir, 'kustomization.yaml'),
      `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [${rel(BASE)}]\ncomponents: [${rel(join(BASE, 'components', name))}]\n`,
    );
    return kustomize(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The labgate.yaml the kustomization turns into the labgate-config ConfigMap. */
export function shippedConfigDoc(): unknown {
  return parse(readFileSync(join(BASE, 'labgate.yaml'), 'utf8'));
}

/** Pod templates of every workload kind, with the workload they belong to. */
export function podTemplates(objects: K8sObject[]): { owner: string; obj: K8sObject; spec: K8sObject; labels: Record<string, string> }[] {
  const kinds = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job']);
  return objects
    .filter((o) => kinds.has(o.kind))
    .map((o) => ({ owner: `${o.kind}/${o.metadata.name}`, obj: o, spec: o.spec.template.spec, labels: o.spec.template.metadata?.labels ?? {} }));
}
