// Over 300 lines on purpose: the whole labgate.yaml schema in one file, so every field's rule and message is read in one place.
import { z } from 'zod';
import { parseDuration } from '../duration.js';
import { decodeSigningKey, SIGNING_KEY_HOWTO } from '../approval/signing.js';

/** host:port of a Redis Sentinel (REDIS_SENTINELS, redis.sentinels). */
const SENTINEL_ADDRESS = /^(\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9.-]+):\d{1,5}$/;

/** How long an apply's target locks live without renewal (src/stores/locks.ts); outside calls must be shorter. */
export const APPLY_LOCK_MS = 10_000;

/** The problem with running without a signing key, in the words config problems use; undefined when there is one. */
export function signingKeyProblem(env: { LABGATE_SIGNING_KEY?: string }): string | undefined {
  return env.LABGATE_SIGNING_KEY ? undefined : `env.LABGATE_SIGNING_KEY: not set; labgate seals plans and decisions with a key kept outside Redis: ${SIGNING_KEY_HOWTO}`;
}
import { dnsLabel, hostname } from './validators.js';
import { LISTEN_ERROR, parseListen } from '../ops/listen.js';

/** The duration fields (parsed to milliseconds), so `config check` can print them as written. */
export const durationSchemas = new WeakSet<z.ZodType>();

const duration = (fallback: string) => {
  const schema = z
    .union([z.string(), z.number()])
    .default(fallback)
    .transform((v, ctx) => {
      const ms = parseDuration(v);
      if (ms === undefined || ms <= 0) {
        ctx.addIssue({ code: 'custom', message: `must be a duration like 90s, 15m, 1h or 7d (got ${JSON.stringify(v)})` });
        return z.NEVER;
      }
      return ms;
    });
  durationSchemas.add(schema);
  return schema;
};

/**
 * Who a rule lets in: a group name from `access.groups`, `*` (anyone), or a principal:
 * `shell:<name>`, `discord:user:<id>`, `discord:role:<id>`.
 */
export const Member = z
  .string()
  .regex(/^(\*|shell:[a-z0-9][a-z0-9._-]*|discord:(user|role):\d{1,25}|[a-z][a-z0-9_-]*)$/i, {
    error: 'must be a group name, "*", shell:<user>, discord:user:<id> or discord:role:<id>',
  });

export const AccessRule = z
  .object({
    request: z.array(Member).optional(),
    approve: z.array(Member).optional(),
    selfApprove: z.boolean().optional(),
  })
  .strict();
export type AccessRule = z.infer<typeof AccessRule>;

const TraefikConfig = z
  .object({
    entryPoints: z
      .object({ tailscale: z.string().min(1).default('ts-secure'), internet: z.string().min(1).default('websecure') })
      .strict()
      .prefault({}),
    /** The forward-auth (OIDC) Middleware the internet route of tailscale-bypass goes through. */
    forwardAuth: z.object({ name: dnsLabel('a Middleware name'), namespace: dnsLabel('a namespace') }).strict().optional(),
    /** Mirror of Traefik's providers.kubernetesCRD.allowCrossNamespace. */
    allowCrossNamespace: z.boolean().default(false),
    /** TLS for the routes labgate creates: a cert resolver, or a Secret in each route's namespace. */
    tls: z
      .object({ certResolver: z.string().min(1).optional(), secretName: dnsLabel('a Secret name').optional() })
      .strict()
      // Traefik takes both and serves the Secret, so the resolver would be ignored without a word.
      .refine((t) => !(t.certResolver && t.secretName), { error: 'give certResolver or secretName, not both (with both, Traefik serves the Secret and never asks the resolver)' })
      .prefault({}),
    mtls: z
      .object({
        clientCaSecret: dnsLabel('a Secret name').default('labgate-client-ca'),
        passClientCert: z.boolean().default(true),
        minVersion: z.enum(['VersionTLS12', 'VersionTLS13']).default('VersionTLS12'),
      })
      .strict()
      .prefault({}),
  })
  .strict();

/** `labgate gate`, the forwardAuth service every mtls-strict route calls (docs/mtls-gate.md). */
const GateConfig = z
  .object({
    /** The gate's URL as Traefik reaches it (its Service); the plans put it in each route's forwardAuth Middleware. */
    address: z.string().url({ error: 'must be a URL like http://labgate-gate.labgate.svc.cluster.local:8080/verify' }).default('http://labgate-gate.labgate.svc.cluster.local:8080/verify'),
    /** How often the gate re-reads the device issuer's CRL from OpenBao. */
    refreshEvery: duration('60s'),
    /** How old the list may grow before the gate refuses everything (503); unset: the CRL's nextUpdate. */
    maxStaleness: z
      .union([z.string(), z.number()])
      .optional()
      .transform((v, ctx) => {
        if (v === undefined) return undefined;
        const ms = parseDuration(v);
        if (ms === undefined || ms <= 0) {
          ctx.addIssue({ code: 'custom', message: `must be a duration like 90s, 15m, 1h or 7d (got ${JSON.stringify(v)})` });
          return z.NEVER;
        }
        return ms;
      }),
  })
  .strict();

const snowflake = (what: string) => z.string().trim().regex(/^\d{17,20}$/, { error: `must be ${what}: a Discord id (17–20 digits; Developer Mode → Copy ID)` });

/** The Discord side; used when DISCORD_TOKEN is set. */
const DiscordConfig = z
  .object({
    /** The guild (server) labgate serves; its commands are registered there. */
    guildId: snowflake('a guild id'),
    /** Read from the token's application when absent. */
    applicationId: snowflake('an application id').optional(),
    channels: z
      .object({
        /** Where plans and results are posted, whatever channel a command came from. */
        ops: snowflake('a channel id'),
        alerts: snowflake('a channel id').optional(),
      })
      .strict(),
    /** Register (bulk-overwrite) the guild's commands when the bot starts. */
    registerOnStart: z.boolean().default(false),
    /** One REST request to Discord, retries included (shorter than the apply lock: a DM is part of an apply). */
    timeout: duration('8s'),
    /** Discord's REST base; only tests point it elsewhere (a loopback Discord). */
    apiBase: z.string().url({ error: 'must be a URL like https://discord.com/api' }).optional(),
  })
  .strict();
export type DiscordConfig = z.output<typeof DiscordConfig>;


/** OpenBao's PKI for device certificates and the client CA of mtls-strict. Endpoint and credentials from BAO_* env. */
const OpenBaoConfig = z
  .object({
    mount: z.string().regex(/^[a-zA-Z0-9_-]+(\/[a-zA-Z0-9_-]+)*$/, { error: 'must be a mount path like pki' }).default('pki'),
    roles: z
      .object({ device: z.string().min(1).default('device'), server: z.string().min(1).default('server') })
      .strict()
      .prefault({}),
    /**
     * The issuer device certificates come from (the device role's issuer_ref): the client-CA
     * Secret holds its certificate only, so nothing else the mount issues (a server certificate)
     * passes mtls-strict.
     */
    deviceIssuer: z.string().min(1).default('devices'),
    /** Login when no BAO_TOKEN is set: AppRole (BAO_ROLE_ID/BAO_SECRET_ID), else Kubernetes service account. */
    kubernetesAuth: z
      .object({ role: z.string().min(1).default('labgate'), mount: z.string().min(1).default('kubernetes'), jwtPath: z.string().default('/var/run/secrets/kubernetes.io/serviceaccount/token') })
      .strict()
      .prefault({}),
    approleMount: z.string().min(1).default('approle'),
    /** One OpenBao request (shorter than the apply lock). */
    timeout: duration('8s'),
    /** PKCS#12 profile when /cert issue names none: android-legacy imports everywhere, modern needs Android 14+ / current iOS. */
    defaultProfile: z.enum(['android-legacy', 'modern']).default('android-legacy'),
    /** Lifetime of a device certificate when /cert issue gives no ttl, and the longest one it may ask for. */
    deviceTtl: duration('365d'),
    maxDeviceTtl: duration('365d'),
    /** Key labgate asks OpenBao to generate (honoured when the device role has key_type any). */
    deviceKey: z
      .object({ type: z.enum(['rsa', 'ec']).default('rsa'), bits: z.number().int().default(2048) })
      .strict()
      .prefault({})
      .refine((k) => (k.type === 'rsa' ? [2048, 3072, 4096].includes(k.bits) : [256, 384].includes(k.bits)), { error: 'bits must be 2048, 3072 or 4096 for rsa, 256 or 384 for ec' }),
    /** Whether a person may get a certificate for their own device without an approver. */
    selfService: z.boolean().default(false),
    /** Expiry alerts: how far ahead (one alert per certificate per threshold) and how often to look. */
    expiry: z
      .object({
        thresholds: z.array(duration('30d')).min(1).prefault(['30d', '7d', '1d']),
        scanEvery: duration('1h'),
        /** More device-certificate alerts than this in one scan are grouped into one alert per owner. */
        digestOver: z.number().int().min(0).default(10),
      })
      .strict()
      .prefault({}),
  })
  .strict();

/** The MikroTik router whose dst-nat rules forward Tailscale's ports. Address and credentials from ROUTEROS_* env. */
const RouterConfig = z
  .object({
    /** Interface (or interface list) the forwarded UDP arrives on. */
    inInterface: z.string().min(1).optional(),
    inInterfaceList: z.string().min(1).optional(),
    timeout: duration('8s'),
  })
  .strict();

const namespacePattern = z
  .string()
  .trim()
  .regex(/^(\*|[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)$/, { error: 'must be a namespace name or "*"' });
const servicePattern = z
  .string()
  .trim()
  .regex(/^(\*|[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\/(\*|[a-z]([a-z0-9-]{0,61}[a-z0-9])?))$/, { error: 'must be namespace/service, namespace/* or "*"' });

/**
 * What may be exposed at all, checked when planning and again by the applier. On top of these
 * lists, kube-system, kube-public, kube-node-lease, the default/kubernetes Service, labgate's own
 * namespace and OpenBao's are never exposed.
 */
const ExposureConfig = z
  .object({
    namespaces: z
      .object({ allow: z.array(namespacePattern).default(['*']), deny: z.array(namespacePattern).default([]) })
      .strict()
      .prefault({}),
    services: z
      .object({ allow: z.array(servicePattern).default(['*']), deny: z.array(servicePattern).default([]) })
      .strict()
      .prefault({}),
    /** Hosts must be under `domain` or one of these. */
    extraDomains: z.array(hostname('a domain name')).default([]),
    /** The namespace labgate runs in, and OpenBao's: never exposed. */
    labgateNamespace: dnsLabel('a namespace').default('labgate'),
    openbaoNamespace: dnsLabel('a namespace').default('openbao'),
  })
  .strict();

/** Where the Tailscale containers run and how their ports are chosen. */
const TailscaleConfig = z
  .object({
    daemonSet: z
      .object({ namespace: z.string().min(1).default('traefik'), name: z.string().min(1).default('traefik'), container: z.string().min(1).default('tailscale') })
      .strict()
      .prefault({}),
    /** WireGuard UDP port of a node = portBase + last octet of its IP. */
    portBase: z.number().int().min(1).max(65000).default(41600),
    /** How many nodes /derp-check and the monitor ask at once. */
    concurrency: z.number().int().min(1).max(64).default(16),
    /** How long one `tailscale …` pod exec may take. */
    execTimeout: duration('15s'),
    /** The relay-fallback monitor: runs the /derp-check checks and alerts on a change. */
    monitor: z.object({ enabled: z.boolean().default(true), every: duration('5m') }).strict().prefault({}),
  })
  .strict();

export const ConfigFile = z
  .object({
    /** Appended to a host given without a dot: photos → photos.<domain>. */
    domain: hostname('a domain name'),
    plans: z.object({ ttl: duration('15m') }).strict().prefault({}),
    /** Retries of an apply for network faults: attempts in all, first backoff (exponential, with jitter). */
    apply: z
      .object({
        attempts: z.number().int().min(1).max(20).default(5),
        backoff: duration('500ms'),
        /** How long after its approval a plan may still start (or resume) writing. */
        window: duration('1h'),
      })
      .strict()
      .prefault({}),
    exposure: ExposureConfig.prefault({}),
    /** On SIGTERM/SIGINT, how long a running apply may take to finish before it goes back to the queue (below Kubernetes' 30 s). */
    shutdown: z.object({ grace: duration('20s') }).strict().prefault({}),
    /** The health and metrics port (`--http` and LABGATE_HTTP win), HOST:PORT or :PORT. */
    http: z.object({ listen: z.string().refine((v) => !('problem' in parseListen(v, '')), { error: LISTEN_ERROR }).optional() }).strict().prefault({}),
    redis: z
      .object({
        prefix: z.string().regex(/^[a-zA-Z0-9_.-]+$/, { error: 'must be letters, digits, _ . -' }).default('labgate'),
        /** Redis Sentinel instead of REDIS_URL (REDIS_SENTINELS wins): host:port of each sentinel. */
        sentinels: z.array(z.string().regex(SENTINEL_ADDRESS, { error: 'must be host:port, like redis-sentinel-0.redis:26379' })).min(1).optional(),
        masterName: z.string().min(1).optional(),
      })
      .strict()
      .prefault({}),
    kubernetes: z
      .object({
        context: z.string().min(1).optional(),
        /** One API request; aborted after this (shorter than the apply lock, apply.lockTtl). */
        timeout: duration('8s'),
      })
      .strict()
      .prefault({}),
    traefik: TraefikConfig.prefault({}),
    gate: GateConfig.prefault({}),
    shell: z
      .object({
        users: z.array(z.string().regex(/^[a-z0-9][a-z0-9._-]*$/i, { error: 'must be a user name of letters, digits, . _ -' })).default([]),
        defaultUser: z.string().optional(),
        dmFolder: z.string().default('.labgate/dm'),
      })
      .strict()
      .prefault({}),
    discord: DiscordConfig.optional(),
    openbao: OpenBaoConfig.optional(),
    router: RouterConfig.optional(),
    tailscale: TailscaleConfig.prefault({}),
    access: z
      .object({
        groups: z.record(z.string().regex(/^[a-z][a-z0-9_-]*$/i, { error: 'group names are letters, digits, _ and -' }), z.array(Member)).default({}),
        defaults: AccessRule.default({}),
        commands: z.record(z.string(), AccessRule).default({}),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  // Cross-field checks run even when other fields failed, so every problem is reported at
  // once; the value may then be partly invalid, hence the defensive reads.
  .superRefine(
    (c, ctx) => {
      const obj = (v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
      const list = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
      const access = obj(c.access);
      const groupMap = obj(access.groups);
      const groups = new Set(Object.keys(groupMap));
      const checkMembers = (members: unknown, path: (string | number)[]) =>
        list(members).forEach((m, i) => {
          if (!m.includes(':') && m !== '*' && !groups.has(m))
            ctx.addIssue({ code: 'custom', path: [...path, i], message: `unknown group "${m}"; groups: ${[...groups].join(', ') || '(none)'}` });
        });
      for (const [name, members] of Object.entries(groupMap))
        list(members).forEach((m, i) => {
          if (!m.includes(':') && m !== '*')
            ctx.addIssue({ code: 'custom', path: ['access', 'groups', name, i], message: 'groups hold principals (shell:<user>, discord:user:<id>, discord:role:<id>), not other groups' });
        });
      const defaults = obj(access.defaults);
      checkMembers(defaults.request, ['access', 'defaults', 'request']);
      checkMembers(defaults.approve, ['access', 'defaults', 'approve']);
      for (const [cmd, rule] of Object.entries(obj(access.commands))) {
        checkMembers(obj(rule).request, ['access', 'commands', cmd, 'request']);
        checkMembers(obj(rule).approve, ['access', 'commands', cmd, 'approve']);
      }
      // Every outside call made while an apply holds its locks ends before the lock could lapse.
      const under = (v: unknown, path: (string | number)[]) => {
        if (typeof v === 'number' && v >= APPLY_LOCK_MS) ctx.addIssue({ code: 'custom', path, message: `must be shorter than the apply lock (${APPLY_LOCK_MS / 1000}s), so a write never lands after the lock lapsed` });
      };
      under(obj(c.kubernetes).timeout, ['kubernetes', 'timeout']);
      under(obj(c.openbao).timeout, ['openbao', 'timeout']);
      under(obj(c.router).timeout, ['router', 'timeout']);
      under(obj(c.discord).timeout, ['discord', 'timeout']);
      const shell = obj(c.shell);
      const users = list(shell.users);
      if (typeof shell.defaultUser === 'string' && !users.includes(shell.defaultUser))
        ctx.addIssue({ code: 'custom', path: ['shell', 'defaultUser'], message: `must be one of shell.users (${users.join(', ') || 'none defined'})` });
    },
    { when: () => true },
  );

export type ConfigFile = z.output<typeof ConfigFile>;

/** Environment variables labgate reads; the usual names of each ecosystem where one exists. */
export const Env = z.object({
  LABGATE_CONFIG: z.string().optional(),
  REDIS_URL: z.string().url({ error: 'must be a URL like redis://127.0.0.1:6379' }).default('redis://127.0.0.1:6379'),
  /** Redis Sentinel: comma-separated host:port of the sentinels; REDIS_URL is then not used. */
  REDIS_SENTINELS: z
    .string()
    .optional()
    .refine((v) => v === undefined || v.split(',').every((a) => SENTINEL_ADDRESS.test(a.trim())), { error: 'must be comma-separated host:port, like s0:26379,s1:26379,s2:26379' }),
  REDIS_MASTER_NAME: z.string().optional(),
  /** Redis's password (AUTH); with a REDIS_URL that has none, or with sentinels. A secret. */
  REDIS_PASSWORD: z.string().optional(),
  REDIS_SENTINEL_PASSWORD: z.string().optional(),
  /** The health and metrics port, HOST:PORT or :PORT (like --http). */
  LABGATE_HTTP: z.string().refine((v) => !('problem' in parseListen(v, '')), { error: LISTEN_ERROR }).optional(),
  KUBECONFIG: z.string().optional(),
  LABGATE_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Seals plans and decisions (src/approval): kept outside Redis, so Redis cannot approve anything. */
  // Required to run (see signingKeyProblem); optional here so a config file can be checked on its own.
  LABGATE_SIGNING_KEY: z
    .string()
    .optional()
    .refine((v) => v === undefined || decodeSigningKey(v) !== undefined, { error: `must be at least 32 random bytes in base64 or hex; ${SIGNING_KEY_HOWTO}` }),
  /** Keys being rotated out, comma-separated: seals they made are still accepted. */
  LABGATE_SIGNING_KEY_PREVIOUS: z
    .string()
    .optional()
    .refine((v) => v === undefined || v.split(',').every((k) => decodeSigningKey(k) !== undefined), { error: 'must be comma-separated keys of at least 32 random bytes in base64 or hex' }),
  /** Where /mtls-check connects instead of https://<host>:443, and the CA file it trusts there (the sandbox edge sets both). */
  LABGATE_MTLS_CHECK_VIA: z.string().url({ error: 'must be a URL like https://127.0.0.1:8443' }).optional(),
  LABGATE_MTLS_CHECK_CA: z.string().optional(),
  /** The bot token; a secret: redacted when printed, never logged. Set it to run the Discord chat. */
  BAO_ADDR: z.string().url({ error: 'must be a URL like https://openbao.lan:8200' }).optional(),
  BAO_TOKEN: z.string().optional(),
  BAO_ROLE_ID: z.string().optional(),
  BAO_SECRET_ID: z.string().optional(),
  BAO_NAMESPACE: z.string().optional(),
  BAO_CACERT: z.string().optional(),
  ROUTEROS_HOST: z.string().optional(),
  ROUTEROS_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  ROUTEROS_USER: z.string().optional(),
  ROUTEROS_PASSWORD: z.string().optional(),
  ROUTEROS_TLS: z.enum(['true', 'false']).optional(),
  ROUTEROS_CA: z.string().optional(),
  DISCORD_TOKEN: z.string().min(20, { error: 'must be the bot token from the Developer Portal (Bot → Reset Token)' }).optional(),
});
export type Env = z.output<typeof Env>;
