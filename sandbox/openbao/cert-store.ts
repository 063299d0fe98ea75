import { pemDecode } from './der.js';
import { rfc3339Nano } from './durations.js';
import { jsonResult, listResult, notFound, OpenBaoHttpError, type HandlerResult } from './http-envelope.js';
import { resolveIssuer } from './issuer-store.js';
import type { PkiIssuer, StoredCertificate } from './openbao-state.js';
import type { PkiEngineDeps } from './pki-engine.js';
import { rebuildCrl } from './pki-issuer.js';
import { pageOf, type RequestBody } from './request-fields.js';
import { hyphenSerial, hyphenToColon } from './serials.js';
import { x509 } from '../../src/pki/x509.js';

/**
 * The mount's certificate store as clients read it (path_fetch.go): the lists (plain,
 * detailed, revoked), one certificate by serial (JSON or raw), the default issuer's CA, chain
 * and CRL, and the CRL rotation.
 */
export class CertStore {
  private sorted?: { version: number; keys: string[] };

  constructor(private readonly deps: PkiEngineDeps) {}

  private get pki() {
    return this.deps.pki;
  }

  /** The default issuer (ca/pem, ca_chain, crl); OpenBao answers 500 without one. */
  defaultIssuer(): PkiIssuer {
    const issuer = resolveIssuer(this.pki, 'default');
    if (!issuer) throw new OpenBaoHttpError(500, ['no default issuer currently configured']);
    return issuer;
  }

  /** The storage keys of the certificates, sorted; kept between requests while nothing changes (a paged list reads it once per page). */
  private certKeys(): string[] {
    const version = this.deps.version?.();
    if (version !== undefined && this.sorted?.version === version) return this.sorted.keys;
    const keys = Object.keys(this.pki.certs).sort();
    if (version !== undefined) this.sorted = { version, keys };
    return keys;
  }

  /** `LIST <mount>/certs`: colon-form serials in storage order (sorted), paged by after/limit. */
  listCerts(body: RequestBody): HandlerResult {
    return listResult(pageOf(this.certKeys(), body).map(hyphenToColon));
  }

  /**
   * `LIST <mount>/certs/detailed` (pathFetchCertListDetailed): keys plus key_info per
   * certificate with subject CN, issuer DN, key type and size, validity, and at most five DNS
   * names. No URIs: what else a certificate says needs `cert/<serial>`.
   */
  listCertsDetailed(body: RequestBody): HandlerResult {
    const keys = pageOf(this.certKeys(), body);
    const info: Record<string, unknown> = {};
    const issuerNames = new Map<string, string>();
    const issuerName = (cert: StoredCertificate) => {
      let name = issuerNames.get(cert.issuerId);
      if (name === undefined) {
        const issuer = this.pki.issuers[cert.issuerId];
        name = issuer ? goDistinguishedName(new x509.X509Certificate(issuer.certificatePem).subjectName) : goDistinguishedName(new x509.X509Certificate(cert.certificatePem).issuerName);
        issuerNames.set(cert.issuerId, name);
      }
      return name;
    };
    for (const key of keys) {
      const cert = this.pki.certs[key]!;
      info[hyphenToColon(key)] = {
        common_name: cert.commonName,
        issuer: issuerName(cert),
        key_type: cert.keyType,
        // OpenBao reports a fixed 256 for Ed25519.
        key_bits: cert.keyType === 'ed25519' ? 256 : cert.keyBits,
        not_after: rfc3339Nano(cert.notAfter * 1000),
        not_before: rfc3339Nano(cert.notBefore * 1000),
        dns_names: cert.dnsNames.slice(0, 5),
      };
    }
    return listResult(keys.map(hyphenToColon), info);
  }

  /** `LIST <mount>/certs/revoked`. */
  listRevoked(body: RequestBody): HandlerResult {
    const revoked = Object.keys(this.pki.certs).filter((k) => this.pki.certs[k]!.revokedAt !== undefined);
    return listResult(pageOf(revoked, body).map(hyphenToColon));
  }

  /** `GET <mount>/cert/<serial>` (also ca, ca_chain, crl) as JSON. */
  async readCertJson(serial: string): Promise<HandlerResult> {
    if (serial === 'ca') return jsonResult(this.fetchData(this.defaultIssuer().certificatePem));
    if (serial === 'ca_chain') {
      const chain = this.defaultIssuer().caChain.join('\n');
      return jsonResult({ ...this.fetchData(chain), ca_chain: chain });
    }
    if (serial === 'crl' || serial === 'delta-crl') return jsonResult(this.fetchData((await this.freshCrl()).pem));
    const cert = this.findCert(serial);
    if (!cert) throw notFound();
    const data = this.fetchData(cert.certificatePem);
    if (cert.revokedAt !== undefined) {
      data.revocation_time = Math.floor(cert.revokedAt / 1000);
      data.revocation_time_rfc3339 = rfc3339Nano(cert.revokedAt);
      data.issuer_id = cert.issuerId;
    }
    return jsonResult(data);
  }

  private fetchData(pem: string): Record<string, unknown> {
    return { certificate: pem, revocation_time: 0, revocation_time_rfc3339: '' };
  }

  /** `GET <mount>/cert/<serial>/raw[/pem]`: DER or PEM body; 204 when unknown, like OpenBao's raw paths. */
  readCertRaw(serial: string, pem: boolean): HandlerResult {
    const source = serial === 'ca' ? this.defaultIssuer().certificatePem : this.findCert(serial)?.certificatePem;
    if (!source) return { kind: 'empty' };
    return pem
      ? { kind: 'raw', contentType: 'application/pem-certificate-chain', body: source }
      : { kind: 'raw', contentType: 'application/pkix-cert', body: Buffer.from(new x509.X509Certificate(source).rawData) };
  }

  findCert(serial: string): StoredCertificate | undefined {
    const key = hyphenSerial(serial);
    return Object.hasOwn(this.pki.certs, key) ? this.pki.certs[key] : undefined;
  }

  /** `GET <mount>/ca/pem` (no trailing newline) and `GET <mount>/ca` (DER). */
  readCa(pem: boolean): HandlerResult {
    const cert = this.defaultIssuer().certificatePem;
    return pem
      ? { kind: 'raw', contentType: 'application/pem-certificate-chain', body: cert }
      : { kind: 'raw', contentType: 'application/pkix-cert', body: Buffer.from(new x509.X509Certificate(cert).rawData) };
  }

  /** `GET <mount>/ca_chain`: the default issuer's chain as PEM (sic: application/pkix-cert). */
  readCaChain(): HandlerResult {
    return { kind: 'raw', contentType: 'application/pkix-cert', body: this.defaultIssuer().caChain.join('\n') };
  }

  /** `GET <mount>/crl` (DER) and `GET <mount>/crl/pem`. */
  async readCrl(pem: boolean): Promise<HandlerResult> {
    const crl = await this.freshCrl();
    return pem
      ? { kind: 'raw', contentType: 'application/x-pem-file', body: crl.pem }
      : { kind: 'raw', contentType: 'application/pkix-crl', body: pemDecode(crl.pem) };
  }

  /** `GET <mount>/crl/rotate`: rebuilds every issuer's CRL now (path_fetch.go pathRotateCRLRead). */
  async rotateCrl(): Promise<HandlerResult> {
    for (const issuer of Object.values(this.pki.issuers)) await rebuildCrl(this.pki, issuer, this.deps.keyring, this.deps.now());
    this.deps.changed();
    return jsonResult({ success: true });
  }

  /** The default issuer's CRL, rebuilt first when it has expired (OpenBao's periodic rebuild). */
  private async freshCrl() {
    const issuer = this.defaultIssuer();
    if (!issuer.crl.pem || issuer.crl.nextUpdate <= this.deps.now()) {
      await rebuildCrl(this.pki, issuer, this.deps.keyring, this.deps.now());
      this.deps.changed();
    }
    return issuer.crl;
  }
}

const GO_ATTRIBUTE_NAMES: Record<string, string> = { CN: 'CN', O: 'O', OU: 'OU', C: 'C', L: 'L', ST: 'ST', STREET: 'STREET', street: 'STREET', postalCode: 'POSTALCODE', serialNumber: 'SERIALNUMBER' };

/** Go's pkix.Name.String(): RDNs last to first, joined by "," (RFC 2253). */
export function goDistinguishedName(name: x509.Name): string {
  const escape = (v: string) => v.replace(/([,+"\\<>;])/g, '\\$1').replace(/^([ #])/, '\\$1').replace(/ $/, '\\ ');
  return name
    .toJSON()
    .map((rdn) => Object.entries(rdn).flatMap(([type, values]) => values.map((v) => `${GO_ATTRIBUTE_NAMES[type] ?? type}=${escape(v)}`)).join('+'))
    .reverse()
    .join(',');
}

