/**
 * Everything the sandbox OpenBao remembers, as plain JSON so the sandbox orchestrator can
 * write it to a file and start again from it. Times are unix milliseconds unless a name
 * says seconds. Issued private keys are never kept (OpenBao does not keep them either);
 * the CA's private key is, because OpenBao keeps its issuers' keys.
 */

export type Capability = 'create' | 'read' | 'update' | 'patch' | 'delete' | 'list' | 'sudo' | 'deny';

/** A policy: path globs (OpenBao syntax: trailing `*` = prefix, `+` = one segment) → capabilities. */
export interface OpenBaoPolicy {
  paths: Record<string, Capability[]>;
}

export interface OpenBaoToken {
  id: string;
  accessor: string;
  /** Policies as OpenBao reports them (includes "default" for login tokens, "root" for root). */
  policies: string[];
  /** Auth path that created it, e.g. "auth/approle/login". */
  path: string;
  displayName: string;
  meta: Record<string, string>;
  entityId: string;
  issuedAt: number;
  /** TTL granted at creation and by default on renew, in seconds (0 = never expires). */
  ttlSeconds: number;
  /** null = never expires (root). */
  expiresAt: number | null;
  /** Renewals cannot push expiry past this. */
  maxExpiresAt: number | null;
  renewable: boolean;
  lastRenewedAt?: number;
}

export interface AppRoleRole {
  roleId: string;
  secretIds: string[];
  bindSecretId: boolean;
  tokenPolicies: string[];
  tokenTtlSeconds: number;
  tokenMaxTtlSeconds: number;
}

export interface KubernetesAuthRole {
  boundServiceAccountNames: string[];
  boundServiceAccountNamespaces: string[];
  tokenPolicies: string[];
  tokenTtlSeconds: number;
  tokenMaxTtlSeconds: number;
}

export interface PkiRole {
  ttl: number;
  max_ttl: number;
  allow_any_name: boolean;
  allowed_domains: string[];
  allow_bare_domains: boolean;
  allow_subdomains: boolean;
  allow_glob_domains: boolean;
  allow_localhost: boolean;
  allow_wildcard_certificates: boolean;
  enforce_hostnames: boolean;
  allow_ip_sans: boolean;
  /** Globs; empty = URI SANs refused. */
  allowed_uri_sans: string[];
  /** "<oid>;UTF8:<glob>" entries, or ["*"]. Empty = other SANs refused. */
  allowed_other_sans: string[];
  server_flag: boolean;
  client_flag: boolean;
  code_signing_flag: boolean;
  email_protection_flag: boolean;
  key_type: 'rsa' | 'ec' | 'ed25519' | 'any';
  key_bits: number;
  key_usage: string[];
  require_cn: boolean;
  /** "email", "hostname", or ["disabled"]. */
  cn_validations: string[];
  use_csr_common_name: boolean;
  use_csr_sans: boolean;
  no_store: boolean;
  generate_lease: boolean;
  not_before_duration: number;
  organization: string[];
  ou: string[];
  /** Issuer reference; "default" follows the mount's default issuer. */
  issuer_ref: string;
}

export interface PkiIssuer {
  id: string;
  /** "" until someone names it (`issuer_name`); roles may refer to it by either. */
  name: string;
  /** The key in the mount this issuer signs with. */
  keyId: string;
  keyType: 'ec' | 'rsa';
  /** Colon form, as `LIST issuers` reports it. */
  serialNumber: string;
  certificatePem: string;
  /** PKCS#8 PEM. */
  privateKeyPem: string;
  /** This issuer, then each parent up to a root, as OpenBao computes `ca_chain`. */
  caChain: string[];
  /** OpenBao's issuer setting; its default is "err". */
  leafNotAfterBehavior: 'err' | 'truncate' | 'permit';
  /** Subset of read-only, issuing-certificates, crl-signing, ocsp-signing. */
  usage: string[];
  /** Authority information access written into what it signs; absent = the mount's config/urls. */
  aia?: AiaUrls;
  crl: { number: number; pem: string; thisUpdate: number; nextUpdate: number };
}

/** `config/urls` (and an issuer's own AIA fields). */
export interface AiaUrls {
  issuingCertificates: string[];
  crlDistributionPoints: string[];
  deltaCrlDistributionPoints: string[];
  ocspServers: string[];
  enableTemplating: boolean;
}

/** A key made by `intermediate/generate/internal`, waiting for its certificate (`intermediate/set-signed`). */
export interface PkiKey {
  id: string;
  name: string;
  keyType: 'ec' | 'rsa';
  /** PKCS#8 PEM. */
  privateKeyPem: string;
}

/** The last `tidy` run, as `tidy-status` reports it (times in unix ms). */
export interface TidyRun {
  config: Record<string, number | boolean | string>;
  state: 'Running' | 'Finished';
  timeStarted: number;
  timeFinished?: number;
  certStoreDeletedCount: number;
  revokedCertDeletedCount: number;
}

export interface StoredCertificate {
  /** Colon form. */
  serialNumber: string;
  certificatePem: string;
  issuerId: string;
  commonName: string;
  dnsNames: string[];
  keyType: 'rsa' | 'ec' | 'ed25519';
  keyBits: number;
  /** Unix seconds, as OpenBao reports them. */
  notBefore: number;
  notAfter: number;
  /** True for a CA the mount generated (OpenBao stores generated roots under certs/ too). */
  isCa?: boolean;
  /** Unix milliseconds; absent when not revoked. */
  revokedAt?: number;
}

export interface PkiMountState {
  mount: string;
  defaultLeaseTtlSeconds: number;
  maxLeaseTtlSeconds: number;
  crlExpirySeconds: number;
  roles: Record<string, PkiRole>;
  issuers: Record<string, PkiIssuer>;
  defaultIssuerId: string;
  /** Keys without an issuer yet, by id. */
  keys: Record<string, PkiKey>;
  /** `config/urls`. */
  urls: AiaUrls;
  /** Keyed by hyphen-form serial, like OpenBao's storage. */
  certs: Record<string, StoredCertificate>;
  tidy?: TidyRun;
  /** tidy-status's internal_backend_uuid. */
  backendUuid?: string;
}

export interface OpenBaoState {
  version: 1;
  clusterName: string;
  clusterId: string;
  auth: {
    rootToken: string;
    tokens: Record<string, OpenBaoToken>;
    policies: Record<string, OpenBaoPolicy>;
    approle: Record<string, AppRoleRole>;
    kubernetes: {
      /** Service-account JWTs the simulated TokenReview accepts. */
      acceptedJwts: string[];
      roles: Record<string, KubernetesAuthRole>;
    };
  };
  pki: PkiMountState;
}
