import http from 'node:http';
import https from 'node:https';

/**
 * The HTTP transport node-vault uses, through its `request-promise` option (a function with
 * `defaults()`, as the request-promise library had). node-vault's own transport is axios,
 * which spends about three times the CPU of a plain node:http request per call; an expiry scan
 * reads one certificate per request, thousands of them, so the plain one is used. It speaks
 * the contract node-vault relies on: `{ method, uri, headers, json, timeout, httpAgent,
 * httpsAgent }` in, `{ statusCode, body, request: { path } }` out, every status resolved (node-vault
 * sorts them), network trouble rejected with the error's code, and a timeout rejected with
 * code ECONNABORTED as axios reports it.
 */

interface RequestOptions {
  method: string;
  uri: string;
  headers?: Record<string, string>;
  /** A request body to send as JSON; `true` (node-vault's default) only asks for a JSON answer. */
  json?: unknown;
  timeout?: number;
  httpAgent?: http.Agent;
  httpsAgent?: https.Agent;
}

export interface TransportResponse {
  statusCode: number;
  body: unknown;
  request: { path: string };
}

type Send = (options: RequestOptions) => Promise<TransportResponse>;

/** Parses a body as JSON when it is JSON; anything else stays text ('' for no body). */
function decode(text: string): unknown {
  const first = text.trimStart()[0];
  if (first !== '{' && first !== '[') return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function send(options: RequestOptions): Promise<TransportResponse> {
  return new Promise((resolve, reject) => {
    const url = new URL(options.uri);
    const secure = url.protocol === 'https:';
    const body = options.json !== null && typeof options.json === 'object' ? JSON.stringify(options.json) : undefined;
    const headers: Record<string, string | number> = { Accept: 'application/json', ...options.headers };
    if (body !== undefined) {
      headers['Content-Type'] ??= 'application/json';
      headers['Content-Length'] = Buffer.byteLength(body);
    }
    const request = (secure ? https : http).request(
      url,
      { method: options.method, headers, agent: secure ? options.httpsAgent : options.httpAgent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => resolve({ statusCode: res.statusCode ?? 0, body: decode(Buffer.concat(chunks).toString('utf8')), request: { path: url.pathname } }));
      },
    );
    if (options.timeout) {
      request.setTimeout(options.timeout, () => {
        request.destroy(Object.assign(new Error(`timeout of ${options.timeout}ms exceeded`), { code: 'ECONNABORTED' }));
      });
    }
    request.on('error', reject);
    request.end(body);
  });
}

/** The object node-vault takes as `request-promise`. */
export function baoTransport(): { defaults: (base: Partial<RequestOptions>) => Send } {
  return { defaults: (base) => (options) => send({ ...base, ...options }) };
}
