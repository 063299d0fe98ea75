import { sleep, type FaultInjector } from '../faults.js';
import type { ExecResult } from '../kubernetes/pod-exec.js';
import type { PodExecRequest } from './tailscale-exec-handler.js';

/**
 * Fault injection for commands run in the Traefik pods' tailscale containers, matched on
 * "exec <command line>" (e.g. "exec tailscale netcheck --format=json"): a delay, a hang (the exec
 * never ends; labgate's exec timeout must fire), a drop (the exec stream closes with no exit
 * status), or `status`, taken as the command's exit code with the fault's body as its stderr.
 */
export function withExecFaults(faults: FaultInjector, handler: (req: PodExecRequest) => Promise<ExecResult>): (req: PodExecRequest) => Promise<ExecResult> {
  return async (req) => {
    const fault = faults.take(`exec ${req.command.join(' ')}`);
    if (!fault) return handler(req);
    if (fault.delayMs) await sleep(fault.delayMs);
    if (fault.hang) return new Promise<ExecResult>(() => {});
    if (fault.drop) throw Object.assign(new Error('sandbox fault: exec stream dropped'), { name: 'ExecDropped' });
    if (fault.status !== undefined) return { stdout: '', stderr: `${String(fault.body ?? 'sandbox fault injected')}\n`, exitCode: fault.status };
    return handler(req);
  };
}
