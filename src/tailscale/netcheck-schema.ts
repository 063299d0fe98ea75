import { z } from 'zod';

/**
 * `tailscale netcheck --format=json` (netcheck.Report). opt.Bool fields are true, false or
 * null (not checked); latencies are nanoseconds keyed by DERP region id as a string.
 */
const optBool = z.boolean().nullish().transform((v) => v ?? null);

export const NetcheckReport = z.object({
  Now: z.string().nullish(),
  UDP: z.boolean().default(false),
  IPv4: z.boolean().default(false),
  IPv6: z.boolean().default(false),
  /** Endpoint-dependent ("hard") NAT: each STUN server saw another port. */
  MappingVariesByDestIP: optBool,
  UPnP: optBool,
  PMP: optBool,
  PCP: optBool,
  /** Region id, 0 when unknown. */
  PreferredDERP: z.number().int().default(0),
  RegionLatency: z
    .record(z.string(), z.number())
    .nullish()
    .transform((v) => v ?? {}),
  GlobalV4: z.string().nullish().transform((v) => v ?? ''),
  GlobalV6: z.string().nullish().transform((v) => v ?? ''),
  CaptivePortal: optBool,
});
export type NetcheckReport = z.output<typeof NetcheckReport>;
