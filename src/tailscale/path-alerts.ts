import type { Button, OutMessage } from '../messages/message.js';
import type { NodeCheck } from './derp-check.js';
import { DERP_COLUMNS, derpRow } from './derp-report.js';
import type { PathState, PathTransition } from '../stores/alert-ledger.js';

/**
 * What the monitor remembers of one node: `node` is on DERP when UDP is blocked or an active
 * peer is relayed; each active peer is on DERP or not. Idle peers are left out (neither), and
 * so is anything that could not be asked: no state, no alert.
 */
export function pathStates(c: NodeCheck): Record<string, PathState> {
  const states: Record<string, PathState> = {};
  if (!c.peers) return states;
  const active = c.peers.filter((p) => p.kind !== 'idle');
  if (c.netcheck || active.length) states.node = c.netcheck?.UDP === false || active.some((p) => p.kind === 'derp') ? 'derp' : 'direct';
  for (const p of active) states[`peer:${p.host}`] = p.kind as PathState;
  return states;
}

/** Only falling back to DERP and coming back from it are worth an alert (direct ↔ peer relay is not). */
export function alertWorthy(transitions: PathTransition[]): PathTransition[] {
  return transitions.filter((t) => (t.from === 'derp') !== (t.to === 'derp'));
}

function peerNow(c: NodeCheck, host: string): string {
  const p = c.peers?.find((x) => x.host === host);
  if (!p) return '?';
  if (p.kind === 'derp') return `DERP (${p.via || '?'})`;
  return `${p.kind} ${p.via}`;
}

/** The alert for one node's changes since the last check, with the diagnosis of this check. */
export function pathAlertMessage(c: NodeCheck, transitions: PathTransition[], fixButton?: Button): OutMessage {
  const fell = transitions.some((t) => t.to === 'derp');
  const recovered = transitions.some((t) => t.from === 'derp');
  const node = c.node.name;
  const text = fell && recovered ? `${node}: Tailscale paths changed` : fell ? `${node} fell back to DERP relays` : `${node} is direct again`;
  const lines = transitions.map((t) => {
    if (t.subject === 'node') return t.to === 'derp' ? `${node}: direct → DERP` : `${node}: DERP → direct`;
    const host = t.subject.replace(/^peer:/, '');
    return `${host}: ${t.from === 'derp' ? 'DERP' : t.from} → ${peerNow(c, host)}`;
  });
  const diagnosis = c.reasons.length ? c.reasons.join('; ') : 'no problem found';
  return {
    kind: 'alert',
    text,
    lines: [...lines, `Diagnosis (${c.verdict}): ${diagnosis}`],
    table: { columns: DERP_COLUMNS, rows: [derpRow(c)] },
    buttons: fixButton && c.fixable ? [fixButton] : undefined,
  };
}
