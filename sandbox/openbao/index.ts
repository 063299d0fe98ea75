/** The sandbox OpenBao: state, seeding and the loopback server. */
export type {
  AppRoleRole,
  Capability,
  KubernetesAuthRole,
  OpenBaoPolicy,
  OpenBaoState,
  OpenBaoToken,
  PkiIssuer,
  PkiMountState,
  PkiRole,
  StoredCertificate,
} from './openbao-state.js';
export { seedOpenBaoState, pkiRole, labgatePolicy, serviceAccountJwt, DEVICE_ISSUER, type SeedOpenBaoOptions } from './seed-openbao-state.js';
export { startOpenBaoSandbox, type OpenBaoSandbox, type OpenBaoSandboxOptions, type RecordedRequest } from './openbao-sandbox.js';
export type { BulkCertificateSpec } from './bulk-certificates.js';
