// Over 300 lines on purpose: the PKI engine's issue/sign/revoke rules kept together, as OpenBao's own pki backend keeps them.
import { createPublicKey, generateKeyPair, randomUUID, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { promisify } from 'node:util';
import { formatGoDuration, rfc3339Nano } from './durations.js';
import { CertStore } from './cert-store.js';
import { parseCsr, type CsrInfo, type KeyType } from './csr-parsing.js';
import { jsonResult, listResult, notFound, OpenBaoHttpError, userError, type HandlerResult } from './http-envelope.js';
import { issuerForSigning } from './intermediate-ca.js';
import { isRoot, resolveIssuer } from './issuer-store.js';
import { buildLeafCertificate } from './leaf-certificate.js';
import type { PkiIssuer, PkiMountState, PkiRole } from './openbao-state.js';
import { generateRootIssuer, installRootIssuer, trimPem, type IssuerKeyring } from './pki-issuer.js';
import {
  disallowedCommonName,
  firstDisallowedName,
  glob,
  isHostname,
  otherSansError,
  parseOtherSans,
  toAsciiHostname,
  type SubjectAltNames,
} from './pki-names.js';
import { Revocations } from './revocation.js';
import { boolField, commaListField, durationField, intField, stringField, type RequestBody } from './request-fields.js';
import { colonSerial, colonSerialFromHex, hyphenSerial, randomSerialBytes, serialHex } from './serials.js';
import { x509 } from '../../src/pki/x509.js';

const generateKeyPairAsync = promisify(generateKeyPair);

type Format = 'pem' | 'der' | 'pem_bundle';

const EC_CURVES: Record<number, string> = { 224: 'secp224r1', 256: 'prime256v1', 384: 'secp384r1', 521: 'secp521r1' };

export interface PkiEngineDeps {
  pki: PkiMountState;
  keyring: IssuerKeyring;
  now: () => number;
  /** Called after every mutation of `pki`. */
  changed: () => void;
  /** A number that changes with every mutation; without it nothing derived is kept. */
  version?: () => number;
}


/**
 * The PKI secrets engine of one mount: issue and sign here; lists, fetches and CRLs in
 * `store` (cert-store.ts), revocation in `revocations` (revocation.ts). Behaviour and
 * messages follow openbao/openbao builtin/logical/pki (path_issue_sign.go, cert_util.go,
 * path_fetch.go, path_revoke.go). No HTTP here; see pki-routes.ts.
 */
export class PkiEngine {

  /** Lists, fetches, CA and CRL reads. */
  readonly store: CertStore;
  readonly revocations: Revocations;

  constructor(readonly deps: PkiEngineDeps) {
    this.store = new CertStore(deps);
    this.revocations = new Revocations(deps, this.store);
  }

  private get pki() {
    return this.deps.pki;
  }

  role(name: string): PkiRole {
    const role = Object.hasOwn(this.pki.roles, name) ? this.pki.roles[name] : undefined;
    if (!role) throw userError(`unknown role: ${name}`);
    return role;
  }

  /** The issuer to sign with: by id, name or "default"; it must hold its key and may issue. */
  issuer(ref: string): PkiIssuer {
    return issuerForSigning(this.pki, ref);
  }

  /** The default issuer (ca/pem, ca_chain, crl); OpenBao answers 500 without one. */
  defaultIssuer(): PkiIssuer {
    const issuer = resolveIssuer(this.pki, 'default');
    if (!issuer) throw new OpenBaoHttpError(500, ['no default issuer currently configured']);
    return issuer;
  }

  /** `POST <mount>/issue/<role>`: generates a key pair and a certificate for it. */
  async issue(roleName: string, body: RequestBody, issuerRef?: string): Promise<HandlerResult> {
    const role = { ...this.role(roleName) };
    const warnings: string[] = [];
    const requestedKeyType = stringField(body, 'key_type');
    const keyTypeGiven = body.key_type !== undefined;
    const keyBitsGiven = body.key_bits !== undefined;
    if (role.key_type === 'any') {
      if (!keyTypeGiven) {
        throw userError('role key type "any" not allowed for issuing certificates without providing key_type and/or key_bits request parameters');
      }
      role.key_type = requestedKeyType as PkiRole['key_type'];
      role.key_bits = keyBitsGiven ? intField(body, 'key_bits') : 0;
      role.key_bits = defaultKeyBits(role.key_type, role.key_bits);
    } else if (keyTypeGiven || keyBitsGiven) {
      warnings.push('parameters key_type and key_bits ignored as role had specific values');
    }
    const format = this.format(body);
    const issuer = this.issuer(issuerRef ?? role.issuer_ref);
    if (role.key_type === 'rsa' && role.key_bits < 2048) throw userError('RSA keys < 2048 bits are unsafe and not supported');

    const plan = this.plan(role, body, issuer, undefined);
    const key = await generateLeafKey(role.key_type as KeyType, role.key_bits);
    const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
    const issued = await this.sign(role, issuer, plan, spki, role.key_type as KeyType, role.key_bits);

    const keyFormat = stringField(body, 'private_key_format', 'der');
    const data = this.certificateData(issued.certificate, issuer, format, body);
    const privateKey = exportPrivateKey(key, role.key_type as KeyType, format, keyFormat);
    data.private_key = privateKey;
    data.private_key_type = role.key_type;
    if (format === 'pem_bundle') {
      // ToPEMBundle uses the key before any pkcs8 conversion.
      const bundleKey = exportPrivateKey(key, role.key_type as KeyType, 'pem', 'der');
      data.certificate = [bundleKey, data.certificate, data.issuing_ca].join('\n');
    }
    return this.issueResult(roleName, role, data, issued.notAfter, [...plan.warnings, ...warnings]);
  }

  /** `POST <mount>/sign/<role>`: certifies the key in a CSR, names per the role's use_csr_* settings. */
  async signCsr(roleName: string, body: RequestBody, issuerRef?: string): Promise<HandlerResult> {
    const role = this.role(roleName);
    const format = this.format(body);
    const issuer = this.issuer(issuerRef ?? role.issuer_ref);
    const csr = await parseCsr(stringField(body, 'csr'));
    checkCsrKey(role, csr);

    const plan = this.plan(role, body, issuer, csr);
    if (!(await csr.verify())) throw userError('request signature invalid');
    const issued = await this.sign(role, issuer, plan, csr.spki, csr.keyType, csr.keyBits);

    const data = this.certificateData(issued.certificate, issuer, format, body);
    // Same order as OpenBao: the use_csr_* notices, then the creation warnings.
    const warnings: string[] = [];
    if (role.use_csr_common_name && stringField(body, 'common_name') !== '') {
      warnings.push('the common_name field was provided but the role is set with "use_csr_common_name" set to true');
    }
    if (role.use_csr_sans && stringField(body, 'alt_names') !== '') {
      warnings.push('the alt_names field was provided but the role is set with "use_csr_sans" set to true');
    }
    warnings.push(...plan.warnings);
    if (csr.hasBasicConstraints) warnings.push('specified CSR contained a Basic Constraints extension that was ignored during issuance');
    return this.issueResult(roleName, role, data, issued.notAfter, warnings);
  }

  private format(body: RequestBody): Format {
    const format = stringField(body, 'format', 'pem');
    if (format !== 'pem' && format !== 'der' && format !== 'pem_bundle') {
      throw userError('the "format" path parameter must be "pem", "der", or "pem_bundle"');
    }
    return format;
  }

  /** generateCreationBundle + getNotAfter: names, validity, warnings. */
  private plan(role: PkiRole, body: RequestBody, issuer: PkiIssuer, csr: CsrInfo | undefined) {
    const warnings: string[] = [];
    let cn = csr && role.use_csr_common_name ? csr.commonName : '';
    if (cn === '') {
      cn = stringField(body, 'common_name');
      if (cn === '' && role.require_cn) {
        throw userError('the common_name field is required, or must be provided in a CSR with "use_csr_common_name" set to true, unless "require_cn" is set to false');
      }
    }
    const fromCsr = csr !== undefined && role.use_csr_sans;
    const dnsNames: string[] = fromCsr ? [...csr.sans.dnsNames] : [];
    const emails: string[] = fromCsr ? [...csr.sans.emails] : [];
    const addName = (name: string) => {
      if (name.includes('@')) emails.push(name);
      else if (isHostname(name)) dnsNames.push(toAsciiHostname(name)!);
    };
    if (cn !== '' && !boolField(body, 'exclude_cn_from_sans')) addName(cn);
    if (!fromCsr) {
      const altNames = [...new Set(stringField(body, 'alt_names').trim().split(',').filter((s) => s !== ''))];
      altNames.forEach(addName);
    }

    if (cn !== '') {
      const bad = disallowedCommonName(role, cn);
      if (bad) throw userError(`common name ${bad} not allowed by this role`);
    }
    const badDns = firstDisallowedName(role, dnsNames);
    if (badDns) throw userError(`subject alternate name ${badDns} not allowed by this role`);
    const badEmail = firstDisallowedName(role, emails);
    if (badEmail) throw userError(`email address ${badEmail} not allowed by this role`);

    const otherInput = commaListField(body, 'other_sans');
    if (fromCsr) otherInput.push(...csr.sans.otherSans.map((o) => `${o.oid};UTF-8:${o.value}`));
    let otherSans: SubjectAltNames['otherSans'] = [];
    if (otherInput.length) {
      try {
        otherSans = parseOtherSans(otherInput);
        const problem = otherSansError(role, otherSans);
        if (problem) throw userError(problem);
      } catch (err) {
        if (err instanceof OpenBaoHttpError) throw err;
        throw userError(`could not parse requested other SAN: ${(err as Error).message}`);
      }
    }

    let ips: string[] = [];
    if (fromCsr) {
      if (csr.sans.ips.length && !role.allow_ip_sans) {
        throw userError('IP Subject Alternative Names are not allowed in this role, but was provided some via CSR');
      }
      ips = csr.sans.ips;
    } else {
      const ipAlt = commaListField(body, 'ip_sans');
      if (ipAlt.length && !role.allow_ip_sans) {
        throw userError(`IP Subject Alternative Names are not allowed in this role, but was provided [${ipAlt.join(' ')}]`);
      }
      for (const ip of ipAlt) if (!isIP(ip)) throw userError(`the value "${ip}" is not a valid IP address`);
      ips = ipAlt;
    }

    const uris = fromCsr ? csr.sans.uris : commaListField(body, 'uri_sans');
    const via = fromCsr ? 'via CSR' : 'via the API';
    if (uris.length) {
      if (role.allowed_uri_sans.length === 0) {
        throw userError(`URI Subject Alternative Names are not allowed in this role, but were provided ${via}`);
      }
      for (const uri of uris) {
        if (!role.allowed_uri_sans.some((pattern) => glob(pattern, uri))) {
          throw userError(`URI Subject Alternative Names were provided ${via} which are not valid for this role`);
        }
        if (!fromCsr && !URL.canParse(uri)) throw userError(`the provided URI Subject Alternative Name "${uri}" is not a valid URI`);
      }
    }

    const now = this.deps.now();
    const notBeforeParam = stringField(body, 'not_before');
    const notBefore = notBeforeParam ? parseRfc3339(notBeforeParam) : now - role.not_before_duration * 1000;
    const notAfter = this.notAfter(role, body, issuer, now, warnings);
    if (notBefore > notAfter) {
      throw userError(`The certificate's Not Before (${goTime(notBefore)}) is later than the certificate's Not After (${goTime(notAfter)})`);
    }
    if (notBefore === notAfter) {
      throw userError(`The certificate's Not Before (${goTime(notBefore)}) is equal to the certificate's Not After (${goTime(notAfter)})`);
    }

    const sans: SubjectAltNames = { dnsNames: [...new Set(dnsNames)], emails: [...new Set(emails)], ips, uris, otherSans };
    return { cn, sans, notBefore, notAfter, warnings };
  }

  private notAfter(role: PkiRole, body: RequestBody, issuer: PkiIssuer, now: number, warnings: string[]): number {
    let ttl = durationField(body, 'ttl');
    const notAfterParam = stringField(body, 'not_after');
    if (ttl > 0 && notAfterParam !== '') {
      throw userError('Either ttl or not_after should be provided. Both should not be provided in the same request.');
    }
    if (ttl === 0 && role.ttl > 0) ttl = role.ttl;
    const maxTtl = role.max_ttl > 0 ? role.max_ttl : this.pki.maxLeaseTtlSeconds;
    if (ttl === 0) ttl = this.pki.defaultLeaseTtlSeconds;
    if (ttl > maxTtl) {
      warnings.push(`TTL "${formatGoDuration(ttl)}" is longer than permitted maxTTL "${formatGoDuration(maxTtl)}", so maxTTL is being used`);
      ttl = maxTtl;
    }
    let notAfter = notAfterParam !== '' ? parseRfc3339(notAfterParam) : now + ttl * 1000;
    const caNotAfter = new x509.X509Certificate(issuer.certificatePem).notAfter.getTime();
    if (notAfter > caNotAfter) {
      if (issuer.leafNotAfterBehavior === 'truncate') notAfter = caNotAfter;
      else if (issuer.leafNotAfterBehavior === 'err') {
        throw userError(
          `cannot satisfy request, as TTL would result in notAfter of ${rfc3339Nano(notAfter)} that is beyond the expiration of the CA certificate at ${rfc3339Nano(caNotAfter)}`,
        );
      }
    }
    return notAfter;
  }

  private async sign(
    role: PkiRole,
    issuer: PkiIssuer,
    plan: ReturnType<PkiEngine['plan']>,
    spki: Buffer,
    keyType: KeyType,
    keyBits: number,
  ) {
    const serial = colonSerial(randomSerialBytes());
    const certificate = await buildLeafCertificate({
      issuer: await this.deps.keyring.keys(issuer),
      spki,
      serialHex: serialHex(serial),
      commonName: plan.cn,
      role,
      sans: plan.sans,
      notBefore: new Date(plan.notBefore),
      notAfter: new Date(plan.notAfter),
    });
    const notAfter = Math.floor(certificate.notAfter.getTime() / 1000);
    if (!role.no_store) {
      this.pki.certs[hyphenSerial(serial)] = {
        serialNumber: serial,
        certificatePem: trimPem(certificate.toString('pem')),
        issuerId: issuer.id,
        commonName: plan.cn,
        dnsNames: plan.sans.dnsNames,
        keyType,
        keyBits,
        notBefore: Math.floor(certificate.notBefore.getTime() / 1000),
        notAfter,
      };
      this.deps.changed();
    }
    return { certificate, notAfter };
  }

  private certificateData(certificate: x509.X509Certificate, issuer: PkiIssuer, format: Format, body: RequestBody) {
    // The issuer's chain up to its root; remove_roots_from_chain drops self-signed ones, and
    // an empty chain is omitted.
    const chainPems = boolField(body, 'remove_roots_from_chain') ? issuer.caChain.filter((pem) => !isRoot(pem)) : issuer.caChain;
    const der = (pem: string) => Buffer.from(new x509.X509Certificate(pem).rawData).toString('base64');
    const data: Record<string, unknown> = {
      expiration: Math.floor(certificate.notAfter.getTime() / 1000),
      not_before: Math.floor(certificate.notBefore.getTime() / 1000),
      serial_number: colonSerialFromHex(certificate.serialNumber),
    };
    if (format === 'der') {
      data.certificate = Buffer.from(certificate.rawData).toString('base64');
      data.issuing_ca = der(issuer.certificatePem);
      if (chainPems.length) data.ca_chain = chainPems.map(der);
    } else {
      data.certificate = trimPem(certificate.toString('pem'));
      data.issuing_ca = issuer.certificatePem;
      if (chainPems.length) data.ca_chain = chainPems;
    }
    return data;
  }

  private issueResult(roleName: string, role: PkiRole, data: Record<string, unknown>, notAfter: number, warnings: string[]): HandlerResult {
    const result = jsonResult(data, warnings);
    if (role.generate_lease && result.kind === 'json') {
      result.leaseId = `${this.pki.mount}/issue/${roleName}/${randomUUID()}`;
      result.leaseDuration = Math.max(0, notAfter - Math.floor(this.deps.now() / 1000));
    }
    return result;
  }

  /** `LIST <mount>/roles`. */
  listRoles(): HandlerResult {
    return listResult(Object.keys(this.pki.roles).sort());
  }

  /** `GET <mount>/roles/<name>`: 404 when absent, like a read of a missing entry. */
  readRole(name: string): HandlerResult {
    if (!Object.hasOwn(this.pki.roles, name)) throw notFound();
    return jsonResult({ ...this.pki.roles[name] });
  }

  /** Generates a new root and makes it the default issuer; earlier certificates stay listed. */
  async rotateCa(opts: { keyType?: 'ec' | 'rsa'; commonName?: string; ttlSeconds?: number } = {}): Promise<PkiIssuer> {
    const current = this.defaultIssuer();
    const currentCert = new x509.X509Certificate(current.certificatePem);
    const now = this.deps.now();
    const root = await generateRootIssuer({
      keyType: opts.keyType ?? current.keyType,
      commonName: opts.commonName ?? currentCert.subjectName.getField('CN')[0] ?? 'labgate sandbox root CA',
      name: `root-${new Date(now).toISOString().slice(0, 19).replace(/[-:T]/g, '')}`,
      ttlSeconds: opts.ttlSeconds ?? Math.floor((currentCert.notAfter.getTime() - currentCert.notBefore.getTime()) / 1000),
      now,
    });
    await installRootIssuer(this.pki, root, this.deps.keyring, now);
    this.deps.changed();
    return root.issuer;
  }
}


/** certutil.ValidateDefaultOrValueKeyTypeSignatureLength, as a 500 like OpenBao's wrapped error. */
function defaultKeyBits(keyType: string, bits: number): number {
  const fail = (msg: string) => new OpenBaoHttpError(500, [`failed to validate role: ${msg}`]);
  switch (keyType) {
    case 'rsa':
      if (bits === 0) return 2048;
      if (![2048, 3072, 4096, 8192].includes(bits)) throw fail(`unsupported bit length for RSA key: ${bits}`);
      return bits;
    case 'ec':
      if (bits === 0) return 256;
      if (!EC_CURVES[bits]) throw fail(`unsupported bit length for EC key: ${bits}`);
      return bits;
    case 'ed25519':
      return 0;
    default:
      throw fail(`unsupported key type: ${keyType}`);
  }
}

async function generateLeafKey(keyType: KeyType, bits: number): Promise<KeyObject> {
  switch (keyType) {
    case 'rsa':
      return (await generateKeyPairAsync('rsa', { modulusLength: bits })).privateKey;
    case 'ec':
      return (await generateKeyPairAsync('ec', { namedCurve: EC_CURVES[bits]! })).privateKey;
    case 'ed25519':
      return (await generateKeyPairAsync('ed25519')).privateKey;
  }
}

/** Private key as OpenBao returns it: PKCS#1 / SEC1 by default, PKCS#8 on request; PEM or base64 DER. */
function exportPrivateKey(key: KeyObject, keyType: KeyType, format: Format, keyFormat: string): string {
  const type = keyFormat === 'pkcs8' || keyType === 'ed25519' ? 'pkcs8' : keyType === 'rsa' ? 'pkcs1' : 'sec1';
  if (format === 'der') return key.export({ type, format: 'der' }).toString('base64');
  return key.export({ type, format: 'pem' }).toString().trim();
}

/** signCert's key checks: type must match the role; sizes at least the role's and OpenBao's minimums. */
function checkCsrKey(role: PkiRole, csr: CsrInfo): void {
  let minimum = role.key_bits;
  if (role.key_type === 'any') {
    if (csr.keyType === 'rsa' && csr.keyBits < 2048) throw userError('RSA keys < 2048 bits are unsafe and not supported');
    minimum = csr.keyType === 'rsa' ? 2048 : csr.keyType === 'ec' ? 224 : 0;
  } else if (role.key_type !== csr.keyType) {
    throw userError(`role requires keys of type ${role.key_type}`);
  }
  if (csr.keyType === 'rsa') {
    if (csr.keyBits < minimum) throw userError(`role requires a minimum of a ${minimum}-bit key, but CSR's key is ${csr.keyBits} bits`);
    if (csr.keyBits < 2048) throw userError(`OpenBao requires a minimum of a 2048-bit key, but CSR's key is ${csr.keyBits} bits`);
  } else if (csr.keyType === 'ec' && csr.keyBits < minimum) {
    throw userError(`role requires a minimum of a ${minimum}-bit key, but CSR's key is ${csr.keyBits} bits`);
  }
}

function parseRfc3339(value: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) throw userError(`parsing time "${value}" as "2006-01-02T15:04:05Z07:00": cannot parse "${value}" as RFC 3339`);
  return ms;
}

/** Go's time.Time.String() in UTC, for the not-before/not-after messages. */
function goTime(ms: number): string {
  return `${new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, '')} +0000 UTC`;
}
