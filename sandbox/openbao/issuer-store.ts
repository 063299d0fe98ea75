import { randomUUID, X509Certificate } from 'node:crypto';
import type { AiaUrls, PkiIssuer, PkiMountState } from './openbao-state.js';
import { colonSerialFromHex } from './serials.js';

/**
 * The mount's issuers as OpenBao keeps them (builtin/logical/pki/storage.go, chain_util.go):
 * references by id, name or "default", and each issuer's computed `ca_chain`.
 */

/** OpenBao's default usage of a new issuer. */
export const ALL_ISSUER_USAGES = ['read-only', 'issuing-certificates', 'crl-signing', 'ocsp-signing'];

/** framework.GenericNameRegex: what an issuer or key name may look like. */
export const ISSUER_NAME_RE = /^\w(([\w.-]+)?\w)?$/;

export const emptyAia = (): AiaUrls => ({ issuingCertificates: [], crlDistributionPoints: [], deltaCrlDistributionPoints: [], ocspServers: [], enableTemplating: false });

/** resolveIssuerReference: "default", an id, or a name; undefined when none matches. */
export function resolveIssuer(pki: PkiMountState, ref: string): PkiIssuer | undefined {
  if (ref === 'default' || ref === '') return pki.issuers[pki.defaultIssuerId];
  if (Object.hasOwn(pki.issuers, ref)) return pki.issuers[ref];
  return Object.values(pki.issuers).find((i) => i.name !== '' && i.name === ref);
}

/** Whether `child` names `parent` as its issuer and carries its signature. */
function signedBy(child: X509Certificate, parent: X509Certificate): boolean {
  return child.checkIssued(parent) && child.verify(parent.publicKey);
}

const isSelfSigned = (cert: X509Certificate) => signedBy(cert, cert);

/**
 * rebuildIssuersChains, reduced: every issuer's chain is itself, then the issuer in the mount
 * that signed it, and so on up to a self-signed root (or the last parent the mount knows).
 */
export function rebuildIssuerChains(pki: PkiMountState): void {
  const parsed = new Map(Object.values(pki.issuers).map((i) => [i.id, new X509Certificate(i.certificatePem)]));
  for (const issuer of Object.values(pki.issuers)) {
    const chain = [issuer.certificatePem];
    let current = parsed.get(issuer.id)!;
    const seen = new Set([issuer.id]);
    while (!isSelfSigned(current)) {
      const parent = Object.values(pki.issuers).find((p) => !seen.has(p.id) && signedBy(current, parsed.get(p.id)!));
      if (!parent) break;
      seen.add(parent.id);
      chain.push(parent.certificatePem);
      current = parsed.get(parent.id)!;
    }
    issuer.caChain = chain;
  }
}

/** Whether a certificate is a CA that signed itself (remove_roots_from_chain drops those). */
export function isRoot(pem: string): boolean {
  return isSelfSigned(new X509Certificate(pem));
}

/** Colon-form serial of a PEM certificate. */
export const serialOf = (pem: string) => colonSerialFromHex(new X509Certificate(pem).serialNumber);

/**
 * Fills in what state files written before issuers were modelled lack, so an older sandbox
 * state keeps working: keys, config/urls, and each issuer's key id, serial, chain and usage.
 */
export function upgradePkiState(pki: PkiMountState): void {
  pki.keys ??= {};
  pki.backendUuid ??= randomUUID();
  pki.urls ??= emptyAia();
  let chainsMissing = false;
  for (const issuer of Object.values(pki.issuers)) {
    issuer.keyId ??= `key-${issuer.id}`;
    issuer.serialNumber ??= serialOf(issuer.certificatePem);
    issuer.usage ??= [...ALL_ISSUER_USAGES];
    if (!issuer.caChain) chainsMissing = true;
  }
  if (chainsMissing) rebuildIssuerChains(pki);
}

/** A PEM certificate the way OpenBao stores an issuer's: one block and a newline. */
export const storedPem = (pem: string) => `${pem.trim()}\n`;
