/**
 * JSON the way Go's encoding/json writes it, which JSON.stringify cannot do alone:
 * Go maps are written with keys sorted as strings ("1", "14", "2"; a JS object would put
 * integer-like keys in numeric order), `<`, `>`, `&`, U+2028 and U+2029 are escaped, and
 * struct fields keep declaration order with `undefined` standing for an omitted
 * (omitempty) field.
 */

/** A Go map: written with its keys sorted as strings, `{}` when empty. */
export class GoMap<V = unknown> {
  constructor(readonly entries: ReadonlyArray<readonly [string, V]>) {}

  static of<V>(record: Record<string, V>): GoMap<V> {
    return new GoMap(Object.entries(record));
  }
}

/** Go's zero `time.Time`, as encoding/json writes it. */
export const GO_ZERO_TIME = '0001-01-01T00:00:00Z';

/**
 * A time in Go's RFC3339Nano layout (UTC): fractional seconds up to nanoseconds with
 * trailing zeros dropped, no fraction at all when it is zero.
 */
export function goTime(epochMs: number, extraNanos = 0): string {
  const whole = Math.floor(epochMs / 1000) * 1000;
  const nanos = Math.round((epochMs - whole) * 1e6) + extraNanos;
  const base = new Date(whole).toISOString().slice(0, 19);
  if (nanos === 0) return `${base}Z`;
  return `${base}.${String(nanos).padStart(9, '0').replace(/0+$/, '')}Z`;
}

function quote(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function write(value: unknown, indent: string | undefined, depth: number): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return quote(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`json: unsupported value: ${value}`);
    return String(value);
  }
  let members: string[];
  let open: string;
  let close: string;
  const sep = indent === undefined ? ':' : ': ';
  if (Array.isArray(value)) {
    [open, close] = ['[', ']'];
    members = value.map((v) => write(v, indent, depth + 1));
  } else if (value instanceof GoMap) {
    [open, close] = ['{', '}'];
    const sorted = [...value.entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    members = sorted.map(([k, v]) => quote(k) + sep + write(v, indent, depth + 1));
  } else if (typeof value === 'object') {
    [open, close] = ['{', '}'];
    members = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => quote(k) + sep + write(v, indent, depth + 1));
  } else {
    throw new TypeError(`json: unsupported type: ${typeof value}`);
  }
  if (members.length === 0) return open + close;
  if (indent === undefined) return open + members.join(',') + close;
  const inner = '\n' + indent.repeat(depth + 1);
  return open + inner + members.join(',' + inner) + '\n' + indent.repeat(depth) + close;
}

/** `json.MarshalIndent(v, "", indent)`. */
export function marshalIndent(value: unknown, indent: string): string {
  return write(value, indent, 0);
}

/** `json.Marshal(v)`: compact, one line. */
export function marshal(value: unknown): string {
  return write(value, undefined, 0);
}
