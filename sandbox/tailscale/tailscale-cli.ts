import { marshal, marshalIndent } from './go-json.js';
import { regionLatencies } from './netcheck-report.js';
import { derpCode } from './status-report.js';
import { tailscaleAddresses } from './tailnet-identity.js';
import { DERP_REGIONS, TAILSCALE_RELEASE } from './tailscale-state.js';
import type { ExecOutcome, TailscaleSimulator } from './tailscale-simulator.js';

/**
 * The `tailscale` command line as the simulator runs it: Go-style flags, the real output
 * formats, the real error texts and exit codes (1 for command errors, 2 for flag errors).
 */

type FlagSpec = Record<string, 'bool' | 'string'>;

class UsageError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

const TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** Go's flag package: `-x`/`--x`, `--x=v`, a bool never takes the next argument, stops at the first non-flag. */
function parseFlags(args: readonly string[], spec: FlagSpec, usage: string): { flags: Map<string, string | boolean>; rest: string[] } {
  const flags = new Map<string, string | boolean>();
  let i = 0;
  for (; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      i++;
      break;
    }
    if (!arg.startsWith('-') || arg === '-') break;
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    if (name === 'h' || name === 'help') throw new UsageError(usage, 0);
    const kind = spec[name];
    if (!kind) throw new UsageError(`flag provided but not defined: -${name}\n${usage}`, 2);
    if (kind === 'bool') {
      if (eq < 0) flags.set(name, true);
      else {
        const value = body.slice(eq + 1);
        if (TRUE.has(value)) flags.set(name, true);
        else if (FALSE.has(value)) flags.set(name, false);
        else throw new UsageError(`invalid boolean value ${JSON.stringify(value)} for -${name}: parse error\n${usage}`, 2);
      }
    } else if (eq >= 0) {
      flags.set(name, body.slice(eq + 1));
    } else {
      const value = args[i + 1];
      if (value === undefined) throw new UsageError(`flag needs an argument: -${name}\n${usage}`, 2);
      flags.set(name, value);
      i++;
    }
  }
  return { flags, rest: args.slice(i) };
}

const ROOT_USAGE = `The easiest, most secure way to use WireGuard.

USAGE
  tailscale [flags] <subcommand> [command flags]

For help on subcommands, add --help after: "tailscale status --help".

This CLI is still under active development. Commands and flags will
change in the future.

SUBCOMMANDS
  netcheck  Print an analysis of local network conditions
  ip        Show Tailscale IP addresses
  status    Show state of tailscaled and its connections
  ping      Ping a host at the Tailscale layer, see how it routed
  version   Print Tailscale version

FLAGS
  --socket string
    	path to tailscaled socket (default /var/run/tailscale/tailscaled.sock)
`;

const usageOf = (short: string, help: string) => `USAGE\n  ${short}\n\n${help}\n`;

const STATUS_USAGE = usageOf('tailscale status [--active] [--web] [--json]', 'Show state of tailscaled and its connections');
const NETCHECK_USAGE = usageOf('tailscale netcheck', 'Print an analysis of local network conditions');
const IP_USAGE = usageOf('tailscale ip [-1] [-4] [-6] [peer hostname or ip address]', 'Show Tailscale IP addresses');
const VERSION_USAGE = usageOf('tailscale version [flags]', 'Print Tailscale version');
const PING_USAGE = usageOf('tailscale ping <hostname-or-IP>', 'Ping a host at the Tailscale layer, see how it routed');

const ok = (stdout: string): ExecOutcome => ({ stdout, exitCode: 0 });
const fail = (stderr: string, exitCode = 1): ExecOutcome => ({ stdout: '', stderr, exitCode });

/** Runs one `tailscale` invocation (argv[0] is the program) on a node of the simulator. */
export async function runTailscaleCli(sim: TailscaleSimulator, nodeName: string, argv: readonly string[]): Promise<ExecOutcome> {
  const program = argv[0] ?? '';
  if (program.split('/').pop() !== 'tailscale') {
    return fail(`exec: "${program}": executable file not found in $PATH\n`, 127);
  }
  let args = argv.slice(1);
  try {
    const root = parseFlags(args, { socket: 'string' }, ROOT_USAGE);
    args = root.rest;
    const [sub, ...subArgs] = args;
    if (sub === undefined || sub === 'help') return { stdout: '', stderr: ROOT_USAGE, exitCode: 0 };
    switch (sub) {
      case 'status':
        return await status(sim, nodeName, subArgs);
      case 'netcheck':
        return netcheck(sim, nodeName, subArgs);
      case 'ip':
        return ip(sim, nodeName, subArgs);
      case 'version':
        return version(sim, subArgs);
      case 'ping':
        return await ping(sim, nodeName, subArgs);
      default:
        return fail(`tailscale: unknown subcommand: ${sub}\n`);
    }
  } catch (err) {
    if (err instanceof UsageError) return { stdout: '', stderr: err.message.endsWith('\n') ? err.message : `${err.message}\n`, exitCode: err.exitCode };
    throw err;
  }
}

async function status(sim: TailscaleSimulator, nodeName: string, args: string[]): Promise<ExecOutcome> {
  const { flags, rest } = parseFlags(args, { json: 'bool', web: 'bool', active: 'bool', self: 'bool', peers: 'bool', listen: 'string', browser: 'bool' }, STATUS_USAGE);
  if (rest.length > 0) return fail("unexpected non-flag arguments to 'tailscale status'\n");
  if (flags.get('web') === true) return fail('tailscale status --web: not available in the labgate sandbox\n');
  const peers = flags.get('peers') !== false;
  const active = flags.get('active') === true;
  const st = await sim.status(nodeName, { peers, active: flags.get('json') === true ? active : false });
  if (flags.get('json') === true) return ok(`${marshalIndent(st, '  ')}\n`);
  return ok(statusText(st, { self: flags.get('self') !== false, peers, active }));
}

type PeerStatusJson = {
  TailscaleIPs: string[];
  DNSName: string;
  HostName: string;
  UserID: number;
  OS: string;
  Relay: string;
  CurAddr: string;
  PeerRelay: string;
  TxBytes: number;
  RxBytes: number;
  Online: boolean;
  Active: boolean;
};

/** The human form of `tailscale status`, one line per device like the CLI's printPS. */
function statusText(st: Record<string, unknown>, opts: { self: boolean; peers: boolean; active: boolean }): string {
  const suffix = String(st.MagicDNSSuffix);
  const users = new Map((st.User as { entries: [string, { LoginName: string }][] }).entries);
  const line = (ps: PeerStatusJson) => {
    const name = ps.DNSName.endsWith(`.${suffix}.`) ? ps.DNSName.slice(0, -(suffix.length + 2)) : `("${ps.HostName}")`;
    const login = users.get(String(ps.UserID))?.LoginName ?? String(ps.UserID);
    const owner = login.includes('@') ? login.slice(0, login.indexOf('@') + 1) : login;
    let s = `${(ps.TailscaleIPs[0] ?? '').padEnd(15)} ${name.padEnd(20)} ${owner.padEnd(12)} ${ps.OS.padEnd(7)} `;
    const traffic = ps.TxBytes !== 0 || ps.RxBytes !== 0;
    const offline = ps.Online ? '' : '; offline';
    if (!ps.Active) s += traffic ? `idle${offline}` : ps.Online ? '-' : 'offline';
    else {
      s += 'active; ';
      if (ps.Relay !== '' && ps.CurAddr === '' && ps.PeerRelay === '') s += `relay "${ps.Relay}"`;
      else if (ps.CurAddr !== '') s += `direct ${ps.CurAddr}`;
      else if (ps.PeerRelay !== '') s += `peer-relay ${ps.PeerRelay}`;
      s += offline;
    }
    if (traffic) s += `, tx ${ps.TxBytes} rx ${ps.RxBytes}`;
    return `${s}\n`;
  };
  let out = '';
  if (opts.self) out += line(st.Self as PeerStatusJson);
  const peerMap = st.Peer as { entries: [string, PeerStatusJson][] } | null;
  if (opts.peers && peerMap) {
    const peers = peerMap.entries.map(([, ps]) => ps).sort((a, b) => a.DNSName.localeCompare(b.DNSName));
    for (const ps of peers) if (!opts.active || ps.Active) out += line(ps);
  }
  return out;
}

/** Go's Duration.String after Round(100µs), for sub-second latencies. */
function goDurationMs(ns: number): string {
  const tenths = Math.round(ns / 100_000);
  const ms = Math.floor(tenths / 10);
  return tenths % 10 === 0 ? `${ms}ms` : `${ms}.${tenths % 10}ms`;
}

function netcheck(sim: TailscaleSimulator, nodeName: string, args: string[]): ExecOutcome {
  const { flags } = parseFlags(args, { format: 'string', every: 'string', verbose: 'bool', 'bind-address': 'string', 'bind-port': 'string' }, NETCHECK_USAGE);
  const format = (flags.get('format') as string | undefined) ?? '';
  const warning = format.startsWith('json') ? '# Warning: this JSON format is not yet considered a stable interface\n' : '';
  const report = sim.netcheck(nodeName) as Record<string, unknown> & { GlobalV4: string; UDP: boolean; MappingVariesByDestIP: boolean | null; PreferredDERP: number };
  if (format === 'json') return { stdout: `${marshalIndent(report, '\t')}\n`, stderr: warning, exitCode: 0 };
  if (format === 'json-line') return { stdout: `${marshal(report)}\n`, stderr: warning, exitCode: 0 };
  if (format !== '') return { stdout: '', stderr: `${warning}unknown output format ${JSON.stringify(format)}\n`, exitCode: 1 };

  const node = sim.node(nodeName)!;
  const latencies = regionLatencies(node);
  let text = '\nReport:\n';
  text += `\t* Time: ${String(report.Now)}\n`;
  text += `\t* UDP: ${report.UDP}\n`;
  text += report.GlobalV4 ? `\t* IPv4: yes, ${report.GlobalV4}\n` : '\t* IPv4: (no addr found)\n';
  text += '\t* IPv6: no, but OS has support\n';
  text += `\t* MappingVariesByDestIP: ${report.MappingVariesByDestIP ?? ''}\n`;
  text += '\t* PortMapping: \n';
  const preferred = DERP_REGIONS.find((r) => r.id === report.PreferredDERP);
  text += `\t* Nearest DERP: ${preferred?.name ?? 'unknown'}\n`;
  text += '\t* DERP latency:\n';
  for (const [id, ns] of [...latencies].sort((a, b) => a[1] - b[1])) {
    const region = DERP_REGIONS.find((r) => r.id === id)!;
    text += `\t\t- ${region.code.padStart(3)}: ${goDurationMs(ns).padEnd(7)} (${region.name})\n`;
  }
  return ok(text);
}

function ip(sim: TailscaleSimulator, nodeName: string, args: string[]): ExecOutcome {
  const { flags, rest } = parseFlags(args, { '1': 'bool', '4': 'bool', '6': 'bool' }, IP_USAGE);
  let host = nodeName;
  if (rest.length > 0) {
    const peer = sim.node(nodeName)!.peers.find((p) => p.hostName === rest[0] || tailscaleAddresses(p.hostName).v4 === rest[0]);
    if (!peer) return fail(`no such peer: ${rest[0]}\n`);
    host = peer.hostName;
  }
  const { v4, v6 } = tailscaleAddresses(host);
  if (flags.get('4') === true) return ok(`${v4}\n`);
  if (flags.get('6') === true) return ok(`${v6}\n`);
  if (flags.get('1') === true) return ok(`${v4}\n`);
  return ok(`${v4}\n${v6}\n`);
}

function version(sim: TailscaleSimulator, args: string[]): ExecOutcome {
  parseFlags(args, { daemon: 'bool', json: 'bool', upstream: 'bool' }, VERSION_USAGE);
  // version.String(): short version, the commit, the other commit only for builds that have one, Go.
  const long = sim.state.version;
  const short = long.split('-')[0]!;
  const shortCommit = long.split('-t')[1]?.split('-')[0] ?? '';
  const commit = TAILSCALE_RELEASE.commit.startsWith(shortCommit) ? TAILSCALE_RELEASE.commit : shortCommit;
  const other = long.split('-g')[1];
  return ok(`${short}\n  tailscale commit: ${commit}\n${other ? `  other commit: ${other}\n` : ''}  go version: ${TAILSCALE_RELEASE.goVersion}\n`);
}

async function ping(sim: TailscaleSimulator, nodeName: string, args: string[]): Promise<ExecOutcome> {
  const { flags, rest } = parseFlags(
    args,
    { c: 'string', 'until-direct': 'bool', timeout: 'string', verbose: 'bool', tsmp: 'bool', icmp: 'bool', peerapi: 'bool', size: 'string' },
    PING_USAGE,
  );
  if (rest.length !== 1) return fail('usage: tailscale ping <hostname-or-IP>\n');
  const target = rest[0]!;
  const node = sim.node(nodeName)!;
  const index = node.peers.findIndex((p) => {
    const { v4, v6 } = tailscaleAddresses(p.hostName);
    return [p.hostName, `${p.hostName}.${sim.state.magicDnsSuffix}`, v4, v6].includes(target);
  });
  if (index < 0) return fail(`error looking up IP of "${target}": lookup ${target}: no such host\n`);
  const peer = node.peers[index]!;
  const { v4 } = tailscaleAddresses(peer.hostName);
  if (!peer.online) return fail(`timeout waiting for ping reply\n`);
  const { paths } = await sim.peerPaths(nodeName);
  // Another Traefik node on the LAN answers directly at its LAN endpoint, unless this node is forced onto DERP.
  const path = peer.lan && node.connectivity !== 'relayed' ? 'direct' : paths[index]!;
  const count = Number(flags.get('c') ?? 10) || 10;
  const untilDirect = flags.get('until-direct') !== false;
  const rtt = 20 + (index * 7) % 30;
  if (path === 'direct') return ok(`pong from ${peer.hostName} (${v4}) via ${peer.endpoint} in ${rtt}ms\n`);
  const via = path === 'peer-relay' && peer.peerRelay ? `peer-relay(${peer.peerRelay.endpoint}:vni:${peer.peerRelay.vni})` : `DERP(${peer.homeDerp || derpCode(node.preferredDerp)})`;
  const lines = Array.from({ length: count }, (_, i) => `pong from ${peer.hostName} (${v4}) via ${via} in ${rtt + 15 + i}ms\n`).join('');
  if (!untilDirect) return ok(lines);
  return { stdout: lines, stderr: 'direct connection not established\n', exitCode: 1 };
}
