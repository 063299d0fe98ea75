import type { Config } from '../config/load.js';
import { parseListen } from './listen.js';

/** Opens the health and metrics port when LABGATE_HTTP (set by --http) or http.listen asks for one. */
export async function openOps(config: Config, say: (s: string) => void) {
  const listen = config.env.LABGATE_HTTP ?? config.http.listen;
  if (!listen) return undefined;
  const at = parseListen(listen, 'http.listen');
  if ('problem' in at) throw new Error(at.problem);
  const server = await (await import('./http.js')).startOpsServer(at).catch((err: Error) => {
    throw new Error(`health and metrics port: cannot listen on ${listen} (${err.message})`);
  });
  say(`labgate: health and metrics on ${server.url} (/healthz /readyz /metrics)\n`);
  return server;
}

/** `--http HOST:PORT` (start, bot, worker) goes to LABGATE_HTTP, where the configuration reads it; the rest is returned. */
export function takeHttpFlag(args: string[]): string[] {
  const i = args.findIndex((a) => a === '--http' || a.startsWith('--http='));
  if (i < 0) return args;
  const value = args[i]!.startsWith('--http=') ? args[i]!.slice(7) : args[i + 1];
  const bad = value === undefined ? { problem: '--http: give HOST:PORT or :PORT, like --http 0.0.0.0:9464' } : parseListen(value, '--http');
  if ('problem' in bad) throw Object.assign(new Error(bad.problem), { code: 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' });
  process.env.LABGATE_HTTP = value;
  return args.filter((_, j) => j !== i && !(j === i + 1 && args[i] === '--http'));
}
