import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropPrefix, REDIS_URL } from '../support/lab.js';
import { LabgateProcess, until } from '../support/labgate-process.js';

/** Reads KEY=value lines. */
function envFile(path: string): Record<string, string> {
  return Object.fromEntries(readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

/**
 * The fault harness as a person uses it: `labgate sandbox --faults PORT` in one process, labgate in
 * another, faults injected over HTTP while it runs.
 */
describe('labgate sandbox --faults: faults injected by hand into a running homelab', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'labgate-faults-'));
  const prefix = `lgtest-faults-${process.pid}`;
  let sandbox: LabgateProcess;
  let shell: LabgateProcess;
  let control: string;

  beforeAll(async () => {
    sandbox = new LabgateProcess(['sandbox', '--state', join(dir, 'state.json'), '--write-env', join(dir, 'sandbox.env'), '--faults', '0'], { cwd: dir, env: { PATH: process.env.PATH! } });
    await sandbox.waitFor(/fault control +(http:\/\/127\.0\.0\.1:\d+)\/faults/);
    control = /fault control +(http:\/\/127\.0\.0\.1:\d+)/.exec(sandbox.stdout)![1]!;
    const env = envFile(join(dir, 'sandbox.env'));
    const config = join(dir, 'labgate-test.yaml');
    writeFileSync(config, readFileSync(env.LABGATE_CONFIG!, 'utf8').replace('prefix: labgate-sandbox', `prefix: ${prefix}`)+ 'apply: { attempts: 4, backoff: 200ms }\n');
    shell = new LabgateProcess(['shell', '--json'], { cwd: dir, env: { ...env, PATH: process.env.PATH!, LABGATE_CONFIG: config, REDIS_URL, LABGATE_LOG_FILE: join(dir, 'labgate.log') } });
  });
  afterAll(async () => {
    await shell?.end();
    await sandbox?.kill('SIGTERM');
    await dropPrefix(prefix);
  });

  const inject = async (system: string, rule: unknown) => {
    const res = await fetch(`${control}/faults/${system}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(rule) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const waiting = async () => (await (await fetch(`${control}/faults`)).json()) as Record<string, unknown[]>;
  const lines = () => shell.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { kind: string; text: string; planId?: string; result?: { status: string } });

  /** Types a line and waits for the result of the plan it made, approving it first. */
  async function planApproveResult(line: string): Promise<{ kind: string; text: string; result?: { status: string } }> {
    const before = lines().length;
    shell.send(line);
    await until(() => lines().slice(before).some((m) => m.kind === 'plan'), `the plan of ${line}`, 30_000, () => shell.stderr + shell.stdout);
    const planId = lines().slice(before).find((m) => m.kind === 'plan')!.planId!;
    shell.send(`approve ${planId}`);
    await until(() => lines().some((m) => m.kind === 'result' && m.planId === planId), `the result of ${planId}`, 60_000, () => shell.stdout);
    return lines().find((m) => m.kind === 'result' && m.planId === planId)!;
  }

  it('GIVEN bad input THEN the control names the field and what is allowed, and adds nothing', async () => {
    expect(await inject('router', { match: '/ip/firewall/nat/add', delayMs: 'soon' })).toEqual({ status: 400, body: { error: 'delayMs: milliseconds, 0 to 600000' } });
    expect((await inject('router', { match: '/ip/firewall/nat/add', colour: 'red' })).body.error).toMatch(/^unknown field colour; fields: match, status/);
    expect((await fetch(`${control}/faults/discord`, { method: 'POST', body: '{}' })).status).toBe(404);
    expect(await waiting()).toEqual({ kubernetes: [], openbao: [], router: [], tailscale: [] });
  });

  it('GIVEN the router connection drops right after the add ran WHEN /router sync is applied THEN no rule is added twice and the result says Applied, which is true', async () => {
    expect((await inject('router', { match: 'after /ip/firewall/nat/add', drop: true })).status).toBe(201);
    const result = await planApproveResult('/router sync');
    expect(await waiting()).toMatchObject({ router: [] });
    expect(result.result?.status).toBe('applied');
    // A second sync finds exactly the rule it wanted: one, not two.
    const before = lines().length;
    shell.send('/router sync');
    await until(() => lines().slice(before).some((m) => m.kind === 'refusal'), 'the second sync');
    expect(lines().slice(before).find((m) => m.kind === 'refusal')!.text).toMatch(/nothing to change/);
  });

  it('GIVEN OpenBao answers 503 twice and a tailscale exec hangs THEN a /cert issue still applies once, and /derp-check reports that node without hanging', async () => {
    await inject('openbao', { match: 'POST /v1/pki/issue/device', status: 503, times: 2 });
    const result = await planApproveResult('/cert issue device:harness-phone');
    expect(result.result?.status).toBe('applied');
    expect(await waiting()).toMatchObject({ openbao: [] });

    await inject('tailscale', { match: 'exec tailscale netcheck --format=json', regex: false, hang: true });
    const before = lines().length;
    shell.send('/derp-check node:node-21');
    await until(() => lines().slice(before).some((m) => m.kind === 'report'), 'the derp-check report', 60_000);
    expect(JSON.stringify(lines().slice(before))).toMatch(/node-21/);
    await fetch(`${control}/faults`, { method: 'DELETE' });
    expect(await waiting()).toEqual({ kubernetes: [], openbao: [], router: [], tailscale: [] });
  });
});
