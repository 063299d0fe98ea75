import type { z } from 'zod';
import { formatDuration } from '../duration.js';
import { redactConfig, type Config } from './load.js';
import { ConfigFile, durationSchemas } from './schema.js';

type Path = (string | '[]')[];

/** Paths of the duration fields in the schema ("plans.ttl", "openbao.expiry.thresholds[]"). */
export function durationPaths(schema: z.ZodType = ConfigFile, at: Path = []): Path[] {
  if (durationSchemas.has(schema)) return [at];
  const def = (schema as unknown as { _zod: { def: Record<string, unknown> & { type: string } } })._zod.def;
  switch (def.type) {
    case 'object':
      return Object.entries(def.shape as Record<string, z.ZodType>).flatMap(([k, s]) => durationPaths(s, [...at, k]));
    case 'optional':
    case 'default':
    case 'prefault':
    case 'nullable':
      return durationPaths(def.innerType as z.ZodType, at);
    case 'array':
      return durationPaths(def.element as z.ZodType, [...at, '[]']);
    default:
      return [];
  }
}

/** Sets every value at `path` in `target` (arrays: each element) to `f(value as parsed, value as written)`. */
function rewrite(target: unknown, written: unknown, path: Path, f: (parsed: unknown, written: unknown) => unknown): void {
  if (!target || typeof target !== 'object') return;
  const [head, ...rest] = path;
  const w = (written && typeof written === 'object' ? written : {}) as Record<string, unknown>;
  const t = target as Record<string, unknown> & unknown[];
  if (head === '[]') {
    if (!Array.isArray(target)) return;
    target.forEach((v, i) => (rest.length ? rewrite(v, (written as unknown[] | undefined)?.[i], rest, f) : (t[i] = f(v, Array.isArray(written) ? written[i] : undefined))));
    return;
  }
  if (!(head! in t)) return;
  if (rest.length) rewrite(t[head!], w[head!], rest, f);
  else t[head!] = f(t[head!], w[head!]);
}

/**
 * The configuration as `config check` prints it: secrets redacted, and durations as written
 * (15m, not 900000); a duration left to its default is printed in its shortest form.
 */
export function printableConfig(config: Config, doc?: unknown): unknown {
  const out = redactConfig(config);
  for (const path of durationPaths()) rewrite(out, doc, path, (parsed, written) => (typeof written === 'string' || typeof written === 'number' ? written : typeof parsed === 'number' ? formatDuration(parsed) : parsed));
  return out;
}
