import { X509Certificate } from 'node:crypto';

/** Go's url.QueryEscape: space as "+", everything but letters, digits and -_.~ percent-encoded. */
export function goQueryEscape(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

/** `X-Forwarded-Tls-Client-Cert` as Traefik v3 sets it: each certificate's base64 DER, joined by ",", not escaped. */
export function clientCertHeader(ders: Buffer[]): string {
  return ders.map((d) => d.toString('base64')).join(',');
}

export interface PassTlsInfo {
  notAfter?: boolean;
  notBefore?: boolean;
  sans?: boolean;
  serialNumber?: boolean;
  subject?: Record<string, boolean>;
  issuer?: Record<string, boolean>;
}

// Distinguished-name fields in the order Traefik writes them, with its option names.
const DN_FIELDS: [option: string, attr: string, label: string][] = [
  ['country', 'C', 'C'],
  ['province', 'ST', 'ST'],
  ['locality', 'L', 'L'],
  ['organization', 'O', 'O'],
  ['organizationalUnit', 'OU', 'OU'],
  ['commonName', 'CN', 'CN'],
  ['serialNumber', 'serialNumber', 'SN'],
  ['domainComponent', 'DC', 'DC'],
];

function dn(text: string, wanted: Record<string, boolean>): string {
  const values = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) values.set(line.slice(0, eq), [...(values.get(line.slice(0, eq)) ?? []), line.slice(eq + 1)]);
  }
  const parts: string[] = [];
  for (const [opt, attr, label] of DN_FIELDS) if (wanted[opt]) for (const v of values.get(attr) ?? []) parts.push(`${label}=${v}`);
  return parts.join(',');
}

/**
 * `X-Forwarded-Tls-Client-Cert-Info`: per certificate `Subject="…";Issuer="…";SerialNumber="<decimal>";NB="<unix>";NA="<unix>";SAN="a,b"`
 * (only the fields the middleware asks for), certificates joined by ",", the whole query-escaped.
 */
export function clientCertInfoHeader(ders: Buffer[], info: PassTlsInfo): string {
  const one = (der: Buffer) => {
    const c = new X509Certificate(der);
    const parts: string[] = [];
    if (info.subject) parts.push(`Subject="${dn(c.subject, info.subject)}"`);
    if (info.issuer) parts.push(`Issuer="${dn(c.issuer, info.issuer)}"`);
    if (info.serialNumber) parts.push(`SerialNumber="${BigInt(`0x${c.serialNumber}`).toString(10)}"`);
    if (info.notBefore) parts.push(`NB="${Math.floor(Date.parse(c.validFrom) / 1000)}"`);
    if (info.notAfter) parts.push(`NA="${Math.floor(Date.parse(c.validTo) / 1000)}"`);
    if (info.sans) {
      const sans = (c.subjectAltName ?? '').split(', ').filter(Boolean).map((s) => s.replace(/^(DNS|email|IP Address|URI):/, ''));
      parts.push(`SAN="${sans.join(',')}"`);
    }
    return parts.join(';');
  };
  return goQueryEscape(ders.map(one).join(','));
}
