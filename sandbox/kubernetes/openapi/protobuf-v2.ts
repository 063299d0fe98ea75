/**
 * The OpenAPI v2 document in the protobuf form kubectl and client-go ask `/openapi/v2` for
 * (`Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf`): gnostic's
 * openapi_v2.Document. Only the parts clients read are encoded: swagger, info and the
 * definitions with their schemas (field numbers from gnostic-models' OpenAPIv2.proto).
 */
import { stringify } from 'yaml';
import { isPlainObject } from '../json-patches.js';
import type { Schema } from './builtin-definitions.js';

class Writer {
  private readonly parts: Buffer[] = [];

  private varint(n: number | bigint): void {
    let v = BigInt(n);
    if (v < 0n) v += 1n << 64n;
    const bytes: number[] = [];
    do {
      let b = Number(v & 0x7fn);
      v >>= 7n;
      if (v > 0n) b |= 0x80;
      bytes.push(b);
    } while (v > 0n);
    this.parts.push(Buffer.from(bytes));
  }

  private tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  string(field: number, s: string | undefined): void {
    if (s === undefined || s === '') return;
    this.bytes(field, Buffer.from(s, 'utf8'));
  }

  bytes(field: number, b: Buffer): void {
    this.tag(field, 2);
    this.varint(b.length);
    this.parts.push(b);
  }

  message(field: number, w: Writer): void {
    this.bytes(field, w.done());
  }

  bool(field: number, v: unknown): void {
    if (v !== true) return;
    this.tag(field, 0);
    this.varint(1);
  }

  int64(field: number, v: unknown): void {
    if (typeof v !== 'number') return;
    this.tag(field, 0);
    this.varint(Math.trunc(v));
  }

  double(field: number, v: unknown): void {
    if (typeof v !== 'number') return;
    this.tag(field, 1);
    const b = Buffer.alloc(8);
    b.writeDoubleLE(v);
    this.parts.push(b);
  }

  done(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** gnostic's Any: the value as YAML text (field 2). */
function anyOf(value: unknown): Writer {
  const w = new Writer();
  w.string(2, stringify(value).trimEnd());
  return w;
}

function namedAny(name: string, value: unknown): Writer {
  const w = new Writer();
  w.string(1, name);
  w.message(2, anyOf(value));
  return w;
}

function schemaMessage(s: Schema): Writer {
  const w = new Writer();
  w.string(1, s.$ref as string | undefined);
  w.string(2, s.format as string | undefined);
  w.string(3, s.title as string | undefined);
  w.string(4, s.description as string | undefined);
  if (s.default !== undefined) w.message(5, anyOf(s.default));
  w.double(7, s.maximum);
  w.bool(8, s.exclusiveMaximum);
  w.double(9, s.minimum);
  w.bool(10, s.exclusiveMinimum);
  w.int64(11, s.maxLength);
  w.int64(12, s.minLength);
  w.string(13, s.pattern as string | undefined);
  w.int64(14, s.maxItems);
  w.int64(15, s.minItems);
  w.bool(16, s.uniqueItems);
  for (const r of (s.required as string[] | undefined) ?? []) w.string(19, r);
  for (const e of (s.enum as unknown[] | undefined) ?? []) w.message(20, anyOf(e));
  if (isPlainObject(s.additionalProperties)) {
    const item = new Writer();
    item.message(1, schemaMessage(s.additionalProperties));
    w.message(21, item);
  } else if (typeof s.additionalProperties === 'boolean') {
    const item = new Writer();
    item.bool(2, s.additionalProperties);
    w.message(21, item);
  }
  if (s.type !== undefined) {
    const t = new Writer();
    for (const v of Array.isArray(s.type) ? s.type : [s.type]) t.string(1, String(v));
    w.message(22, t);
  }
  if (isPlainObject(s.items)) {
    const items = new Writer();
    items.message(1, schemaMessage(s.items));
    w.message(23, items);
  }
  for (const a of (s.allOf as Schema[] | undefined) ?? []) w.message(24, schemaMessage(a));
  if (isPlainObject(s.properties)) {
    const props = new Writer();
    for (const [k, v] of Object.entries(s.properties as Record<string, Schema>)) {
      const named = new Writer();
      named.string(1, k);
      named.message(2, schemaMessage(v));
      props.message(1, named);
    }
    w.message(25, props);
  }
  w.bool(27, s.readOnly);
  for (const [k, v] of Object.entries(s)) if (k.startsWith('x-')) w.message(31, namedAny(k, v));
  return w;
}

/** The protobuf bytes of a v2 document (`{swagger, info, definitions}`). */
export function encodeOpenApiV2(doc: { swagger: string; info: { title: string; version: string }; definitions: Record<string, Schema> }): Buffer {
  const w = new Writer();
  w.string(1, doc.swagger);
  const info = new Writer();
  info.string(1, doc.info.title);
  info.string(2, doc.info.version);
  w.message(2, info);
  w.message(8, new Writer());
  const defs = new Writer();
  for (const [name, s] of Object.entries(doc.definitions)) {
    const named = new Writer();
    named.string(1, name);
    named.message(2, schemaMessage(s));
    defs.message(1, named);
  }
  w.message(9, defs);
  return w.done();
}
