/**
 * The slice of OpenBao's PKI engine labgate uses. The node-vault adapter is the only
 * implementation that talks HTTP; serials are lowercase colon form ("39:dd:2e:…") and times
 * are unix milliseconds throughout.
 */

export interface IssueRequest {
  commonName: string;
  /** URI SANs: labgate's owner and profile URNs. */
  uriSans: string[];
  ttlSeconds: number;
  /** Honoured when the role's key_type is `any`; a role with a fixed key type wins. */
  keyType: 'rsa' | 'ec';
  keyBits: number;
}

/** What `issue` returns. The private key lives only in the worker's memory: never store or log it. */
export interface IssuedCertificate {
  serial: string;
  certificatePem: string;
  caChainPem: string[];
  privateKeyPem: string;
  expiresAt: number;
}

export interface SignRequest {
  csrPem: string;
  commonName: string;
  uriSans: string[];
  ttlSeconds: number;
}

export interface SignedCertificate {
  serial: string;
  certificatePem: string;
  caChainPem: string[];
  expiresAt: number;
}

/** One row of `LIST <mount>/certs/detailed` (OpenBao lists no URIs: the owner needs `cert/<serial>`). */
export interface CertificateSummary {
  serial: string;
  commonName: string;
  notBefore: number;
  notAfter: number;
}

export interface StoredCertificate {
  serial: string;
  certificatePem: string;
  /** Absent when not revoked. */
  revokedAt?: number;
}

export interface OpenBaoPort {
  /** `POST <mount>/issue/<role>`. */
  issue(role: string, req: IssueRequest): Promise<IssuedCertificate>;
  /** `POST <mount>/sign/<role>`. */
  sign(role: string, req: SignRequest): Promise<SignedCertificate>;
  /** `LIST <mount>/certs/detailed`, every page; an empty mount is an empty list. */
  listCertificates(): Promise<CertificateSummary[]>;
  /** `LIST <mount>/certs/revoked`. */
  listRevoked(): Promise<string[]>;
  /** `GET <mount>/cert/<serial>`; null when OpenBao does not know the serial. */
  readCertificate(serial: string): Promise<StoredCertificate | null>;
  /** `POST <mount>/revoke`; idempotent. `revokedAt` is null when OpenBao refused an expired certificate. */
  revoke(serial: string): Promise<{ revokedAt: number | null; warnings: string[] }>;
  /** `GET <mount>/crl/rotate`: publish a CRL with the latest revocations now. */
  rotateCrl(): Promise<void>;
  /** `GET <mount>/ca_chain`: the default issuer's chain, leaf-most first. */
  caChain(): Promise<string[]>;
  /** `GET <mount>/issuer/<ref>/json`: that issuer (id, name or "default") and its parents, leaf-most first. */
  issuerChain(ref: string): Promise<string[]>;
  /** `GET <mount>/crl/pem`. */
  crlPem(): Promise<string>;
}

/** "39-DD-2E" or "39:dd:2e" → "39:dd:2e". */
export function normalizeSerial(serial: string): string {
  return serial.trim().toLowerCase().replace(/-/g, ':');
}

/** Every certificate PEM block in a text. */
export function pemBlocks(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}
