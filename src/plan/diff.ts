import { X509Certificate } from 'node:crypto';
import { createTwoFilesPatch } from 'diff';
import { stringify } from 'yaml';
import type { Change } from './model.js';
import { iso } from '../duration.js';

const TOP_ORDER = ['apiVersion', 'kind', 'metadata', 'type', 'spec', 'data', 'stringData'];
const META_ORDER = ['name', 'namespace', 'labels', 'annotations'];
/** A certificate as describeCertificates shows it reads in this order. */
const CERT_ORDER = ['subject', 'issuer', 'serial', 'expires'];
const isCertDescription = (keys: string[]) => keys.length === CERT_ORDER.length && CERT_ORDER.every((k) => keys.includes(k));

function orderKeys(v: unknown, depth = 0, parent = ''): unknown {
  if (Array.isArray(v)) return v.map((x) => orderKeys(x, depth + 1, parent));
  if (!v || typeof v !== 'object') return v;
  const keys = Object.keys(v);
  const preferred = depth === 0 ? TOP_ORDER : parent === 'metadata' ? META_ORDER : isCertDescription(keys) ? CERT_ORDER : [];
  keys.sort((a, b) => {
    const ia = preferred.indexOf(a);
    const ib = preferred.indexOf(b);
    if (ia !== -1 || ib !== -1) return (ia === -1 ? 99 : ia) - (ib === -1 ? 99 : ib);
    return a < b ? -1 : a > b ? 1 : 0;
  });
  return Object.fromEntries(keys.map((k) => [k, orderKeys((v as Record<string, unknown>)[k], depth + 1, k)]));
}

/** YAML with a stable key order, so a diff shows only real differences. */
export function toDiffYaml(state: unknown): string {
  if (state === null || state === undefined) return '';
  return stringify(orderKeys(state), { lineWidth: 0, sortMapEntries: false });
}

/** "kubernetes:traefik.io/v1alpha1/IngressRoute/media/photos-ts" → "IngressRoute/media/photos-ts". */
export function displayTarget(target: string): string {
  const [, rest = target] = target.split(/:(.*)/s);
  const parts = rest.split('/');
  // Drop the API group/version ("traefik.io/v1alpha1", "v1") from Kubernetes targets.
  if (target.startsWith('kubernetes:')) return parts.slice(parts[0]!.includes('.') ? 2 : 1).join('/');
  return rest;
}

const PEM_CERT_RE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The certificates in a value (PEM, one or a chain, or one DER), each as the fields a person checks; undefined when it is not certificate data. */
export function describeCertificates(value: Buffer): { subject: string; issuer: string; serial: string; expires: string }[] | undefined {
  try {
    const text = value.toString('utf8');
    const pems = text.match(PEM_CERT_RE);
    const certs = pems ? pems.map((p) => new X509Certificate(p)) : value[0] === 0x30 ? [new X509Certificate(value)] : undefined;
    return certs?.map((c) => ({
      subject: c.subject.split('\n').join(', '),
      issuer: c.issuer.split('\n').join(', '),
      serial: c.serialNumber.toLowerCase().replace(/(..)(?=.)/g, '$1:'),
      expires: iso(c.validTo),
    }));
  } catch {
    return undefined;
  }
}

type SecretData = Record<string, string>;

/**
 * What a diff may show of a Secret's values (data: base64, stringData: text): certificate data
 * decoded into subject, issuer, serial and expiry; anything else never, only its size, and on
 * the after side whether it changed (so a rotated key still shows up in the diff).
 */
function displaySecretValues(values: unknown, other: unknown, encoding: 'base64' | 'utf8', side: 'before' | 'after'): unknown {
  if (!values || typeof values !== 'object') return values;
  const others = (other && typeof other === 'object' ? other : {}) as SecretData;
  return Object.fromEntries(
    Object.entries(values as SecretData).map(([key, raw]) => {
      const bytes = Buffer.from(String(raw), encoding);
      const certs = describeCertificates(bytes);
      if (certs) return [key, certs];
      const changed = side === 'after' && others[key] !== undefined && others[key] !== raw;
      return [key, `not shown (${bytes.length} bytes${changed ? ', changed' : ''})`];
    }),
  );
}

function isSecret(state: unknown): state is { kind: 'Secret'; data?: unknown; stringData?: unknown } {
  return !!state && typeof state === 'object' && (state as { kind?: unknown }).kind === 'Secret' && (state as { apiVersion?: unknown }).apiVersion === 'v1';
}

/** A Kubernetes Secret as a diff may show it (see displaySecretValues); any other state unchanged. */
export function displayState(state: unknown, other: unknown, side: 'before' | 'after'): unknown {
  if (!isSecret(state)) return state;
  const o = (isSecret(other) ? other : {}) as { data?: unknown; stringData?: unknown };
  return {
    ...state,
    ...(state.data !== undefined ? { data: displaySecretValues(state.data, o.data, 'base64', side) } : {}),
    ...(state.stringData !== undefined ? { stringData: displaySecretValues(state.stringData, o.stringData, 'utf8', side) } : {}),
  };
}

/** The unified diff of one change: before → after as YAML (Secret values as displayState shows them). */
export function changeDiff(change: Change): string {
  const name = displayTarget(change.target);
  const patch = createTwoFilesPatch(
    change.before == null ? '/dev/null' : `a/${name}`,
    change.after == null ? '/dev/null' : `b/${name}`,
    toDiffYaml(displayState(change.before, change.after, 'before')),
    toDiffYaml(displayState(change.after, change.before, 'after')),
    undefined,
    undefined,
    { context: 3 },
  );
  // Drop the "Index:"/"====" preamble the library writes; keep ---/+++ and hunks.
  return patch
    .split('\n')
    .filter((l) => !l.startsWith('===') && !l.startsWith('Index:'))
    .join('\n')
    .trimEnd();
}

/** The whole plan's diff, one file section per change, in apply order. */
export function planDiff(changes: Change[]): string {
  return changes.map(changeDiff).join('\n');
}

const ANSI = { red: '\x1b[31m', green: '\x1b[32m', cyan: '\x1b[36m', bold: '\x1b[1m', reset: '\x1b[0m' };

/** Colours a unified diff for a terminal. */
export function colourDiff(diff: string): string {
  return diff
    .split('\n')
    .map((l) => {
      if (l.startsWith('+++') || l.startsWith('---')) return ANSI.bold + l + ANSI.reset;
      if (l.startsWith('+')) return ANSI.green + l + ANSI.reset;
      if (l.startsWith('-')) return ANSI.red + l + ANSI.reset;
      if (l.startsWith('@@')) return ANSI.cyan + l + ANSI.reset;
      return l;
    })
    .join('\n');
}
