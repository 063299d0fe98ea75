import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { RouterOSClient, type RosApiMenu, type RouterOSAPI } from 'routeros-client';
import { AdapterError, RouterError } from '../errors.js';
import { patchNodeRouterOs, RouterTrapError } from './node-routeros-patch.js';
import type { NatRule, RouterPort } from './port.js';

patchNodeRouterOs();

export interface RouterOsOptions {
  host: string;
  /** 8728, or 8729 with TLS (node-routeros would use 8728 for TLS too unless told). */
  port?: number;
  user: string;
  password: string;
  tls?: boolean;
  /** PEM of the CA that signed the router's api-ssl certificate; without it the system CAs. */
  ca?: string;
  /** How long one command may take before it fails and its connection is dropped. */
  timeoutMs: number;
  /** Connection attempts before a call fails, with exponential backoff between them. */
  connectAttempts?: number;
  backoffMs?: number;
}

interface Connection {
  client: RouterOSClient;
  raw: RouterOSAPI;
  menu: RosApiMenu;
  /** Rejecters of the commands still waiting for an answer. */
  pending: Set<(err: Error) => void>;
  lost?: Error;
}

const NAT = '/ip/firewall/nat';
const TRAP_CATEGORIES = ['missing item or command', 'argument value failure', 'execution interrupted', 'scripting failure', 'general failure', 'API failure', 'TTY failure', ':return value'];

class ConnectionLost extends Error {}
class CommandTimeout extends Error {}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * RouterOS over routeros-client (node-routeros underneath), on one connection kept open and
 * re-opened with backoff when it drops. What node-routeros does not do, this does: a timeout
 * per command, rejecting what is pending when the connection closes, `!empty` and trap
 * categories (see node-routeros-patch.ts). Writes go through routeros-client's menu with
 * string values, which it passes on as given; prints go through the raw API because
 * routeros-client turns `"443"` into 443 and `"true"` into true on the way back.
 */
export class RouterOsClientAdapter implements RouterPort {
  private connecting?: Promise<Connection>;
  private readonly port: number;

  constructor(private readonly opts: RouterOsOptions) {
    this.port = opts.port ?? (opts.tls ? 8729 : 8728);
  }

  private get where(): string {
    return `${this.opts.host}:${this.port}`;
  }

  private async connection(): Promise<Connection> {
    for (let current = this.connecting; current; current = this.connecting) {
      const c = await current.catch(() => undefined);
      if (c && !c.lost) return c;
      // Several callers may find it lost at once: only one of them opens the next connection.
      if (this.connecting === current) this.connecting = undefined;
    }
    const attempt = this.connectWithBackoff();
    this.connecting = attempt;
    attempt.catch(() => {
      if (this.connecting === attempt) this.connecting = undefined;
    });
    return attempt;
  }

  private async connectWithBackoff(): Promise<Connection> {
    const attempts = this.opts.connectAttempts ?? 3;
    let last: unknown;
    for (let i = 0; i < attempts; i++) {
      if (i > 0) await sleep((this.opts.backoffMs ?? 200) * 2 ** (i - 1) * (0.75 + Math.random() / 2));
      try {
        return await this.connectOnce();
      } catch (err) {
        last = err;
        if (err instanceof AdapterError && !err.transient) throw err;
      }
    }
    throw last;
  }

  private async connectOnce(): Promise<Connection> {
    const client = new RouterOSClient({
      host: this.opts.host,
      port: this.port,
      user: this.opts.user,
      password: this.opts.password,
      // node-routeros' socket idle timeout, in seconds; our own per-command timeout is finer.
      timeout: Math.max(2, Math.ceil(this.opts.timeoutMs / 1000) + 1),
      ...(this.opts.tls ? { tls: this.opts.ca ? { ca: this.opts.ca } : {} } : {}),
    });
    const conn = { client, pending: new Set() } as unknown as Connection;
    // Without a listener an 'error' event (dropped socket, idle timeout) would end the process.
    client.on('error', (err: Error) => this.lose(conn, err));
    client.on('close', () => this.lose(conn, new ConnectionLost('the router closed the connection')));
    let timer: NodeJS.Timeout | undefined;
    const connecting = client.connect();
    // node-routeros replaces a socket error by one without its message (ECONNREFUSED becomes -111): keep the original.
    let socketError: Error | undefined;
    (client as unknown as { rosApi: { connector?: { socket?: Socket } } }).rosApi.connector?.socket?.once('error', (e: Error) => (socketError = e));
    try {
      const menu = await Promise.race([
        connecting,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new CommandTimeout(`no answer within ${this.opts.timeoutMs} ms`)), this.opts.timeoutMs);
        }),
      ]);
      conn.menu = menu;
      conn.raw = (menu as unknown as { rosApi: RouterOSAPI }).rosApi;
    } catch (err) {
      this.destroy(conn);
      const e = err as { errno?: string; message?: string };
      if (e?.errno === 'CANTLOGIN')
        throw new RouterError('login', this.where, 401, `RouterOS login as ${this.opts.user} at ${this.where} failed: wrong user name or password`, { cause: err });
      throw new RouterError('connect', this.where, undefined, `RouterOS at ${this.where} is unreachable: ${describe(socketError ?? err)}`, { cause: socketError ?? err });
    } finally {
      clearTimeout(timer);
    }
    const socket = (conn.raw as unknown as { connector?: { socket?: Socket } }).connector?.socket;
    // Nagle holds each short command ~40 ms; an idle connection must not keep the process alive.
    socket?.setNoDelay(true);
    socket?.unref();
    return conn;
  }

  private lose(conn: Connection, err: Error): void {
    if (!conn.lost) conn.lost = err;
    const lost = new ConnectionLost(`connection to the router lost (${describe(err)})`);
    for (const reject of [...conn.pending]) reject(lost);
    conn.pending.clear();
  }

  private destroy(conn: Connection): void {
    const connector = (conn.raw ?? (conn.client as unknown as { rosApi?: RouterOSAPI }).rosApi) as unknown as { connector?: { destroy(): void } } | undefined;
    try {
      connector?.connector?.destroy();
    } catch {
      /* already gone */
    }
  }

  /** One command with its timeout; a lost or timed-out connection is dropped and re-opened next time. */
  private async run<T>(method: string, target: string, fn: (c: Connection) => Promise<T>, opts: { retryRead?: boolean } = {}): Promise<T> {
    const once = async (): Promise<T> => {
      const conn = await this.connection();
      return await new Promise<T>((resolve, reject) => {
        let done = false;
        let timer: NodeJS.Timeout | undefined;
        const settle = (err: Error | undefined, value?: T) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          conn.pending.delete(fail);
          if (err) reject(err);
          else resolve(value as T);
        };
        const fail = (err: Error) => settle(err);
        conn.pending.add(fail);
        timer = setTimeout(() => {
          settle(new CommandTimeout(`no answer within ${this.opts.timeoutMs} ms`));
          // Its channel may never settle: start over on a fresh connection.
          this.lose(conn, new Error('a command timed out'));
          this.destroy(conn);
        }, this.opts.timeoutMs);
        fn(conn).then(
          (v) => settle(undefined, v),
          (e: Error) => settle(e),
        );
      });
    };
    try {
      try {
        return await once();
      } catch (err) {
        // A read is safe to repeat once on a fresh connection; a write's outcome is unknown.
        if (!(opts.retryRead && err instanceof ConnectionLost)) throw err;
        return await once();
      }
    } catch (err) {
      throw this.wrap(method, target, err);
    }
  }

  private wrap(method: string, target: string, err: unknown): Error {
    if (err instanceof AdapterError) return err;
    if (err instanceof RouterTrapError) {
      const category = err.category === undefined ? '' : `category ${err.category} (${TRAP_CATEGORIES[err.category] ?? 'unknown'}): `;
      // A trap is the router's answer: repeating the same command gets the same one.
      return new RouterError(method, target, 400, `RouterOS ${method} ${target} refused: ${category}${err.message}`, { cause: err });
    }
    return new RouterError(method, target, undefined, `RouterOS ${method} ${target} at ${this.where}: ${describe(err)}`, { cause: err });
  }

  private async print(words: string[]): Promise<NatRule[]> {
    const rows = await this.run(`${NAT}/print`, words.join(' ') || NAT, (c) => c.raw.write([`${NAT}/print`, ...words]), { retryRead: true });
    return rows.map((row) => {
      const { '.id': id, ...fields } = row as Record<string, string>;
      return { id: id ?? '', fields };
    });
  }

  /** /ip/firewall/nat/print ?chain=dstnat */
  dstNatRules(): Promise<NatRule[]> {
    return this.print(['?chain=dstnat']);
  }

  /** /ip/firewall/nat/print ?comment=<comment> */
  natRulesByComment(comment: string): Promise<NatRule[]> {
    return this.print([`?comment=${comment}`]);
  }

  /** /ip/firewall/nat/add =chain=… (then routeros-client prints ?.id=<ret>) */
  async addNatRule(fields: Record<string, string>): Promise<string> {
    const added = (await this.run(`${NAT}/add`, fields.comment ?? NAT, (c) => c.menu.menu(NAT).add(strings(fields)))) as { id?: unknown } | null;
    if (typeof added?.id !== 'string') throw new RouterError(`${NAT}/add`, fields.comment ?? NAT, undefined, 'RouterOS add returned no id');
    return added.id;
  }

  /** /ip/firewall/nat/set =numbers=<id> =… */
  async setNatRule(id: string, fields: Record<string, string>): Promise<void> {
    await this.run(`${NAT}/set`, id, (c) => c.menu.menu(NAT).update(strings(fields), id));
  }

  /** /ip/firewall/nat/unset =numbers=<id> =value-name=<name>, one per property */
  async unsetNatRuleFields(id: string, names: string[]): Promise<void> {
    if (!names.length) return;
    await this.run(`${NAT}/unset`, id, (c) => c.menu.menu(NAT).unset(names, id));
  }

  /** /ip/firewall/nat/remove =numbers=<id> */
  async removeNatRule(id: string): Promise<void> {
    await this.run(`${NAT}/remove`, id, (c) => c.menu.menu(NAT).remove(id));
  }

  async close(): Promise<void> {
    const pending = this.connecting;
    this.connecting = undefined;
    const conn = await pending?.catch(() => undefined);
    if (!conn || conn.lost) return;
    conn.lost = new ConnectionLost('closed by labgate');
    await Promise.race([conn.client.close().catch(() => undefined), sleep(1000)]);
    this.destroy(conn);
  }
}

/** routeros-client turns booleans into yes/no and null into ""; labgate hands it strings only. */
function strings(fields: Record<string, string>): Record<string, string> {
  for (const [k, v] of Object.entries(fields)) if (typeof v !== 'string') throw new TypeError(`RouterOS value of ${k} must be a string`);
  return { ...fields };
}

function describe(err: unknown): string {
  const e = err as { errno?: string; message?: string; code?: string };
  return e?.message || e?.errno || e?.code || String(err);
}

/** The router adapter from labgate's environment (ROUTEROS_*), or undefined when no router is configured. */
export function routerFromEnv(
  env: { ROUTEROS_HOST?: string; ROUTEROS_PORT?: number; ROUTEROS_USER?: string; ROUTEROS_PASSWORD?: string; ROUTEROS_TLS?: 'true' | 'false'; ROUTEROS_CA?: string },
  opts: { timeoutMs: number },
): RouterOsClientAdapter | undefined {
  if (!env.ROUTEROS_HOST) return undefined;
  return new RouterOsClientAdapter({
    host: env.ROUTEROS_HOST,
    port: env.ROUTEROS_PORT,
    // RouterOS's default account; a real setup names a user with NAT rights only (see the README).
    user: env.ROUTEROS_USER ?? 'admin',
    password: env.ROUTEROS_PASSWORD ?? '',
    tls: env.ROUTEROS_TLS === 'true',
    ca: env.ROUTEROS_CA ? readFileSync(env.ROUTEROS_CA, 'utf8') : undefined,
    timeoutMs: opts.timeoutMs,
  });
}
