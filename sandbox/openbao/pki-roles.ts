import { jsonResult, userError, type HandlerResult } from './http-envelope.js';
import type { IssuerDeps } from './intermediate-ca.js';
import { resolveIssuer } from './issuer-store.js';
import type { PkiRole } from './openbao-state.js';
import { boolField, commaListField, durationField, intField, stringField, type RequestBody } from './request-fields.js';
import type { FieldSchema, FieldType } from './route-fields.js';
import { pkiRole } from './seed-openbao-state.js';

/**
 * `POST <mount>/roles/<name>` and `DELETE` (path_roles.go pathRoleCreate, validateRole): every
 * field not given takes OpenBao's default; ttl may not exceed max_ttl; key type and size are
 * checked; an issuer_ref that names no issuer yet is kept, with a warning (it is resolved when
 * the role is used).
 */

const ROLE_FIELD_TYPES: Record<keyof PkiRole, FieldType> = {
  ttl: 'duration',
  max_ttl: 'duration',
  allow_any_name: 'bool',
  allowed_domains: 'commaSlice',
  allow_bare_domains: 'bool',
  allow_subdomains: 'bool',
  allow_glob_domains: 'bool',
  allow_localhost: 'bool',
  allow_wildcard_certificates: 'bool',
  enforce_hostnames: 'bool',
  allow_ip_sans: 'bool',
  allowed_uri_sans: 'commaSlice',
  allowed_other_sans: 'commaSlice',
  server_flag: 'bool',
  client_flag: 'bool',
  code_signing_flag: 'bool',
  email_protection_flag: 'bool',
  key_type: 'string',
  key_bits: 'int',
  key_usage: 'commaSlice',
  require_cn: 'bool',
  cn_validations: 'commaSlice',
  use_csr_common_name: 'bool',
  use_csr_sans: 'bool',
  no_store: 'bool',
  generate_lease: 'bool',
  not_before_duration: 'duration',
  organization: 'commaSlice',
  ou: 'commaSlice',
  issuer_ref: 'string',
};

/** The role path's fields: the ones the sandbox models, and the others OpenBao knows (accepted, not modelled). */
export const ROLE_FIELDS: FieldSchema = {
  name: 'string',
  ...ROLE_FIELD_TYPES,
  ...Object.fromEntries(
    ['allowed_domains_template', 'allow_globs_in_identity_templates', 'allowed_uri_sans_template', 'use_pss', 'basic_constraints_valid_for_non_ca', 'allow_token_displayname'].map((f) => [f, 'bool' as const]),
  ),
  ...Object.fromEntries(
    ['ext_key_usage', 'ext_key_usage_oids', 'country', 'locality', 'province', 'street_address', 'postal_code', 'allowed_serial_numbers', 'allowed_user_ids', 'policy_identifiers', 'allowed_ip_sans_cidr'].map((f) => [f, 'commaSlice' as const]),
  ),
  ...Object.fromEntries(['not_before', 'not_after', 'not_before_bound', 'not_after_bound', 'backend'].map((f) => [f, 'string' as const])),
  signature_bits: 'int',
};

const KEY_BITS: Record<string, number[]> = { rsa: [0, 2048, 3072, 4096, 8192], ec: [0, 224, 256, 384, 521], ed25519: [0], any: [0] };

/** `POST <mount>/roles/<name>`: creates or replaces the role. */
export function writeRole(deps: IssuerDeps, name: string, body: RequestBody): HandlerResult {
  const role: PkiRole = pkiRole();
  const writable = role as unknown as Record<string, unknown>;
  for (const [field, type] of Object.entries(ROLE_FIELD_TYPES)) {
    if (body[field] === undefined) continue;
    if (type === 'bool') writable[field] = boolField(body, field);
    else if (type === 'int') writable[field] = intField(body, field);
    else if (type === 'duration') writable[field] = durationField(body, field);
    else if (type === 'commaSlice') writable[field] = commaListField(body, field);
    else writable[field] = stringField(body, field);
  }
  if (role.max_ttl > 0 && role.ttl > role.max_ttl) throw userError('"ttl" value must be less than "max_ttl" value');
  const bits = KEY_BITS[role.key_type];
  if (!bits) throw userError(`unsupported key type: ${role.key_type}`);
  if (!bits.includes(role.key_bits)) throw userError(`unsupported bit length for ${role.key_type.toUpperCase()} key: ${role.key_bits}`);
  if (role.key_bits === 0) role.key_bits = role.key_type === 'rsa' ? 2048 : role.key_type === 'ec' ? 256 : 0;
  if (role.issuer_ref === '') role.issuer_ref = 'default';

  const warnings: string[] = [];
  if (!resolveIssuer(deps.pki, role.issuer_ref)) {
    warnings.push(
      role.issuer_ref === 'default'
        ? 'Issuing Certificate was set to default, but no default issuing certificate (configurable at /config/issuers) is currently set'
        : `Issuing Certificate was set to ${role.issuer_ref} but no issuing certificate currently has that name`,
    );
  }
  deps.pki.roles[name] = role;
  deps.changed();
  return jsonResult({ ...role }, warnings);
}

/** `DELETE <mount>/roles/<name>`: 204 whether or not it existed. */
export function deleteRole(deps: IssuerDeps, name: string): HandlerResult {
  if (Object.hasOwn(deps.pki.roles, name)) {
    delete deps.pki.roles[name];
    deps.changed();
  }
  return { kind: 'empty' };
}
