import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import vault from 'node-vault';
import type NodeVault from 'node-vault';
import type { Config } from '../config/load.js';
import { AdapterError, OpenBaoError } from '../errors.js';
import { BaoSession, type BaoLogin } from './bao-session.js';
import { baoTransport } from './bao-transport.js';
import {
  normalizeSerial,
  pemBlocks,
  type CertificateSummary,
  type IssuedCertificate,
  type IssueRequest,
  type OpenBaoPort,
  type SignedCertificate,
  type SignRequest,
  type StoredCertificate,
} from './port.js';

export interface NodeVaultOptions {
  /** BAO_ADDR. */
  endpoint: string;
  login: BaoLogin;
  mount: string;
  namespace?: string;
  /** PEM of the CA that signed OpenBao's TLS certificate (BAO_CACERT's content). */
  ca?: string;
  timeoutMs?: number;
  now?: () => number;
}

const PAGE = 1000;

/** How labgate logs in, from the environment: BAO_TOKEN, else AppRole, else the pod's service account. */
export function baoLoginFromConfig(config: Config): BaoLogin {
  const env = config.env;
  const bao = config.openbao!;
  if (env.BAO_TOKEN) return { method: 'token', token: env.BAO_TOKEN };
  if (env.BAO_ROLE_ID && env.BAO_SECRET_ID) return { method: 'approle', roleId: env.BAO_ROLE_ID, secretId: env.BAO_SECRET_ID, mount: bao.approleMount };
  return { method: 'kubernetes', role: bao.kubernetesAuth.role, mount: bao.kubernetesAuth.mount, jwtPath: bao.kubernetesAuth.jwtPath };
}

/** The OpenBao port built from labgate's configuration, or undefined when OpenBao is not configured. */
export function openBaoFromConfig(config: Config, now?: () => number): NodeVaultOpenBao | undefined {
  if (!config.openbao || !config.env.BAO_ADDR) return undefined;
  return new NodeVaultOpenBao({
    endpoint: config.env.BAO_ADDR,
    login: baoLoginFromConfig(config),
    mount: config.openbao.mount,
    namespace: config.env.BAO_NAMESPACE,
    ca: config.env.BAO_CACERT ? readFileSync(config.env.BAO_CACERT, 'utf8') : undefined,
    timeoutMs: config.openbao.timeout,
    now,
  });
}

interface ApiError {
  response?: { statusCode?: number; body?: { errors?: unknown[] } };
  code?: string;
  message?: string;
}

/**
 * OpenBao's PKI engine over node-vault. Lists use `GET …?list=true` (Node's HTTP stack has no
 * LIST verb on the server side of some proxies, and OpenBao accepts both). Every failure is an
 * AdapterError with method, path and status; network trouble, 5xx and 429 are transient, so
 * the apply job retries them with backoff. Nothing here logs: request bodies and answers may
 * hold a private key.
 */
export class NodeVaultOpenBao implements OpenBaoPort {
  private readonly client: NodeVault.client;
  private readonly session: BaoSession;
  private readonly mount: string;

  constructor(opts: NodeVaultOptions) {
    this.client = vault({
      endpoint: opts.endpoint,
      apiVersion: 'v1',
      namespace: opts.namespace,
      noCustomHTTPVerbs: true,
      // node-vault's debug output would print request bodies (AppRole secret_id, CSRs).
      debug: () => {},
      // A plain node:http transport: a scan makes thousands of requests (see bao-transport.ts).
      'request-promise': baoTransport(),
      // Kept-alive connections: a scan reads many certificates, one request each.
      requestOptions: {
        timeout: opts.timeoutMs ?? 15_000,
        httpAgent: new http.Agent({ keepAlive: true, maxSockets: 32 }),
        httpsAgent: new https.Agent({ keepAlive: true, maxSockets: 32, ...(opts.ca ? { ca: opts.ca } : {}) }),
      },
    });
    this.session = new BaoSession(this.client, opts.login, opts.now ?? Date.now);
    this.mount = opts.mount;
  }

  /** Stops the renewal timer. */
  close(): void {
    this.session.close();
  }

  private fail(method: string, path: string, err: unknown): AdapterError {
    const e = err as ApiError;
    const status = e.response?.statusCode;
    const first = e.response?.body?.errors?.[0];
    const detail = typeof first === 'string' && first ? first : status ? `status ${status}` : (e.code ?? e.message ?? 'no answer');
    // No `cause`: the library's error objects carry the request, whose body may hold a secret_id or a CSR.
    return new OpenBaoError(method, `/v1/${path}`, status, `OpenBao ${method} /v1/${path} failed${status ? ` (${status})` : ''}: ${detail}`);
  }

  private async call<T>(method: string, path: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.session.ensure();
      } catch (err) {
        throw this.fail('POST', this.session.canLogIn ? 'auth/…/login' : 'auth/token/lookup-self', err);
      }
      try {
        return await fn();
      } catch (err) {
        // A revoked or expired login token: log in once more before giving up.
        if ((err as ApiError).response?.statusCode === 403 && this.session.canLogIn && attempt === 0) {
          this.session.invalidate();
          continue;
        }
        throw this.fail(method, path, err);
      }
    }
  }

  private path(sub: string): string {
    return `${this.mount}/${sub}`;
  }

  private async list(sub: string, query = ''): Promise<{ keys: string[]; keyInfo: Record<string, Record<string, unknown>> }> {
    const path = this.path(sub);
    try {
      // client.list() appends its own "?list=1"; with paging parameters the query is built here.
      const res = await this.call('LIST', path, () => this.client.request({ path: `/${path}?list=true${query}`, method: 'GET' }));
      return { keys: (res?.data?.keys as string[] | undefined) ?? [], keyInfo: (res?.data?.key_info as Record<string, Record<string, unknown>> | undefined) ?? {} };
    } catch (err) {
      // OpenBao answers an empty list with 404.
      if (err instanceof AdapterError && err.status === 404) return { keys: [], keyInfo: {} };
      throw err;
    }
  }

  async issue(role: string, req: IssueRequest): Promise<IssuedCertificate> {
    const path = this.path(`issue/${role}`);
    const res = await this.call('POST', path, () =>
      this.client.write(path, {
        common_name: req.commonName,
        uri_sans: req.uriSans.join(','),
        ttl: `${req.ttlSeconds}s`,
        key_type: req.keyType,
        key_bits: req.keyBits,
        exclude_cn_from_sans: true,
        format: 'pem',
        private_key_format: 'pkcs8',
      }),
    );
    const d = res.data as Record<string, unknown>;
    return {
      serial: normalizeSerial(String(d.serial_number)),
      certificatePem: String(d.certificate),
      caChainPem: chainOf(d),
      privateKeyPem: String(d.private_key),
      expiresAt: Number(d.expiration) * 1000,
    };
  }

  async sign(role: string, req: SignRequest): Promise<SignedCertificate> {
    const path = this.path(`sign/${role}`);
    const res = await this.call('POST', path, () =>
      this.client.write(path, {
        csr: req.csrPem,
        common_name: req.commonName,
        uri_sans: req.uriSans.join(','),
        ttl: `${req.ttlSeconds}s`,
        exclude_cn_from_sans: true,
        format: 'pem',
      }),
    );
    const d = res.data as Record<string, unknown>;
    return { serial: normalizeSerial(String(d.serial_number)), certificatePem: String(d.certificate), caChainPem: chainOf(d), expiresAt: Number(d.expiration) * 1000 };
  }

  async listCertificates(): Promise<CertificateSummary[]> {
    const out: CertificateSummary[] = [];
    let after = '';
    for (;;) {
      const { keys, keyInfo } = await this.list('certs/detailed', `&limit=${PAGE}${after ? `&after=${encodeURIComponent(after)}` : ''}`);
      for (const key of keys) {
        const info = keyInfo[key] ?? {};
        out.push({ serial: normalizeSerial(key), commonName: String(info.common_name ?? ''), notBefore: Date.parse(String(info.not_before ?? '')), notAfter: Date.parse(String(info.not_after ?? '')) });
      }
      if (keys.length < PAGE) return out;
      // Pages continue after the storage key, which is the hyphen form.
      after = keys[keys.length - 1]!.replace(/:/g, '-');
    }
  }

  async listRevoked(): Promise<string[]> {
    return (await this.list('certs/revoked')).keys.map(normalizeSerial);
  }

  async readCertificate(serial: string): Promise<StoredCertificate | null> {
    const path = this.path(`cert/${normalizeSerial(serial)}`);
    try {
      const res = await this.call('GET', path, () => this.client.read(path));
      const d = res.data as Record<string, unknown>;
      const revokedAt = Number(d.revocation_time ?? 0);
      return { serial: normalizeSerial(serial), certificatePem: String(d.certificate), ...(revokedAt > 0 ? { revokedAt: revokedAt * 1000 } : {}) };
    } catch (err) {
      if (err instanceof AdapterError && err.status === 404) return null;
      throw err;
    }
  }

  async revoke(serial: string): Promise<{ revokedAt: number | null; warnings: string[] }> {
    const path = this.path('revoke');
    const res = await this.call('POST', path, () => this.client.write(path, { serial_number: normalizeSerial(serial) }));
    const time = Number(res?.data?.revocation_time ?? 0);
    return { revokedAt: time > 0 ? time * 1000 : null, warnings: (res?.warnings as string[] | null) ?? [] };
  }

  async rotateCrl(): Promise<void> {
    const path = this.path('crl/rotate');
    await this.call('GET', path, () => this.client.read(path));
  }

  async caChain(): Promise<string[]> {
    const path = this.path('cert/ca_chain');
    const res = await this.call('GET', path, () => this.client.read(path));
    const d = res.data as Record<string, unknown>;
    const chain = typeof d.ca_chain === 'string' ? d.ca_chain : Array.isArray(d.ca_chain) ? d.ca_chain.join('\n') : String(d.certificate ?? '');
    return pemBlocks(chain);
  }

  async issuerChain(ref: string): Promise<string[]> {
    const path = this.path(`issuer/${encodeURIComponent(ref)}/json`);
    const res = await this.call('GET', path, () => this.client.read(path));
    const chain = (res.data as Record<string, unknown>).ca_chain;
    return Array.isArray(chain) ? chain.flatMap((p) => pemBlocks(String(p))) : [];
  }

  async crlPem(): Promise<string> {
    const path = this.path('cert/crl');
    const res = await this.call('GET', path, () => this.client.read(path));
    return String(res.data.certificate);
  }
}

function chainOf(d: Record<string, unknown>): string[] {
  if (Array.isArray(d.ca_chain) && d.ca_chain.length) return d.ca_chain.flatMap((p) => pemBlocks(String(p)));
  return pemBlocks(String(d.issuing_ca ?? ''));
}
