/**
 * The simulated homelab every sandbox server is seeded from. One description, so the
 * Kubernetes nodes, the Traefik DaemonSet's Tailscale ports, the router's NAT rules and
 * the Tailscale status all agree.
 */
export interface HomelabNode {
  name: string;
  ip: string;
  /** Tailscale's WireGuard UDP port on this node (base 41600 + last octet). */
  tailscalePort: number;
}

export interface HomelabService {
  namespace: string;
  name: string;
  ports: { name: string; port: number; targetPort: number; protocol: 'TCP' | 'UDP' }[];
}

export interface Homelab {
  domain: string;
  publicIp: string;
  nodes: HomelabNode[];
  traefikNamespace: string;
  services: HomelabService[];
}

export const DERP_PORT_BASE = 41600;

export function homelabNodes(count = 3, subnet = '192.168.10', firstOctet = 21): HomelabNode[] {
  return Array.from({ length: count }, (_, i) => {
    const octet = firstOctet + i;
    return { name: `node-${octet}`, ip: `${subnet}.${octet}`, tailscalePort: DERP_PORT_BASE + octet };
  });
}

export function defaultHomelab(): Homelab {
  return {
    domain: 'home.example.com',
    publicIp: '203.0.113.45',
    nodes: homelabNodes(3),
    traefikNamespace: 'traefik',
    services: [
      { namespace: 'media', name: 'immich', ports: [{ name: 'http', port: 2283, targetPort: 2283, protocol: 'TCP' }] },
      { namespace: 'media', name: 'jellyfin', ports: [{ name: 'http', port: 8096, targetPort: 8096, protocol: 'TCP' }] },
      {
        namespace: 'argocd',
        name: 'argocd-server',
        ports: [
          { name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' },
          { name: 'https', port: 443, targetPort: 8080, protocol: 'TCP' },
        ],
      },
      { namespace: 'monitoring', name: 'grafana', ports: [{ name: 'http', port: 3000, targetPort: 3000, protocol: 'TCP' }] },
      { namespace: 'monitoring', name: 'prometheus', ports: [{ name: 'web', port: 9090, targetPort: 9090, protocol: 'TCP' }] },
      { namespace: 'auth', name: 'oauth2-proxy', ports: [{ name: 'http', port: 4180, targetPort: 4180, protocol: 'TCP' }] },
    ],
  };
}
