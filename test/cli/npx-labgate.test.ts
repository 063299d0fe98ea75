import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../sandbox/sandbox.js';
import { dropPrefix, REDIS_URL } from '../support/lab.js';
import { Pty } from '../support/pty.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SGR = /\x1b\[[0-9;]*m/;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * A folder where `npx labgate` is this checkout's labgate, as after `npm install labgate`:
 * node_modules/.bin/labgate links to bin/labgate.js. npx runs offline, so it never asks the registry.
 */
function workFolder(): string {
  const work = mkdtempSync(join(tmpdir(), 'labgate-npx-'));
  mkdirSync(join(work, 'node_modules/.bin'), { recursive: true });
  symlinkSync(join(ROOT, 'bin/labgate.js'), join(work, 'node_modules/.bin/labgate'));
  return work;
}

function sh(line: string, cwd: string, env: Record<string, string>, stdin = ''): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', line], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

/** A long-running line (the sandbox), in its own process group so Ctrl-C reaches all of it. */
class Background {
  out = '';
  readonly child: ChildProcess;
  readonly closed: Promise<number | null>;
  constructor(line: string, cwd: string, env: Record<string, string>) {
    this.child = spawn('bash', ['-c', line], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d) => (this.out += d));
    this.child.stderr!.on('data', (d) => (this.out += d));
    this.closed = new Promise((r) => this.child.on('close', r));
  }
  async until(re: RegExp, what: string, timeoutMs = 60_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!re.test(this.out)) {
      if (this.child.exitCode !== null || Date.now() > end) throw new Error(`${what}: not seen; output:\n${this.out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  /** Ctrl-C, as in the terminal it runs in: every process of the line gets SIGINT; resolves with labgate's output so far. */
  async interrupt(): Promise<string> {
    try {
      process.kill(-this.child.pid!, 'SIGINT');
    } catch {
      // already gone
    }
    await this.closed;
    return this.out;
  }
}

/** The README's two-terminal recipe, line by line, exactly as written. */
function readmeRecipe(): { sandbox: string; shell: string; scripted: string } {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const block = /Two terminals against a long-running sandbox:\n\n```sh\n([\s\S]*?)```/.exec(readme)?.[1];
  if (!block) throw new Error('README: the two-terminal recipe is gone');
  const [sandbox, shell, scripted] = block.trim().split('\n');
  return { sandbox: sandbox!, shell: shell!, scripted: scripted! };
}

const envFile = (text: string) => Object.fromEntries(text.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));

// npx costs a few seconds a call; these run the real command line as a person would.
describe('npx labgate, as a person runs it', { timeout: 180_000 }, () => {
  const base = { PATH: process.env.PATH!, HOME: process.env.HOME ?? tmpdir(), npm_config_offline: 'true', npm_config_update_notifier: 'false', npm_config_fund: 'false' };

  describe('the README two-terminal recipe', () => {
    // The recipe uses the sandbox's own prefix: a Redis database of its own keeps it apart.
    const redisUrl = `${REDIS_URL.replace(/\/\d+$/, '')}/${1 + (process.pid % 15)}`;
    const work = workFolder();
    const env = { ...base, REDIS_URL: redisUrl, LABGATE_LOG_FILE: join(work, 'labgate.log') };
    const started: (Background | Pty)[] = [];
    afterAll(async () => {
      for (const s of started) (s instanceof Pty ? s.kill() : await s.interrupt());
      await dropPrefix('labgate-sandbox', redisUrl);
    });

    it('GIVEN no env file yet WHEN the recipe runs THEN the sandbox starts, the second terminal chats with it, a restarted sandbox is picked up again, and the scripted line prints JSON', async () => {
      const recipe = readmeRecipe();
      const sandbox = new Background(recipe.sandbox, work, env);
      started.push(sandbox);
      await sandbox.until(/labgate sandbox running/, 'the sandbox');
      const written = readFileSync(join(work, '.labgate/sandbox.env'), 'utf8');

      const shell = Pty.run(['bash', '-c', recipe.shell], { cwd: work, env, cols: 120 });
      started.push(shell);
      await shell.waitFor(/alice> $/m, 'the shell prompt');
      shell.type('/route list\r');
      await shell.waitFor(/labgate serves|No host/i, 'the /route list answer');

      // Stop the sandbox (Ctrl-C) and start it again: same env file, and the open shell carries on.
      await sandbox.interrupt();
      const again = new Background(recipe.sandbox, work, env);
      started.push(again);
      await again.until(/labgate sandbox running/, 'the restarted sandbox');
      expect(readFileSync(join(work, '.labgate/sandbox.env'), 'utf8')).toBe(written);
      shell.type('/expose service:immich namespace:media port:2283 host:again auth:tailscale-only\r');
      await shell.waitFor(/── Plan p-\w+: \/expose service:immich/, 'a plan made against the restarted sandbox');
      expect(shell.screen()).not.toMatch(/ECONNREFUSED|failed|unreachable/);
      shell.type('\x04');
      expect(await shell.exit()).toBe(0);

      // The scripted line, in the second terminal (its environment read from the env file).
      const scripted = await sh(recipe.scripted, work, { ...env, ...envFile(written) });
      expect(scripted.code).toBe(0);
      const msgs = scripted.stdout.trim().split('\n').map((l) => JSON.parse(l) as { kind: string });
      expect(msgs.at(-1)).toMatchObject({ kind: 'report' });
      await again.interrupt();
    });
  });

  describe('the command line itself', () => {
    let sandbox: Sandbox;
    let env: Record<string, string>;
    const work = workFolder();
    const prefix = `lgtest-npx-${process.pid}`;
    const npx = (args: string, extra: Record<string, string> = {}, stdin = '') => sh(`npx labgate ${args}`, work, { ...env, ...extra }, stdin);

    beforeAll(async () => {
      sandbox = await startSandbox({ dir: join(work, 'sandbox') });
      const config = join(work, 'labgate-test.yaml');
      writeFileSync(config, readFileSync(sandbox.files.config, 'utf8').replace('prefix: labgate-sandbox', `prefix: ${prefix}`));
      env = { ...base, ...sandbox.env, LABGATE_CONFIG: config, LABGATE_LOG_FILE: join(work, 'labgate.log'), REDIS_URL };
    });
    afterAll(async () => {
      await sandbox.close();
      await dropPrefix(prefix);
    });

    it('GIVEN --version THEN it prints the version; GIVEN a mistyped command THEN it names the nearest one and exits 2', async () => {
      const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
      const [version, typo] = await Promise.all([npx('--version'), npx('shel')]);
      expect(version).toMatchObject({ code: 0, stdout: `labgate ${pkg.version}\n` });
      expect(typo.code).toBe(2);
      expect(typo.stderr).toBe('labgate: unknown command "shel"; did you mean "labgate shell"? labgate --help lists the commands\n');
    });

    it('GIVEN any command WHEN --help follows it THEN that command\'s usage is printed and it exits 0, needing no configuration', async () => {
      const bare = { LABGATE_CONFIG: '' };
      const cases = [
        ['config check --help', 'usage: labgate config check [FILE]'],
        ['discord register --help', 'usage: labgate discord register'],
        ['sandbox --help', 'usage: labgate sandbox [--state FILE] [--write-env FILE] [--router-tls] [--faults PORT] [--rbac]'],
        ['deploy rbac --help', 'usage: labgate deploy rbac [--config FILE]'],
        ['shell --as bob --help', 'usage: labgate shell [--as USER] [--json]'],
        ['plan --help', 'usage: labgate plan "<slash command>"'],
        ['start -h', 'usage: labgate start [--http HOST:PORT]'],
        ['bot --help', 'usage: labgate bot [--as USER] [--json] [--http HOST:PORT]'],
        ['worker --help', 'usage: labgate worker [--http HOST:PORT]'],
      ] as const;
      const runs = await Promise.all(cases.map(([args]) => npx(args, bare)));
      expect(runs.map((r, i) => ({ args: cases[i]![0], code: r.code, first: r.stdout.split('\n')[0] }))).toEqual(cases.map(([args, usage]) => ({ args, code: 0, first: usage })));
    });

    it('GIVEN plan with no command THEN it says what to give; GIVEN a read-only command THEN it says which commands plan', async () => {
      const [none, report] = await Promise.all([npx('plan'), npx('plan "/route list"')]);
      expect(none.code).toBe(2);
      expect(none.stderr).toBe('labgate plan: give the slash command to plan, in quotes\nusage: labgate plan "<slash command>"\n');
      expect(report.code).toBe(2);
      expect(report.stdout).toContain('/route list changes nothing, so there is no plan to show; plans are made by /expose, /unexpose, /route mode');
    });

    it('GIVEN the old --env-file option WHEN the file exists THEN it is refused with its new name (Node stops on it when the file does not)', async () => {
      writeFileSync(join(work, 'old.env'), '');
      const r = await npx(`sandbox --env-file ${join(work, 'old.env')}`);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("'--env-file' is now '--write-env' (Node reads --env-file itself)");
    });

    it('GIVEN a config with several problems THEN config check lists them all at once, an unknown access.commands key with the nearest command; a good one echoes durations as written', async () => {
      const bad = join(work, 'bad.yaml');
      writeFileSync(bad, 'domain: home.example.com\nplans: {ttl: soon}\ntraefik: {tls: {certResolver: letsencrypt, secretName: wildcard-tls}}\naccess: {commands: {"route lst": {request: ["*"]}}}\n');
      const good = join(work, 'good.yaml');
      writeFileSync(good, 'domain: home.example.com\nplans: {ttl: 15m}\napply: {backoff: 750ms}\nshell: {users: [alice]}\n');
      const [r, ok] = await Promise.all([npx(`config check ${bad}`), npx(`config check ${good}`)]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('3 problems');
      expect(r.stderr).toContain('plans.ttl: must be a duration');
      expect(r.stderr).toContain('traefik.tls: give certResolver or secretName, not both');
      expect(r.stderr).toContain('access.commands.route lst: no such command; did you mean "route list"? commands: expose, unexpose, route mode, route list');
      expect(ok.code).toBe(0);
      expect(ok.stdout).toMatch(/^plans:\n {2}ttl: 15m$/m);
      expect(ok.stdout).toMatch(/^ {2}backoff: 750ms$/m);
      expect(ok.stdout).toMatch(/^ {2}execTimeout: 15s$/m);
      expect(ok.stdout).not.toContain('900000');
    });

    it('GIVEN a terminal WHEN NO_COLOR is set THEN npx labgate plan prints no colour codes, and does without it', async () => {
      const line = ['npx', 'labgate', 'plan', '/expose service:immich namespace:media port:2283 host:tty auth:tailscale-only'];
      const plain = Pty.run(line, { cwd: work, env: { ...env, NO_COLOR: '1' } });
      const coloured = Pty.run(line, { cwd: work, env });
      expect(await plain.exit()).toBe(0);
      expect(await coloured.exit()).toBe(0);
      expect(plain.raw).toContain('+++ b/IngressRoute/media/tty-ts');
      expect(plain.raw).not.toMatch(SGR);
      expect(coloured.raw).toMatch(SGR);
    });
  });
});
