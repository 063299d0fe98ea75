import type { PeerPath, TailnetPeer, TailscaleNodeState } from './tailscale-state.js';

/**
 * Which path each peer actually takes from a node. A simplification of magicsock that is
 * enough for labgate: without UDP everything goes through DERP; behind a hard NAT a
 * direct path needs the WireGuard port forwarded; a peer relay needs UDP only.
 */

/** Whether the node can hole-punch direct paths. `forwarded` is asked only when it matters. */
export async function directCapable(node: TailscaleNodeState, forwarded: () => Promise<boolean>): Promise<boolean> {
  if (node.connectivity === 'direct') return true;
  if (node.connectivity === 'relayed' || !node.udp) return false;
  if (!node.hardNat) return true;
  return forwarded();
}

/** The path a peer is on, given whether the node can go direct. */
export function effectivePath(node: TailscaleNodeState, peer: TailnetPeer, direct: boolean): PeerPath {
  if (peer.path === 'idle' || peer.path === 'derp') return peer.path;
  if (node.connectivity === 'relayed') return 'derp';
  if (peer.path === 'peer-relay') return node.udp || node.connectivity === 'direct' ? 'peer-relay' : 'derp';
  return direct ? 'direct' : 'derp';
}
