import { describe, expect, it } from 'vitest';
import { describeForeignManagers, foreignManagers } from '../../src/kubernetes/field-managers.js';
import type { KubeObject } from '../../src/kubernetes/port.js';

const route: KubeObject = {
  apiVersion: 'traefik.io/v1alpha1',
  kind: 'IngressRoute',
  metadata: {
    name: 'grafana-ts',
    namespace: 'monitoring',
    managedFields: [
      { manager: 'labgate', operation: 'Apply', time: '2026-01-01T00:00:00Z', fieldsV1: { 'f:spec': { 'f:routes': {}, 'f:entryPoints': {} } } },
      { manager: 'kubectl-edit', operation: 'Update', time: '2026-01-02T00:00:00Z', fieldsV1: { 'f:spec': { 'f:tls': { '.': {}, 'f:certResolver': {} } }, 'f:metadata': { 'f:labels': { 'f:team': {} } } } },
      { manager: 'helm', operation: 'Update', fieldsV1: { 'f:spec': { 'f:containers': { 'k:{"name":"a"}': { '.': {}, 'f:image': {} } } } } },
    ],
  },
};

describe('foreign field managers (managedFields read for people)', () => {
  it('GIVEN a route labgate applied and someone edited THEN the other managers are named with the leaf fields they own', () => {
    expect(foreignManagers(route, 'labgate')).toEqual([
      { manager: 'kubectl-edit', operation: 'Update', time: '2026-01-02T00:00:00Z', fields: ['.spec.tls.certResolver', '.metadata.labels.team'] },
      { manager: 'helm', operation: 'Update', fields: ['.spec.containers[name="a"].image'] },
    ]);
    expect(describeForeignManagers(route, 'labgate', 1)).toBe(
      '"kubectl-edit" (Update at 2026-01-02T00:00:00Z) owns .spec.tls.certResolver, and 1 more; "helm" (Update) owns .spec.containers[name="a"].image',
    );
  });

  it('GIVEN only labgate manages an object (or it is gone) THEN nobody else is named', () => {
    expect(describeForeignManagers({ ...route, metadata: { ...route.metadata, managedFields: [(route.metadata.managedFields as object[])[0]] } } as KubeObject, 'labgate')).toBeUndefined();
    expect(describeForeignManagers(null, 'labgate')).toBeUndefined();
  });
});
