import type { KubeObject } from './kubernetes-state.js';

/** Kinds whose `status` is a subresource: writes to the main resource leave it as it was. */
export const STATUS_SUBRESOURCE_KINDS = new Set(['Namespace', 'Node', 'Service', 'Pod', 'DaemonSet']);

/** A free ClusterIP in the service CIDR (k3s' default 10.43.0.0/16), skipping the ones in use. */
export function allocateClusterIp(inUse: Set<string>): string {
  for (let i = 10; i < 65_000; i++) {
    const ip = `10.43.${Math.floor(i / 256)}.${i % 256}`;
    if (!inUse.has(ip)) return ip;
  }
  throw new Error('sandbox kubernetes: service CIDR exhausted');
}

/**
 * The defaults a real apiserver fills in on create and update for the core kinds labgate
 * touches. `clusterIpsInUse` is consulted only when a Service needs an address.
 */
export function applyServerDefaults(obj: KubeObject, old: KubeObject | undefined, clusterIpsInUse: () => Set<string>): void {
  const spec = obj.spec as Record<string, unknown> | undefined;
  switch (obj.kind) {
    case 'Namespace':
      obj.metadata.labels = { ...obj.metadata.labels, 'kubernetes.io/metadata.name': obj.metadata.name };
      obj.spec = { finalizers: ['kubernetes'], ...(spec ?? {}) };
      obj.status ??= { phase: 'Active' };
      break;
    case 'Secret': {
      // stringData is write-only: it lands in data, base64-encoded, and is never served back.
      const stringData = obj.stringData as Record<string, string> | undefined;
      if (stringData && typeof stringData === 'object') {
        const data = { ...((obj.data as Record<string, string> | undefined) ?? {}) };
        for (const [k, v] of Object.entries(stringData)) data[k] = Buffer.from(String(v), 'utf8').toString('base64');
        obj.data = data;
      }
      delete obj.stringData;
      obj.type ??= 'Opaque';
      break;
    }
    case 'Service': {
      const s = (obj.spec ??= {}) as Record<string, unknown>;
      s.type ??= 'ClusterIP';
      s.sessionAffinity ??= 'None';
      const oldSpec = old?.spec as Record<string, unknown> | undefined;
      if (s.type !== 'ExternalName' && (s.clusterIP === undefined || s.clusterIP === '')) {
        s.clusterIP = (oldSpec?.clusterIP as string | undefined) ?? allocateClusterIp(clusterIpsInUse());
      }
      if (s.clusterIP !== undefined) s.clusterIPs ??= [s.clusterIP];
      s.ipFamilies ??= ['IPv4'];
      s.ipFamilyPolicy ??= 'SingleStack';
      s.internalTrafficPolicy ??= 'Cluster';
      if (Array.isArray(s.ports)) {
        for (const p of s.ports as Record<string, unknown>[]) {
          p.protocol ??= 'TCP';
          p.targetPort ??= p.port;
        }
      }
      obj.status ??= { loadBalancer: {} };
      break;
    }
    case 'Pod':
      obj.status ??= { phase: 'Pending' };
      break;
  }
}
