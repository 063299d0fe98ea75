import { untrusted } from '../messages/untrusted.js';
import type { z } from 'zod';
import { AdapterError, TailscaleError } from '../errors.js';
import type { KubernetesPort } from '../kubernetes/port.js';
import { NetcheckReport } from './netcheck-schema.js';
import type { TailscaleContainer, TailscalePort } from './port.js';
import { TailscaleStatus } from './status-schema.js';

/**
 * The `tailscale` CLI in each Traefik pod's tailscale container, run through the Kubernetes
 * API's pod exec (the container's socket needs no flag: containerboot links it to the
 * default path). Output is parsed with the schemas that follow the real JSON.
 */
export class PodExecTailscale implements TailscalePort {
  constructor(
    private readonly kube: KubernetesPort,
    private readonly timeoutMs = 15_000,
  ) {}

  private async run<S extends z.ZodType>(where: TailscaleContainer, command: string[], schema: S): Promise<z.output<S>> {
    const target = `${where.namespace}/${where.pod}`;
    const shown = command.join(' ');
    const res = await this.kube.exec({ ...where, command, timeoutMs: this.timeoutMs });
    if (res.exitCode !== 0) {
      const why = untrusted(res.stderr.trim().split('\n')[0] || res.stdout.trim().split('\n')[0] || 'no output', 200);
      // The command ran and said no: another try now would say the same.
      throw new TailscaleError(shown, target, 400, `\`${shown}\` in ${target} exited ${res.exitCode}: ${why}`);
    }
    let json: unknown;
    try {
      // netcheck's "# Warning" goes to stderr, but skip comment lines should a version print them on stdout.
      json = JSON.parse(res.stdout.replace(/^#.*\n/gm, ''));
    } catch {
      throw new TailscaleError(shown, target, 400, `\`${shown}\` in ${target} printed no JSON: ${res.stdout.slice(0, 80)}`);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new TailscaleError(shown, target, 400, `\`${shown}\` in ${target}: unexpected JSON at ${issue?.path.join('.') || '(top)'}: ${issue?.message}`);
    }
    return parsed.data;
  }

  /** GET /api/v1/namespaces/<ns>/pods/<pod>/exec?command=tailscale&command=status&command=--json&command=--active (idle peers left out: they have no path to judge) */
  status(where: TailscaleContainer) {
    return this.run(where, ['tailscale', 'status', '--json', '--active'], TailscaleStatus);
  }

  /** GET /api/v1/namespaces/<ns>/pods/<pod>/exec?command=tailscale&command=netcheck&command=--format=json */
  netcheck(where: TailscaleContainer) {
    return this.run(where, ['tailscale', 'netcheck', '--format=json'], NetcheckReport);
  }
}
