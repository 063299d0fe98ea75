import { z } from 'zod';
import { parseDuration } from '../duration.js';
import { dnsLabel, hostname } from './validators.js';

const duration = (fallback: string) =>
  z
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
      .default({ tailscale: 'ts-secure', internet: 'websecure' }),
    /** The forward-auth (OIDC) Middleware the internet route of tailscale-bypass goes through. */
    forwardAuth: z.object({ name: dnsLabel('a Middleware name'), namespace: dnsLabel('a namespace') }).strict().optional(),
    /** Mirror of Traefik's providers.kubernetesCRD.allowCrossNamespace. */
    allowCrossNamespace: z.boolean().default(false),
    /** TLS for the routes labgate creates: a cert resolver, or a Secret in each route's namespace. */
    tls: z
      .object({ certResolver: z.string().min(1).optional(), secretName: dnsLabel('a Secret name').optional() })
      .strict()
      .default({}),
    mtls: z
      .object({
        clientCaSecret: dnsLabel('a Secret name').default('labgate-client-ca'),
        passClientCert: z.boolean().default(true),
        minVersion: z.enum(['VersionTLS12', 'VersionTLS13']).default('VersionTLS12'),
      })
      .strict()
      .default({ clientCaSecret: 'labgate-client-ca', passClientCert: true, minVersion: 'VersionTLS12' }),
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
    /** Discord's REST base; only tests point it elsewhere (a loopback Discord). */
    apiBase: z.string().url({ error: 'must be a URL like https://discord.com/api' }).optional(),
  })
  .strict();
export type DiscordConfig = z.output<typeof DiscordConfig>;

export const ConfigFile = z
  .object({
    /** Appended to a host given without a dot: photos → photos.<domain>. */
    domain: hostname('a domain name'),
    plans: z.object({ ttl: duration('15m') }).strict().default({ ttl: '15m' } as never),
    /** Retries of an apply for network faults: attempts in all, first backoff (exponential, with jitter). */
    apply: z
      .object({ attempts: z.number().int().min(1).max(20).default(5), backoff: duration('500ms') })
      .strict()
      .default({ attempts: 5, backoff: '500ms' } as never),
    redis: z
      .object({ prefix: z.string().regex(/^[a-zA-Z0-9_.-]+$/, { error: 'must be letters, digits, _ . -' }).default('labgate') })
      .strict()
      .default({ prefix: 'labgate' }),
    kubernetes: z.object({ context: z.string().min(1).optional() }).strict().default({}),
    traefik: TraefikConfig.default({} as never),
    shell: z
      .object({
        users: z.array(z.string().regex(/^[a-z0-9][a-z0-9._-]*$/i, { error: 'must be a user name of letters, digits, . _ -' })).default([]),
        defaultUser: z.string().optional(),
        dmFolder: z.string().default('.labgate/dm'),
      })
      .strict()
      .default({ users: [], dmFolder: '.labgate/dm' }),
    discord: DiscordConfig.optional(),
    access: z
      .object({
        groups: z.record(z.string().regex(/^[a-z][a-z0-9_-]*$/i, { error: 'group names are letters, digits, _ and -' }), z.array(Member)).default({}),
        defaults: AccessRule.default({}),
        commands: z.record(z.string(), AccessRule).default({}),
      })
      .strict()
      .default({ groups: {}, defaults: {}, commands: {} }),
  })
  .strict()
  .superRefine((c, ctx) => {
    const groups = new Set(Object.keys(c.access.groups));
    const checkMembers = (members: string[] | undefined, path: (string | number)[]) =>
      members?.forEach((m, i) => {
        if (!m.includes(':') && m !== '*' && !groups.has(m))
          ctx.addIssue({ code: 'custom', path: [...path, i], message: `unknown group "${m}"; groups: ${[...groups].join(', ') || '(none)'}` });
      });
    for (const [name, members] of Object.entries(c.access.groups))
      members.forEach((m, i) => {
        if (!m.includes(':') && m !== '*')
          ctx.addIssue({ code: 'custom', path: ['access', 'groups', name, i], message: 'groups hold principals (shell:<user>, discord:user:<id>, discord:role:<id>), not other groups' });
      });
    checkMembers(c.access.defaults.request, ['access', 'defaults', 'request']);
    checkMembers(c.access.defaults.approve, ['access', 'defaults', 'approve']);
    for (const [cmd, rule] of Object.entries(c.access.commands)) {
      checkMembers(rule.request, ['access', 'commands', cmd, 'request']);
      checkMembers(rule.approve, ['access', 'commands', cmd, 'approve']);
    }
    if (c.shell.defaultUser && !c.shell.users.includes(c.shell.defaultUser))
      ctx.addIssue({ code: 'custom', path: ['shell', 'defaultUser'], message: `must be one of shell.users (${c.shell.users.join(', ') || 'none defined'})` });
  });

export type ConfigFile = z.output<typeof ConfigFile>;

/** Environment variables labgate reads; the usual names of each ecosystem where one exists. */
export const Env = z.object({
  LABGATE_CONFIG: z.string().optional(),
  REDIS_URL: z.string().url({ error: 'must be a URL like redis://127.0.0.1:6379' }).default('redis://127.0.0.1:6379'),
  KUBECONFIG: z.string().optional(),
  LABGATE_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** The bot token; a secret: redacted when printed, never logged. Set it to run the Discord chat. */
  DISCORD_TOKEN: z.string().min(20, { error: 'must be the bot token from the Developer Portal (Bot → Reset Token)' }).optional(),
});
export type Env = z.output<typeof Env>;
