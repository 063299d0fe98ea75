import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { newSigningKey } from '../../src/approval/signing.js';

const BIN = fileURLToPath(new URL('../../bin/labgate.js', import.meta.url));

function labgate(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH!, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the signing key outside the sandbox', () => {
  const dir = mkdtempSync(join(tmpdir(), 'labgate-key-'));
  const config = join(dir, 'labgate.yaml');
  writeFileSync(config, 'domain: home.example.com\nplans: { ttl: 5 minutes }\n');

  it('GIVEN a real configuration without LABGATE_SIGNING_KEY WHEN checked or started THEN it is named with how to make one, among the other problems; a short key is refused; a good one is redacted', async () => {
    const check = await labgate(['config', 'check', config], {});
    expect(check.code).toBe(1);
    expect(check.stderr).toContain('plans.ttl: must be a duration like 90s, 15m, 1h or 7d (got "5 minutes")');
    expect(check.stderr).toContain('env.LABGATE_SIGNING_KEY: not set; labgate seals plans and decisions with a key kept outside Redis: make one with `openssl rand -base64 32`');

    writeFileSync(config, 'domain: home.example.com\n');
    const start = await labgate(['start'], { LABGATE_CONFIG: config, LABGATE_LOG_FILE: join(dir, 'log') });
    expect(start.code).toBe(2);
    expect(start.stderr).toContain('env.LABGATE_SIGNING_KEY: not set');

    const short = await labgate(['config', 'check', config], { LABGATE_SIGNING_KEY: 'c2hvcnQ=' });
    expect(short.code).toBe(1);
    expect(short.stderr).toContain('env.LABGATE_SIGNING_KEY: must be at least 32 random bytes in base64 or hex');

    const key = newSigningKey();
    const good = await labgate(['config', 'check', config], { LABGATE_SIGNING_KEY: key });
    expect(good.code).toBe(0);
    expect(good.stdout).toContain('LABGATE_SIGNING_KEY: "[redacted]"');
    expect(good.stdout + good.stderr).not.toContain(key);
  });
});
