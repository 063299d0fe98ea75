/**
 * kubectl's typed commands (`auth whoami`, `auth can-i`, `create token`, `create
 * serviceaccount`, `create rolebinding`…) send built-in objects as Kubernetes protobuf: the
 * magic `k8s\0`, then a runtime.Unknown whose `raw` is the object. This reads the kinds those
 * commands send into the JSON the rest of the server works on, by field number as in
 * k8s.io/api and k8s.io/apimachinery's generated.proto. Other kinds are refused with 415.
 */
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

export const PROTOBUF = 'application/vnd.kubernetes.protobuf';

type Raw = { bytes: Buffer[]; ints: number[] };
type Fields = Map<number, Raw>;

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

function fields(buf: Buffer): Fields {
  const out: Fields = new Map();
  const slot = (f: number) => out.get(f) ?? (out.set(f, { bytes: [], ints: [] }), out.get(f)!);
  let at = 0;
  while (at < buf.length) {
    const [tag, next] = varint(buf, at);
    at = next;
    const wire = tag & 7;
    const field = Math.floor(tag / 8);
    if (wire === 2) {
      const [len, start] = varint(buf, at);
      slot(field).bytes.push(buf.subarray(start, start + len));
      at = start + len;
    } else if (wire === 0) {
      const [v, after] = varint(buf, at);
      slot(field).ints.push(v);
      at = after;
    } else if (wire === 1) at += 8;
    else if (wire === 5) at += 4;
    else throw new Error(`unsupported protobuf wire type ${wire}`);
  }
  return out;
}

/** How to read one message: field number → [json name, type]. */
type Spec = Record<number, [string, 'string' | 'strings' | 'int' | 'bool' | 'map' | 'bytesMap' | Spec | [Spec]]>;

const META: Spec = { 1: ['name', 'string'], 2: ['generateName', 'string'], 3: ['namespace', 'string'], 11: ['labels', 'map'], 12: ['annotations', 'map'], 14: ['finalizers', 'strings'] };
const SUBJECT: Spec = { 1: ['kind', 'string'], 2: ['apiGroup', 'string'], 3: ['name', 'string'], 4: ['namespace', 'string'] };
const ROLE_REF: Spec = { 1: ['apiGroup', 'string'], 2: ['kind', 'string'], 3: ['name', 'string'] };
const RULE: Spec = { 1: ['verbs', 'strings'], 2: ['apiGroups', 'strings'], 3: ['resources', 'strings'], 4: ['resourceNames', 'strings'], 5: ['nonResourceURLs', 'strings'] };
const BINDING: Spec = { 1: ['metadata', META], 2: ['subjects', [SUBJECT]], 3: ['roleRef', ROLE_REF] };

/** The kinds kubectl's typed commands send, by `apiVersion/kind`. */
const KINDS: Record<string, Spec> = {
  'authentication.k8s.io/v1/SelfSubjectReview': { 1: ['metadata', META] },
  'authorization.k8s.io/v1/SelfSubjectAccessReview': {
    1: ['metadata', META],
    2: ['spec', {
      1: ['resourceAttributes', { 1: ['namespace', 'string'], 2: ['verb', 'string'], 3: ['group', 'string'], 4: ['version', 'string'], 5: ['resource', 'string'], 6: ['subresource', 'string'], 7: ['name', 'string'] }],
      2: ['nonResourceAttributes', { 1: ['path', 'string'], 2: ['verb', 'string'] }],
    }],
  },
  'authentication.k8s.io/v1/TokenRequest': { 1: ['metadata', META], 2: ['spec', { 1: ['audiences', 'strings'], 4: ['expirationSeconds', 'int'] }] },
  'v1/ServiceAccount': { 1: ['metadata', META], 4: ['automountServiceAccountToken', 'bool'] },
  'v1/Namespace': { 1: ['metadata', META] },
  'v1/ConfigMap': { 1: ['metadata', META], 2: ['data', 'map'], 3: ['binaryData', 'bytesMap'], 4: ['immutable', 'bool'] },
  'v1/Secret': { 1: ['metadata', META], 2: ['data', 'bytesMap'], 3: ['type', 'string'], 4: ['stringData', 'map'], 5: ['immutable', 'bool'] },
  'rbac.authorization.k8s.io/v1/RoleBinding': BINDING,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': BINDING,
  'rbac.authorization.k8s.io/v1/Role': { 1: ['metadata', META], 2: ['rules', [RULE]] },
  'rbac.authorization.k8s.io/v1/ClusterRole': { 1: ['metadata', META], 2: ['rules', [RULE]] },
};

function entries(raw: Raw, bytes: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of raw.bytes) {
    const f = fields(e);
    const value = f.get(2)?.bytes[0] ?? Buffer.alloc(0);
    out[f.get(1)?.bytes[0]?.toString('utf8') ?? ''] = bytes ? value.toString('base64') : value.toString('utf8');
  }
  return out;
}

function decodeMessage(buf: Buffer, spec: Spec): Record<string, unknown> {
  const f = fields(buf);
  const out: Record<string, unknown> = {};
  for (const [n, [name, type]] of Object.entries(spec)) {
    const raw = f.get(Number(n));
    if (!raw) continue;
    if (type === 'string') out[name] = raw.bytes[0]!.toString('utf8');
    else if (type === 'strings') out[name] = raw.bytes.map((b) => b.toString('utf8'));
    else if (type === 'int') out[name] = raw.ints[0];
    else if (type === 'bool') out[name] = raw.ints[0] === 1;
    else if (type === 'map' || type === 'bytesMap') out[name] = entries(raw, type === 'bytesMap');
    else if (Array.isArray(type)) out[name] = raw.bytes.map((b) => decodeMessage(b, type[0]));
    else out[name] = decodeMessage(raw.bytes[0]!, type);
  }
  return out;
}

/** Whether a body is Kubernetes protobuf. */
export function isProtobuf(contentType: string | undefined, body: Buffer): boolean {
  return (contentType ?? '').startsWith(PROTOBUF) || body.subarray(0, 4).equals(MAGIC);
}

/** The object a protobuf body carries, as JSON (apiVersion and kind from its TypeMeta); undefined for a kind the sandbox does not read. */
export function decodeProtobufObject(body: Buffer): Record<string, unknown> | undefined {
  if (!body.subarray(0, 4).equals(MAGIC)) return undefined;
  const unknown = fields(body.subarray(4));
  const typeMeta = unknown.get(1)?.bytes[0];
  const tm = typeMeta ? fields(typeMeta) : new Map();
  const apiVersion = (tm.get(1) as Raw | undefined)?.bytes[0]?.toString('utf8') ?? '';
  const kind = (tm.get(2) as Raw | undefined)?.bytes[0]?.toString('utf8') ?? '';
  const spec = KINDS[`${apiVersion}/${kind}`];
  const raw = unknown.get(2)?.bytes[0];
  if (!spec) return undefined;
  return { apiVersion, kind, ...(raw ? decodeMessage(raw, spec) : {}) };
}
