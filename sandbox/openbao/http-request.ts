import type http from 'node:http';
import { OpenBaoHttpError } from './http-envelope.js';
import type { RequestBody } from './request-fields.js';

/**
 * Turning an HTTP request into OpenBao's logical request (http/logical.go
 * buildLogicalRequestNoAuth, http/handler.go): the decoded path, the parameters (query for
 * reads and lists, a JSON or form body for writes), and the namespace header.
 */

/** r.URL.Path: percent-escapes decoded (hvac quotes the ":" of serials); a bad escape is Go's 400. */
export function decodePath(pathname: string): string {
  try {
    return decodeURIComponent(pathname);
  } catch {
    throw new OpenBaoHttpError(400, ['invalid URL escape in request path']);
  }
}

/** parseQuery: every query parameter but `help` (and `list`, consumed as the operation); repeated ones as a list. */
export function queryData(query: URLSearchParams, drop: string[] = []): RequestBody {
  const data: RequestBody = {};
  for (const key of new Set(query.keys())) {
    if (key === 'help' || drop.includes(key)) continue;
    const values = query.getAll(key);
    data[key] = values.length === 1 ? values[0] : values;
  }
  return data;
}

/** http/handler.go isForm: a form content type whose body does not start like JSON. */
function isForm(text: string, contentType: string): boolean {
  if (contentType.split(';')[0]!.trim().toLowerCase() !== 'application/x-www-form-urlencoded') return false;
  const first = text.trimStart()[0];
  return first !== '{' && first !== '[';
}

/**
 * The body of a POST or PUT: form data when it is a form (repeated keys joined with commas,
 * as parseFormRequest does), otherwise JSON whatever the content type says.
 */
export function writeData(raw: Buffer, contentType: string): RequestBody {
  const text = raw.toString('utf8');
  if (isForm(text, contentType)) {
    const form = new URLSearchParams(text);
    const data: RequestBody = {};
    for (const key of new Set(form.keys())) data[key] = form.getAll(key).join(',');
    return data;
  }
  return jsonData(text);
}

/** parseJSONRequest into a map: an empty body is no parameters; anything but an object is a 400. */
export function jsonData(text: string): RequestBody {
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new OpenBaoHttpError(400, [`failed to decode JSON input: ${(err as Error).message}`]);
  }
  if (parsed === null) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new OpenBaoHttpError(400, [`failed to decode JSON input: json: cannot unmarshal ${Array.isArray(parsed) ? 'array' : typeof parsed} into Go value of type map[string]interface {}`]);
  }
  return parsed as RequestBody;
}

/** `sys/` APIs that only the root namespace has (restrictedSysAPIsNonLogical in http/handler.go). */
const ROOT_ONLY_SYS = ['raw', 'generate-recovery-token', 'init', 'seal', 'step-down', 'unseal', 'health', 'rekey-recovery-key', 'rekey', 'storage', 'generate-root', 'metrics', 'pprof', 'in-flight-req'];

/**
 * The X-Vault-Namespace checks, for a sandbox that has only the root namespace: any header on a
 * root-only sys API is a 400; a header naming another namespace is a 404 "namespace not found"
 * (ResolveNamespaceFromRequest finds nothing); "root", "/" or nothing is the root namespace.
 */
export function checkNamespace(header: string, path: string): void {
  if (header === '') return;
  if (path.startsWith('sys/') && ROOT_ONLY_SYS.includes(path.slice(4).split('/')[0]!)) {
    throw new OpenBaoHttpError(400, ['operation unavailable in namespaces']);
  }
  const canonical = header.replace(/^\/+/, '').replace(/\/{2,}/g, '/').replace(/\/+$/, '');
  if (canonical !== '' && canonical !== 'root') throw new OpenBaoHttpError(404, ['namespace not found']);
}

export function tokenFrom(req: http.IncomingMessage): string | undefined {
  const header = req.headers['x-vault-token'];
  if (typeof header === 'string' && header) return header;
  const auth = req.headers.authorization;
  if (typeof auth === 'string' && /^Bearer\s+/i.test(auth)) return auth.replace(/^Bearer\s+/i, '').trim();
  return undefined;
}

export function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
