import { GoMap, goTime } from './go-json.js';
import { mappedPort } from './status-report.js';
import { derivedInt } from './tailnet-identity.js';
import { DERP_REGIONS, type TailscaleNodeState, type TailscaleState } from './tailscale-state.js';

/**
 * The netcheck.Report `tailscale netcheck --format=json` prints for one node. The CLI probes
 * from its own UDP socket, so GlobalV4 carries an ephemeral port, not the WireGuard one;
 * behind a hard NAT each STUN server sees a different port (MappingVariesByDestIP).
 */

/** Latencies of a homelab in central Europe, fastest first (nanoseconds). */
const LATENCY_LADDER_NS = [11_873_002, 18_820_117, 19_941_553, 22_410_956, 93_412_811, 161_200_733];
const REGION_PREFERENCE = ['fra', 'ams', 'par', 'lhr', 'nyc', 'sfo'];

/** Region id → round-trip latency, the preferred region fastest. */
export function regionLatencies(node: TailscaleNodeState): Map<number, number> {
  const preferred = DERP_REGIONS.find((r) => r.id === node.preferredDerp);
  const ordered = REGION_PREFERENCE.map((code) => DERP_REGIONS.find((r) => r.code === code)!).filter((r) => r !== preferred);
  if (preferred) ordered.unshift(preferred);
  const out = new Map<number, number>();
  ordered.forEach((region, i) => {
    out.set(region.id, LATENCY_LADDER_NS[Math.min(i, LATENCY_LADDER_NS.length - 1)]! + derivedInt('latency', `${node.name}/${region.code}`, 900_000));
  });
  return out;
}

const latencyMap = (latencies: Map<number, number>) => new GoMap([...latencies].map(([id, ns]) => [String(id), ns] as const));

/** The whole netcheck report object for one node. */
export function buildNetcheck(state: TailscaleState, node: TailscaleNodeState, now: number): Record<string, unknown> {
  const latencies = regionLatencies(node);
  const cliPort = 32768 + derivedInt('netcheck-port', node.name, 28000);
  let counters: GoMap<number> | null = null;
  let globalV4 = '';
  if (node.udp) {
    const endpoints = node.hardNat
      ? ['stun-a', 'stun-b', 'stun-c'].map((salt) => `${state.publicIp}:${mappedPort(node.name, salt, cliPort)}`)
      : [`${state.publicIp}:${cliPort}`];
    counters = new GoMap(endpoints.map((e) => [e, node.hardNat ? 2 : 6] as const));
    globalV4 = endpoints[0]!;
  }
  return {
    Now: goTime(now, derivedInt('now-ns', `${node.name}/${now}`, 1_000_000)),
    UDP: node.udp,
    IPv6: false,
    IPv4: node.udp,
    IPv6CanSend: false,
    IPv4CanSend: node.udp,
    OSHasIPv6: true,
    ICMPv4: false,
    // opt.Bool: null when netcheck could not tell (no UDP, no STUN answers).
    MappingVariesByDestIP: node.udp ? node.hardNat : null,
    UPnP: false,
    PMP: false,
    PCP: false,
    PreferredDERP: node.preferredDerp,
    RegionLatency: latencyMap(latencies),
    // Without UDP the latencies come from HTTPS probes, which fill RegionLatency only.
    RegionV4Latency: node.udp ? latencyMap(latencies) : new GoMap([]),
    RegionV6Latency: new GoMap([]),
    GlobalV4Counters: counters,
    GlobalV6Counters: null,
    GlobalV4: globalV4,
    GlobalV6: '',
    CaptivePortal: null,
  };
}
