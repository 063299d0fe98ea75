import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OutMessage } from '../../src/messages/message.js';
import { openssl } from '../pki/openssl.js';
import type { Lab } from '../support/lab.js';

export type Printed = Lab['printed'][number];

/** DMs the shell printed for `user`, oldest first. */
export function dmsTo(lab: Lab, user: string): Printed[] {
  return lab.printed.filter((m) => m.kind === 'dm' && m.to === user);
}

/** The credentials one issue delivered: files from the DM folder, passphrase from the second message. */
export interface Delivered {
  first: Printed;
  second: Printed;
  p12: Buffer;
  p12Path: string;
  caPem: string;
  caPath: string;
  passphrase: string;
}

export function delivered(msgs: Printed[]): Delivered {
  const [first, second] = msgs.slice(-2) as [Printed, Printed];
  const p12Ref = first.files?.find((f) => f.name.endsWith('.p12'));
  const caRef = first.files?.find((f) => f.name === 'labgate-ca.pem');
  if (!p12Ref?.path || !caRef?.path) throw new Error(`no bundle in the DM: ${JSON.stringify(first)}`);
  const passphrase = /Passphrase for \S+\.p12: (\S+)/.exec(second.text)?.[1];
  if (!passphrase) throw new Error(`no passphrase in the second DM: ${second.text}`);
  return { first, second, p12: readFileSync(p12Ref.path), p12Path: p12Ref.path, caPem: readFileSync(caRef.path, 'utf8'), caPath: caRef.path, passphrase };
}

export function pemBlocks(text: string, label: string): string[] {
  return text.match(new RegExp(`-----BEGIN ${label}-----[\\s\\S]+?-----END ${label}-----`, 'g')) ?? [];
}

/** What Debian's openssl reads out of a bundle with its passphrase. */
export async function openBundle(d: Delivered): Promise<{ info: string[]; certPem: string; keyPem: string }> {
  const pass = (args: string[]) => openssl(['pkcs12', '-in', d.p12Path, '-passin', 'env:P12_PASS', ...args], d.passphrase);
  const info = await pass(['-info', '-noout']);
  if (info.code !== 0) throw new Error(`openssl pkcs12 -info failed: ${info.stderr}`);
  const certs = await pass(['-nokeys', '-clcerts']);
  const key = await pass(['-nocerts', '-nodes']);
  if (certs.code !== 0 || key.code !== 0) throw new Error(`openssl pkcs12 extract failed: ${certs.stderr} ${key.stderr}`);
  return { info: info.stderr.split('\n').filter((l) => l.trim()), certPem: pemBlocks(certs.stdout, 'CERTIFICATE')[0]!, keyPem: pemBlocks(key.stdout, 'PRIVATE KEY')[0]! };
}

/** `openssl verify -purpose sslclient` of a certificate against a CA file. */
export async function verifyClientCert(certPem: string, caPath: string): Promise<{ code: number; out: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'labgate-verify-'));
  const file = join(dir, 'leaf.pem');
  writeFileSync(file, certPem);
  // The Secret holds the device issuer alone, as Traefik (Go) takes it: a trust anchor, not a chain to a root.
  const r = await openssl(['verify', '-partial_chain', '-purpose', 'sslclient', '-CAfile', caPath, file]);
  return { code: r.code, out: r.stdout + r.stderr };
}

export function uriSans(certPem: string): string[] {
  return [...(new X509Certificate(certPem).subjectAltName ?? '').matchAll(/URI:([^,\s]+)/g)].map((m) => m[1]!);
}

export function serialOf(certPem: string): string {
  return new X509Certificate(certPem)
    .serialNumber.toLowerCase()
    .replace(/^(0{2})+/, '')
    .match(/../g)!
    .join(':');
}

/** Every message the shell printed outside DMs, as one text (what a channel would show). */
export function channelText(lab: Lab): string {
  return JSON.stringify(lab.printed.filter((m) => m.kind !== 'dm') as OutMessage[]);
}
