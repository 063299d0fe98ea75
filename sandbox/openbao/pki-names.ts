import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import { readChildren, readElement, tlv, utf8String } from './der.js';
import type { PkiRole } from './openbao-state.js';

/**
 * Name checks of OpenBao's PKI roles (ported from builtin/logical/pki/cert_util.go
 * validateNames / validateCommonName / validateOtherSANs) and the subjectAltName encoding.
 */

export interface OtherSan {
  oid: string;
  value: string;
}

export interface SubjectAltNames {
  dnsNames: string[];
  emails: string[];
  ips: string[];
  uris: string[];
  otherSans: OtherSan[];
}

const LABEL = '([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9\\-]*[a-zA-Z0-9])';
const HOSTNAME = new RegExp(`^(\\*\\.)?(${LABEL}\\.)*${LABEL}\\.?$`);
const LEFT_WILD_LABEL = new RegExp(`^(\\*|\\*${LABEL}|${LABEL}\\*|${LABEL}\\*${LABEL})$`);

/** ryanuber/go-glob: only `*` is special. */
export function glob(pattern: string, value: string): boolean {
  if (pattern === '*') return true;
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`, 's').test(value);
}

/** IDNA to ASCII, or undefined when the name cannot be converted. */
export function toAsciiHostname(name: string): string | undefined {
  const ascii = /^[\x00-\x7f]*$/.test(name) ? name : domainToASCII(name);
  return ascii ? ascii : undefined;
}

/** Whether OpenBao would treat the name as a DNS name (its hostnameRegex after IDNA). */
export const isHostname = (name: string) => {
  const ascii = toAsciiHostname(name);
  return ascii !== undefined && HOSTNAME.test(ascii);
};

/** The first name the role does not allow, or "" when all are allowed. */
export function firstDisallowedName(role: PkiRole, names: string[]): string {
  for (const name of names) {
    let reduced = name;
    let emailDomain = name;
    let wildcardLabel = '';
    let isEmail = false;
    let isWildcard = false;

    if (reduced.includes('@')) {
      const parts = reduced.split('@');
      if (parts.length !== 2) return name;
      reduced = emailDomain = parts[1]!;
      isEmail = true;
    }
    if (reduced.includes('*')) {
      isWildcard = true;
      if (!role.allow_wildcard_certificates) return name;
      if ((reduced.match(/\*/g) ?? []).length > 1) return name;
      const dot = reduced.indexOf('.');
      wildcardLabel = dot < 0 ? reduced : reduced.slice(0, dot);
      reduced = dot < 0 ? '' : reduced.slice(dot + 1);
      if (reduced.includes('*')) return name;
    }
    if (isEmail && isWildcard) return name;

    if (role.enforce_hostnames) {
      if (reduced !== '') {
        const ascii = toAsciiHostname(reduced);
        if (ascii === undefined || !HOSTNAME.test(ascii)) return name;
      }
      if (isWildcard && !LEFT_WILD_LABEL.test(wildcardLabel)) return name;
    }
    if (role.allow_any_name) continue;

    if (role.allow_localhost) {
      if (['localhost', 'localdomain'].includes(reduced) || (isEmail && ['localhost', 'localdomain'].includes(emailDomain))) continue;
      if (
        role.allow_subdomains &&
        (reduced.endsWith('.localhost') || reduced.endsWith('.localdomain') || (isWildcard && ['localhost', 'localdomain'].includes(reduced)))
      ) {
        continue;
      }
    }

    const allowed = role.allowed_domains.some((domain) => {
      if (!domain) return false;
      if (role.allow_bare_domains && (name.toLowerCase() === domain.toLowerCase() || (isEmail && emailDomain.toLowerCase() === domain.toLowerCase()))) return true;
      if (role.allow_subdomains && (reduced.endsWith(`.${domain}`) || (isWildcard && reduced.toLowerCase() === domain.toLowerCase()))) return true;
      return role.allow_glob_domains && domain.includes('*') && glob(domain, name);
    });
    if (allowed) continue;
    return name;
  }
  return '';
}

/** validateCommonName: the name when the role refuses it as a common name, else "". */
export function disallowedCommonName(role: PkiRole, cn: string): string {
  if (role.cn_validations.length === 1 && role.cn_validations[0] === 'disabled') return '';
  if (firstDisallowedName(role, [cn]) !== '') return cn;
  if (role.cn_validations.length === 0) return '';
  const needed = cn.includes('@') ? 'email' : 'hostname';
  return role.cn_validations.includes(needed) ? '' : cn;
}

/** Parses "<oid>;UTF8:<value>" entries; throws a message OpenBao would return. */
export function parseOtherSans(entries: string[]): OtherSan[] {
  return entries.map((entry) => {
    const semi = entry.indexOf(';');
    if (semi < 0) throw new Error(`expected a semicolon in other SAN "${entry}"`);
    const rest = entry.slice(semi + 1);
    const colon = rest.indexOf(':');
    if (colon < 0) throw new Error(`expected a colon in other SAN "${entry}"`);
    if (!['utf8', 'utf-8'].includes(rest.slice(0, colon).toLowerCase())) {
      throw new Error(`only utf8 other SANs are supported; found non-supported type in other SAN "${entry}"`);
    }
    return { oid: entry.slice(0, semi), value: rest.slice(colon + 1) };
  });
}

/** validateOtherSANs: an error message, or undefined when all are allowed. */
export function otherSansError(role: PkiRole, requested: OtherSan[]): string | undefined {
  if (role.allowed_other_sans.length === 1 && role.allowed_other_sans[0] === '*') return undefined;
  const allowed = parseOtherSans(role.allowed_other_sans);
  for (const { oid, value } of requested) {
    const patterns = allowed.filter((a) => a.oid === oid).map((a) => a.value);
    if (patterns.length === 0) return `other SAN OID ${oid} not allowed by this role`;
    if (!patterns.some((p) => glob(p, value))) return `other SAN ${value} not allowed for OID ${oid} by this role`;
  }
  return undefined;
}

// --- DER of GeneralNames (RFC 5280 §4.2.1.6) ---

function encodeOid(oid: string): Buffer {
  const parts = oid.split('.').map(Number);
  if (parts.length < 2 || parts.some((p) => !Number.isInteger(p) || p < 0)) throw new Error(`invalid OID ${oid}`);
  const bytes = [parts[0]! * 40 + parts[1]!];
  for (const part of parts.slice(2)) {
    const chunk: number[] = [part & 0x7f];
    for (let n = Math.floor(part / 128); n > 0; n = Math.floor(n / 128)) chunk.unshift(0x80 | (n & 0x7f));
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

function decodeOid(content: Buffer): string {
  const parts = [Math.floor(content[0]! / 40), content[0]! % 40];
  let value = 0;
  for (const byte of content.subarray(1)) {
    value = value * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      parts.push(value);
      value = 0;
    }
  }
  return parts.join('.');
}

function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map(Number));
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const parse = (s: string | undefined) => (s ? s.split(':') : []);
  let groups = parse(head);
  let tailGroups = parse(tail);
  const last = (tailGroups.length ? tailGroups : groups).at(-1);
  const v4 = last?.includes('.') ? last : undefined;
  if (v4) {
    const [a, b, c, d] = v4.split('.').map(Number) as [number, number, number, number];
    const mapped = [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
    if (tailGroups.length) tailGroups = [...tailGroups.slice(0, -1), ...mapped];
    else groups = [...groups.slice(0, -1), ...mapped];
  }
  const fill = tail === undefined ? [] : Array(8 - groups.length - tailGroups.length).fill('0');
  return Buffer.from([...groups, ...fill, ...tailGroups].flatMap((g) => {
    const n = parseInt(g, 16);
    return [n >> 8, n & 0xff];
  }));
}

function ipString(bytes: Buffer): string {
  if (bytes.length === 4) return [...bytes].join('.');
  const groups: string[] = [];
  for (let i = 0; i < bytes.length; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

/** The subjectAltName extension value; otherNames first, then DNS, email, IP, URI (as OpenBao). */
export function encodeSubjectAltNames(sans: SubjectAltNames): Buffer {
  return tlv(
    0x30,
    ...sans.otherSans.map((o) => tlv(0xa0, encodeOid(o.oid), tlv(0xa0, utf8String(o.value)))),
    ...sans.dnsNames.map((d) => tlv(0x82, Buffer.from(d, 'ascii'))),
    ...sans.emails.map((e) => tlv(0x81, Buffer.from(e, 'utf8'))),
    ...sans.ips.map((ip) => tlv(0x87, ipBytes(ip))),
    ...sans.uris.map((u) => tlv(0x86, Buffer.from(u, 'utf8'))),
  );
}

/** Reads a subjectAltName extension value (from a CSR or certificate). */
export function decodeSubjectAltNames(value: Buffer): SubjectAltNames {
  const out: SubjectAltNames = { dnsNames: [], emails: [], ips: [], uris: [], otherSans: [] };
  for (const name of readChildren(readElement(value).content)) {
    switch (name.tag) {
      case 0xa0: {
        const [oid, explicit] = readChildren(name.content);
        const inner = explicit ? readElement(explicit.content) : undefined;
        if (oid?.tag === 0x06 && inner?.tag === 0x0c) out.otherSans.push({ oid: decodeOid(oid.content), value: inner.content.toString('utf8') });
        break;
      }
      case 0x81:
        out.emails.push(name.content.toString('utf8'));
        break;
      case 0x82:
        out.dnsNames.push(name.content.toString('ascii'));
        break;
      case 0x86:
        out.uris.push(name.content.toString('utf8'));
        break;
      case 0x87:
        out.ips.push(ipString(name.content));
        break;
    }
  }
  return out;
}
