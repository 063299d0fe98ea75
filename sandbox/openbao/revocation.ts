import { jsonResult, OpenBaoHttpError, userError, type HandlerResult } from './http-envelope.js';
import type { CertStore } from './cert-store.js';
import { describePublicKey } from './csr-parsing.js';
import { pemDecode, pemEncode } from './der.js';
import { rfc3339Nano } from './durations.js';
import type { StoredCertificate } from './openbao-state.js';
import type { PkiEngineDeps } from './pki-engine.js';
import { rebuildCrl } from './pki-issuer.js';
import { decodeSubjectAltNames } from './pki-names.js';
import { stringField, type RequestBody } from './request-fields.js';
import { colonSerialFromHex, hyphenSerial } from './serials.js';
import { x509 } from '../../src/pki/x509.js';

/** `POST <mount>/revoke` (path_revoke.go, crl_util.go revokeCert). */
export class Revocations {
  constructor(
    private readonly deps: PkiEngineDeps,
    private readonly store: CertStore,
  ) {}

  private get pki() {
    return this.deps.pki;
  }

  private findCert(serial: string): StoredCertificate | undefined {
    return this.store.findCert(serial);
  }

  /** `POST <mount>/revoke`: by serial_number or certificate; idempotent; rebuilds the issuer's CRL. */
  async revoke(body: RequestBody): Promise<HandlerResult> {
    const haveSerial = body.serial_number !== undefined;
    const haveCert = body.certificate !== undefined;
    if (!haveSerial && !haveCert) throw userError('The serial number or certificate to revoke must be provided.');
    if (haveSerial && haveCert) throw userError('Must provide either the certificate or the serial to revoke; not both.');

    let serial: string;
    let cert: StoredCertificate | undefined;
    if (haveCert) {
      ({ serial, cert } = await this.certificateToRevoke(stringField(body, 'certificate')));
    } else {
      serial = stringField(body, 'serial_number');
      if (serial === '') throw userError('The serial number must be provided');
      cert = /^[0-9A-Fa-f:-]+$/.test(serial) ? this.findCert(serial) : undefined;
    }
    if (!cert) throw userError(`certificate with serial ${serial} not found.`);
    serial = cert.serialNumber;

    const owner = Object.values(this.pki.issuers).find((i) => i.serialNumber === cert.serialNumber);
    if (owner) throw userError(`adding issuer (id: ${owner.id}) to its own CRL is not allowed`);
    if (cert.revokedAt !== undefined) return jsonResult(revocationData(cert.revokedAt));

    const now = this.deps.now();
    if (cert.notAfter * 1000 < now + 2000) {
      return jsonResult(null, [`certificate with serial ${serial} already expired; refusing to add to CRL`]);
    }
    cert.revokedAt = now;
    const issuer = this.pki.issuers[cert.issuerId];
    if (issuer) await rebuildCrl(this.pki, issuer, this.deps.keyring, now);
    this.deps.changed();
    return jsonResult(revocationData(now));
  }

  /**
   * pathRevokeWriteHandleCertificate: a stored certificate must be byte-identical; an unstored
   * one is accepted (and stored) when one of the mount's issuers signed it.
   */
  private async certificateToRevoke(pem: string): Promise<{ serial: string; cert: StoredCertificate }> {
    if (pem.length < 75) {
      throw userError('provided certificate data was too short; perhaps a path was passed to the API rather than the contents of a PEM file');
    }
    let der: Buffer;
    try {
      der = pemDecode(pem);
    } catch {
      throw userError('certificate contains no PEM data');
    }
    let parsed: x509.X509Certificate;
    try {
      parsed = new x509.X509Certificate(der);
    } catch (err) {
      throw userError(`certificate could not be parsed: ${(err as Error).message}`);
    }
    const serial = colonSerialFromHex(parsed.serialNumber);
    const stored = this.findCert(serial);
    if (stored) {
      if (!der.equals(pemDecode(stored.certificatePem))) {
        throw new OpenBaoHttpError(500, ["certificate with same serial but unequal value already present in this cluster's storage; refusing to revoke"]);
      }
      return { serial, cert: stored };
    }
    for (const issuer of Object.values(this.pki.issuers)) {
      const issuerCert = new x509.X509Certificate(issuer.certificatePem);
      if (await parsed.verify({ publicKey: issuerCert, signatureOnly: true }).catch(() => false)) {
        const sans = parsed.getExtension('2.5.29.17');
        const cert: StoredCertificate = {
          serialNumber: serial,
          certificatePem: pemEncode(der, 'CERTIFICATE'),
          issuerId: issuer.id,
          commonName: parsed.subjectName.getField('CN')[0] ?? '',
          dnsNames: sans ? decodeSubjectAltNames(Buffer.from(sans.value)).dnsNames : [],
          ...describePublicKey(Buffer.from(parsed.publicKey.rawData)),
          notBefore: Math.floor(parsed.notBefore.getTime() / 1000),
          notAfter: Math.floor(parsed.notAfter.getTime() / 1000),
        };
        this.pki.certs[hyphenSerial(serial)] = cert;
        return { serial, cert };
      }
    }
    throw userError(
      'unable to verify signature on presented cert from any present issuer in this mount; certificates from previous CAs will need to have their issuing CA and key re-imported if revocation is necessary',
    );
  }
}

function revocationData(revokedAt: number) {
  return { revocation_time: Math.floor(revokedAt / 1000), revocation_time_rfc3339: rfc3339Nano(revokedAt), state: 'revoked' };
}
