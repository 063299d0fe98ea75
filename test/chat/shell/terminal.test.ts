import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ShellRelay, ShellRelayNotifier } from '../../../src/chat/shell/shell-relay.js';
import { SHELL_BROADCAST } from '../../../src/messages/conversations.js';
import { redisKeys } from '../../../src/stores/redis.js';
import { startSandbox, type Sandbox } from '../../../sandbox/sandbox.js';
import { openssl } from '../../pki/openssl.js';
import { dropPrefix, REDIS_URL } from '../../support/lab.js';
import { plain, Pty } from '../../support/pty.js';

const BIN = fileURLToPath(new URL('../../../bin/labgate.js', import.meta.url));
const SGR = /\x1b\[[0-9;]*m/;

// Each test starts real processes in pseudo-terminals; on a busy machine that takes a while.
describe('the shell chat in a terminal, driven as a person types', { timeout: 120_000 }, () => {
  let sandbox: Sandbox;
  let env: Record<string, string>;
  // Each test has its own Redis prefix, so no test sees the plans or history another left.
  let prefix = '';
  const prefixes: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'labgate-tty-'));
  const open: Pty[] = [];
  const pty = (args: string[], o: { cols?: number; cwd?: string; env?: Record<string, string> } = {}) => {
    const p = Pty.run([process.execPath, BIN, ...args], { env: { ...env, ...o.env }, cwd: o.cwd ?? mkdtempSync(join(dir, 'cwd-')), cols: o.cols ?? 120, rows: 40 });
    open.push(p);
    return p;
  };
  const prompt = /alice> $/m;
  /** Tab until readline lists the candidates (the first Tab completes only a common prefix). */
  const tabUntil = async (p: Pty, test: RegExp, what: string) => {
    for (let i = 0; i < 20; i++) {
      p.type('\t');
      try {
        return await p.waitFor(test, what, 1000);
      } catch {
        // the completion was still on its way; press Tab again
      }
    }
    return p.waitFor(test, what, 1);
  };

  beforeAll(async () => {
    sandbox = await startSandbox({ dir });
  });
  beforeEach(() => {
    prefix = `lgtest-tty-${process.pid}-${prefixes.length}`;
    prefixes.push(prefix);
    const config = join(dir, `labgate-test-${prefixes.length}.yaml`);
    const text = readFileSync(sandbox.files.config, 'utf8').replace('prefix: labgate-sandbox', `prefix: ${prefix}`).replace('users: [alice, bob, mallory]', `users: [alice, bob, mallory]\n  dmFolder: ${join(dir, 'dm')}`);
    expect(text).toContain(`prefix: ${prefix}`);
    writeFileSync(config, text);
    env = { ...sandbox.env, PATH: process.env.PATH!, LABGATE_CONFIG: config, LABGATE_LOG_FILE: join(dir, 'labgate.log'), REDIS_URL };
  });
  afterEach(() => {
    for (const p of open.splice(0)) p.kill();
  });
  afterAll(async () => {
    await sandbox.close();
    for (const p of prefixes) await dropPrefix(p);
  });

  it('GIVEN a namespace typed WHEN Tab is pressed on service: THEN the Services of that namespace are offered, and options, commands and pending plan ids complete too', async () => {
    const p = pty(['shell']);
    await p.waitFor(prompt, 'the prompt');
    p.type('/ex\t');
    await p.waitFor(/alice> \/expose $/m, '/ex completed to /expose');
    p.type('namespace:media servi\t');
    await p.waitFor(/alice> \/expose namespace:media service:$/m, 'servi completed to service:');
    const listed = await tabUntil(p, /^immich\s+jellyfin\s*$/m, 'the Services of media listed');
    expect(listed).not.toMatch(/grafana|prometheus|argocd-server/);
    p.type('im\t');
    await p.waitFor(/alice> \/expose namespace:media service:immich $/m, 'im completed to immich');
    p.type('port:\t');
    await p.waitFor(/service:immich port:2283 $/m, 'the port of immich');
    p.type('host:photos auth:tailscale-o\t');
    await p.waitFor(/auth:tailscale-only $/m, 'the access mode completed');
    p.type('\r');
    const plan = await p.waitFor(/approve (p-[a-z0-9]+)  ·  reject/, 'the plan');
    const planId = /approve (p-[a-z0-9]+)  ·  reject/.exec(plan)![1]!;
    p.type('approve \t');
    await p.waitFor(new RegExp(`alice> approve ${planId} $`, 'm'), 'the pending plan id completed');
    p.type('\x15reject\r');
    await p.waitFor(new RegExp(`Rejected ${planId}`), 'the plan rejected');
  });

  it('GIVEN lines typed in one session WHEN the shell is started again THEN Up recalls them, from a history file only its owner can read', async () => {
    const cwd = mkdtempSync(join(dir, 'history-'));
    const first = pty(['shell'], { cwd });
    await first.waitFor(prompt, 'the prompt');
    first.type('/route list\r');
    await first.waitFor(/labgate serves|No host/i, 'the /route list answer');
    await first.waitFor((s) => s.trimEnd().endsWith('alice>'), 'the next prompt');
    first.type('\x04');
    expect(await first.exit()).toBe(0);
    const file = join(cwd, '.labgate/shell-history');
    expect(readFileSync(file, 'utf8')).toBe('/route list\n');
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const second = pty(['shell'], { cwd });
    await second.waitFor(prompt, 'the prompt');
    second.type('\x1b[A');
    await second.waitFor(() => second.cursorLine() === 'alice> /route list', 'Up recalled /route list');
  });

  it('GIVEN a half-typed line WHEN an alert arrives THEN it is printed above the prompt and the typed line is intact and still runs', async () => {
    // labgate bot: workers run elsewhere and what they post comes through Redis, as an alert would.
    const p = pty(['bot']);
    await p.waitFor(prompt, 'the prompt');
    p.type('/he');
    await p.waitFor(() => p.cursorLine() === 'alice> /he', 'the typed text');
    const redis = new Redis(REDIS_URL);
    try {
      // Alerts go to every shell's alerts channel, as a worker's expiry scan posts them.
      const worker = new ShellRelayNotifier(new ShellRelay(redis, redisKeys(prefix).shellOutbox, join(dir, 'dm')));
      await worker.post({ platform: 'shell', channel: SHELL_BROADCAST.alerts }, { kind: 'alert', text: 'The certificate for alice-phone expires in 6 days' });
    } finally {
      redis.disconnect();
    }
    // The alert is written first; then the prompt and the typed text are drawn again below it.
    const belowAlert = (screen: string) => {
      const lines = screen.split('\n');
      const at = lines.findIndex((l) => l.includes('expires in 6 days'));
      return at < 0 ? undefined : lines.slice(at + 1);
    };
    const screen = await p.waitFor((s) => belowAlert(s)?.join('\n') === 'alice> /he', 'the alert above the prompt with /he still typed', 5000);
    expect(belowAlert(screen)).toEqual(['alice> /he']);
    expect(p.cursorLine()).toBe('alice> /he');
    p.type('lp\r');
    await p.waitFor(/labgate commands you may run/, 'the typed line ran as /help');
  });

  it('GIVEN a terminal WHEN NO_COLOR is set THEN nothing is coloured; FORCE_COLOR colours a pipe and FORCE_COLOR=0 a terminal not', async () => {
    const line = ['plan', '/expose service:immich namespace:media port:2283 host:colour auth:tailscale-only'];
    const coloured = pty(line);
    expect(await coloured.exit()).toBe(0);
    expect(coloured.raw).toMatch(SGR);
    const noColor = pty(line, { env: { NO_COLOR: '1' } });
    expect(await noColor.exit()).toBe(0);
    expect(noColor.raw).toContain('+++ b/IngressRoute/media/colour-ts');
    expect(noColor.raw).not.toMatch(SGR);
    const forcedOff = pty(line, { env: { FORCE_COLOR: '0' } });
    expect(await forcedOff.exit()).toBe(0);
    expect(forcedOff.raw).not.toMatch(SGR);

    const piped = await new Promise<string>((resolve) => {
      const child = spawn(process.execPath, [BIN, ...line], { env: { ...env, FORCE_COLOR: '1' }, stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.on('close', () => resolve(out));
    });
    expect(piped).toMatch(SGR);

    // The shell chat too: a refusal is yellow on a terminal, plain with NO_COLOR.
    const shell = pty(['shell'], { env: { NO_COLOR: '1' } });
    await shell.waitFor(prompt, 'the prompt');
    shell.type('/expose service:nope namespace:media port:1 host:x auth:tailscale-only\r');
    await shell.waitFor(/✗ Service nope not found/, 'the refusal');
    expect(shell.raw).not.toMatch(SGR);
  });

  it('GIVEN an 80-column terminal WHEN /derp-check runs THEN its table fits in 80 columns, says which columns it left out, and --json keeps them all', async () => {
    const p = pty(['shell'], { cols: 80 });
    await p.waitFor(prompt, 'the prompt');
    p.type('/derp-check\r');
    await p.waitFor(/not shown in 80 columns: ([^;]+); --json has every column/, 'the fitted table');
    const printed = plain(p.raw).split('\n');
    const from = printed.findIndex((l) => l.startsWith('node  '));
    const to = printed.findIndex((l) => l.startsWith('(not shown in 80 columns'));
    expect(from).toBeGreaterThan(0);
    const table = printed.slice(from, to);
    for (const row of table) expect([...row].length, row).toBeLessThanOrEqual(80);
    expect(table[0]).toMatch(/^node\s+.*verdict$/);
    expect(table.join('\n')).toMatch(/node-23\s.*missing.*misconfigured/);
    expect(printed[to]).toContain('formula port');
    // One shell at a time: until conversations are separate per process, another shell's workers could take the job.
    p.type('\x04');
    await p.exit();

    const json = await new Promise<string>((resolve) => {
      const child = spawn(process.execPath, [BIN, 'shell', '--json'], { env, cwd: dir, stdio: ['pipe', 'pipe', 'ignore'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.on('close', () => resolve(out));
      child.stdin.end('/derp-check\n');
    });
    const report = json.trim().split('\n').map((l) => JSON.parse(l) as { kind: string; table?: { columns: string[]; rows: string[][] } }).find((m) => m.kind === 'report')!;
    expect(report.table!.columns).toEqual(['node', 'IP', 'formula port', 'actual port', 'router rule', 'netcheck', 'peers', 'verdict']);
    expect(report.table!.rows.every((r) => r.length === 8)).toBe(true);
  });

  it('GIVEN a CSR in the home folder WHEN /cert sign names it as ~/… THEN the shell reads it from there', async () => {
    const home = mkdtempSync(join(dir, 'home-'));
    const made = await openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(home, 'laptop.key'), '-subj', '/CN=laptop.local', '-out', join(home, 'laptop.csr')]);
    expect(made.code).toBe(0);
    const json = await new Promise<string>((resolve) => {
      const child = spawn(process.execPath, [BIN, 'shell', '--json', '--as', 'bob'], { env: { ...env, HOME: home }, cwd: dir, stdio: ['pipe', 'pipe', 'ignore'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.on('close', () => resolve(out));
      child.stdin.end('/cert sign device:laptop csr:~/laptop.csr\n');
    });
    const msgs = json.trim().split('\n').map((l) => JSON.parse(l) as { kind: string; text: string });
    expect(msgs.find((m) => m.kind === 'refusal')).toBeUndefined();
    expect(msgs.find((m) => m.kind === 'plan')?.text).toMatch(/^Plan p-\w+: \/cert sign device:laptop csr:~\/laptop\.csr$/);
  });

  it('GIVEN slow nodes WHEN /derp-check runs THEN the terminal shows which step it is on, and neither --json nor the finished screen carries it', async () => {
    sandbox.tailscale.setExecLatency(1500);
    try {
      const p = pty(['shell']);
      await p.waitFor(prompt, 'the prompt');
      p.type('/derp-check\r');
      await p.waitFor(() => /running \/derp-check… asking 3 nodes: \d done/.test(p.raw), 'the progress line');
      const done = await p.waitFor(/Tailscale paths of 3 Traefik nodes[\s\S]*\nalice> $/, 'the report and the next prompt');
      expect(done).not.toContain('asking 3 nodes');
      p.type('\x04');
      await p.exit();

      const json = pty(['shell', '--json']);
      json.type('/derp-check\r');
      await json.waitFor(/"kind":"report"/, 'the JSON report');
      expect(json.raw).not.toContain('asking');
      expect(json.raw).not.toContain('running /derp-check');
    } finally {
      sandbox.tailscale.setExecLatency(0);
    }
  });
});
