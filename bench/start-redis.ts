import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { redisAnswers } from '../src/cli/private-redis.js';
import { percentile, round, type Figure, type Scenario } from './figures.js';

const BIN = fileURLToPath(new URL('../../bin/labgate.js', import.meta.url));

/** `npm start`'s command (package.json), run in `cwd` so its .labgate/ is the bench's own. */
function npmStartCommand(): string[] {
  const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as { scripts: { start: string } };
  const flags = pkg.scripts.start.split(/\s+/).filter((w) => w.startsWith('--'));
  return [process.execPath, ...flags, BIN, 'start'];
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Milliseconds from spawning labgate to its first `alice> ` prompt, in a pseudo-terminal as a
 * person sees it (util-linux `script`); then Ctrl-D, and waits for it to end.
 */
async function toFirstPrompt(cwd: string, env: Record<string, string>): Promise<number> {
  const t0 = performance.now();
  const child: ChildProcess = spawn('script', ['-qfec', npmStartCommand().map(quote).join(' '), '/dev/null'], { cwd, env, stdio: ['pipe', 'pipe', 'ignore'] });
  const closed = new Promise((r) => child.on('close', r));
  let out = '';
  const t = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no prompt after 60 s:\n${out}`)), 60_000);
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('alice> ')) {
        clearTimeout(timer);
        resolve(performance.now() - t0);
      }
    });
  });
  child.stdin!.write('\x04');
  const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await closed;
  clearTimeout(killer);
  return t;
}

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export const startRedisScenario: Scenario = {
  name: 'npm start → first prompt (private Redis vs external)',
  async run(): Promise<Figure[]> {
    const s = 'npm start → first prompt';
    if (spawnSync('script', ['--version']).status !== 0 || spawnSync('redis-server', ['--version']).status !== 0)
      return [{ scenario: s, metric: 'skipped', value: 0, unit: '', note: 'needs util-linux script and redis-server on the PATH' }];
    const runs = Number(process.env.BENCH_START_RUNS ?? 5);
    // The external Redis: a redis-server already running (its own port, so nothing else shares it).
    const port = await freePort();
    const external = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    for (let i = 0; i < 200 && !(await redisAnswers({ host: '127.0.0.1', port })); i++) await new Promise((r) => setTimeout(r, 25));
    // Where the private run looks first: a port nothing listens on (as a machine with no Redis running).
    const nothing = `127.0.0.1:${await freePort()}`;
    const base = { PATH: process.env.PATH!, HOME: process.env.HOME ?? tmpdir(), TERM: 'xterm' };
    const variants: { name: 'external' | 'private'; cwd: string; env: Record<string, string> }[] = [
      { name: 'external', cwd: mkdtempSync(join(tmpdir(), 'labgate-bench-start-ext-')), env: { ...base, REDIS_URL: `redis://127.0.0.1:${port}` } },
      { name: 'private', cwd: mkdtempSync(join(tmpdir(), 'labgate-bench-start-own-')), env: { ...base, LABGATE_TEST_REDIS_PROBE: nothing } },
    ];
    const samples = { external: [] as number[], private: [] as number[] };
    try {
      // One warm-up each (seeds the sandbox state and the AOF, as a second `npm start` finds them), then alternate.
      for (const v of variants) await toFirstPrompt(v.cwd, v.env);
      for (let i = 0; i < runs; i++) for (const v of variants) samples[v.name].push(await toFirstPrompt(v.cwd, v.env));
    } finally {
      external.kill('SIGTERM');
    }
    const ext = percentile(samples.external, 50);
    const own = percentile(samples.private, 50);
    return [
      { scenario: s, metric: `external Redis already running, p50 of ${runs}`, value: round(ext, 0), unit: 'ms', note: `floor for the private run; max ${round(Math.max(...samples.external), 0)} ms` },
      { scenario: s, metric: `private Redis started, p50 of ${runs}`, value: round(own, 0), unit: 'ms', note: `external ${round(ext, 0)} ms; max ${round(Math.max(...samples.private), 0)} ms` },
      { scenario: s, metric: 'private Redis costs (p50 difference)', value: round(own - ext, 0), unit: 'ms', note: 'target ≤ 1500' },
    ];
  },
};
