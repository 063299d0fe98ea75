import { ownerKey } from '../openbao/device-identity.js';
import { DeviceInventory, type Listing } from '../openbao/device-inventory.js';
import type { Services } from '../core/services.js';
import type { NodeCheck } from '../planning/derp-check.js';
import { pathStates } from '../planning/path-alerts.js';
import { metrics } from './metrics.js';

/**
 * Every valid device certificate with its owner, device and serial, for
 * labgate_device_certificate_expiry_seconds. Reads each certificate's PEM once (its owner URN;
 * cached per serial, so later scans read only new ones).
 */
export async function publishCertificateExpiry(s: Pick<Services, 'ports' | 'now'>, listing?: Listing): Promise<number> {
  const bao = s.ports.openbao;
  if (!bao) return 0;
  const inventory = new DeviceInventory(bao, s.now);
  const { all, revoked } = listing ?? (await inventory.listing());
  const now = s.now();
  const certs = await inventory.details(all.filter((c) => c.notAfter > now && !revoked.has(c.serial)), revoked);
  const valid = certs.filter((c) => c.status === 'valid');
  metrics.certificates(valid.map((c) => ({ owner: ownerKey(c.owner), device: c.device, serial: c.serial, notAfter: c.notAfter })));
  return valid.length;
}

/** Per Traefik node, direct (1) or relayed through DERP (0); nodes that could not be asked are left out. */
export function publishTailscalePaths(nodes: NodeCheck[]): void {
  metrics.tailscalePaths(
    nodes.flatMap((c) => {
      const st = pathStates(c).node;
      return st ? [{ node: c.node.name, direct: st !== 'derp' }] : [];
    }),
  );
}
