import { createHash } from 'node:crypto';

/** The few fields labgate reads from every certificate it scans. */
export interface CertificateFields {
  notBefore: number;
  notAfter: number;
  /** URI subjectAltNames, in order. */
  uris: string[];
  /** SHA-256 of the DER SubjectPublicKeyInfo, hex. */
  keySha256: string;
}

interface Tlv {
  tag: number;
  /** Offset of the tag, of the value, and the value's end. */
  at: number;
  start: number;
  end: number;
}

function tlv(buf: Buffer, at: number): Tlv {
  const tag = buf[at]!;
  let len = buf[at + 1]!;
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new Error('unsupported DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[start + i]!;
    start += n;
  }
  if (start + len > buf.length) throw new Error('truncated DER');
  return { tag, at, start, end: start + len };
}

function children(buf: Buffer, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.start; at < parent.end; ) {
    const t = tlv(buf, at);
    out.push(t);
    at = t.end;
  }
  return out;
}

function time(buf: Buffer, t: Tlv): number {
  const s = buf.toString('latin1', t.start, t.end);
  // UTCTime YYMMDDHHMMSSZ (years 1950–2049) or GeneralizedTime YYYYMMDDHHMMSSZ.
  const full = t.tag === 0x17 ? `${Number(s.slice(0, 2)) >= 50 ? '19' : '20'}${s}` : s;
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(full);
  if (!m) throw new Error(`unsupported certificate time ${s}`);
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
}

const SAN_OID = Buffer.from([0x55, 0x1d, 0x11]);

/**
 * Validity, URI SANs and key hash of a PEM or DER certificate, read straight from the DER
 * (RFC 5280 TBSCertificate). node:crypto's X509Certificate costs about half a millisecond per
 * certificate, which a scan of thousands of certificates should not pay.
 */
export function certificateFields(cert: string | Buffer): CertificateFields {
  const der = typeof cert === 'string' ? Buffer.from(cert.replace(/-----[^-]+-----|\s+/g, ''), 'base64') : cert;
  const top = tlv(der, 0);
  const tbs = children(der, top)[0]!;
  const f = children(der, tbs);
  const i = f[0]!.tag === 0xa0 ? 1 : 0; // optional [0] version
  const validity = children(der, f[i + 3]!);
  const spki = f[i + 5]!;
  const uris: string[] = [];
  const extWrapper = f.slice(i + 6).find((t) => t.tag === 0xa3);
  if (extWrapper) {
    for (const ext of children(der, children(der, extWrapper)[0]!)) {
      const parts = children(der, ext);
      const oid = parts[0]!;
      if (!der.subarray(oid.start, oid.end).equals(SAN_OID)) continue;
      const value = parts[parts.length - 1]!;
      const names = tlv(der, value.start);
      for (const name of children(der, names)) if (name.tag === 0x86) uris.push(der.toString('latin1', name.start, name.end));
    }
  }
  return {
    notBefore: time(der, validity[0]!),
    notAfter: time(der, validity[1]!),
    uris,
    keySha256: createHash('sha256').update(der.subarray(spki.at, spki.end)).digest('hex'),
  };
}
