import { createPrivateKey, createPublicKey, randomUUID, X509Certificate, type webcrypto } from 'node:crypto';
import { parseCsr } from './csr-parsing.js';
import { pemDecode, pemEncode } from './der.js';
import { formatGoDuration } from './durations.js';
import { jsonResult, OpenBaoHttpError, userError, type HandlerResult } from './http-envelope.js';
import { ALL_ISSUER_USAGES, ISSUER_NAME_RE, rebuildIssuerChains, resolveIssuer } from './issuer-store.js';
import type { PkiIssuer, PkiKey, PkiMountState } from './openbao-state.js';
import { rebuildCrl, signingAlgorithm, trimPem, type IssuerKeyring } from './pki-issuer.js';
import { boolField, commaListField, durationField, intField, stringField, type RequestBody } from './request-fields.js';
import { colonSerial, colonSerialFromHex, hyphenSerial, randomSerialBytes, serialHex } from './serials.js';
import { subtle, x509 } from '../../src/pki/x509.js';

/**
 * Building an intermediate CA inside the mount, the three steps OpenBao's docs show
 * (path_intermediate.go, path_root.go, path_manage_issuers.go): `intermediate/generate/internal`
 * makes a key and a CSR, `root/sign-intermediate` (or `issuer/<ref>/sign-intermediate`) signs it
 * with an issuer, `intermediate/set-signed` imports the certificate as a new issuer using that key.
 */

export interface IssuerDeps {
  pki: PkiMountState;
  keyring: IssuerKeyring;
  now: () => number;
  changed: () => void;
}

const NO_AIA_WARNING =
  "This mount hasn't configured any authority information access (AIA) fields; this may make it harder for systems to find missing certificates in the chain or to validate revocation status of certificates. Consider updating /config/urls or the newly generated issuer with this information.";

const hasGlobalAia = (pki: PkiMountState) =>
  pki.urls.issuingCertificates.length + pki.urls.crlDistributionPoints.length + pki.urls.ocspServers.length > 0;

function format(body: RequestBody): 'pem' | 'der' | 'pem_bundle' {
  const f = stringField(body, 'format', 'pem');
  if (f !== 'pem' && f !== 'der' && f !== 'pem_bundle') throw userError('the "format" path parameter must be "pem", "der", or "pem_bundle"');
  return f;
}

/** Subject of a CA from the request: CN, O, OU, C, L, ST, as OpenBao's generation fields. */
function subjectOf(body: RequestBody): x509.JsonName {
  const name: x509.JsonName = [];
  const add = (type: string, values: string[]) => values.length && name.push({ [type]: values });
  add('C', commaListField(body, 'country'));
  add('ST', commaListField(body, 'province'));
  add('L', commaListField(body, 'locality'));
  add('O', commaListField(body, 'organization'));
  add('OU', commaListField(body, 'ou'));
  const cn = stringField(body, 'common_name');
  if (cn) name.push({ CN: [cn] });
  return name;
}

/** `POST <mount>/intermediate/generate/(internal|exported)`: a new key kept in the mount, and its CSR. */
export async function generateIntermediate(deps: IssuerDeps, exported: boolean, body: RequestBody): Promise<HandlerResult> {
  const outFormat = format(body);
  const keyType = stringField(body, 'key_type', 'rsa') as 'rsa' | 'ec';
  let keyBits = intField(body, 'key_bits');
  if (keyType === 'rsa') {
    keyBits ||= 2048;
    if (![2048, 3072, 4096, 8192].includes(keyBits)) throw userError(`unsupported bit length for RSA key: ${keyBits}`);
  } else if (keyType === 'ec') {
    keyBits ||= 256;
    if (![256, 384, 521].includes(keyBits)) throw userError(`unsupported bit length for EC key: ${keyBits}`);
  } else if ((keyType as string) === 'ed25519') {
    throw userError('the labgate sandbox signs with rsa or ec issuer keys only; key_type ed25519 is not supported here');
  } else {
    throw userError(`unknown key type: ${keyType}`);
  }
  const keyName = stringField(body, 'key_name').trim();
  if (keyName) {
    if (keyName.toLowerCase() === 'default') throw userError("reserved keyword 'default' can not be used as key name");
    if (!ISSUER_NAME_RE.test(keyName)) throw userError('key name contained invalid characters');
    if (Object.values(deps.pki.keys).some((k) => k.name === keyName)) throw userError('key name already in use');
  }

  const params =
    keyType === 'ec'
      ? { name: 'ECDSA', namedCurve: `P-${keyBits}` }
      : { name: 'RSASSA-PKCS1-v1_5', modulusLength: keyBits, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' };
  const keys = (await subtle.generateKey(params, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: subjectOf(body),
    keys,
    signingAlgorithm: signingAlgorithm(keyType),
  });
  const pkcs8 = Buffer.from(await subtle.exportKey('pkcs8', keys.privateKey));
  const key: PkiKey = { id: randomUUID(), name: keyName, keyType, privateKeyPem: pemEncode(pkcs8, 'PRIVATE KEY') };
  deps.pki.keys[key.id] = key;
  deps.changed();

  const csrPem = trimPem(csr.toString('pem'));
  const data: Record<string, unknown> = { csr: outFormat === 'der' ? Buffer.from(csr.rawData).toString('base64') : csrPem, key_id: key.id };
  if (exported) {
    const privateKey = createPrivateKey(key.privateKeyPem);
    const pkcs8Wanted = stringField(body, 'private_key_format', 'der') === 'pkcs8';
    const type = pkcs8Wanted ? 'pkcs8' : keyType === 'rsa' ? 'pkcs1' : 'sec1';
    data.private_key = outFormat === 'der' ? privateKey.export({ type, format: 'der' }).toString('base64') : privateKey.export({ type, format: 'pem' }).toString().trim();
    data.private_key_type = keyType;
    if (outFormat === 'pem_bundle') data.csr = `${data.private_key}\n${csrPem}`;
  }
  const warnings = hasGlobalAia(deps.pki) ? [] : [`${NO_AIA_WARNING.replace(/\.$/, '')}. Since this certificate is an intermediate, it might be useful to regenerate this certificate after fixing this problem for the root mount.`];
  return jsonResult(data, warnings);
}

/** `POST <mount>/root/sign-intermediate` and `issuer/<ref>/sign-intermediate`: a CA certificate for a CSR. */
export async function signIntermediate(deps: IssuerDeps, issuerRef: string, body: RequestBody): Promise<HandlerResult> {
  const outFormat = format(body);
  const signer = resolveIssuer(deps.pki, issuerRef);
  if (!signer || !signer.privateKeyPem) {
    throw userError(`could not fetch the CA certificate (was one set?): unable to find PKI issuer for reference: ${issuerRef}`);
  }
  const csr = await parseCsr(stringField(body, 'csr'));
  if (!(await csr.verify())) throw userError('request signature invalid');

  const now = deps.now();
  const warnings: string[] = [];
  let ttl = durationField(body, 'ttl');
  if (ttl === 0) ttl = deps.pki.defaultLeaseTtlSeconds;
  if (ttl > deps.pki.maxLeaseTtlSeconds) {
    warnings.push(`TTL "${formatGoDuration(ttl)}" is longer than permitted maxTTL "${formatGoDuration(deps.pki.maxLeaseTtlSeconds)}", so maxTTL is being used`);
    ttl = deps.pki.maxLeaseTtlSeconds;
  }
  const notAfterParam = stringField(body, 'not_after');
  const notAfter = new Date(Math.floor((notAfterParam ? Date.parse(notAfterParam) : now + ttl * 1000) / 1000) * 1000);
  if (Number.isNaN(notAfter.getTime())) throw userError(`parsing time "${notAfterParam}" as "2006-01-02T15:04:05Z07:00": cannot parse "${notAfterParam}" as RFC 3339`);
  const notBefore = new Date(Math.floor((now - intField(body, 'not_before_duration', 30) * 1000) / 1000) * 1000);

  const subject = boolField(body, 'use_csr_values')
    ? csr.request.subject
    : new x509.Name(subjectOf({ ...body, common_name: stringField(body, 'common_name') || csr.commonName })).toString();
  const maxPathLength = intField(body, 'max_path_length', -1);
  const keys = await deps.keyring.keys(signer);
  const ski = keys.certificate.getExtension(x509.SubjectKeyIdentifierExtension);
  const serial = colonSerial(randomSerialBytes());
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialHex(serial),
    subject,
    issuer: keys.certificate.subjectName,
    notBefore,
    notAfter,
    publicKey: csr.spki,
    signingKey: keys.signingKey,
    signingAlgorithm: keys.algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(true, maxPathLength >= 0 ? maxPathLength : undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(csr.spki),
      ...(ski ? [new x509.AuthorityKeyIdentifierExtension(ski.keyId)] : []),
    ],
  });
  const pem = trimPem(cert.toString('pem'));
  deps.pki.certs[hyphenSerial(serial)] = {
    serialNumber: serial,
    certificatePem: pem,
    issuerId: signer.id,
    commonName: cert.subjectName.getField('CN')[0] ?? '',
    dnsNames: [],
    keyType: csr.keyType,
    keyBits: csr.keyBits,
    notBefore: notBefore.getTime() / 1000,
    notAfter: notAfter.getTime() / 1000,
    isCa: true,
  };
  deps.changed();

  if (keys.certificate.notAfter.getTime() < notAfter.getTime()) {
    warnings.push(
      "The expiration time for the signed certificate is after the CA's expiration time. If the new certificate is not treated as a root, validation paths with the certificate past the issuing CA's expiration time will fail.",
    );
  }
  warnings.push(NO_AIA_WARNING);
  if (maxPathLength === 0) warnings.push('Max path length of the signed certificate is zero. This certificate cannot be used to issue intermediate CA certificates.');

  const chain = [pem, ...signer.caChain];
  const der = (p: string) => Buffer.from(new X509Certificate(p).raw).toString('base64');
  const data: Record<string, unknown> = { expiration: notAfter.getTime() / 1000, serial_number: serial };
  if (outFormat === 'der') {
    data.certificate = der(pem);
    data.issuing_ca = der(signer.certificatePem);
    data.ca_chain = chain.map(der);
  } else {
    data.certificate = pem;
    data.issuing_ca = signer.certificatePem;
    data.ca_chain = chain;
  }
  return jsonResult(data, warnings);
}

/** The PEM blocks of a bundle, by kind (certificates; anything not a certificate or CRL counts as a key). */
function pemBlocksOf(bundle: string): { certificates: string[]; keys: number } {
  const certificates: string[] = [];
  let keys = 0;
  let index = 0;
  for (const m of bundle.matchAll(/-----BEGIN ([^-\r\n]+)-----[\s\S]*?-----END \1-----/g)) {
    index++;
    const label = m[1]!;
    if (label === 'CERTIFICATE' || label === 'X509 CERTIFICATE') certificates.push(m[0]);
    else if (!/CRL$|^EC PARAM/.test(label)) keys++;
  }
  if (index === 0 || bundle.replace(/-----BEGIN ([^-\r\n]+)-----[\s\S]*?-----END \1-----/g, '').trim() !== '') {
    throw userError(`error when parsing block ${index + 1}: invalid PEM data`);
  }
  return { certificates, keys };
}

/** `POST <mount>/intermediate/set-signed`: imports the signed certificate as an issuer with its key. */
export async function setSignedIntermediate(deps: IssuerDeps, body: RequestBody): Promise<HandlerResult> {
  const bundle = stringField(body, 'certificate');
  if (bundle === '') throw userError("'pem_bundle' and 'certificate' parameters were empty");
  if (bundle.length < 75) {
    throw userError('provided data for import was too short; perhaps a path was passed to the API rather than the contents of a PEM file');
  }
  const { certificates, keys } = pemBlocksOf(bundle);
  if (keys > 0) throw userError('private keys found in the PEM bundle but not allowed by the path; use /issuers/import/bundle');

  const { pki } = deps;
  const mapping: Record<string, string> = {};
  const imported: string[] = [];
  const existing: string[] = [];
  for (const [index, pem] of certificates.entries()) {
    const cert = new X509Certificate(pemDecode(pem));
    const parsed = new x509.X509Certificate(pemDecode(pem));
    const same = Object.values(pki.issuers).find((i) => new X509Certificate(i.certificatePem).raw.equals(cert.raw));
    if (same) {
      mapping[same.id] = same.keyId;
      existing.push(same.id);
      continue;
    }
    if (!cert.ca) throw userError(`Error parsing issuer ${index}: Refusing to import non-CA certificate\n${pem}\n`);
    const spki = cert.publicKey.export({ type: 'spki', format: 'der' });
    const key = Object.values(pki.keys).find((k) => createPublicKey(k.privateKeyPem).export({ type: 'spki', format: 'der' }).equals(spki));
    const issuer: PkiIssuer = {
      id: randomUUID(),
      name: '',
      keyId: key?.id ?? '',
      keyType: cert.publicKey.asymmetricKeyType === 'ec' ? 'ec' : 'rsa',
      serialNumber: colonSerialFromHex(parsed.serialNumber),
      certificatePem: trimPem(pemEncode(cert.raw, 'CERTIFICATE')),
      privateKeyPem: key?.privateKeyPem ?? '',
      caChain: [],
      leafNotAfterBehavior: 'err',
      usage: [...ALL_ISSUER_USAGES],
      crl: { number: 0, pem: '', thisUpdate: 0, nextUpdate: 0 },
    };
    // The issuer now holds the key; OpenBao keeps one key entry, so the pending one goes.
    if (key) delete pki.keys[key.id];
    pki.issuers[issuer.id] = issuer;
    mapping[issuer.id] = issuer.keyId;
    imported.push(issuer.id);
  }
  rebuildIssuerChains(pki);
  for (const id of imported) {
    const issuer = pki.issuers[id]!;
    if (issuer.privateKeyPem) await rebuildCrl(pki, issuer, deps.keyring, deps.now());
  }
  deps.changed();

  const warnings = hasGlobalAia(pki) ? [] : [NO_AIA_WARNING];
  // Go's nil slices: a list with nothing in it is null.
  const list = (ids: string[]) => (ids.length ? ids : null);
  return jsonResult({ mapping, imported_issuers: list(imported), imported_keys: null, existing_issuers: list(existing), existing_keys: null }, warnings);
}

/** The issuer a role's `issuer_ref` or a request names, or OpenBao's 400 when there is none. */
export function issuerForSigning(pki: PkiMountState, ref: string): PkiIssuer {
  const issuer = resolveIssuer(pki, ref);
  if (!issuer) throw userError(`could not fetch the CA certificate (was one set?): unable to find PKI issuer for reference: ${ref}`);
  if (!issuer.privateKeyPem) throw new OpenBaoHttpError(400, [`could not fetch the CA certificate (was one set?): unable to fetch corresponding key for issuer ${issuer.id}; unable to use this issuer for signing`]);
  if (!issuer.usage.includes('issuing-certificates')) {
    throw userError(`could not fetch the CA certificate (was one set?): requested usage issuing-certificates for issuer [${issuer.id}] but only had usage ${issuer.usage.join(',')}`);
  }
  return issuer;
}

