import { redactUrlCredentials } from '../redact.js';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { didYouMean } from '../did-you-mean.js';
import { ConfigFile, Env } from './schema.js';

export interface Config extends ConfigFile {
  env: Env;
  /** The labgate.yaml this came from, or "(built-in sandbox)". */
  source: string;
}

/** `doc`: the YAML as written, for printing values (durations) the way they were written. */
export type ConfigResult = { ok: true; config: Config; doc?: unknown } | { ok: false; problems: string[] };

export interface ParseOptions {
  /** Command names ("expose", "route list"): access.commands may name only these. */
  commands?: readonly string[];
}

/** `a.b[0].c: message` — the form every config problem is reported in. */
export function formatIssues(issues: readonly z.core.$ZodIssue[], prefix = ''): string[] {
  return issues.map((i) => {
    const path = i.path.reduce<string>(
      (acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)),
      prefix,
    );
    return `${path || '(top level)'}: ${i.message}`;
  });
}

/** Empty strings count as unset, as t3-env does. */
function cleanEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== ''));
}

/** access.commands keys that name no command, read from the document as written (whatever else is wrong in it). */
function unknownCommandRules(doc: unknown, commands: readonly string[]): string[] {
  const rules = (doc as { access?: { commands?: unknown } } | null)?.access?.commands;
  if (!rules || typeof rules !== 'object' || Array.isArray(rules)) return [];
  return Object.keys(rules)
    .filter((c) => !commands.includes(c))
    .map((c) => `access.commands.${c}: no such command; ${[didYouMean(c, commands, (n) => `"${n}"`), `commands: ${commands.join(', ')}`].filter(Boolean).join(' ')}`);
}

/** Parses an already-read YAML document plus environment; every problem is reported at once. */
export function parseConfig(doc: unknown, env: NodeJS.ProcessEnv, source: string, opts: ParseOptions = {}): ConfigResult {
  const problems: string[] = [];
  const e = Env.safeParse(cleanEnv(env));
  if (!e.success) problems.push(...formatIssues(e.error.issues, 'env'));
  const f = ConfigFile.safeParse(doc ?? {});
  if (!f.success) problems.push(...formatIssues(f.error.issues));
  if (opts.commands) problems.push(...unknownCommandRules(doc, opts.commands));
  if (!e.success || !f.success || problems.length) return { ok: false, problems };
  return { ok: true, config: { ...f.data, env: withSentinels(e.data, f.data.redis), source }, doc };
}

/**
 * Sentinels from the file (REDIS_SENTINELS wins) go into the environment, where src/queue/redis.ts
 * reads them; REDIS_URL then names them (without credentials) for messages: redis-sentinel://s0:26379,s1:26379/labgate.
 */
function withSentinels(env: Env, redis: ConfigFile['redis']): Env {
  const sentinels = env.REDIS_SENTINELS ?? redis.sentinels?.join(',');
  if (!sentinels) return env;
  const name = env.REDIS_MASTER_NAME ?? redis.masterName ?? 'labgate';
  const list = sentinels.split(',').map((a) => a.trim()).filter(Boolean).join(',');
  return { ...env, REDIS_SENTINELS: list, REDIS_MASTER_NAME: name, REDIS_URL: `redis-sentinel://${list}/${encodeURIComponent(name)}` };
}

/** Reads labgate.yaml from `path` (or LABGATE_CONFIG) and the environment. */
export function loadConfig(env: NodeJS.ProcessEnv, path = env.LABGATE_CONFIG, opts: ParseOptions = {}): ConfigResult {
  if (!path) return { ok: false, problems: ['LABGATE_CONFIG: not set (path of labgate.yaml)'] };
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return { ok: false, problems: [`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`] };
  }
  let doc: unknown;
  try {
    doc = parseYaml(text, { prettyErrors: true });
  } catch (err) {
    return { ok: false, problems: [`${file}: not valid YAML: ${(err as Error).message.split('\n')[0]}`] };
  }
  return parseConfig(doc, env, file, opts);
}

const SECRET_KEY_RE = /(token|password|passphrase|secret|key|jwt)/i;

/** A copy fit for printing: secret values and URL credentials replaced. */
export function redactConfig(config: Config): unknown {
  const walk = (v: unknown, key = ''): unknown => {
    if (typeof v === 'string') {
      if (SECRET_KEY_RE.test(key) && !/(name|path|file|secretName|clientCaSecret)$/i.test(key)) return '[redacted]';
      return redactUrlCredentials(v);
    }
    if (Array.isArray(v)) return v.map((x) => walk(x, key));
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, k)]));
    return v;
  };
  return walk(config);
}
