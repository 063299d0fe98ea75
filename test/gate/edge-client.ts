import { execFile } from 'node:child_process';
import { request } from 'node:https';
import type { Edge } from '../../sandbox/edge/edge-server.js';

export interface EdgeAnswer {
  status: number;
  body: string;
  /** What the echo backend received (200 only). */
  seen?: { service: string; headers: Record<string, string> };
}

/** One HTTPS request through the sandbox edge, as a phone would make it: SNI and Host are the host. */
export function viaEdge(edge: Edge, host: string, opts: { cert?: string; key?: string; headers?: Record<string, string>; entryPoint?: string } = {}): Promise<EdgeAnswer> {
  const port = edge.ports[opts.entryPoint ?? 'websecure']!;
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, servername: host, path: '/', method: 'GET', ca: edge.caPem, headers: { host, ...opts.headers }, ...(opts.cert ? { cert: opts.cert, key: opts.key } : {}), agent: false },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, body, ...(res.statusCode === 200 ? { seen: JSON.parse(body) } : {}) }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** `curl --cert bundle.p12:pass --cert-type P12` through the edge: status code and body. */
export function curlViaEdge(
  edge: Edge,
  caFile: string,
  host: string,
  p12?: string,
  passphrase?: string,
  headers: Record<string, string> = {},
): Promise<{ code: number; status: string; body: string; stderr: string }> {
  const port = edge.ports.websecure!;
  const cert = p12 ? ['--cert-type', 'P12', '--cert', `${p12}:${passphrase}`] : [];
  const extra = Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]);
  const args = ['-sS', '--resolve', `${host}:${port}:127.0.0.1`, '--cacert', caFile, ...cert, ...extra, '-w', '\n%{http_code}', `https://${host}:${port}/`];
  return new Promise((resolve) => {
    execFile('curl', args, { timeout: 20_000 }, (err, stdout, stderr) => {
      const lines = stdout.split('\n');
      const status = lines.pop() ?? '';
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, status, body: lines.join('\n'), stderr });
    });
  });
}
