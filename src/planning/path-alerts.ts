import type { NodeCheck } from './derp-check.js';
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
