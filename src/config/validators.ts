import { z } from 'zod';

/** RFC 1123 hostname: dot-separated labels of a-z, 0-9 and '-', each 1–63 chars, 253 in all. */
export const HOSTNAME_RE = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
/** RFC 1123 label, as Kubernetes namespaces are. */
export const DNS_LABEL_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
/** RFC 1035 label, as Kubernetes Service names are. */
export const DNS1035_LABEL_RE = /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;

export const hostname = (what = 'a hostname') =>
  z.string().trim().toLowerCase().regex(HOSTNAME_RE, { error: `must be ${what}: letters, digits and '-' in dot-separated labels of up to 63 characters` });

export const dnsLabel = (what: string) =>
  z.string().trim().regex(DNS_LABEL_RE, { error: `must be ${what}: lowercase letters, digits and '-', 1–63 characters, starting and ending with a letter or digit` });
