import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { didYouMean } from '../did-you-mean.js';

export const HELP = `labgate — plan, approve and apply homelab changes from chat

Usage: labgate <command> [options]        labgate <command> --help for one command

  start                     chat + workers in one process (Discord when configured, else the shell)
  bot                       the chat half only (workers run elsewhere on the same Redis)
  worker                    the workers only
                            start, bot, worker: --http HOST:PORT serves /healthz, /readyz, /metrics
  shell [--as USER] [--json]
                            the terminal chat; reads commands from stdin when it is not a terminal
  plan "<slash command>"    print the plan for a command against live state; changes nothing
  sandbox [--state FILE] [--write-env FILE] [--router-tls] [--faults PORT] [--rbac]
                            run the simulated homelab on loopback until stopped
  gate [--listen HOST:PORT] the mTLS gate: Traefik's forwardAuth for mtls-strict routes (revocation, allow lists)
  config check [FILE]       validate labgate.yaml (default: $LABGATE_CONFIG) and the environment
  deploy rbac [--config FILE]
                            print the Kubernetes RBAC labgate.yaml calls for (bot reads, worker writes)
  discord register          register the guild's slash commands (bulk overwrite; says what changed)
  --version                 print labgate's version

Configuration: labgate.yaml at $LABGATE_CONFIG, plus KUBECONFIG, REDIS_URL (or REDIS_SENTINELS), LABGATE_LOG_LEVEL and
DISCORD_TOKEN (with it, start/bot run the Discord bot instead of the shell; workers post over REST).
With no LABGATE_CONFIG, start/shell/plan run against the built-in sandbox homelab.
Colour: on a terminal unless NO_COLOR is set; FORCE_COLOR=1 colours a pipe, FORCE_COLOR=0 never.
`;

const SHELL_KEYS = `In a terminal: Tab completes commands, options and values (Services, namespaces, hosts, nodes,
plan ids); Up/Down recall earlier lines (kept in .labgate/shell-history); Ctrl-C clears the line;
Ctrl-D quits. A report wider than the terminal is fitted to it; --json keeps every column.`;

const HTTP_HELP = `--http HOST:PORT (or :PORT; also LABGATE_HTTP, or http.listen in labgate.yaml) serves /healthz,
/readyz and Prometheus /metrics on that address (docs/metrics.md).
`;

/** Each command's own help: usage line first, then what it does. */
export const COMMAND_HELP: Record<string, string> = {
  start: `usage: labgate start [--http HOST:PORT]

Runs the chat and the workers in one process: the Discord bot when DISCORD_TOKEN is set,
otherwise the shell chat in this terminal. With no LABGATE_CONFIG it starts the built-in sandbox.
${HTTP_HELP}`,
  bot: `usage: labgate bot [--as USER] [--json] [--http HOST:PORT]

The chat half only; \`labgate worker\` processes on the same Redis run the jobs. Without
DISCORD_TOKEN it is the shell chat (options as for labgate shell).
${HTTP_HELP}`,
  worker: `usage: labgate worker [--http HOST:PORT]

Runs the plan/apply workers and the scheduled jobs until SIGINT/SIGTERM.
${HTTP_HELP}`,
  shell: `usage: labgate shell [--as USER] [--json]

The terminal chat: "/expose service:… namespace:… port:… host:… auth:…", "approve", "@bob /cmd".
  --as USER   who you are (default: shell.defaultUser, else the first of shell.users)
  --json      one JSON object per message (kind, text, planId, diff, table, buttons, result)
On a pipe it runs each line in order and exits 0 when every line was handled, 1 on a fault.
${SHELL_KEYS}
`,
  plan: `usage: labgate plan "<slash command>"

Prints the plan (summary and diff) a change command would make against live state; queues and
changes nothing. Example: labgate plan "/route mode host:photos mode:mtls-strict"
`,
  sandbox: `usage: labgate sandbox [--state FILE] [--write-env FILE] [--router-tls] [--faults PORT] [--rbac]

Runs the simulated homelab (Kubernetes API, OpenBao, RouterOS, Tailscale) on loopback until
stopped. Restarted with the same state file it comes back on the same ports, so a labgate
still running against it carries on. It also runs the edge (Traefik's stand-in: the routes
labgate creates, with their TLS options and middlewares, on websecure and ts-secure; the env file
names it, LABGATE_SANDBOX_EDGE*) and the mTLS gate behind it.
  --state FILE      where the sandbox keeps its state (default .labgate/sandbox/state.json)
  --write-env FILE  where to write KUBECONFIG, LABGATE_CONFIG, BAO_* and ROUTEROS_* for
                    \`set -a; . FILE; set +a\` (default: sandbox.env beside the state file)
  --router-tls      also serve the router's api-ssl and point labgate at it (ROUTEROS_TLS, ROUTEROS_CA)
  --faults PORT     serve a fault-injection control on 127.0.0.1:PORT (0 picks one): statuses,
                    delays, hangs, dropped connections, answers lost after the request was done
  --rbac            enforce deploy/kubernetes/rbac.yaml: write labgate-bot.env and labgate-worker.env
                    beside the state file, each with its ServiceAccount's kubeconfig and only its
                    own secrets (run \`labgate bot\` and \`labgate worker\` with one each)
`,
  gate: `usage: labgate gate [--listen HOST:PORT]

The forwardAuth service every mtls-strict route calls (default --listen 0.0.0.0:8080). It reads
the device issuer and its CRL from OpenBao (BAO_ADDR; no token), refreshes every gate.refreshEvery,
takes revocations pushed through Redis at once, and answers 200 (X-Labgate-Owner, X-Labgate-Device),
403 with the reason, or 503 while its list is older than gate.maxStaleness. Needs LABGATE_CONFIG.
See docs/mtls-gate.md.
`,
  config: `usage: labgate config check [FILE]

Validates labgate.yaml (default: $LABGATE_CONFIG) and the environment: lists every problem with
its field path and exits 1, or prints the configuration (secrets redacted) and exits 0.
`,
  deploy: `usage: labgate deploy rbac [--config FILE]

Prints the ServiceAccounts (labgate-bot, labgate-worker), Roles and bindings that labgate.yaml
(--config, default $LABGATE_CONFIG) calls for: reads for both, writes for the worker only in the
namespaces exposure.namespaces.allow names, exec only in the Traefik namespace. Refuses an allow
list of "*". Apply with: labgate deploy rbac --config labgate.yaml | kubectl apply -f -
`,
  discord: `usage: labgate discord register

Registers the guild's slash commands (bulk overwrite, only when something differs) and says
what changed. Needs LABGATE_CONFIG with a discord block and DISCORD_TOKEN.
`,
};

export const COMMANDS = Object.keys(COMMAND_HELP);

/** The usage line of one command. */
export function usageOf(cmd: string): string {
  return COMMAND_HELP[cmd]?.split('\n')[0] ?? 'labgate --help lists the commands';
}

/** "unknown command" with the nearest command, for `labgate shel`. */
export function unknownCommand(cmd: string): string {
  const near = didYouMean(cmd, COMMANDS, (n) => `"labgate ${n}"`);
  return `labgate: unknown command "${cmd}"; ${near ? `${near} ` : ''}labgate --help lists the commands\n`;
}

/** labgate's version, from its package.json (found upwards from this file, in src/ or dist/src/). */
export function version(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++, dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'labgate' && pkg.version) return pkg.version;
    } catch {
      // not here; look one folder up
    }
  }
  return 'unknown';
}
