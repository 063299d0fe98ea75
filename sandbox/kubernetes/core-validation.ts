import type { StatusCause } from './api-status.js';
import type { KubeObject } from './kubernetes-state.js';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const MSG = {
  subdomain:
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
  label:
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
  dns1035:
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
  qualifiedName:
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
  labelValue:
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
  configKey:
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
};

const invalidValue = (field: string, value: unknown, why: string): StatusCause => ({
  reason: 'FieldValueInvalid',
  message: `Invalid value: ${JSON.stringify(value)}: ${why}`,
  field,
});

/** Which name rule each kind's names follow on a real apiserver. */
function nameRule(kind: string): { re: RegExp; max: number; msg: string } {
  if (kind === 'Namespace') return { re: DNS1123_LABEL, max: 63, msg: MSG.label };
  if (kind === 'Service') return { re: DNS1035_LABEL, max: 63, msg: MSG.dns1035 };
  return { re: DNS1123_SUBDOMAIN, max: 253, msg: MSG.subdomain };
}

function checkQualifiedKey(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (!DNS1123_SUBDOMAIN.test(prefix) || prefix.length > 253)) return `prefix part ${MSG.subdomain}`;
  if (name.length > 63) return 'name part must be no more than 63 characters';
  if (!QUALIFIED_NAME.test(name)) return MSG.qualifiedName;
  return undefined;
}

/** `metadata` rules every object follows: a valid name, valid label keys and values, valid annotation keys. */
export function validateMetadata(obj: KubeObject): StatusCause[] {
  const causes: StatusCause[] = [];
  const md = obj.metadata;
  if (!md.name) {
    causes.push({ reason: 'FieldValueRequired', message: 'Required value: name or generateName is required', field: 'metadata.name' });
  } else {
    const rule = nameRule(obj.kind);
    if (md.name.length > rule.max) causes.push(invalidValue('metadata.name', md.name, `must be no more than ${rule.max} characters`));
    else if (!rule.re.test(md.name)) causes.push(invalidValue('metadata.name', md.name, rule.msg));
  }
  for (const [k, v] of Object.entries(md.labels ?? {})) {
    const keyProblem = checkQualifiedKey(k);
    if (keyProblem) causes.push(invalidValue('metadata.labels', k, keyProblem));
    if (typeof v !== 'string') causes.push({ reason: 'FieldValueTypeInvalid', message: `Invalid value: ${JSON.stringify(v)}: must be a string`, field: `metadata.labels[${k}]` });
    else if (v.length > 63 || !LABEL_VALUE.test(v)) causes.push(invalidValue('metadata.labels', v, v.length > 63 ? 'must be no more than 63 characters' : MSG.labelValue));
  }
  for (const [k, v] of Object.entries(md.annotations ?? {})) {
    const keyProblem = checkQualifiedKey(k);
    if (keyProblem) causes.push(invalidValue('metadata.annotations', k, keyProblem));
    if (typeof v !== 'string') causes.push({ reason: 'FieldValueTypeInvalid', message: `Invalid value: ${JSON.stringify(v)}: must be a string`, field: `metadata.annotations[${k}]` });
  }
  return causes;
}

function checkDataMap(obj: KubeObject, field: string, base64: boolean, causes: StatusCause[]): void {
  const data = obj[field];
  if (data === undefined || data === null) return;
  if (typeof data !== 'object' || Array.isArray(data)) {
    causes.push({ reason: 'FieldValueTypeInvalid', message: 'Invalid value: must be an object of strings', field });
    return;
  }
  for (const [k, v] of Object.entries(data as Record<string, unknown>)) {
    if (!CONFIG_KEY.test(k)) causes.push(invalidValue(`${field}[${k}]`, k, MSG.configKey));
    if (typeof v !== 'string') {
      causes.push({ reason: 'FieldValueTypeInvalid', message: `Invalid value: "${typeof v}": must be a string`, field: `${field}[${k}]` });
    } else if (base64 && !BASE64.test(v)) {
      const at = [...v].findIndex((c) => !/[A-Za-z0-9+/=]/.test(c));
      // Secret contents are never echoed back, unlike other invalid values.
      causes.push({
        reason: 'FieldValueInvalid',
        message: `Invalid value: "<secret data redacted>": illegal base64 data at input byte ${at >= 0 ? at : v.length - (v.length % 4)}`,
        field: `${field}[${k}]`,
      });
    }
  }
}

const SERVICE_TYPES = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'];
const PROTOCOLS = ['TCP', 'UDP', 'SCTP'];

/** The checks the sandbox makes on core objects labgate writes (beyond metadata). */
export function validateCoreObject(obj: KubeObject, old: KubeObject | undefined): StatusCause[] {
  const causes: StatusCause[] = [];
  switch (obj.kind) {
    case 'Secret': {
      checkDataMap(obj, 'data', true, causes);
      if (old && old.type !== obj.type) causes.push(invalidValue('type', obj.type, 'field is immutable'));
      if (obj.type === 'kubernetes.io/tls') {
        const data = (obj.data ?? {}) as Record<string, unknown>;
        for (const k of ['tls.crt', 'tls.key']) {
          if (!(k in data)) causes.push({ reason: 'FieldValueRequired', message: 'Required value', field: `data[${k}]` });
        }
      }
      break;
    }
    case 'ConfigMap':
      checkDataMap(obj, 'data', false, causes);
      checkDataMap(obj, 'binaryData', true, causes);
      break;
    case 'Service': {
      const spec = (obj.spec ?? {}) as { type?: string; ports?: { port?: unknown; protocol?: string }[] };
      if (spec.type !== undefined && !SERVICE_TYPES.includes(spec.type)) {
        causes.push({
          reason: 'FieldValueNotSupported',
          message: `Unsupported value: ${JSON.stringify(spec.type)}: supported values: ${SERVICE_TYPES.map((t) => `"${t}"`).join(', ')}`,
          field: 'spec.type',
        });
      }
      (spec.ports ?? []).forEach((p, i) => {
        if (typeof p.port !== 'number' || !Number.isInteger(p.port) || p.port < 1 || p.port > 65535) {
          causes.push(invalidValue(`spec.ports[${i}].port`, p.port, 'must be between 1 and 65535, inclusive'));
        }
        if (p.protocol !== undefined && !PROTOCOLS.includes(p.protocol)) {
          causes.push({
            reason: 'FieldValueNotSupported',
            message: `Unsupported value: ${JSON.stringify(p.protocol)}: supported values: "SCTP", "TCP", "UDP"`,
            field: `spec.ports[${i}].protocol`,
          });
        }
      });
      break;
    }
  }
  return causes;
}
