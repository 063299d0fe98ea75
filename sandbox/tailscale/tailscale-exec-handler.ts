import type { ExecOutcome, TailscaleSimulator } from './tailscale-simulator.js';

/** One pod exec, as the sandbox Kubernetes API hands it over. */
export interface PodExecRequest {
  namespace: string;
  pod: string;
  container: string;
  command: string[];
}

/**
 * The exec handler for the sandbox Kubernetes API: commands in a Traefik pod's `tailscale`
 * container run against that node's simulated tailscaled. Other containers have no
 * tailscale binary; pods that map to no node have no tailscaled running.
 */
export function tailscaleExecHandler(
  sim: TailscaleSimulator,
  podToNode: (namespace: string, pod: string) => string | undefined,
  options: { container?: string } = {},
): (req: PodExecRequest) => Promise<ExecOutcome> {
  const container = options.container ?? 'tailscale';
  return async (req) => {
    if (req.container !== container) {
      return { stdout: '', stderr: `exec: "${req.command[0] ?? ''}": executable file not found in $PATH\n`, exitCode: 127 };
    }
    const nodeName = podToNode(req.namespace, req.pod);
    if (nodeName === undefined) {
      return { stdout: '', stderr: "failed to connect to local tailscaled; it doesn't appear to be running\n", exitCode: 1 };
    }
    return sim.exec(nodeName, req.command);
  };
}
