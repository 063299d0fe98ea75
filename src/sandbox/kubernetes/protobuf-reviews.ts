/**
 * kubectl's typed clients send the review kinds (`auth whoami`, `auth can-i`) as Kubernetes
 * protobuf: the magic `k8s\0`, then a runtime.Unknown whose `raw` is the object. This reads
 * the few fields a SelfSubjectAccessReview carries (field numbers from k8s.io/api's
 * generated.proto) into the JSON shape the rest of the server uses.
 */
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

export const PROTOBUF = 'application/vnd.kubernetes.protobuf';

type Fields = Map<number, Buffer[]>;

function varint(buf: Buffer, at: number): [number, number] {
  let n = 0;
  let shift = 0;
  for (;;) {
    const b = buf[at++];
    if (b === undefined) throw new Error('truncated varint');
    n += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return [n, at];
    shift += 7;
  }
}

/** The length-delimited fields of one message (other wire types skipped). */
function fields(buf: Buffer): Fields {
  const out: Fields = new Map();
  let at = 0;
  while (at < buf.length) {
    const [tag, next] = varint(buf, at);
    at = next;
    const wire = tag & 7;
    const field = Math.floor(tag / 8);
    if (wire === 2) {
      const [len, start] = varint(buf, at);
      out.set(field, [...(out.get(field) ?? []), buf.subarray(start, start + len)]);
      at = start + len;
    } else if (wire === 0) at = varint(buf, at)[1];
    else if (wire === 1) at += 8;
    else if (wire === 5) at += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}

const text = (f: Fields, n: number) => f.get(n)?.[0]?.toString('utf8');

function strings(f: Fields, names: Record<number, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [n, name] of Object.entries(names)) {
    const v = text(f, Number(n));
    if (v) out[name] = v;
  }
  return out;
}

/** Whether a body is Kubernetes protobuf. */
export function isProtobuf(contentType: string | undefined, body: Buffer): boolean {
  return (contentType ?? '').startsWith(PROTOBUF) || body.subarray(0, 4).equals(MAGIC);
}

/** The JSON form of a protobuf review body: `{spec: {resourceAttributes | nonResourceAttributes}}` (empty for SelfSubjectReview). */
export function decodeReview(body: Buffer): Record<string, unknown> {
  if (!body.subarray(0, 4).equals(MAGIC)) throw new Error('not a Kubernetes protobuf body');
  const unknown = fields(body.subarray(4));
  const raw = unknown.get(2)?.[0];
  if (!raw) return {};
  const specBuf = fields(raw).get(2)?.[0];
  if (!specBuf) return {};
  const spec = fields(specBuf);
  const res = spec.get(1)?.[0];
  const nonRes = spec.get(2)?.[0];
  return {
    spec: {
      ...(res ? { resourceAttributes: strings(fields(res), { 1: 'namespace', 2: 'verb', 3: 'group', 4: 'version', 5: 'resource', 6: 'subresource', 7: 'name' }) } : {}),
      ...(nonRes ? { nonResourceAttributes: strings(fields(nonRes), { 1: 'path', 2: 'verb' }) } : {}),
    },
  };
}
