import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../sandbox/sandbox.js';
import { dropPrefix } from '../support/lab.js';

const BIN = fileURLToPath(new URL('../../bin/labgate.js', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function labgate(args: string[], env: Record<string, string>, stdin = ''): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH!, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

describe('the labgate command line, as a child process', () => {
  let sandbox: Sandbox;
  let env: Record<string, string>;
  const prefix = `lgtest-cli-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'labgate-cli-'));

  beforeAll(async () => {
    if (!existsSync(fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url)))) throw new Error('run `npm run build` first (npm test does)');
    sandbox = await startSandbox({ dir });
    const config = join(dir, 'labgate-test.yaml');
    writeFileSync(config, readFileSync(sandbox.files.config, 'utf8').replace('prefix: labgate-sandbox', `prefix: ${prefix}`));
    env = { KUBECONFIG: sandbox.env.KUBECONFIG!, LABGATE_SIGNING_KEY: sandbox.env.LABGATE_SIGNING_KEY!, LABGATE_CONFIG: config, LABGATE_LOG_FILE: join(dir, 'labgate.log'), REDIS_URL: 'redis://127.0.0.1:6379' };
  });
  afterAll(async () => {
    await sandbox.close();
    await dropPrefix(prefix);
  });

  it('--help lists the commands', async () => {
    const r = await labgate(['--help'], env);
    expect(r.code).toBe(0);
    for (const c of ['start', 'bot', 'worker', 'shell [--as USER] [--json]', 'plan "<slash command>"', 'sandbox [--state FILE] [--write-env FILE]', 'config check']) expect(r.stdout).toContain(c);
  });

  it('a mistyped option names itself and the command\'s usage, exit 2; COMMAND --help prints the help', async () => {
    const bad = await labgate(['sandbox', '--stat', 'x.json'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe("labgate sandbox: Unknown option '--stat'\nusage: labgate sandbox [--state FILE] [--write-env FILE] [--router-tls] [--faults PORT] [--rbac]\n");
    const missing = await labgate(['shell', '--as'], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe("labgate shell: Option '--as <value>' argument missing\nusage: labgate shell [--as USER] [--json]\n");
    const help = await labgate(['sandbox', '--help'], env);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('sandbox [--state FILE] [--write-env FILE]');
  });

  it('shell --json: one JSON message per line, lines run in order, exit 0', async () => {
    const r = await labgate(['shell', '--json'], env, '/expose service:immich namespace:media port:2283 host:photos auth:tailscale-only\napprove\n/route list\n');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const msgs = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const plan = msgs.find((m) => m.kind === 'plan' && !m.edit)!;
    expect(plan).toMatchObject({ text: expect.stringMatching(/^Plan p-\w+: \/expose/), planId: expect.stringMatching(/^p-/), diff: expect.stringContaining('+++ b/IngressRoute/media/photos-ts') });
    expect(plan.buttons).toEqual([
      { id: expect.stringMatching(/^approve:p-\w+:[0-9a-f]{12}$/), label: 'Approve', style: 'success', disabled: false },
      { id: expect.stringMatching(/^reject:p-\w+:[0-9a-f]{12}$/), label: 'Reject', style: 'danger', disabled: false },
    ]);
    expect(msgs.find((m) => m.kind === 'result')).toMatchObject({ planId: plan.planId, result: { status: 'applied' } });
    // Other tests may have exposed hosts of their own in this sandbox.
    expect(msgs.at(-1)).toMatchObject({ kind: 'report', table: { rows: expect.arrayContaining([['photos.home.example.com', 'tailscale-only', 'media/immich:2283', 'IngressRoute/photos-ts']]) } });
  });

  it('shell text mode on a pipe prints plain text (no colour) and a refusal still exits 0', async () => {
    const r = await labgate(['shell', '--as', 'bob'], env, '/expose service:grafana namespace:monitoring port:3000 host:grafana auth:tailscale-only\n@mallory /route list\napprove\n');
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('\x1b[');
    expect(r.stdout).toMatch(/── Plan p-\w+: \/expose service:grafana/);
    expect(r.stdout).toContain('✗ you may not run /route list');
    expect(r.stdout).toContain('✗ you may not approve /expose plans (allowed: approvers)');
  });

  it('shell exits non-zero when a line hits a fault', async () => {
    const remove = sandbox.faults.kubernetes.add({ match: /^GET \/apis\/traefik\.io\/v1alpha1\/ingressroutes$/, status: 500, times: 100 });
    const r = await labgate(['shell', '--json'], env, '/route list\n');
    remove();
    expect(r.code).toBe(1);
    const msg = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(msg).toMatchObject({ kind: 'error', text: expect.stringMatching(/\/route list failed: Kubernetes list IngressRoute: HTTP 500/), ref: expect.stringMatching(/^ref-/) });
    expect(readFileSync(env.LABGATE_LOG_FILE!, 'utf8')).toContain(msg.ref);
  });

  it('plan prints the diff against live state and changes nothing', async () => {
    // A host of its own to change, exposed through the shell first.
    const exposed = await labgate(['shell', '--json'], env, '/expose service:immich namespace:media port:2283 host:album auth:tailscale-only\napprove\n');
    expect(exposed.code).toBe(0);
    const writes = sandbox.kubernetes.requests.filter((q) => q.method !== 'GET').length;
    const r = await labgate(['plan', '/route mode host:album mode:tailscale-bypass'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Plan (dry run): /route mode host:album mode:tailscale-bypass');
    expect(r.stdout).toContain('+++ b/IngressRoute/media/album-public');
    expect(sandbox.kubernetes.requests.filter((q) => q.method !== 'GET').length).toBe(writes);
    const bad = await labgate(['plan', '/route mode host:album mode:nope'], env);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('mode: must be one of tailscale-only, tailscale-bypass, mtls-strict (got "nope")');
  });

  it('config check lists every problem and exits 1; a good file prints redacted and exits 0', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'domain: "no spaces allowed"\nplans: {ttl: forever}\naccess: {defaults: {approve: [ghosts]}}\n');
    const r = await labgate(['config', 'check', bad], { ...env, REDIS_URL: 'redis://:s3cret@127.0.0.1:6379' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('3 problems');
    expect(r.stderr).toContain('domain: must be a domain name');
    expect(r.stderr).toContain('plans.ttl: must be a duration');
    expect(r.stderr).toContain('access.defaults.approve[0]: unknown group "ghosts"');
    const good = await labgate(['config', 'check', env.LABGATE_CONFIG!], { ...env, REDIS_URL: 'redis://:s3cret@127.0.0.1:6379' });
    expect(good.code).toBe(0);
    expect(good.stdout).toContain(': OK');
    expect(good.stdout).not.toContain('s3cret');
    // A Discord token with no discord block: start would refuse it, so check does too.
    const token = 'MTAx.' + 'x'.repeat(60);
    const noDiscord = await labgate(['config', 'check', env.LABGATE_CONFIG!], { ...env, DISCORD_TOKEN: token });
    expect(noDiscord.code).toBe(1);
    expect(noDiscord.stderr).toContain('discord: missing in');
    expect(noDiscord.stderr).toContain('DISCORD_TOKEN is set, so labgate.yaml needs a discord block (guildId, channels.ops)');
    expect(noDiscord.stderr + noDiscord.stdout).not.toContain(token);
  });
});
