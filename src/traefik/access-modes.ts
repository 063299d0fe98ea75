export const ACCESS_MODES = ['tailscale-only', 'tailscale-bypass', 'mtls-strict'] as const;
export type AccessMode = (typeof ACCESS_MODES)[number];

export const ACCESS_MODE_HELP: Record<AccessMode, string> = {
  'tailscale-only': 'reachable only over the tailnet (entry point ts-secure), no login',
  'tailscale-bypass': 'tailnet without login, internet (websecure) behind the forward-auth (OIDC) middleware',
  'mtls-strict': 'internet (websecure) only with a client certificate from the private CA',
};
