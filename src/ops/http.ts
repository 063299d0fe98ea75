import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { enableDefaultMetrics, metricsText, registry } from './metrics.js';
import type { ListenAddress } from './listen.js';
import { readiness } from './readiness.js';

export interface OpsServer {
  /** http://host:port as bound (the real port when 0 was asked for). */
  url: string;
  close(): Promise<void>;
}

/**
 * The health and metrics port: `/healthz` (the process answers), `/readyz` (every readiness
 * check passes: 200, else 503, with the checks as JSON) and `/metrics` (Prometheus text).
 * Read-only and without secrets, so it needs no authentication; keep it off the internet anyway.
 */
export async function startOpsServer(at: ListenAddress): Promise<OpsServer> {
  enableDefaultMetrics();
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('only GET\n');
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    }
    if (path === '/readyz') {
      const s = readiness.state();
      res.writeHead(s.ready ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(s) + '\n');
      return;
    }
    if (path === '/metrics') {
      readiness
        .refresh()
        .then(() => metricsText())
        .then(
          (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
          (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${err.message}\n`),
        );
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found; try /healthz, /readyz or /metrics\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  const host = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  return {
    url: `http://${host}:${bound.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
