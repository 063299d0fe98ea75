import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { RawApiClient } from '../../sandbox/routeros/raw-api-client.js';

const BIN = fileURLToPath(new URL('../../bin/labgate.js', import.meta.url));

describe('labgate sandbox --router-tls, as a child process', () => {
  const dir = mkdtempSync(join(tmpdir(), 'labgate-router-tls-'));
  let child: ChildProcess | undefined;

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('GIVEN --router-tls THEN the env file points labgate at api-ssl with its CA, and a TLS client that trusts that CA logs in', async () => {
    if (!existsSync(fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url)))) throw new Error('run `npm run build` first (npm test does)');
    // The env file goes next to the state (Node 20 would take --env-file as its own flag, nodejs/node#54232).
    const envFile = join(dir, 'sandbox.env');
    child = spawn(process.execPath, [BIN, 'sandbox', '--router-tls', '--state', join(dir, 'state.json')], {
      env: { PATH: process.env.PATH! },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    // The banner is printed once every server listens and the env file is written.
    for (let i = 0; i < 2000 && !stdout.includes('In another terminal') && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 50));
    expect(stderr).toBe('');
    expect(stdout).toMatch(/RouterOS api-ssl 127\.0\.0\.1:\d+ \(CA .*routeros-ca\.pem\)/);

    const env = Object.fromEntries(readFileSync(envFile, 'utf8').trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    expect(env.ROUTEROS_TLS).toBe('true');
    const ca = readFileSync(env.ROUTEROS_CA!, 'utf8');
    const tls = await RawApiClient.connect(env.ROUTEROS_HOST!, Number(env.ROUTEROS_PORT), { ca });
    try {
      await tls.login(env.ROUTEROS_USER!, env.ROUTEROS_PASSWORD!);
      const [identity] = await tls.talk(['/system/identity/print']);
      expect(identity).toEqual(['!re', '=name=labgate-sandbox-router']);
    } finally {
      tls.close();
    }
    // A client that does not trust the CA cannot connect.
    await expect(RawApiClient.connect(env.ROUTEROS_HOST!, Number(env.ROUTEROS_PORT), {})).rejects.toThrow(/self[- ]signed|unable to verify/i);
  }, 150_000);
});
