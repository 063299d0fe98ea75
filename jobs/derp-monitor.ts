import { alertsConversation } from '../src/messages/conversations.js';
import type { Button } from '../src/messages/message.js';
import type { Services } from '../src/core/services.js';
import type { PathState } from '../src/stores/alert-ledger.js';
import type { ScheduledJob } from '../src/core/scheduled-job.js';
import { runDerpCheck } from '../src/planning/derp-check.js';
import { publishTailscalePaths } from '../src/ops/fleet-gauges.js';
import { alertWorthy, pathStates } from '../src/planning/path-alerts.js';
import { pathAlertMessage } from '../src/messages/derp-report.js';

/** A path's last state is kept this long after the last check. */
const PATH_STATE_KEEP_MS = 30 * 86_400_000;

/**
 * Runs the /derp-check checks and posts to the alerts channel when a node or an active peer
 * falls back from a direct path to DERP, and again when it recovers: once per change, whichever
 * worker sees it first (the last state is swapped atomically in Redis), across restarts.
 */
export async function runDerpMonitor(s: Services): Promise<{ nodes: number; alerts: number }> {
  const { tailscale, kubernetes, router } = s.ports;
  if (!tailscale) return { nodes: 0, alerts: 0 };
  const check = await runDerpCheck(
    { kube: kubernetes, tailscale, router },
    { daemonSet: s.config.tailscale.daemonSet, portBase: s.config.tailscale.portBase, concurrency: s.config.tailscale.concurrency, where: s.config.router ?? {} },
  );
  publishTailscalePaths(check.nodes);
  let button: Button | undefined;
  let alerts = 0;
  for (const c of check.nodes) {
    const transitions = alertWorthy(await s.alerts.swap<PathState>('derp', c.node.name, pathStates(c), PATH_STATE_KEEP_MS));
    if (!transitions.length) continue;
    try {
      if (c.fixable) button ??= await s.suggestions.button('Fix: /router sync', { name: 'router sync', options: {}, text: '/router sync' });
      await s.notifier.post(alertsConversation(s.config), pathAlertMessage(c, transitions, button));
      alerts++;
      s.logger.info({ node: c.node.name, transitions, verdict: c.verdict }, 'Tailscale path alert posted');
    } catch (err) {
      // Not delivered: put the old state back so the next check reports this change again.
      await s.alerts.revert('derp', c.node.name, transitions).catch(() => {});
      s.logger.error({ err, node: c.node.name, transitions }, 'could not post the Tailscale path alert');
    }
  }
  for (const c of check.nodes) if (c.errors.length) s.logger.warn({ node: c.node.name, errors: c.errors }, 'derp monitor could not ask a node');
  return { nodes: check.nodes.length, alerts };
}

export const derpMonitor: ScheduledJob = {
  name: 'derp-monitor',
  every: (s) => (s.config.tailscale.monitor.enabled && s.ports.tailscale ? s.config.tailscale.monitor.every : undefined),
  run: (s) => runDerpMonitor(s),
};
