import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEPLOY } from './render.js';

// There is no Docker on the machines that run the tests: the Dockerfile is checked as text,
// instruction by instruction, against what the issue asks of the image.

const ROOT = join(DEPLOY, '..');
const text = readFileSync(join(DEPLOY, 'Dockerfile'), 'utf8');
/** Instructions with their continuation lines joined, comments dropped. */
const instructions = text
  .replace(/\\\n\s*/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'))
  .map((l) => {
    const [op, ...rest] = l.split(/\s+/);
    return { op: op!.toUpperCase(), args: rest.join(' ') };
  });
const args = Object.fromEntries(instructions.filter((i) => i.op === 'ARG' && i.args.includes('=')).map((i) => i.args.split('=') as [string, string]));
const expand = (s: string) => s.replace(/\$\{(\w+)\}/g, (_, k: string) => args[k] ?? '');

/** The stages, each with its base image and its instructions. */
const stages: { name?: string; from: string; steps: { op: string; args: string }[] }[] = [];
for (const i of instructions) {
  if (i.op === 'FROM') {
    const [image, , name] = expand(i.args).split(/\s+/);
    stages.push({ from: image!, name, steps: [] });
  } else stages.at(-1)?.steps.push(i);
}
const final = stages.at(-1)!;
const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));

describe('deploy/Dockerfile', () => {
  it('builds from a current Node LTS slim image pinned to an exact version, in several stages', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const s of stages) {
      const m = /^node:(\d+)\.(\d+)\.(\d+)-(bookworm|trixie)-slim$/.exec(s.from);
      expect(m, `${s.from}: node:<major.minor.patch>-<debian>-slim`).not.toBeNull();
      const major = Number(m![1]);
      // Even majors are the LTS lines; 20 left maintenance in April 2026.
      expect(major % 2, s.from).toBe(0);
      expect(major, s.from).toBeGreaterThanOrEqual(22);
    }
  });

  it('copies package*.json and runs npm ci before any source is copied, so the dependency layer is cached', () => {
    const build = stages.find((s) => s.steps.some((x) => x.op === 'RUN' && /\btsc\b/.test(x.args)))!;
    expect(build, 'a stage that compiles with tsc').toBeDefined();
    const idx = (pred: (x: { op: string; args: string }) => boolean) => build.steps.findIndex(pred);
    const manifests = idx((x) => x.op === 'COPY' && /package\.json/.test(x.args) && /package-lock\.json/.test(x.args));
    const ci = idx((x) => x.op === 'RUN' && /npm ci\b/.test(x.args));
    const sources = idx((x) => x.op === 'COPY' && /\bsrc\b/.test(x.args));
    expect(manifests).toBeGreaterThanOrEqual(0);
    expect(ci).toBeGreaterThan(manifests);
    expect(sources).toBeGreaterThan(ci);
    expect(instructions.some((x) => x.op === 'COPY' && /^\.\s+\./.test(x.args)), 'no COPY . .').toBe(false);
  });

  it('ships no dev dependencies: node_modules comes from an npm ci --omit=dev stage', () => {
    const copy = final.steps.find((x) => x.op === 'COPY' && /node_modules/.test(x.args))!;
    const from = /--from=(\S+)/.exec(copy.args)![1];
    const deps = stages.find((s) => s.name === from)!;
    expect(deps.steps.some((x) => x.op === 'RUN' && /npm ci\b.*--omit=dev/.test(x.args))).toBe(true);
    expect(final.steps.some((x) => x.op === 'RUN' && /npm (ci|install)\b/.test(x.args) && !/--omit=dev/.test(x.args))).toBe(false);
  });

  it('runs as a numeric non-root user and checks its health on /healthz', () => {
    const user = final.steps.filter((x) => x.op === 'USER').at(-1)!.args;
    expect(user).toMatch(/^[1-9]\d*(:\d+)?$/);
    const health = final.steps.find((x) => x.op === 'HEALTHCHECK')!;
    expect(health.args).toContain('http://127.0.0.1:9464/healthz');
    const cmd = JSON.parse(final.steps.find((x) => x.op === 'CMD')!.args) as string[];
    expect(cmd.join(' ')).toContain('--http 0.0.0.0:9464');
    const entry = JSON.parse(final.steps.find((x) => x.op === 'ENTRYPOINT')!.args) as string[];
    expect(existsSync(join(ROOT, entry.at(-1)!))).toBe(true);
  });

  it('keeps node_modules, dist, .git, tests and the sandbox state (.labgate/, CA key) out of the build context', () => {
    for (const p of ['node_modules', 'dist', '.git', 'test', '.labgate']) expect(ignored, p).toContain(p);
    // What the Dockerfile copies from the context exists and is not ignored.
    for (const c of instructions.filter((x) => x.op === 'COPY' && !x.args.includes('--from'))) {
      const sources = c.args.split(/\s+/).slice(0, -1);
      for (const src of sources) {
        expect(existsSync(join(ROOT, src)), src).toBe(true);
        expect(ignored.some((i) => src === i || src.startsWith(`${i}/`)), `${src} is in .dockerignore`).toBe(false);
      }
    }
  });

  it('compiles only what runs: the image tsconfig leaves the tests and benchmarks out', () => {
    const ts = JSON.parse(readFileSync(join(DEPLOY, 'tsconfig.image.json'), 'utf8')) as { include: string[]; compilerOptions: { outDir: string } };
    expect(ts.include.sort()).toEqual(['../jobs', '../sandbox', '../src']);
    expect(ts.compilerOptions.outDir).toBe('../dist');
    // bin/labgate.js loads dist/src/cli/main.js: the layout the image's tsc writes.
    expect(readFileSync(join(ROOT, 'bin', 'labgate.js'), 'utf8')).toContain("'../dist/src/cli/main.js'");
  });
});
