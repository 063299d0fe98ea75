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

const commands = new Counter({
  name: 'labgate_commands_total',
  help: 'Chat commands by name and outcome (planned, answered, refused, denied, error, timeout); reason is the refusal code',
  labelNames: ['command', 'outcome', 'reason'] as const,
  registers: [registry],
});

const plans = new Counter({
  name: 'labgate_plans_finished_total',
  help: 'Plans by final status: applied, failed, refused (at apply), rejected, expired',
  labelNames: ['status'] as const,
  registers: [registry],
});

const approveToApplied = new Histogram({
  name: 'labgate_approve_to_applied_seconds',
  help: 'From the approval to the recorded result of plans that applied',
  buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900],
  registers: [registry],
});

const applyFailures = new Counter({
  name: 'labgate_apply_failures_total',
  help: 'Applies that ended failed, by the system of the first change not in place (kubernetes, router, openbao)',
  labelNames: ['system'] as const,
  registers: [registry],
});

const gatewayState = new Gauge({
  name: 'labgate_discord_gateway_up',
  help: '1 while the Discord gateway connection is ready, 0 otherwise (bot only)',
  registers: [registry],
});

const rest429 = new Counter({
  name: 'labgate_discord_rest_rate_limited_total',
  help: 'Discord REST answers 429 (rate limited), by route',
  labelNames: ['route'] as const,
  registers: [registry],
});

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

const tailscalePath = new Gauge({
  name: 'labgate_tailscale_path_direct',
  help: 'Per Traefik node: 1 when its Tailscale path is direct, 0 when relayed (DERP), from the last relay monitor run',
  labelNames: ['node'] as const,
  registers: [registry],
});

const queueDepth = new Gauge({
  name: 'labgate_queue_jobs',
  help: 'Jobs per queue and state (waiting, active, delayed, prioritized, failed, completed), read at scrape time',
  labelNames: ['queue', 'state'] as const,
  registers: [registry],
});

const up = new Gauge({
  name: 'labgate_ready',
  help: 'Readiness checks of this process (redis, queues, chat, discord): 1 when passing',
  labelNames: ['check'] as const,
  registers: [registry],
});

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
