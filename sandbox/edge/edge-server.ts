import { X509Certificate } from 'node:crypto';
import { createServer as createHttpServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { createSecureContext, TLSSocket } from 'node:tls';
import type { ObjectStore } from '../kubernetes/object-store.js';
import { readClientHelloSni } from './client-hello.js';
import { edgeCertificate } from './edge-certificate.js';
import { EdgeRouting, type EdgeRoute, type TlsPolicy } from './edge-routing.js';
import { clientCertHeader, clientCertInfoHeader, type PassTlsInfo } from './traefik-headers.js';

export interface EdgeOptions {
  store: ObjectStore;
  domain: string;
  /** Entry points to listen for, with TLS (default websecure and ts-secure). */
  entryPoints?: string[];
  host?: string;
  /** Ports to come back on (a restarted sandbox); a taken one falls back to a free port. */
  ports?: Record<string, number>;
}

export interface Edge {
  /** `https://127.0.0.1:<port>` per entry point. */
  urls: Record<string, string>;
  ports: Record<string, number>;
  /** The edge's serving certificate (its own trust anchor): pass it as the CA. */
  caPem: string;
  /** Where a forwardAuth address's host:port really is (the gate's Service → its loopback port). */
  setUpstream(hostPort: string, url: string): void;
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer', 'content-length']);

/** A net socket as a plain Duplex, so bytes read to find the SNI can be handed to the TLS layer again. */
function replayable(socket: Socket, first: Buffer): Duplex {
  const d = new Duplex({
    read: () => void socket.resume(),
    write: (chunk, _enc, cb) => void socket.write(chunk, cb),
    final: (cb) => {
      socket.end();
      cb();
    },
    destroy: (err, cb) => {
      socket.destroy();
      cb(err);
    },
  });
  d.push(first);
  socket.on('data', (c: Buffer) => {
    if (!d.push(c)) socket.pause();
  });
  socket.on('end', () => d.push(null));
  socket.on('error', (err) => d.destroy(err));
  socket.on('close', () => d.destroy());
  return d;
}

/** Whether a client certificate chains to one of the CAs (each a trust anchor, as in Go's crypto/tls) and is inside its validity. */
export function verifiedByPool(der: Buffer, caPems: string[], now = Date.now()): boolean {
  try {
    const leaf = new X509Certificate(der);
    if (now < Date.parse(leaf.validFrom) || now > Date.parse(leaf.validTo)) return false;
    if (leaf.keyUsage && !leaf.keyUsage.includes('1.3.6.1.5.5.7.3.2')) return false;
    const cas = caPems.flatMap((p) => p.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((p) => new X509Certificate(p));
    return cas.some((ca) => leaf.checkIssued(ca) && leaf.verify(ca.publicKey));
  } catch {
    return false;
  }
}

function answer(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(`${text}\n`);
}

/**
 * A test double of Traefik for the routes labgate creates (issue 11): TLS on each entry point,
 * the route by SNI and Host, the client certificate requested and verified per the route's
 * TLSOption (CA from its Secret), the route's middlewares in order (passTLSClientCert,
 * forwardAuth), then an echo backend that answers with what it received.
 */
export async function startEdge(opts: EdgeOptions): Promise<Edge> {
  const routing = new EdgeRouting(opts.store);
  const serving = edgeCertificate(opts.domain);
  const upstreams = new Map<string, string>();
  const servers: NetServer[] = [];
  const urls: Record<string, string> = {};
  const ports: Record<string, number> = {};
  const sockets = new Set<Socket>();

  for (const entryPoint of opts.entryPoints ?? ['websecure', 'ts-secure']) {
    const http = createHttpServer((req, res) => void handle(entryPoint, req, res).catch((err: Error) => answer(res, 502, `Bad Gateway: ${err.message}`)));
    const server = createNetServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      let buf = Buffer.alloc(0);
      const onData = (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        const hello = readClientHelloSni(buf);
        if (hello.incomplete && buf.length < 16_384) return;
        socket.off('data', onData);
        socket.pause();
        const sni = hello.incomplete ? undefined : hello.sni;
        const policy = routing.tlsPolicy(sni ? routing.find(entryPoint, sni) : undefined);
        const verify = policy.clientAuthType === 'RequireAndVerifyClientCert' || policy.clientAuthType === 'VerifyClientCertIfGiven';
        const tls = new TLSSocket(replayable(socket, buf), {
          isServer: true,
          secureContext: createSecureContext({ cert: serving.certPem, key: serving.keyPem, minVersion: 'TLSv1.2', ...(policy.clientCas.length ? { ca: policy.clientCas } : {}) }),
          requestCert: policy.clientAuthType !== 'NoClientCert',
          // Go's RequireAndVerifyClientCert: no certificate, or one the CA did not sign, fails the handshake.
          rejectUnauthorized: policy.clientAuthType === 'RequireAndVerifyClientCert',
          ALPNProtocols: ['http/1.1'],
        });
        (tls as TLSSocket & { labgateSni?: string; labgatePolicy?: TlsPolicy }).labgateSni = sni;
        (tls as TLSSocket & { labgatePolicy?: TlsPolicy }).labgatePolicy = policy;
        tls.on('error', () => tls.destroy());
        tls.once('secure', () => {
          const cert = tls.getPeerCertificate();
          const has = Boolean(cert?.raw);
          // Go verifies against the pool with its CAs as trust anchors (the device issuer alone is
          // enough); OpenSSL wants a root, so the chain is checked here, as Go would, and a
          // certificate that fails is cut off before any request is read.
          const refused = (policy.clientAuthType === 'RequireAnyClientCert' || policy.clientAuthType === 'RequireAndVerifyClientCert') && !has ? true : verify && has && !verifiedByPool(cert.raw, policy.clientCas);
          if (refused) tls.destroy();
        });
        http.emit('connection', tls);
      };
      socket.on('data', onData);
      socket.on('error', () => socket.destroy());
    });
    const listen = (port: number) =>
      new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, opts.host ?? '127.0.0.1', () => resolve());
      });
    await listen(opts.ports?.[entryPoint] ?? 0).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EADDRINUSE') throw err;
      return listen(0);
    });
    servers.push(server);
    ports[entryPoint] = (server.address() as AddressInfo).port;
    urls[entryPoint] = `https://127.0.0.1:${ports[entryPoint]}`;
  }

  async function handle(entryPoint: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const tls = req.socket as TLSSocket & { labgateSni?: string; labgatePolicy?: TlsPolicy };
    const host = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
    const route = routing.find(entryPoint, host);
    if (!route) return answer(res, 404, '404 page not found');
    // Traefik answers 421 when the Host's TLS options differ from those the handshake used (no fronting past mTLS).
    if (routing.tlsPolicy(route).key !== tls.labgatePolicy?.key) return answer(res, 421, 'Misdirected Request');
    const resolved = routing.resolve(route);
    if ('problem' in resolved) return answer(res, 404, '404 page not found');
    const headers: Record<string, string | string[] | undefined> = { ...req.headers };
    for (const mw of resolved.middlewares) {
      const spec = mw.object!.spec as { passTLSClientCert?: { pem?: boolean; info?: PassTlsInfo }; forwardAuth?: ForwardAuth };
      if (spec.passTLSClientCert) passTlsClientCert(tls, headers, spec.passTLSClientCert);
      else if (spec.forwardAuth) {
        const denied = await forwardAuth(spec.forwardAuth, req, headers);
        if (denied) {
          res.writeHead(denied.status, denied.headers).end(denied.body);
          return;
        }
      } else return answer(res, 500, `the sandbox edge does not run middleware ${mw.namespace}/${mw.name} (${Object.keys(mw.object!.spec ?? {}).join(', ')})`);
    }
    echo(resolved, req, headers, res);
  }

  function passTlsClientCert(tls: TLSSocket, headers: Record<string, string | string[] | undefined>, cfg: { pem?: boolean; info?: PassTlsInfo }): void {
    // Whatever the client sent under these names never reaches the next middleware.
    delete headers['x-forwarded-tls-client-cert'];
    delete headers['x-forwarded-tls-client-cert-info'];
    const cert = tls.getPeerCertificate();
    if (!cert?.raw) return;
    if (cfg.pem) headers['x-forwarded-tls-client-cert'] = clientCertHeader([cert.raw]);
    if (cfg.info) headers['x-forwarded-tls-client-cert-info'] = clientCertInfoHeader([cert.raw], cfg.info);
  }

  interface ForwardAuth {
    address: string;
    authResponseHeaders?: string[];
    authRequestHeaders?: string[];
  }

  function forwardAuth(cfg: ForwardAuth, req: IncomingMessage, headers: Record<string, string | string[] | undefined>): Promise<{ status: number; headers: Record<string, string | string[]>; body: Buffer } | undefined> {
    const url = new URL(cfg.address);
    const target = new URL(upstreams.get(url.host) ?? url.origin);
    const wanted = cfg.authRequestHeaders?.map((h) => h.toLowerCase());
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(k) && k !== 'host' && (!wanted?.length || wanted.includes(k))) out[k] = v;
    Object.assign(out, {
      'x-forwarded-method': req.method ?? 'GET',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': req.headers.host ?? '',
      'x-forwarded-uri': req.url ?? '/',
      'x-forwarded-for': req.socket.remoteAddress ?? '',
    });
    return new Promise((resolve, reject) => {
      const r = httpRequest({ host: target.hostname, port: target.port, path: `${url.pathname}${url.search}`, method: 'GET', headers: out, timeout: 5000 }, (resp) => {
        const chunks: Buffer[] = [];
        resp.on('data', (c: Buffer) => chunks.push(c));
        resp.on('end', () => {
          const status = resp.statusCode ?? 500;
          if (status >= 200 && status < 300) {
            for (const name of cfg.authResponseHeaders ?? []) {
              const key = name.toLowerCase();
              delete headers[key];
              if (resp.headers[key] !== undefined) headers[key] = resp.headers[key];
            }
            return resolve(undefined);
          }
          const back: Record<string, string | string[]> = {};
          for (const [k, v] of Object.entries(resp.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) back[k] = v;
          resolve({ status, headers: back, body: Buffer.concat(chunks) });
        });
      });
      r.on('timeout', () => r.destroy(new Error('forwardAuth timed out')));
      r.on('error', reject);
      r.end();
    });
  }

  function echo(route: EdgeRoute, req: IncomingMessage, headers: Record<string, string | string[] | undefined>, res: ServerResponse): void {
    const body = JSON.stringify({ service: `${route.service.namespace}/${route.service.name}:${route.service.port}`, method: req.method, url: req.url, headers });
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  }

  return {
    urls,
    ports,
    caPem: serving.certPem,
    setUpstream: (hostPort, url) => void upstreams.set(hostPort, url),
    close: async () => {
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    },
  };
}
