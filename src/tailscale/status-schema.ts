import { z } from 'zod';

/**
 * `tailscale status --json` (ipnstate.Status / PeerStatus, Go field names): the fields
 * labgate reads, typed as Go encodes them. nil slices and maps come as null; fields added in
 * later versions (PeerRelay, 1.86) default to their zero value; unknown fields are ignored.
 */

const goString = z.string().nullish().transform((v) => v ?? '');
const goStrings = z.array(z.string()).nullish().transform((v) => v ?? []);

export const PeerStatus = z.object({
  ID: goString,
  PublicKey: goString,
  HostName: goString,
  DNSName: goString,
  OS: goString,
  TailscaleIPs: goStrings,
  /** Only for Self: our own discovered endpoints (`ip:port`). null for peers. */
  Addrs: goStrings,
  /** Direct path `ip:port` when the best path is a plain UDP address. */
  CurAddr: goString,
  /** Region code of the peer's home DERP; set even when the path is direct. */
  Relay: goString,
  /** `ip:port:vni:N` when the path goes through a peer relay. */
  PeerRelay: goString,
  RxBytes: z.number().default(0),
  TxBytes: z.number().default(0),
  LastWrite: goString,
  LastHandshake: goString,
  Online: z.boolean().default(false),
  /** Sent to within magicsock's session timeout; an inactive peer has no path to judge. */
  Active: z.boolean().default(false),
});
export type PeerStatus = z.output<typeof PeerStatus>;

export const TailscaleStatus = z.object({
  Version: goString,
  BackendState: goString,
  TailscaleIPs: goStrings,
  Self: PeerStatus.nullish(),
  Health: goStrings,
  MagicDNSSuffix: goString,
  /** Node key → peer; absent with --peers=false, null when there are none. */
  Peer: z
    .record(z.string(), PeerStatus)
    .nullish()
    .transform((v) => v ?? {}),
});
export type TailscaleStatus = z.output<typeof TailscaleStatus>;
