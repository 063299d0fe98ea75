import { randomBytes, randomUUID } from 'node:crypto';
import { defaultHomelab, type Homelab } from '../homelab.js';
import type { OpenBaoPolicy, OpenBaoState, PkiRole } from './openbao-state.js';
import type { HandlerResult } from './http-envelope.js';
import { generateIntermediate, setSignedIntermediate, signIntermediate } from './intermediate-ca.js';
import { updateIssuer } from './issuer-endpoints.js';
import { emptyAia } from './issuer-store.js';
import { generateRootIssuer, installRootIssuer, IssuerKeyring } from './pki-issuer.js';
import { newTokenId } from './token-store.js';

const HOUR = 3600;

/** The name of the issuer the seeded `device` role signs with. */
export const DEVICE_ISSUER = 'devices';

/** A PKI role with OpenBao's defaults (builtin/logical/pki/path_roles.go), then `overrides`. */
export function pkiRole(overrides: Partial<PkiRole> = {}): PkiRole {
  return {
    ttl: 0,
    max_ttl: 0,
    allow_any_name: false,
    allowed_domains: [],
    allow_bare_domains: false,
    allow_subdomains: false,
    allow_glob_domains: false,
    allow_localhost: true,
    allow_wildcard_certificates: true,
    enforce_hostnames: true,
    allow_ip_sans: true,
    allowed_uri_sans: [],
    allowed_other_sans: [],
    server_flag: true,
    client_flag: true,
    code_signing_flag: false,
    email_protection_flag: false,
    key_type: 'rsa',
    key_bits: 2048,
    key_usage: ['DigitalSignature', 'KeyAgreement', 'KeyEncipherment'],
    require_cn: true,
    cn_validations: ['email', 'hostname'],
    use_csr_common_name: true,
    use_csr_sans: true,
    no_store: false,
    generate_lease: false,
    not_before_duration: 30,
    organization: [],
    ou: [],
    issuer_ref: 'default',
    ...overrides,
  };
}

/**
 * Exactly what labgate calls on the PKI mount (the README's policy): issue and sign with the
 * device role, list certificates (detailed, revoked), revoke, rebuild the CRL. The fetch paths
 * (cert/*, ca, ca_chain, crl) need no token, and token self-management comes with "default".
 */
export function labgatePolicy(mount: string, deviceRole = 'device'): OpenBaoPolicy {
  return {
    paths: {
      [`${mount}/issue/${deviceRole}`]: ['update'],
      [`${mount}/sign/${deviceRole}`]: ['update'],
      [`${mount}/certs/detailed`]: ['list'],
      [`${mount}/certs/revoked`]: ['list'],
      [`${mount}/revoke`]: ['update'],
      [`${mount}/crl/rotate`]: ['read'],
    },
  };
}

/** OpenBao's built-in "default" policy, reduced to the token self-service paths. */
export const defaultPolicy = (): OpenBaoPolicy => ({
  paths: {
    'auth/token/lookup-self': ['read'],
    'auth/token/renew-self': ['update'],
    'auth/token/revoke-self': ['update'],
  },
});

/** A service-account token shaped like a projected Kubernetes one (unsigned: the sandbox only compares it). */
export function serviceAccountJwt(namespace: string, name: string, now: number): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const iat = Math.floor(now / 1000);
  return [
    b64({ alg: 'RS256', kid: randomBytes(8).toString('hex') }),
    b64({
      aud: ['https://kubernetes.default.svc.cluster.local'],
      exp: iat + 365 * 24 * HOUR,
      iat,
      iss: 'https://kubernetes.default.svc.cluster.local',
      'kubernetes.io': { namespace, serviceaccount: { name, uid: randomUUID() } },
      nbf: iat,
      sub: `system:serviceaccount:${namespace}:${name}`,
    }),
    randomBytes(64).toString('base64url'),
  ].join('.');
}

export interface SeedOpenBaoOptions {
  /** PKI mount path; default "pki". */
  mount?: string;
  now?: () => number;
  homelab?: Homelab;
  /** The CA's key; default EC P-256 (fast to sign with, accepted by every TLS stack labgate targets). */
  caKeyType?: 'ec' | 'rsa';
  /** CA lifetime; default 87600h (ten years). */
  caTtlSeconds?: number;
  /** Role overrides merged over the seeded roles, or extra roles (e.g. `{ device: { key_type: 'any' } }`). */
  roles?: Record<string, Partial<PkiRole>>;
  /** Login token TTL for labgate's AppRole and Kubernetes roles; default 1h (max 24h). */
  tokenTtlSeconds?: number;
}

/**
 * A fresh OpenBao: root token, the PKI mount with a newly generated root CA as default issuer,
 * an intermediate issuer `devices` signed by it, roles `device` (clientAuth only, any name,
 * RSA 2048, max 8760h, issued by `devices`) and `server` (serverAuth only for names under the
 * homelab domain, EC P-256, max 2160h, issued by the root), each issuer with an empty CRL, and
 * labgate's AppRole and Kubernetes logins bound to a policy covering what labgate needs.
 */
export async function seedOpenBaoState(opts: SeedOpenBaoOptions = {}): Promise<OpenBaoState> {
  const mount = opts.mount ?? 'pki';
  const now = (opts.now ?? Date.now)();
  const homelab = opts.homelab ?? defaultHomelab();
  const tokenTtl = opts.tokenTtlSeconds ?? HOUR;

  const roles: Record<string, PkiRole> = {
    device: pkiRole({
      allow_any_name: true,
      enforce_hostnames: false,
      server_flag: false,
      client_flag: true,
      key_type: 'rsa',
      key_bits: 2048,
      max_ttl: 8760 * HOUR,
      allowed_uri_sans: ['urn:labgate:device:*'],
      allowed_other_sans: ['1.3.6.1.4.1.311.20.2.3;UTF8:*'],
      // labgate names the certificate (device CN, owner URI) also when it signs a CSR.
      use_csr_common_name: false,
      use_csr_sans: false,
      // Device certificates come from their own intermediate, so a chain that trusts it
      // trusts no server certificate of the mount.
      issuer_ref: DEVICE_ISSUER,
    }),
    server: pkiRole({
      allowed_domains: [homelab.domain],
      allow_bare_domains: true,
      allow_subdomains: true,
      allow_localhost: false,
      server_flag: true,
      client_flag: false,
      key_type: 'ec',
      key_bits: 256,
      ttl: 720 * HOUR,
      max_ttl: 2160 * HOUR,
      issuer_ref: 'default',
    }),
  };
  for (const [name, overrides] of Object.entries(opts.roles ?? {})) {
    roles[name] = { ...(roles[name] ?? pkiRole()), ...overrides };
  }

  const rootToken = newTokenId();
  const state: OpenBaoState = {
    version: 1,
    clusterName: `vault-cluster-${randomBytes(4).toString('hex')}`,
    clusterId: randomUUID(),
    auth: {
      rootToken,
      tokens: {
        [rootToken]: {
          id: rootToken,
          accessor: randomBytes(12).toString('base64url'),
          policies: ['root'],
          path: 'auth/token/root',
          displayName: 'root',
          meta: {},
          entityId: '',
          issuedAt: now,
          ttlSeconds: 0,
          expiresAt: null,
          maxExpiresAt: null,
          renewable: false,
        },
      },
      policies: { default: defaultPolicy(), labgate: labgatePolicy(mount) },
      approle: {
        labgate: {
          roleId: randomUUID(),
          secretIds: [randomUUID()],
          bindSecretId: true,
          tokenPolicies: ['labgate'],
          tokenTtlSeconds: tokenTtl,
          tokenMaxTtlSeconds: 24 * HOUR,
        },
      },
      kubernetes: {
        acceptedJwts: [serviceAccountJwt('labgate', 'labgate', now)],
        roles: {
          labgate: {
            boundServiceAccountNames: ['labgate'],
            boundServiceAccountNamespaces: ['labgate'],
            tokenPolicies: ['labgate'],
            tokenTtlSeconds: tokenTtl,
            tokenMaxTtlSeconds: 24 * HOUR,
          },
        },
      },
    },
    pki: {
      mount,
      defaultLeaseTtlSeconds: 768 * HOUR,
      maxLeaseTtlSeconds: 87600 * HOUR,
      crlExpirySeconds: 72 * HOUR,
      roles,
      issuers: {},
      defaultIssuerId: '',
      keys: {},
      urls: emptyAia(),
      certs: {},
    },
  };

  const root = await generateRootIssuer({
    keyType: opts.caKeyType ?? 'ec',
    commonName: `labgate sandbox root CA (${homelab.domain})`,
    name: `root-${new Date(now).toISOString().slice(0, 10).replace(/-/g, '')}`,
    ttlSeconds: opts.caTtlSeconds ?? 87600 * HOUR,
    now,
  });
  const keyring = new IssuerKeyring();
  await installRootIssuer(state.pki, root, keyring, now);
  await addDeviceIssuer(state, keyring, now, opts.caKeyType ?? 'ec', homelab.domain);
  return state;
}

/**
 * The device intermediate, made the way docs/openbao.md tells an operator to: generate a key
 * and CSR in the mount, sign it with the root, import it, name it `devices`.
 */
async function addDeviceIssuer(state: OpenBaoState, keyring: IssuerKeyring, now: number, keyType: 'ec' | 'rsa', domain: string) {
  const deps = { pki: state.pki, keyring, now: () => now, changed: () => {} };
  const commonName = `labgate sandbox devices CA (${domain})`;
  const csr = dataOf(await generateIntermediate(deps, false, { common_name: commonName, key_type: keyType, key_name: DEVICE_ISSUER }));
  const signed = dataOf(await signIntermediate(deps, 'default', { csr: csr.csr, common_name: commonName, ttl: `${43800 * HOUR}s` }));
  const imported = dataOf(await setSignedIntermediate(deps, { certificate: signed.certificate }));
  const id = (imported.imported_issuers as string[])[0]!;
  updateIssuer(deps, id, { issuer_name: DEVICE_ISSUER }, true);
}

function dataOf(result: HandlerResult): Record<string, unknown> {
  if (result.kind !== 'json') throw new Error(`expected a JSON answer, got ${result.kind}`);
  return result.data as Record<string, unknown>;
}
