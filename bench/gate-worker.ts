import { X509Certificate } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { startGate } from '../src/gate/gate-server.js';
import { createLogger } from '../src/log.js';

/**
 * A gate (or the floor: a handler that answers 200 at once) in a thread of its own, so the load
 * generator in the main thread does not share its event loop.
 */
const data = workerData as { mode: 'gate' | 'floor'; issuerPem: string; revoked: string[] };

async function main(): Promise<number> {
  if (data.mode === 'floor') {
    const server = createServer((_req, res) => void res.writeHead(200, { 'content-length': '0' }).end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    return (server.address() as AddressInfo).port;
  }
  const now = Date.now();
  const gate = await startGate(
    { host: '127.0.0.1', port: 0 },
    {
      source: { read: async () => ({ issuers: [new X509Certificate(data.issuerPem)], entries: data.revoked.map((s) => [s, now] as [string, number]), nextUpdate: now + 3600_000 }) },
      refreshEveryMs: 3600_000,
      logger: createLogger({ level: 'warn', destination: { write: () => true } as never }),
    },
  );
  return gate.port;
}

main().then((port) => parentPort!.postMessage({ port }), (err: Error) => parentPort!.postMessage({ error: err.message }));
