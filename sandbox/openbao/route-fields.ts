import { parseDurationSeconds } from './durations.js';
import { OpenBaoHttpError, type HandlerResult } from './http-envelope.js';
import { parseGoBool, type RequestBody } from './request-fields.js';

/**
 * The field schema of each path, checked the way OpenBao's framework does before a handler
 * runs (sdk/framework/backend.go HandleRequest, field_data.go Validate): a value that does not
 * convert to its field's type is a 400 "Field validation failed: …"; a parameter the path does
 * not know is ignored, and a successful answer then carries the warning "Endpoint ignored these
 * unrecognized parameters: [a b]".
 */
export type FieldType = 'string' | 'bool' | 'int' | 'duration' | 'commaSlice';
export type FieldSchema = Record<string, FieldType>;

/** Go's %v of a value inside an error message. */
const goValue = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

/** mapstructure's DecodeError around a ParseError, as OpenBao 2.x prints it (go-viper/mapstructure v2.5). */
const parseError = (type: 'int' | 'bool', func: 'ParseInt' | 'ParseBool') => `'' cannot parse value as '${type}': strconv.${func}: invalid syntax`;

/** Why `value` does not convert to `type`, or undefined when it does (mapstructure.WeakDecode rules). */
function conversionProblem(type: FieldType, value: unknown): string | undefined {
  if (value === null) return undefined;
  switch (type) {
    case 'string':
      if (['string', 'number', 'boolean'].includes(typeof value)) return undefined;
      return `'' expected type 'string', got unconvertible type '${Array.isArray(value) ? '[]interface {}' : 'map[string]interface {}'}'`;
    case 'bool':
      if (typeof value === 'boolean' || typeof value === 'number') return undefined;
      if (typeof value === 'string' && (value === '' || parseGoBool(value) !== undefined)) return undefined;
      return parseError('bool', 'ParseBool');
    case 'int':
      if (typeof value === 'boolean' || (typeof value === 'number' && Number.isInteger(value))) return undefined;
      if (typeof value === 'string' && (value === '' || /^[+-]?\d+$/.test(value))) return undefined;
      return parseError('int', 'ParseInt');
    case 'duration': {
      if (typeof value === 'number' && value < 0) return `cannot provide negative value '${value}'`;
      if (typeof value === 'string' && /^-\d+$/.test(value.trim())) return `cannot provide negative value '${value.trim()}'`;
      return parseDurationSeconds(value) === undefined ? `time: invalid duration "${goValue(value)}"` : undefined;
    }
    case 'commaSlice':
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return undefined;
      if (Array.isArray(value) && value.every((v) => ['string', 'number', 'boolean'].includes(typeof v))) return undefined;
      return `'' expected type 'string', got unconvertible type 'map[string]interface {}'`;
  }
}

/**
 * Checks `data` against `schema`. Throws OpenBao's 400 for the first value that does not
 * convert; returns the parameters the path does not know, sorted (the path's own captures,
 * such as `role` in `issue/<role>`, are fields too).
 */
export function checkFields(schema: FieldSchema, data: RequestBody): string[] {
  const ignored: string[] = [];
  for (const [field, value] of Object.entries(data)) {
    const type = Object.hasOwn(schema, field) ? schema[field] : undefined;
    if (!type) {
      ignored.push(field);
      continue;
    }
    const problem = conversionProblem(type, value);
    if (problem) throw new OpenBaoHttpError(400, [`Field validation failed: error converting input for field "${field}": ${problem}`]);
  }
  return ignored.sort();
}

/** Adds the unrecognized-parameters warning to a logical answer (raw and empty answers carry none). */
export function warnIgnored(result: HandlerResult, ignored: string[]): HandlerResult {
  if (!ignored.length || result.kind !== 'json') return result;
  return { ...result, warnings: [...(result.warnings ?? []), `Endpoint ignored these unrecognized parameters: [${ignored.join(' ')}]`] };
}

const fields = (type: FieldType, ...names: string[]): FieldSchema => Object.fromEntries(names.map((n) => [n, type]));

/** after/limit of the paged LIST paths. */
export const PAGING: FieldSchema = { after: 'string', limit: 'int' };

/** addIssueAndSignCommonFields + addNonCACommonFields (fields.go). */
const ISSUE_AND_SIGN: FieldSchema = {
  ...fields('string', 'role', 'common_name', 'alt_names', 'serial_number', 'not_before', 'not_after', 'format', 'private_key_format', 'issuer_ref'),
  ...fields('bool', 'exclude_cn_from_sans', 'remove_roots_from_chain'),
  ...fields('commaSlice', 'ip_sans', 'uri_sans', 'other_sans', 'user_ids'),
  ttl: 'duration',
};

export const ISSUE_FIELDS: FieldSchema = { ...ISSUE_AND_SIGN, key_type: 'string', key_bits: 'int' };
export const SIGN_FIELDS: FieldSchema = { ...ISSUE_AND_SIGN, csr: 'string' };

/** addCACommonFields + addCAKeyGenerationFields + key naming (intermediate/generate). */
const CA_COMMON: FieldSchema = {
  ...fields('string', 'common_name', 'alt_names', 'serial_number', 'not_before', 'not_after', 'format', 'private_key_format'),
  ...fields('commaSlice', 'ip_sans', 'uri_sans', 'other_sans', 'ou', 'organization', 'country', 'locality', 'province', 'street_address', 'postal_code'),
  exclude_cn_from_sans: 'bool',
  ttl: 'duration',
  not_before_duration: 'duration',
};

export const GENERATE_INTERMEDIATE_FIELDS: FieldSchema = {
  ...CA_COMMON,
  ...fields('string', 'exported', 'key_type', 'key_name', 'key_ref', 'managed_key_name', 'managed_key_id'),
  ...fields('int', 'key_bits', 'signature_bits'),
  ...fields('bool', 'use_pss', 'add_basic_constraints'),
};

export const SIGN_INTERMEDIATE_FIELDS: FieldSchema = {
  ...CA_COMMON,
  ...fields('string', 'csr', 'issuer_ref', 'skid'),
  ...fields('int', 'max_path_length', 'signature_bits'),
  ...fields('bool', 'use_csr_values', 'use_pss'),
  ...fields('commaSlice', 'permitted_dns_domains'),
};

export const ISSUER_REF_FIELDS: FieldSchema = { issuer_ref: 'string', issuer_name: 'string' };

export const ISSUER_UPDATE_FIELDS: FieldSchema = {
  ...ISSUER_REF_FIELDS,
  ...fields('string', 'leaf_not_after_behavior', 'revocation_signature_algorithm'),
  ...fields('commaSlice', 'manual_chain', 'usage', 'issuing_certificates', 'crl_distribution_points', 'delta_crl_distribution_points', 'ocsp_servers'),
  enable_aia_url_templating: 'bool',
};

export const URLS_FIELDS: FieldSchema = {
  ...fields('commaSlice', 'issuing_certificates', 'crl_distribution_points', 'delta_crl_distribution_points', 'ocsp_servers'),
  enable_templating: 'bool',
};

/** The tidy operations `POST <mount>/tidy` takes as flags (pki-tidy.ts runs them; at least one must be set). */
export const TIDY_FLAGS = [
  'tidy_cert_store',
  'tidy_revoked_certs',
  'tidy_invalid_certs',
  'tidy_revoked_cert_issuer_associations',
  'tidy_expired_issuers',
  'tidy_move_legacy_ca_bundle',
  'tidy_acme',
] as const;

/** addTidyFields: the flags, plus tidy_revocation_list, which is accepted but is not one of TIDY_FLAGS. */
export const TIDY_FIELDS: FieldSchema = {
  ...fields('bool', ...TIDY_FLAGS, 'tidy_revocation_list'),
  ...fields('duration', 'safety_buffer', 'revoked_safety_buffer', 'issuer_safety_buffer', 'acme_account_safety_buffer'),
  page_size: 'int',
  pause_duration: 'string',
};

export const REVOKE_FIELDS: FieldSchema = { serial_number: 'string', certificate: 'string' };
export const SERIAL_FIELDS: FieldSchema = { serial: 'string' };
export const NO_FIELDS: FieldSchema = {};
