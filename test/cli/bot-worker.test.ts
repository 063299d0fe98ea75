import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../sandbox/sandbox.js';
import { dropPrefix, REDIS_URL } from '../support/lab.js';

const BIN = fileURLToPath(new URL('../../bin/labgate.js', import.meta.url));

describe('labgate bot (shell chat) and labgate worker as two processes on one Redis', () => {
  let sandbox: Sandbox;
  let worker: ChildProcess;
  let env: Record<string, string>;
  const prefix = `lgtest-split-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'labgate-split-'));

  beforeAll(async () => {
    sandbox = await startSandbox({ dir });
    const config = join(dir, 'labgate-test.yaml');
    writeFileSync(
      config,
      readFileSync(sandbox.files.config, 'utf8')
        .replace('prefix: labgate-sandbox', `prefix: ${prefix}`)
        .replace('users: [alice, bob, mallory]', `users: [alice, bob, mallory]\n  dmFolder: ${join(dir, 'dm')}`),
    );
    env = { ...sandbox.env, PATH: process.env.PATH!, LABGATE_CONFIG: config, LABGATE_LOG_FILE: join(dir, 'labgate.log'), REDIS_URL };
    worker = spawn(process.execPath, [BIN, 'worker'], { env: { ...env, LABGATE_LOG_FILE: join(dir, 'worker.log') }, stdio: ['ignore', 'pipe', 'pipe'] });
    worker.stdout!.resume();
    worker.stderr!.resume();
  });
  afterAll(async () => {
    worker.kill('SIGTERM');
    await new Promise((r) => worker.once('close', r));
    await sandbox.close();
    await dropPrefix(prefix);
  });

  it('GIVEN a separate worker WHEN the bot runs lines THEN plans and results reach the bot\'s output, and DM secrets stay out of Redis', async () => {
    const child = spawn(process.execPath, [BIN, 'bot', '--json'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stdin.end('/expose service:grafana namespace:monitoring port:3000 host:grafana auth:tailscale-only\napprove\n/cert issue device:tablet profile:modern\napprove\n');
    const code = await new Promise((r) => child.on('close', r));
    expect(code).toBe(0);
    const msgs = stdout.trim().split('\n').map((l) => JSON.parse(l) as { kind: string; text: string; planId?: string; result?: { status: string }; files?: { name: string; path: string }[]; to?: string });
    const plans = msgs.filter((m) => m.kind === 'plan' && !('edit' in m));
    expect(plans.map((p) => p.text)).toEqual([expect.stringMatching(/^Plan p-\w+: \/expose/), expect.stringMatching(/^Plan p-\w+: \/cert issue/)]);
    expect(msgs.filter((m) => m.kind === 'result').map((m) => m.result?.status)).toEqual(['applied', 'applied']);

    // The DM reached the bot as a notice of where it was written; its passphrase did not.
    const dm = msgs.find((m) => m.kind === 'dm')!;
    expect(dm.to).toBe('alice');
    const files = dm.files!.map((f) => f.path);
    expect(files.some((f) => f.endsWith('tablet.p12'))).toBe(true);
    const passphraseFile = files.find((f) => readFileSync(f, 'utf8').startsWith('Passphrase for tablet.p12:'))!;
    const passphrase = /Passphrase for tablet\.p12: (\S+)/.exec(readFileSync(passphraseFile, 'utf8'))![1]!;
    expect(stdout).not.toContain(passphrase);
    const r = new Redis(REDIS_URL);
    // The bot's own conversation has a stream of its own; the worker relayed everything there.
    const [stream] = (await r.keys(`${prefix}:shell:outbox:shell-*`));
    const relayed = stream ? await r.xrange(stream, '-', '+') : [];
    r.disconnect();
    expect(relayed.length).toBeGreaterThan(4);
    expect(JSON.stringify(relayed)).not.toContain(passphrase);
    expect(JSON.stringify(relayed)).not.toContain('PRIVATE KEY');
  });
});
