import type { Homelab } from './homelab.js';

/** The labgate.yaml that matches the sandbox homelab. Written next to the kubeconfig. */
export function sandboxConfigYaml(homelab: Homelab): string {
  return `# Written by \`labgate sandbox\`: labgate's configuration for the simulated homelab.
# A real homelab's labgate.yaml has the same shape; see the README.
domain: ${homelab.domain}
plans:
  ttl: 15m
redis:
  # Keeps sandbox plans and audit apart from a real labgate on the same Redis.
  prefix: labgate-sandbox
traefik:
  entryPoints:
    tailscale: ts-secure
    internet: websecure
  forwardAuth:
    name: oidc-auth
    namespace: ${homelab.traefikNamespace}
  allowCrossNamespace: true
  tls:
    certResolver: letsencrypt
  mtls:
    clientCaSecret: labgate-client-ca
    passClientCert: true
gate:
  # labgate gate, the forwardAuth of mtls-strict routes; the sandbox edge sends this address to
  # the gate running in the sandbox's process.
  address: http://labgate-gate.labgate.svc.cluster.local:8080/verify
  refreshEvery: 60s
openbao:
  mount: pki
  roles: { device: device, server: server }
  # .p12 format when /cert issue names none; android-legacy imports on every phone.
  defaultProfile: android-legacy
  deviceTtl: 365d
  maxDeviceTtl: 365d
  deviceKey: { type: rsa, bits: 2048 }
  # true: a certificate for one's own device needs no approver.
  selfService: false
  expiry: { thresholds: [30d, 7d, 1d], scanEvery: 1h }
exposure:
  # What may be exposed at all (checked when planning and again when applying). kube-system,
  # kube-public, kube-node-lease, default/kubernetes, labgate's and OpenBao's namespaces never are.
  namespaces:
    allow: [${[...new Set(homelab.services.map((s) => s.namespace))].sort().join(', ')}]
router:
  inInterface: ether1
tailscale:
  daemonSet: { namespace: ${homelab.traefikNamespace}, name: traefik, container: tailscale }
  portBase: 41600
  # Nodes asked at once by /derp-check and the relay-fallback monitor.
  concurrency: 16
  monitor: { enabled: true, every: 5m }
shell:
  users: [alice, bob, mallory]
  defaultUser: alice
access:
  groups:
    approvers: [shell:alice]
    operators: [shell:alice, shell:bob]
  defaults:
    request: [operators]
    approve: [approvers]
    # On so that one person can try the whole flow in the sandbox. A real labgate.yaml leaves
    # it off (the default): someone other than the requester must approve.
    selfApprove: true
  # mallory is in no group: every command is refused for her.
`;
}
