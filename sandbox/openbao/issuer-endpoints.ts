import { pemDecode } from './der.js';
import { jsonResult, listResult, userError, type HandlerResult } from './http-envelope.js';
import type { IssuerDeps } from './intermediate-ca.js';
import { ALL_ISSUER_USAGES, ISSUER_NAME_RE, resolveIssuer, storedPem } from './issuer-store.js';
import type { AiaUrls, PkiIssuer } from './openbao-state.js';
import { rebuildCrl } from './pki-issuer.js';
import { boolField, commaListField, pageOf, stringField, type RequestBody } from './request-fields.js';

/**
 * Reading and changing issuers (path_fetch_issuers.go): `LIST issuers`, `issuer/<ref>` (JSON,
 * update, patch), the unauthenticated `issuer/<ref>/{json,pem,der}` and `issuer/<ref>/crl…`,
 * and the mount's `config/urls`.
 */

const byRef = (deps: IssuerDeps, ref: string): PkiIssuer => {
  const issuer = resolveIssuer(deps.pki, ref);
  if (!issuer) throw userError(`unable to find PKI issuer for reference: ${ref}`);
  return issuer;
};

/** OpenBao's Names(): known usages sorted, joined by commas. */
const usageNames = (usage: string[]) => [...usage].sort().join(',');

/** `LIST <mount>/issuers` (no token needed): ids with name, default flag, serial and key id. */
export function listIssuers(deps: IssuerDeps, body: RequestBody): HandlerResult {
  const page = pageOf(Object.keys(deps.pki.issuers), body);
  const info: Record<string, unknown> = {};
  for (const id of page) {
    const issuer = deps.pki.issuers[id]!;
    info[id] = { issuer_name: issuer.name, is_default: id === deps.pki.defaultIssuerId, serial_number: issuer.serialNumber, key_id: issuer.keyId };
  }
  return listResult(page, info);
}

/** respondReadIssuer: what `GET issuer/<ref>` and an update answer. */
function issuerData(issuer: PkiIssuer): Record<string, unknown> {
  const aia = issuer.aia;
  return {
    issuer_id: issuer.id,
    issuer_name: issuer.name,
    key_id: issuer.keyId,
    certificate: storedPem(issuer.certificatePem),
    manual_chain: null,
    ca_chain: issuer.caChain.map(storedPem),
    leaf_not_after_behavior: issuer.leafNotAfterBehavior,
    usage: usageNames(issuer.usage),
    revocation_signature_algorithm: '',
    revoked: false,
    issuing_certificates: aia?.issuingCertificates ?? [],
    crl_distribution_points: aia?.crlDistributionPoints ?? [],
    delta_crl_distribution_points: aia?.deltaCrlDistributionPoints ?? [],
    ocsp_servers: aia?.ocspServers ?? [],
    ...(aia ? { enable_aia_url_templating: aia.enableTemplating } : {}),
  };
}

/** `GET <mount>/issuer/<ref>`. */
export function readIssuer(deps: IssuerDeps, ref: string): HandlerResult {
  return jsonResult(issuerData(byRef(deps, ref)));
}

/** `GET <mount>/issuer/<ref>/{json,pem,der}`: the certificate (and, as JSON, its chain). */
export function readIssuerCertificate(deps: IssuerDeps, ref: string, kind: 'json' | 'pem' | 'der'): HandlerResult {
  const issuer = byRef(deps, ref);
  const pem = storedPem(issuer.certificatePem);
  if (kind === 'pem') return { kind: 'raw', contentType: 'application/pem-certificate-chain', body: pem };
  if (kind === 'der') return { kind: 'raw', contentType: 'application/pkix-cert', body: pemDecode(pem) };
  return jsonResult({ certificate: pem, ca_chain: issuer.caChain.map(storedPem), issuer_id: issuer.id, issuer_name: issuer.name });
}

const roleUses = (deps: IssuerDeps, name: string) => Object.values(deps.pki.roles).filter((r) => r.issuer_ref === name).length;

/**
 * `POST <mount>/issuer/<ref>` (every field, absent ones back to their defaults, as OpenBao
 * does) or `PATCH` (only the fields given): name, leaf_not_after_behavior, usage, AIA URLs.
 */
export function updateIssuer(deps: IssuerDeps, ref: string, body: RequestBody, patch: boolean): HandlerResult {
  const issuer = byRef(deps, ref);
  const given = (field: string) => body[field] !== undefined;
  const warnings: string[] = [];

  let name = patch && !given('issuer_name') ? issuer.name : stringField(body, 'issuer_name').trim();
  if (given('issuer_name')) {
    if (name === '') throw userError('expected non-empty issuer name');
    if (name.toLowerCase() === 'default') throw userError("reserved keyword 'default' can not be used as issuer name");
    if (!ISSUER_NAME_RE.test(name)) throw userError('issuer name contained invalid characters');
    const holder = resolveIssuer(deps.pki, name);
    if (holder && holder.id !== issuer.id) throw userError('issuer name already in use');
  }
  const behavior = patch && !given('leaf_not_after_behavior') ? issuer.leafNotAfterBehavior : stringField(body, 'leaf_not_after_behavior', 'err');
  if (behavior !== 'err' && behavior !== 'truncate' && behavior !== 'permit') {
    throw userError('Unknown value for field `leaf_not_after_behavior`. Possible values are `err`, `truncate`, and `permit`.');
  }
  const usage = patch && !given('usage') ? issuer.usage : given('usage') ? commaListField(body, 'usage') : [...ALL_ISSUER_USAGES];
  const unknown = usage.find((u) => !ALL_ISSUER_USAGES.includes(u));
  if (unknown !== undefined) throw userError(`Unable to parse specified usages: [${usage.join(' ')}] - valid values are ${usageNames(ALL_ISSUER_USAGES)}`);
  if (!usage.includes('read-only')) usage.push('read-only');

  const aiaField = (field: string, current: string[] | undefined) => (patch && !given(field) ? (current ?? []) : commaListField(body, field));
  const aia: AiaUrls = {
    issuingCertificates: aiaField('issuing_certificates', issuer.aia?.issuingCertificates),
    crlDistributionPoints: aiaField('crl_distribution_points', issuer.aia?.crlDistributionPoints),
    deltaCrlDistributionPoints: aiaField('delta_crl_distribution_points', issuer.aia?.deltaCrlDistributionPoints),
    ocspServers: aiaField('ocsp_servers', issuer.aia?.ocspServers),
    enableTemplating: patch && !given('enable_aia_url_templating') ? (issuer.aia?.enableTemplating ?? false) : boolField(body, 'enable_aia_url_templating'),
  };
  const badUrl = (field: string, urls: string[]) => {
    const bad = urls.find((u) => !isAbsoluteUrl(u));
    if (bad !== undefined && !aia.enableTemplating) throw userError(`invalid URL found in Authority Information Access (AIA) parameter ${field}: ${bad}`);
  };
  badUrl('issuing_certificates', aia.issuingCertificates);
  badUrl('crl_distribution_points', aia.crlDistributionPoints);
  badUrl('delta_crl_distribution_points', aia.deltaCrlDistributionPoints);
  badUrl('ocsp_servers', aia.ocspServers);

  const oldName = issuer.name;
  issuer.name = name;
  issuer.leafNotAfterBehavior = behavior;
  issuer.usage = usage;
  issuer.aia = aia.issuingCertificates.length + aia.crlDistributionPoints.length + aia.ocspServers.length > 0 ? aia : undefined;
  deps.changed();

  // addWarningOnDereferencing: roles that named the issuer by its old name no longer find it.
  if (oldName !== name && oldName !== '') {
    const uses = roleUses(deps, oldName);
    if (uses > 0) warnings.push(`${uses} roles reference ${oldName}`);
  }
  return jsonResult(issuerData(issuer), warnings);
}

/** validateURLs: a scheme and a host. */
function isAbsoluteUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return u.protocol !== '' && u.host !== '' && !/\{\{(issuer_id|cluster_path|cluster_aia_path)\}\}/.test(value);
  } catch {
    return false;
  }
}

/** `GET <mount>/issuer/<ref>/crl[/pem|/der]` (no token): that issuer's CRL, rebuilt first when it expired. */
export async function readIssuerCrl(deps: IssuerDeps, ref: string, kind: 'json' | 'pem' | 'der'): Promise<HandlerResult> {
  const issuer = byRef(deps, ref);
  if (issuer.privateKeyPem && (!issuer.crl.pem || issuer.crl.nextUpdate <= deps.now())) {
    await rebuildCrl(deps.pki, issuer, deps.keyring, deps.now());
    deps.changed();
  }
  const pem = issuer.crl.pem ? storedPem(issuer.crl.pem) : '';
  if (kind === 'der') return { kind: 'raw', contentType: 'application/pkix-crl', body: pem ? pemDecode(pem) : Buffer.alloc(0) };
  if (kind === 'pem') return { kind: 'raw', contentType: 'application/x-pem-file', body: pem };
  return jsonResult({ crl: pem });
}

function urlsData(urls: AiaUrls) {
  return {
    issuing_certificates: urls.issuingCertificates,
    crl_distribution_points: urls.crlDistributionPoints,
    delta_crl_distribution_points: urls.deltaCrlDistributionPoints,
    ocsp_servers: urls.ocspServers,
    enable_templating: urls.enableTemplating,
  };
}

/** `GET <mount>/config/urls`. */
export const readUrls = (deps: IssuerDeps): HandlerResult => jsonResult(urlsData(deps.pki.urls));

/** `POST <mount>/config/urls`: given fields replace, absent ones stay; every URL needs a scheme and host. */
export function writeUrls(deps: IssuerDeps, body: RequestBody): HandlerResult {
  const next: AiaUrls = { ...deps.pki.urls };
  if (body.enable_templating !== undefined) next.enableTemplating = boolField(body, 'enable_templating');
  if (body.issuing_certificates !== undefined) next.issuingCertificates = commaListField(body, 'issuing_certificates');
  if (body.crl_distribution_points !== undefined) next.crlDistributionPoints = commaListField(body, 'crl_distribution_points');
  if (body.delta_crl_distribution_points !== undefined) next.deltaCrlDistributionPoints = commaListField(body, 'delta_crl_distribution_points');
  if (body.ocsp_servers !== undefined) next.ocspServers = commaListField(body, 'ocsp_servers');
  if (!next.enableTemplating) {
    for (const [field, urls] of [
      ['issuing_certificates', next.issuingCertificates],
      ['crl_distribution_points', next.crlDistributionPoints],
      ['delta_crl_distribution_points', next.deltaCrlDistributionPoints],
      ['ocsp_servers', next.ocspServers],
    ] as const) {
      const bad = urls.find((u) => !isAbsoluteUrl(u));
      if (bad !== undefined) throw userError(`invalid URL found in Authority Information Access (AIA) parameter ${field}: ${bad}`);
    }
  }
  deps.pki.urls = next;
  deps.changed();
  return jsonResult(urlsData(next));
}
