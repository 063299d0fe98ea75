import { isPlainObject } from './json-patches.js';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { projectRoot } from '../../src/paths.js';
import type { StatusCause } from './api-status.js';

type Schema = Record<string, unknown>;

/** What validating one custom object found. */
export interface SchemaCheck {
  /** Paths of fields the schema does not declare (`spec.foo`, `spec.routes[0].bar`); already pruned from the object. */
  unknownFields: string[];
  /** Violations, as `details.causes[]` of a 422. */
  causes: StatusCause[];
}

/**
 * CEL rules (`x-kubernetes-validations`) found in the Traefik CRDs, evaluated by hand:
 * the sandbox has no CEL engine. A rule missing here is skipped.
 */
const CEL_RULES: Record<string, (self: unknown) => boolean> = {
  "self.startsWith('/')": (self) => typeof self !== 'string' || self.startsWith('/'),
  '!has(self.secret) || !has(self.configMap)': (self) =>
    !(self && typeof self === 'object' && 'secret' in self && 'configMap' in self),
};

/** The folder holding the CRDs, found from the package root so it works from src/ and dist/. */
export function crdFolder(): string {
  return join(projectRoot(), 'sandbox', 'kubernetes', 'crds');
}

/** Kubernetes' extensions become plain JSON Schema ajv understands; int-or-string becomes an anyOf. */
function toAjvSchema(s: unknown): unknown {
  if (Array.isArray(s)) return s.map(toAjvSchema);
  if (!isPlainObject(s)) return s;
  const out: Schema = {};
  for (const [k, v] of Object.entries(s)) {
    if (k.startsWith('x-kubernetes-') || k === 'description') continue;
    out[k] = k === 'properties' && isPlainObject(v) ? Object.fromEntries(Object.entries(v).map(([p, ps]) => [p, toAjvSchema(ps)])) : toAjvSchema(v);
  }
  if (s['x-kubernetes-int-or-string'] === true && !out.anyOf) out.anyOf = [{ type: 'integer' }, { type: 'string' }];
  return out;
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** `spec.routes[0].match` from the object and the segments leading into it. */
function formatSegments(root: unknown, segments: string[]): string {
  let out = '';
  let cur = root;
  for (const seg of segments) {
    if (Array.isArray(cur)) out += `[${seg}]`;
    else out += out ? `.${seg}` : seg;
    cur = isPlainObject(cur) || Array.isArray(cur) ? (cur as Record<string, unknown>)[seg] : undefined;
  }
  return out;
}

function pointerSegments(pointer: string): string[] {
  return pointer === '' ? [] : pointer.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function shown(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v) ?? 'null';
}

function causeFor(e: ErrorObject, root: unknown): StatusCause | undefined {
  const at = formatSegments(root, pointerSegments(e.instancePath));
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required': {
      const field = at ? `${at}.${String(p.missingProperty)}` : String(p.missingProperty);
      return { reason: 'FieldValueRequired', message: 'Required value', field };
    }
    case 'enum':
      return {
        reason: 'FieldValueNotSupported',
        message: `Unsupported value: ${shown(e.data)}: supported values: ${(p.allowedValues as unknown[]).map(shown).join(', ')}`,
        field: at,
      };
    case 'type':
      return {
        reason: 'FieldValueTypeInvalid',
        message: `Invalid value: "${typeName(e.data)}": ${at} in body must be of type ${String(p.type)}: "${typeName(e.data)}"`,
        field: at,
      };
    case 'anyOf':
      return {
        reason: 'FieldValueTypeInvalid',
        message: `Invalid value: "${typeName(e.data)}": ${at} in body must be of type integer-or-string: "${typeName(e.data)}"`,
        field: at,
      };
    case 'minimum':
    case 'maximum':
      return {
        reason: 'FieldValueInvalid',
        message: `Invalid value: ${shown(e.data)}: ${at} in body should be ${e.keyword === 'minimum' ? 'greater' : 'less'} than or equal to ${String(p.limit)}`,
        field: at,
      };
    case 'pattern':
      return { reason: 'FieldValueInvalid', message: `Invalid value: ${shown(e.data)}: ${at} in body should match '${String(p.pattern)}'`, field: at };
    default:
      return { reason: 'FieldValueInvalid', message: `Invalid value: ${shown(e.data)}: ${at} in body ${e.message ?? 'is invalid'}`, field: at };
  }
}

/** Drops undeclared fields (recording their paths) and evaluates the CEL rules, walking object and schema together. */
function pruneAndCheckRules(value: unknown, schema: Schema, segments: string[], root: unknown, check: SchemaCheck): void {
  const rules = schema['x-kubernetes-validations'];
  if (Array.isArray(rules) && value !== undefined) {
    for (const r of rules as { rule: string; message?: string }[]) {
      const fn = CEL_RULES[r.rule];
      if (fn && !fn(value)) {
        check.causes.push({
          reason: 'FieldValueInvalid',
          message: `Invalid value: "${typeName(value)}": ${r.message ?? `failed rule: ${r.rule}`}`,
          field: formatSegments(root, segments),
        });
      }
    }
  }
  if (schema['x-kubernetes-preserve-unknown-fields'] === true) return;
  if (Array.isArray(value) && isPlainObject(schema.items)) {
    value.forEach((item, i) => pruneAndCheckRules(item, schema.items as Schema, [...segments, String(i)], root, check));
    return;
  }
  if (!isPlainObject(value)) return;
  const props = isPlainObject(schema.properties) ? (schema.properties as Record<string, Schema>) : undefined;
  const additional = isPlainObject(schema.additionalProperties) ? (schema.additionalProperties as Schema) : undefined;
  if (!props && !additional) return;
  for (const k of Object.keys(value)) {
    const sub = props?.[k] ?? additional;
    if (sub) pruneAndCheckRules(value[k], sub, [...segments, k], root, check);
    else {
      check.unknownFields.push(formatSegments(root, [...segments, k]));
      delete value[k];
    }
  }
}

interface CompiledCrd {
  raw: Schema;
  validate: ValidateFunction;
}

/**
 * Validates custom objects against the `openAPIV3Schema` of the CRDs in crds/, as an
 * apiserver does: unknown fields are pruned (reported so the caller can warn or, with
 * `fieldValidation=Strict`, refuse), then the rest is checked. `metadata` is left to the
 * caller. Schemas compile on first use.
 */
export class CrdSchemas {
  private readonly raw = new Map<string, Schema>();
  private readonly compiled = new Map<string, CompiledCrd>();
  private readonly ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false, verbose: true });

  constructor(folder: string = crdFolder()) {
    for (const file of readdirSync(folder).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))) {
      const crd = parseYaml(readFileSync(join(folder, file), 'utf8')) as {
        kind?: string;
        spec?: { group: string; names: { kind: string }; versions: { name: string; schema: { openAPIV3Schema: Schema } }[] };
      };
      if (crd?.kind !== 'CustomResourceDefinition' || !crd.spec) continue;
      const v = crd.spec.versions[0]!;
      this.raw.set(`${crd.spec.group}/${v.name}/${crd.spec.names.kind}`, v.schema.openAPIV3Schema);
    }
  }

  /** Every loaded CRD schema by `<group>/<version>/<kind>` (as read, not to be changed). */
  entries(): [id: string, schema: Schema][] {
    return [...this.raw];
  }

  /** Whether a CRD for this kind is loaded. */
  has(apiVersion: string, kind: string): boolean {
    return this.raw.has(`${apiVersion}/${kind}`);
  }

  private compile(id: string): CompiledCrd | undefined {
    let c = this.compiled.get(id);
    if (!c) {
      const raw = this.raw.get(id);
      if (!raw) return undefined;
      c = { raw, validate: this.ajv.compile(toAjvSchema(raw) as Schema) };
      this.compiled.set(id, c);
    }
    return c;
  }

  /** Prunes unknown fields from `obj` in place and returns them with the schema violations. */
  check(obj: Record<string, unknown>): SchemaCheck {
    const id = `${String(obj.apiVersion)}/${String(obj.kind)}`;
    const crd = this.compile(id);
    const check: SchemaCheck = { unknownFields: [], causes: [] };
    if (!crd) return check;
    const props = (crd.raw.properties ?? {}) as Record<string, Schema>;
    for (const k of Object.keys(obj)) {
      if (k === 'metadata' || k === 'apiVersion' || k === 'kind') continue;
      if (props[k]) pruneAndCheckRules(obj[k], props[k], [k], obj, check);
      else {
        check.unknownFields.push(k);
        delete obj[k];
      }
    }
    if (!crd.validate(obj)) {
      const errors = crd.validate.errors ?? [];
      // An int-or-string mismatch reports each anyOf branch too; the anyOf error says it once.
      const anyOfAt = new Set(errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath));
      const seen = new Set<string>();
      for (const e of errors) {
        if (e.keyword !== 'anyOf' && anyOfAt.has(e.instancePath) && e.schemaPath.includes('/anyOf/')) continue;
        const cause = causeFor(e, obj);
        const k = cause && `${cause.field}|${cause.message}`;
        if (cause && !seen.has(k!)) {
          seen.add(k!);
          check.causes.push(cause);
        }
      }
    }
    return check;
  }
}
