import type { NetcheckReport } from './netcheck-schema.js';
import type { TailscaleStatus } from './status-schema.js';

/** A tailscale container to ask: the Traefik pod on one node. */
export interface TailscaleContainer {
  namespace: string;
  pod: string;
  container: string;
}

/** What labgate asks a node's tailscaled. One adapter runs the CLI over pod exec. */
export interface TailscalePort {
  /** `tailscale status --json` */
  status(where: TailscaleContainer): Promise<TailscaleStatus>;
  /** `tailscale netcheck --format=json` */
  netcheck(where: TailscaleContainer): Promise<NetcheckReport>;
}
