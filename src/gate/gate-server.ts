import type { X509Certificate } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Redis } from 'ioredis';
import { connectRedis, type RedisEnv } from '../stores/redis.js';
import type { Logger } from '../log.js';
import { DEVICE_HEADER, OWNER_HEADER, CLIENT_CERT_HEADER } from './client-certificate.js';
import type { CrlSource } from './crl-source.js';
import { allowOf, GateDecider } from './gate-decision.js';
import type { GateAlerts } from './gate-alerts.js';
import { RevocationList } from './revocation-list.js';

export interface GateOptions {
  source: CrlSource;
  refreshEveryMs: number;
  /** Unset: the CRL's nextUpdate. */
  maxStalenessMs?: number;
  /** Pushed revocations: `<prefix>:gate:revoked` on this Redis. */
  /** Where Redis is (REDIS_URL, or the Sentinel settings): the revocation pushes arrive there. */
  redisUrl?: string | RedisEnv;
  channel?: string;
  alerts?: GateAlerts;
  logger: Logger;
  now?: () => number;
}

export interface Gate {
  url: string;
  port: number;
  list: RevocationList;
  /** Reads the CRL now; resolves false when it could not. */
  refresh(): Promise<boolean>;
  /** Resolves once the Redis subscription is in place (immediately without Redis). */
  subscribed: Promise<void>;
  close(): Promise<void>;
}

/** One revocation pushed by the worker that applied it. */
export interface RevocationPush {
  serial: string;
  revokedAt: number;
}

/**
 * The forwardAuth service of mtls-strict routes (`labgate gate`): Traefik calls it with the
 * client certificate in `X-Forwarded-Tls-Client-Cert`; 200 with the owner and device, 403 with a
 * short reason, 503 while the revocation list is stale (fail closed).
 */
export async function startGate(listen: { host: string; port: number }, opts: GateOptions): Promise<Gate> {
  const now = opts.now ?? Date.now;
  const list = new RevocationList(opts.maxStalenessMs);
  let issuers: X509Certificate[] = [];
  const decider = new GateDecider(() => issuers, list);
  let stale = false;
  let closed = false;

  const checkStale = () => {
    if (closed) return;
    const isStale = list.isStale(now());
    if (isStale === stale) return;
    stale = isStale;
    const last = list.refreshedAt ? new Date(list.refreshedAt).toISOString() : 'never';
    opts.logger[isStale ? 'error' : 'info']({ lastRefresh: last, revoked: list.size }, isStale ? 'gate: revocation list stale, failing closed' : 'gate: revocation list fresh again');
    void opts.alerts?.transition(isStale, isStale ? `Last successful refresh from OpenBao: ${last}.` : `Refreshed from OpenBao; ${list.size} revoked serials.`);
  };

  let refreshing: Promise<boolean> | undefined;
  const refresh = (): Promise<boolean> =>
    (refreshing ??= (async () => {
      try {
        const crl = await opts.source.read();
        const changed = crl.issuers.map((c) => c.fingerprint256).join() !== issuers.map((c) => c.fingerprint256).join();
        issuers = crl.issuers;
        if (changed) decider.reset();
        list.replace(crl.entries, now(), crl.nextUpdate);
        return true;
      } catch (err) {
        opts.logger.warn({ err: (err as Error).message }, 'gate: could not refresh the revocation list');
        return false;
      } finally {
        refreshing = undefined;
        checkStale();
      }
    })());

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const path = req.url?.split('?')[0];
    if (path === '/healthz') return void res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    if (path === '/readyz') {
      const fresh = !list.isStale(now());
      return void res.writeHead(fresh ? 200 : 503, { 'content-type': 'text/plain' }).end(fresh ? 'ok\n' : 'revocation list out of date\n');
    }
    const v = decider.decide(req.headers[CLIENT_CERT_HEADER], allowOf(req.url), now());
    if (v.status === 200) return void res.writeHead(200, { [OWNER_HEADER]: v.owner, [DEVICE_HEADER]: v.device, 'content-length': '0' }).end();
    res.writeHead(v.status, { 'content-type': 'text/plain; charset=utf-8' }).end(`${v.reason}\n`);
  };

  const server = createServer(handle);
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  let sub: Redis | undefined;
  let subscribed: Promise<void> = Promise.resolve();
  if (opts.redisUrl && opts.channel) {
    sub = connectRedis(opts.redisUrl, { lazyConnect: false, maxRetriesPerRequest: null });
    sub.on('error', (err) => opts.logger.warn({ err: err.message }, 'gate: Redis subscription trouble'));
    sub.on('message', (_channel: string, text: string) => {
      try {
        const push = JSON.parse(text) as RevocationPush;
        if (typeof push.serial !== 'string' || typeof push.revokedAt !== 'number') return;
        // Only ever adds: a forged push can refuse a device, never let a revoked one back in.
        list.add(push.serial, push.revokedAt);
        opts.logger.info({ serial: push.serial }, 'gate: revocation pushed');
        void refresh();
      } catch {
        opts.logger.warn('gate: unreadable revocation push ignored');
      }
    });
    subscribed = sub.subscribe(opts.channel).then(() => undefined);
    subscribed.catch(() => {});
  }

  await refresh();
  const timer = setInterval(() => void refresh(), opts.refreshEveryMs);
  const ticker = setInterval(checkStale, Math.min(opts.refreshEveryMs, 1000));
  timer.unref();
  ticker.unref();

  const host = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
    port,
    list,
    refresh,
    subscribed,
    close: async () => {
      closed = true;
      clearInterval(timer);
      clearInterval(ticker);
      sub?.disconnect();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
