import { sleep } from '../faults.js';
import { buildNetcheck } from './netcheck-report.js';
import { directCapable, effectivePath } from './peer-paths.js';
import { buildStatus } from './status-report.js';
import { seedTailscaleStateForNodes, type PeerPath, type SeedTailscaleOptions, type TailscaleNodeState, type TailscaleState } from './tailscale-state.js';
import { runInContainer } from './container-shell.js';

export interface ExecOutcome {
  stdout: string;
  stderr?: string;
  exitCode: number;
}

export interface TailscaleSimulatorOptions {
  /** Mutated by `setNode`; `onChange` is called after every change. */
  state: TailscaleState;
  /**
   * Whether the router forwards this node's WireGuard port to it; asked only for a node in
   * `auto` mode behind a hard NAT. A rejection counts as "not forwarded".
   */
  portForwarded?: (node: TailscaleNodeState) => boolean | Promise<boolean>;
  onChange?: () => void;
  /** Clock for timestamps (ms since epoch). */
  now?: () => number;
}

export type NodePatch = Partial<Omit<TailscaleNodeState, 'name'>>;

export interface PeerPathsView {
  /** Whether the node itself can take direct paths. */
  direct: boolean;
  /** Effective path per peer, in `node.peers` order. */
  paths: PeerPath[];
}

/**
 * The `tailscale` CLI of every Traefik pod's tailscale container, answering from state:
 * `status --json`, `netcheck --format=json` and a few others, in the real output formats.
 */
export class TailscaleSimulator {
  readonly state: TailscaleState;
  private readonly portForwarded: (node: TailscaleNodeState) => boolean | Promise<boolean>;
  private readonly onChange: () => void;
  readonly now: () => number;
  private execLatencyMs = 0;
  private readonly failures = new Map<string, { exitCode: number; stderr: string }>();

  constructor(options: TailscaleSimulatorOptions) {
    this.state = options.state;
    this.portForwarded = options.portForwarded ?? (() => false);
    this.onChange = options.onChange ?? (() => {});
    this.now = options.now ?? Date.now;
  }

  node(name: string): TailscaleNodeState | undefined {
    return this.state.nodes.find((n) => n.name === name);
  }

  private requireNode(name: string): TailscaleNodeState {
    const node = this.node(name);
    if (!node) throw new Error(`tailscale simulator: no node named ${name}`);
    return node;
  }

  /** Changes a node's connectivity (udp, hardNat, connectivity, peers, ...); returns the node. */
  setNode(name: string, patch: NodePatch): TailscaleNodeState {
    const node = this.requireNode(name);
    Object.assign(node, structuredClone(patch));
    this.onChange();
    return node;
  }

  /** Every exec waits this long before answering (a slow pod exec). */
  setExecLatency(ms: number): void {
    this.execLatencyMs = ms;
  }

  /** Makes every exec on that node fail with this exit code and stderr; `null` heals it. */
  failExec(nodeName: string, failure: { exitCode: number; stderr: string } | null): void {
    if (failure) this.failures.set(nodeName, failure);
    else this.failures.delete(nodeName);
  }

  /** The path each peer of the node is on right now. */
  async peerPaths(name: string): Promise<PeerPathsView> {
    const node = this.requireNode(name);
    const direct = await directCapable(node, async () => {
      try {
        return await this.portForwarded(node);
      } catch {
        return false;
      }
    });
    return { direct, paths: node.peers.map((p) => effectivePath(node, p, direct)) };
  }

  /** The object behind `tailscale status --json` on that node. */
  async status(name: string, options: { peers?: boolean; active?: boolean } = {}): Promise<Record<string, unknown>> {
    const node = this.requireNode(name);
    const view = await this.peerPaths(name);
    return buildStatus(this.state, node, { ...view, now: this.now(), ...options });
  }

  /** The object behind `tailscale netcheck --format=json` on that node. */
  netcheck(name: string): Record<string, unknown> {
    return buildNetcheck(this.state, this.requireNode(name), this.now());
  }

  /** Runs a command (`tailscale …`, `sh -c '…'`) in that node's tailscale container. */
  async exec(nodeName: string, argv: readonly string[]): Promise<ExecOutcome> {
    if (this.execLatencyMs > 0) await sleep(this.execLatencyMs);
    const failure = this.failures.get(nodeName);
    if (failure) return { stdout: '', stderr: failure.stderr, exitCode: failure.exitCode };
    if (!this.node(nodeName)) {
      return { stdout: '', stderr: "failed to connect to local tailscaled; it doesn't appear to be running\n", exitCode: 1 };
    }
    return runInContainer(this, nodeName, argv, { HOSTNAME: nodeName });
  }
}

/** A simulator over `count` seeded nodes (192.168.10.21 upward), e.g. the 50-node benchmark. */
export function tailscaleSimulatorForNodes(
  count: number,
  options: Omit<TailscaleSimulatorOptions, 'state'> & SeedTailscaleOptions & { publicIp?: string } = {},
): TailscaleSimulator {
  const { hardNat, publicIp, ...rest } = options;
  return new TailscaleSimulator({ ...rest, state: seedTailscaleStateForNodes(count, publicIp, { hardNat }) });
}
