import { untrusted } from '../messages/untrusted.js';
import type { PeerStatus, TailscaleStatus } from './status-schema.js';

export type PeerPathKind = 'direct' | 'peer-relay' | 'derp' | 'idle';

export interface PeerPath {
  host: string;
  kind: PeerPathKind;
  /** `ip:port` (direct), `ip:port:vni:N` (peer relay) or the DERP region code (derp). */
  via: string;
}

/**
 * The path to one peer, read exactly as `tailscale status` does (cmd/tailscale/cli/status.go):
 * an inactive peer is idle (neither direct nor relayed); an active one with neither CurAddr
 * nor PeerRelay goes through DERP, `Relay` naming the region; `Relay` alone (always set, the
 * peer's home DERP) does not mean relayed.
 */
export function peerPath(ps: PeerStatus): PeerPath {
  // Every peer names itself: shown in tables and alerts, so made inert first.
  const host = untrusted(ps.HostName || ps.DNSName.split('.')[0] || ps.ID, 64);
  if (!ps.Active) return { host, kind: 'idle', via: '' };
  if (ps.CurAddr === '' && ps.PeerRelay === '') return { host, kind: 'derp', via: untrusted(ps.Relay, 32) };
  if (ps.CurAddr !== '') return { host, kind: 'direct', via: untrusted(ps.CurAddr, 64) };
  return { host, kind: 'peer-relay', via: untrusted(ps.PeerRelay, 64) };
}

/** Every peer's path, sorted by name. */
export function peerPaths(status: TailscaleStatus): PeerPath[] {
  return Object.values(status.Peer)
    .map(peerPath)
    .sort((a, b) => a.host.localeCompare(b.host));
}

/** The UDP port tailscaled listens on: the port of Self's endpoint on the node's own address. */
export function listeningPort(status: TailscaleStatus, nodeIp: string | undefined): number | undefined {
  const addrs = status.Self?.Addrs ?? [];
  const parse = (a: string) => {
    const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(a);
    return m ? { ip: m[1]!, port: Number(m[2]) } : undefined;
  };
  const parsed = addrs.map(parse).filter((a): a is { ip: string; port: number } => a !== undefined);
  const own = parsed.find((a) => a.ip === nodeIp) ?? parsed.find((a) => /^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.)/.test(a.ip));
  return own?.port;
}
