import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHELL_CONVERSATION } from '../../src/messages/conversations.js';
import { Autocompleter } from '../../src/core/autocomplete.js';
import { shellIdentity } from '../../src/chat/shell/shell.js';
import { Fleet, type Printed } from '../support/fleet.js';
import { LabgateProcess, until } from '../support/labgate-process.js';
import { parseAllDocuments } from 'yaml';
import { BASE, type K8sObject } from './render.js';

// The shipped RBAC is enough: a `labgate worker` process holding only labgate-worker's token
// and a chat side holding only labgate-bot's run every command against a sandbox that enforces
// deploy/kubernetes/rbac.yaml, and the API server refuses none of their requests. And it is no
// more: the bot's token cannot write, read Secrets or exec (403 with a Kubernetes Status).

const run = promisify(execFile);

/** "verb resource" pairs a recorded request needed (a server-side apply that created its object needed create too). */
function requestGrants(r: { verb: string; path: string; status: number }): string[] {
  const namespaced = /^\/(?:api\/v1|apis\/[^/]+\/[^/]+)\/namespaces\/[^/]+\/([^/]+)(?:\/[^/]+(?:\/([^/]+))?)?$/.exec(r.path);
  const cluster = /^\/(?:api\/v1|apis\/[^/]+\/[^/]+)\/([^/]+)(?:\/[^/]+)?$/.exec(r.path);
  const m = namespaced ?? cluster;
  if (!m || r.status >= 400 || r.status === 0) return [];
  const resource = namespaced?.[2] ? `${m[1]}/${namespaced[2]}` : m[1]!;
  if (r.verb === 'exec') return [`create ${resource}`];
  return r.verb === 'patch' && r.status === 201 ? [`patch ${resource}`, `create ${resource}`] : [`${r.verb} ${resource}`];
}

/** Every grant the shipped RBAC gives labgate's two accounts, as "verb resource" pairs. */
function shippedGrants(): string[] {
  const objects = parseAllDocuments(readFileSync(join(BASE, 'rbac.yaml'), 'utf8')).map((d) => d.toJS() as K8sObject);
  const bound = new Set(objects.filter((o) => o.kind.endsWith('Binding')).map((b) => `${b.roleRef.kind}/${b.roleRef.name}`));
  const roles = objects.filter((o) => (o.kind === 'Role' || o.kind === 'ClusterRole') && bound.has(`${o.kind}/${o.metadata.name}`));
  return [...new Set(roles.flatMap((role) => (role.rules as K8sObject[]).flatMap((r) => (r.resources as string[]).flatMap((res) => (r.verbs as string[]).map((v) => `${v} ${res}`)))))].sort();
}

describe('least privilege: bot and worker on their own tokens, the shipped RBAC enforced', () => {
  let fleet: Fleet;

  beforeAll(async () => {
    fleet = await Fleet.start({ rbac: true });
    await fleet.spawnWorker();
  }, 90_000);

  afterAll(async () => {
    await fleet?.close();
  });

  /** Refused requests from the `from`th on (the 403 test below is refused on purpose). */
  const forbidden = (from: number) => fleet.sandbox.kubernetes.requests.slice(from).filter((r) => r.status === 403 || r.status === 401);

  /** Runs a change command as bob, approves it as alice, and returns the plan's final status. */
  async function applied(line: string): Promise<string | undefined> {
    const planId = await fleet.plan(line, 'bob');
    await fleet.approve(planId, 'alice');
    const result = await fleet.result(planId, 60_000);
    const status = (await fleet.chat.services.store.get(planId))?.status;
    if (status !== 'applied') throw new Error(`${line}: ${status}: ${result.text}\n${fleet.workerLogs()}`);
    return status;
  }

  /** Runs a read-only command; returns the report the worker posted. */
  async function report(name: string, options: Record<string, string> = {}): Promise<Printed> {
    const before = fleet.printed.length;
    const out = await fleet.chat.dispatcher!.command({ name, options, text: `/${name}` }, shellIdentity('bob'), SHELL_CONVERSATION);
    expect(out.replies.filter((r) => r.kind === 'error')).toEqual([]);
    await until(() => fleet.printed.slice(before).some((m) => m.kind === 'report' || m.kind === 'error'), `the /${name} report`, 60_000);
    return fleet.printed.slice(before).find((m) => m.kind === 'report' || m.kind === 'error')!;
  }

  it('GIVEN the shipped grants WHEN every command runs THEN each applies or reports, and no request is refused', async () => {
    const from = fleet.sandbox.kubernetes.requests.length;
    expect(await applied('/expose service:immich namespace:media port:2283 host:photos auth:tailscale-only')).toBe('applied');
    expect(await applied('/route mode host:photos mode:mtls-strict')).toBe('applied');
    expect(await applied('/expose service:grafana namespace:monitoring port:3000 host:grafana auth:tailscale-bypass')).toBe('applied');
    expect(await applied('/cert issue device:pixel-8')).toBe('applied');
    expect(await applied('/router sync')).toBe('applied');
    // Lists the client-CA Secrets namespace by namespace (no cluster-wide Secrets list).
    const caSync = await fleet.chat.dispatcher!.command({ name: 'cert ca-sync', options: {}, text: '/cert ca-sync' }, shellIdentity('bob'), SHELL_CONVERSATION);
    expect(caSync.replies.map((r) => r.text)).toEqual(["the client-CA Secrets already hold OpenBao's device CA; nothing to change"]);
    const routes = await report('route list');
    expect(routes.kind).toBe('report');
    expect(JSON.stringify(routes)).toContain('photos.home.example.com');
    const derp = await report('derp-check');
    expect(derp.kind).toBe('report');
    expect(await applied('/unexpose host:grafana')).toBe('applied');
    // Written with the worker's token, in the allowed namespace (read back with the bot's).
    const routesInMedia = await fleet.chat.services.ports.kubernetes.list('traefik.io/v1alpha1', 'IngressRoute', { namespace: 'media' });
    expect(routesInMedia.map((r) => r.metadata.name)).toContain('photos-public');
    // The bot's autocomplete reads the cluster with the bot's token: every source answers.
    const complete = new Autocompleter({ commands: fleet.chat.services.commands, access: fleet.chat.services.access, ports: fleet.chat.services.ports, daemonSet: fleet.config.tailscale.daemonSet });
    const suggest = async (command: string, option: string, options: Record<string, unknown> = {}) =>
      (await complete.suggest({ command, option, typed: '', options, who: shellIdentity('bob') })).map((x) => x.value);
    expect(await suggest('expose', 'namespace')).toContain('media');
    expect(await suggest('expose', 'service')).toContain('immich');
    expect(await suggest('expose', 'port', { namespace: 'media', service: 'immich' })).toEqual([2283]);
    expect(await suggest('route mode', 'host')).toContain('photos.home.example.com');
    expect(await suggest('derp-check', 'node')).toHaveLength(3);
    // mtls-strict's TLSOption and Middleware go too.
    expect(await applied('/unexpose host:photos')).toBe('applied');
    const secretLists = fleet.sandbox.kubernetes.requests.filter((r) => r.verb === 'list' && r.path.endsWith('/secrets'));
    expect(secretLists.length).toBeGreaterThan(0);
    expect(secretLists.filter((r) => r.path === '/api/v1/secrets')).toEqual([]);
    expect(forbidden(from)).toEqual([]);

    // And no more: every verb on every resource the shipped RBAC grants was used by that run,
    // by the worker or the bot's autocomplete. The exception: `get` on pods/exec, which API
    // servers before 1.35 ask for a WebSocket exec instead of `create`.
    const used = new Set(fleet.sandbox.kubernetes.requests.flatMap(requestGrants));
    const unused = shippedGrants().filter((g) => !used.has(g) && g !== 'get pods/exec');
    expect(unused).toEqual([]);
  }, 300_000);

  it("GIVEN the bot's token THEN writes, Secrets and exec are refused with a Kubernetes Status 403", async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(fleet.sandbox.accounts!.bot.kubeconfig);
    const api = KubernetesObjectApi.makeApiClient(kc);
    const attempt = async (f: () => Promise<unknown>) => {
      try {
        await f();
        return { code: 200 } as { code: number; body?: unknown };
      } catch (err) {
        const e = err as { code?: number; body?: string };
        return { code: e.code ?? 0, body: typeof e.body === 'string' ? JSON.parse(e.body) : e.body };
      }
    };
    const write = await attempt(() =>
      api.create({ apiVersion: 'traefik.io/v1alpha1', kind: 'IngressRoute', metadata: { name: 'sneaky', namespace: 'media' }, spec: { routes: [] } } as never),
    );
    expect(write.code).toBe(403);
    expect(write.body).toMatchObject({
      kind: 'Status',
      status: 'Failure',
      reason: 'Forbidden',
      code: 403,
      message: 'ingressroutes.traefik.io is forbidden: User "system:serviceaccount:labgate:labgate-bot" cannot create resource "ingressroutes" in API group "traefik.io" in the namespace "media"',
    });
    const secrets = await attempt(() => api.list('v1', 'Secret', 'media'));
    expect(secrets.code).toBe(403);
    // The bot can read what autocomplete needs.
    const services = await attempt(() => api.list('v1', 'Service', 'media'));
    expect(services.code).toBe(200);

    // kubectl agrees, asking the API server with each token (SelfSubjectAccessReview).
    const canI = async (account: 'bot' | 'worker', ...args: string[]) => {
      const r = await run('kubectl', ['--kubeconfig', fleet.sandbox.accounts![account].kubeconfig, 'auth', 'can-i', ...args]).catch((e: { stdout: string }) => e);
      return r.stdout.trim();
    };
    expect(await canI('bot', 'create', 'ingressroutes.traefik.io', '-n', 'media')).toBe('no');
    expect(await canI('bot', 'create', 'pods', '--subresource=exec', '-n', 'traefik')).toBe('no');
    expect(await canI('bot', 'list', 'services', '--all-namespaces')).toBe('yes');
    expect(await canI('worker', 'patch', 'ingressroutes.traefik.io', '-n', 'media')).toBe('yes');
    expect(await canI('worker', 'patch', 'ingressroutes.traefik.io', '-n', 'kube-system')).toBe('no');
    expect(await canI('worker', 'list', 'secrets', '--all-namespaces')).toBe('no');
    expect(await canI('worker', 'create', 'pods', '--subresource=exec', '-n', 'traefik')).toBe('yes');
    expect(await canI('worker', 'create', 'pods', '--subresource=exec', '-n', 'media')).toBe('no');
  }, 60_000);

  it('GIVEN `labgate bot` as a process with only the bot env file WHEN it plans, approves and lists THEN the worker applies and reports back', async () => {
    const env = { ...fleet.sandbox.accounts!.bot.env, PATH: process.env.PATH!, LABGATE_CONFIG: fleet.env.LABGATE_CONFIG!, REDIS_URL: fleet.env.REDIS_URL!, LABGATE_LOG_FILE: join(fleet.dir, 'bot.log') };
    const from = fleet.sandbox.kubernetes.requests.length;
    const bot = new LabgateProcess(['bot', '--json'], { cwd: fleet.dir, env });
    bot.send('/expose service:jellyfin namespace:media port:8096 host:films auth:tailscale-only');
    bot.send('approve');
    bot.send('/route list');
    expect(await bot.end()).toBe(0);
    const msgs = bot.stdout.trim().split('\n').map((l) => JSON.parse(l) as { kind: string; result?: { status: string }; text: string });
    expect(msgs.filter((m) => m.kind === 'result').map((m) => m.result?.status)).toEqual(['applied']);
    expect(msgs.filter((m) => m.kind === 'report').map((m) => JSON.stringify(m))).toEqual([expect.stringContaining('films.home.example.com')]);
    expect(forbidden(from)).toEqual([]);
  }, 120_000);

  it("GIVEN the bot's env file THEN it holds no router or OpenBao credential", () => {
    const text = readFileSync(fleet.sandbox.accounts!.bot.envFile, 'utf8');
    expect(text).not.toMatch(/^(BAO_|ROUTEROS_)/m);
    expect(text).toMatch(/^KUBECONFIG=.*kubeconfig-labgate-bot$/m);
  });
});
