/**
 * What the tailscale image (Alpine with busybox) offers a `kubectl exec`: the `tailscale` CLI
 * and busybox's `sh`, which the Traefik pod's own command (`/bin/sh -c …`) relies on. The
 * shell runs simple scripts: commands with quoted words and `$VAR`, joined by `;`, `&&`
 * and `||`, with the builtins echo, true, false, exit and `command -v`. Anything else is
 * "not found", as busybox words it.
 */
import { runTailscaleCli } from './tailscale-cli.js';
import type { ExecOutcome, TailscaleSimulator } from './tailscale-simulator.js';

const SHELLS = new Set(['sh', '/bin/sh', 'ash', '/bin/ash', 'busybox']);
const TAILSCALE = new Set(['tailscale', '/usr/local/bin/tailscale']);
const PATHS: Record<string, string> = { tailscale: '/usr/local/bin/tailscale', sh: '/bin/sh', echo: 'echo', true: 'true', false: 'false', exit: 'exit' };

type Token = { word: string } | { op: ';' | '&&' | '||' };

/** Splits a script into words and operators, honouring single and double quotes and expanding $VAR / ${VAR}. */
function tokenize(script: string, env: Record<string, string>): Token[] | string {
  const out: Token[] = [];
  let word: string | undefined;
  const flush = () => {
    if (word !== undefined) out.push({ word });
    word = undefined;
  };
  for (let i = 0; i < script.length; i++) {
    const c = script[i]!;
    if (c === "'") {
      const end = script.indexOf("'", i + 1);
      if (end < 0) return "sh: syntax error: unterminated quoted string";
      word = (word ?? '') + script.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      let s = '';
      for (; j < script.length && script[j] !== '"'; j++) {
        if (script[j] === '\\' && j + 1 < script.length) s += script[++j];
        else if (script[j] === '$') {
          const m = /^\$(\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/.exec(script.slice(j));
          if (m) {
            s += env[m[2] ?? m[3]!] ?? '';
            j += m[0].length - 1;
          } else s += '$';
        } else s += script[j];
      }
      if (j >= script.length) return "sh: syntax error: unterminated quoted string";
      word = (word ?? '') + s;
      i = j;
    } else if (c === '$') {
      const m = /^\$(\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*)|\?)/.exec(script.slice(i));
      if (m && m[0] !== '$?') {
        word = (word ?? '') + (env[m[2] ?? m[3]!] ?? '');
        i += m[0].length - 1;
      } else word = (word ?? '') + '$';
    } else if (c === ';' || c === '\n') {
      flush();
      out.push({ op: ';' });
    } else if ((c === '&' || c === '|') && script[i + 1] === c) {
      flush();
      out.push({ op: c === '&' ? '&&' : '||' });
      i++;
    } else if (c === '|' || c === '&' || c === '>' || c === '<' || c === '`') {
      return `sh: ${c}: not supported by the labgate sandbox's shell`;
    } else if (/\s/.test(c)) flush();
    else word = (word ?? '') + c;
  }
  flush();
  return out;
}

async function runCommand(sim: TailscaleSimulator, node: string, words: string[], env: Record<string, string>, viaShell: boolean): Promise<ExecOutcome & { exit?: boolean }> {
  const [cmd, ...args] = words;
  if (cmd === undefined) return { stdout: '', exitCode: 0 };
  if (TAILSCALE.has(cmd)) return runTailscaleCli(sim, node, words);
  if (SHELLS.has(cmd)) return runShell(sim, node, args, env);
  switch (cmd) {
    case 'echo':
      return args[0] === '-n' ? { stdout: args.slice(1).join(' '), exitCode: 0 } : { stdout: `${args.join(' ')}\n`, exitCode: 0 };
    case 'true':
      return { stdout: '', exitCode: 0 };
    case 'false':
      return { stdout: '', exitCode: 1 };
    case 'exit':
      return { stdout: '', exitCode: Number(args[0] ?? 0) || 0, exit: true };
    case 'command':
      if (args[0] === '-v' && args[1]) return PATHS[args[1]] ? { stdout: `${PATHS[args[1]]}\n`, exitCode: 0 } : { stdout: '', exitCode: 127 };
      break;
  }
  return viaShell
    ? { stdout: '', stderr: `sh: ${cmd}: not found\n`, exitCode: 127 }
    : { stdout: '', stderr: `exec: "${cmd}": executable file not found in $PATH\n`, exitCode: 127 };
}

/** `sh -c '<script>'` (other shell arguments are refused as busybox would not expect them here). */
async function runShell(sim: TailscaleSimulator, node: string, args: string[], env: Record<string, string>): Promise<ExecOutcome> {
  if (args[0] !== '-c' || args[1] === undefined) {
    return { stdout: '', stderr: 'sh: the labgate sandbox runs scripts given with -c only\n', exitCode: 2 };
  }
  const tokens = tokenize(args[1], env);
  if (typeof tokens === 'string') return { stdout: '', stderr: `${tokens}\n`, exitCode: 2 };
  let stdout = '';
  let stderr = '';
  let status = 0;
  let words: string[] = [];
  let skip = false;
  const run = async (): Promise<boolean> => {
    if (!skip && words.length) {
      const r = await runCommand(sim, node, words, env, true);
      stdout += r.stdout;
      stderr += r.stderr ?? '';
      status = r.exitCode;
      if (r.exit) return true;
    }
    words = [];
    return false;
  };
  for (const t of tokens) {
    if ('word' in t) {
      words.push(t.word);
      continue;
    }
    if (await run()) return { stdout, stderr, exitCode: status };
    skip = t.op === '&&' ? status !== 0 : t.op === '||' ? status === 0 : false;
  }
  await run();
  return { stdout, stderr, exitCode: status };
}

/** Runs `argv` in a node's tailscale container, as the container runtime would exec it. */
export function runInContainer(sim: TailscaleSimulator, node: string, argv: readonly string[], env: Record<string, string> = {}): Promise<ExecOutcome> {
  return runCommand(sim, node, [...argv], env, false);
}
