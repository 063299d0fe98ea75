import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { FaultInjector, FaultRule } from './faults.js';

/** The systems whose faults can be injected, by name in the control's paths. */
export type FaultSystem = 'kubernetes' | 'openbao' | 'router' | 'tailscale';

export interface FaultControl {
  url: string;
  port: number;
  close(): Promise<void>;
}

const ACTION_FIELDS = ['status', 'body', 'headers', 'trap', 'delayMs', 'drop', 'hang', 'times', 'regex'] as const;

const HELP = `labgate sandbox fault control
  GET    /faults                   the rules still waiting, per system
  POST   /faults/<system>          add a rule (JSON): {"match": …, "status"|"delayMs"|"hang"|"drop"|"trap": …, "times": n}
  DELETE /faults[/<system>]        remove every rule (of one system)
systems: kubernetes, openbao, router, tailscale
match: "METHOD /path" (HTTP), "/ip/firewall/nat/add" (router), "exec tailscale netcheck …" (tailscale);
       "regex": true makes it a regular expression; "after …" strikes once the request was carried out
`;

function parseRule(body: unknown): FaultRule | string {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return 'the body must be a JSON object';
  const b = body as Record<string, unknown>;
  if (typeof b.match !== 'string' || !b.match) return 'match: required, a string ("PATCH /apis/…", "/ip/firewall/nat/add", "exec tailscale …"; a regular expression with "regex": true)';
  const unknown = Object.keys(b).filter((k) => k !== 'match' && !(ACTION_FIELDS as readonly string[]).includes(k));
  if (unknown.length) return `unknown field${unknown.length === 1 ? '' : 's'} ${unknown.join(', ')}; fields: match, ${ACTION_FIELDS.join(', ')}`;
  let match: RegExp | string = b.match;
  if (b.regex === true) {
    try {
      match = new RegExp(b.match);
    } catch (err) {
      return `match: not a regular expression (${(err as Error).message})`;
    }
  }
  const rule: FaultRule = { match };
  if (b.status !== undefined) {
    if (!Number.isInteger(b.status) || (b.status as number) < 0 || (b.status as number) > 599) return 'status: a whole number (an HTTP status, or an exit code for tailscale)';
    rule.status = b.status as number;
  }
  if (b.delayMs !== undefined) {
    if (typeof b.delayMs !== 'number' || b.delayMs < 0 || b.delayMs > 600_000) return 'delayMs: milliseconds, 0 to 600000';
    rule.delayMs = b.delayMs;
  }
  if (b.times !== undefined) {
    if (!Number.isInteger(b.times) || (b.times as number) < 1) return 'times: a whole number of requests, at least 1';
    rule.times = b.times as number;
  }
  for (const flag of ['drop', 'hang'] as const) if (b[flag] !== undefined) rule[flag] = b[flag] === true;
  if (b.trap !== undefined) rule.trap = b.trap as FaultRule['trap'];
  if (b.body !== undefined) rule.body = b.body;
  if (b.headers !== undefined) rule.headers = b.headers as Record<string, string>;
  if (!rule.status && !rule.delayMs && !rule.drop && !rule.hang && !rule.trap && !String(rule.match).startsWith('after ')) return 'give what the fault does: status, delayMs, hang, drop or trap (or match "after …" to lose the answer)';
  return rule;
}

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString('utf8')));
    req.on('end', () => {
      try {
        resolve(text ? JSON.parse(text) : undefined);
      } catch {
        resolve(Symbol.for('invalid'));
      }
    });
  });
}

/**
 * `labgate sandbox --faults PORT`: an HTTP control on loopback that injects faults into the
 * sandbox's systems while labgate runs against it: statuses, delays, hangs, dropped connections,
 * an answer lost after the request was carried out, a given number of times. Used by the fault
 * tests and by hand (curl; see the README).
 */
export async function startFaultControl(faults: Record<FaultSystem, FaultInjector>, port: number): Promise<FaultControl> {
  const server: Server = createServer(async (req, res) => {
    const send = (code: number, body: unknown) => {
      res.writeHead(code, { 'Content-Type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json' });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    const path = new URL(req.url ?? '/', 'http://control').pathname.replace(/\/+$/, '') || '/';
    const [, root, system, extra] = path.split('/');
    if (root !== 'faults' || extra !== undefined) return send(404, HELP);
    if (system !== undefined && !(system in faults)) return send(404, `no system ${system}; systems: ${Object.keys(faults).join(', ')} (Discord faults live in the tests' loopback Discord)\n`);
    const injector = system ? faults[system as FaultSystem] : undefined;
    if (req.method === 'GET') return send(200, Object.fromEntries(Object.entries(faults).filter(([k]) => !system || k === system).map(([k, f]) => [k, f.list()])));
    if (req.method === 'DELETE') {
      for (const f of injector ? [injector] : Object.values(faults)) f.clear();
      return send(200, { cleared: system ?? 'all' });
    }
    if (req.method === 'POST' && injector) {
      const body = await readJson(req);
      const rule = typeof body === 'symbol' ? 'the body is not JSON' : parseRule(body);
      if (typeof rule === 'string') return send(400, { error: rule });
      injector.add(rule);
      return send(201, { system, added: { ...rule, match: String(rule.match) }, waiting: injector.pending });
    }
    return send(405, HELP);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const bound = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
