import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * labgate's Prometheus metrics: one registry per process, which `/metrics` serves
 * (src/ops/http.ts). Other code records through the small functions below and never touches
 * prom-client itself. Names and labels are listed in docs/metrics.md; the Grafana dashboard
 * (deploy/grafana/labgate.json) uses only these.
 */
export const registry = new Registry();
let defaultsOn = false;

/** Process defaults (CPU, memory, event loop, handles): once, when the HTTP port is opened. */
export function enableDefaultMetrics(): void {
  if (defaultsOn) return;
  defaultsOn = true;
  collectDefaultMetrics({ register: registry });
}

// Every metric below registers in `registry` only; label-less metrics pass no labelNames.
function counter<L extends string>(name: string, help: string, labelNames: readonly L[]) {
  return new Counter<L>({ name, help, labelNames, registers: [registry] });
}
function gauge<L extends string>(name: string, help: string, labelNames?: readonly L[]) {
  return new Gauge<L>({ name, help, ...(labelNames && { labelNames }), registers: [registry] });
}
function histogram(name: string, help: string, buckets: number[]) {
  return new Histogram({ name, help, buckets, registers: [registry] });
}

const commands = counter(
  'labgate_commands_total',
  'Chat commands by name and outcome (planned, answered, refused, denied, error, timeout); reason is the refusal code',
  ['command', 'outcome', 'reason'],
);

const plans = counter(
  'labgate_plans_finished_total',
  'Plans by final status: applied, failed, refused (at apply), rejected, expired',
  ['status'],
);

const approveToApplied = histogram(
  'labgate_approve_to_applied_seconds',
  'From the approval to the recorded result of plans that applied',
  [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900],
);

const applyFailures = counter(
  'labgate_apply_failures_total',
  'Applies that ended failed, by the system of the first change not in place (kubernetes, router, openbao)',
  ['system'],
);

const gatewayState = gauge(
  'labgate_discord_gateway_up',
  '1 while the Discord gateway connection is ready, 0 otherwise (bot only)',
);

const rest429 = counter(
  'labgate_discord_rest_rate_limited_total',
  'Discord REST answers 429 (rate limited), by route',
  ['route'],
);

// Certificates as the last expiry scan in this process found them, with their series line
// written once: a scrape only appends the seconds left (worked out then, so they stay true
// between scans). prom-client would hash and escape 1,000 label sets at every scrape (~5 ms).
const CERT_METRIC = 'labgate_device_certificate_expiry_seconds';
const CERT_HEADER = `# HELP ${CERT_METRIC} Seconds until each valid device certificate expires (negative once expired), of the certificates the last expiry scan found\n# TYPE ${CERT_METRIC} gauge\n`;
let certificates: { line: string; notAfter: number }[] = [];
const labelValue = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** The whole exposition: prom-client's registry, then the certificate series. */
export async function metricsText(now = Date.now()): Promise<string> {
  const text = await registry.metrics();
  const parts = [text.endsWith('\n') || !text ? text : `${text}\n`, CERT_HEADER];
  for (const c of certificates) parts.push(c.line, String(Math.round((c.notAfter - now) / 1000)), '\n');
  return parts.join('');
}

const tailscalePath = gauge(
  'labgate_tailscale_path_direct',
  'Per Traefik node: 1 when its Tailscale path is direct, 0 when relayed (DERP), from the last relay monitor run',
  ['node'],
);

const queueDepth = gauge(
  'labgate_queue_jobs',
  'Jobs per queue and state (waiting, active, delayed, prioritized, failed, completed), read at scrape time',
  ['queue', 'state'],
);

const up = gauge(
  'labgate_ready',
  'Readiness checks of this process (redis, queues, chat, discord): 1 when passing',
  ['check'],
);

export type CommandOutcome = 'planned' | 'answered' | 'refused' | 'denied' | 'error' | 'timeout';

/** The small recording API the rest of labgate uses. */
export const metrics = {
  command(command: string, outcome: CommandOutcome, reason = ''): void {
    commands.inc({ command, outcome, reason });
  },
  planFinished(status: 'applied' | 'failed' | 'refused' | 'rejected' | 'expired'): void {
    plans.inc({ status });
  },
  approvedToApplied(ms: number): void {
    if (Number.isFinite(ms) && ms >= 0) approveToApplied.observe(ms / 1000);
  },
  applyFailed(system: string): void {
    applyFailures.inc({ system });
  },
  gateway(ready: boolean): void {
    gatewayState.set(ready ? 1 : 0);
  },
  rateLimited(route: string): void {
    rest429.inc({ route });
  },
  /** Replaces every certificate series with these (certificates gone since the last scan disappear). */
  certificates(list: { owner: string; device: string; serial: string; notAfter: number }[]): void {
    certificates = list.map((c) => ({ line: `${CERT_METRIC}{owner="${labelValue(c.owner)}",device="${labelValue(c.device)}",serial="${labelValue(c.serial)}"} `, notAfter: c.notAfter }));
  },
  /** Nodes whose path is unknown (could not be asked) are left out. */
  tailscalePaths(nodes: { node: string; direct: boolean }[]): void {
    tailscalePath.reset();
    for (const n of nodes) tailscalePath.set({ node: n.node }, n.direct ? 1 : 0);
  },
  queueDepth(queue: string, counts: Record<string, number>): void {
    for (const [state, n] of Object.entries(counts)) queueDepth.set({ queue, state }, n);
  },
  ready(check: string, ok: boolean): void {
    up.set({ check }, ok ? 1 : 0);
  },
};
