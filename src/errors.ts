/**
 * Two kinds of error reach a person: a UserError (shown as it is) and everything else, a
 * fault (shown as a short message plus a reference to the log entry with the cause).
 */
export const UserErrorCode = {
  InvalidInput: 'invalid-input',
  UnknownCommand: 'unknown-command',
  Denied: 'denied',
  NotFound: 'not-found',
  Conflict: 'conflict',
  NotOwned: 'not-owned',
  NothingToDo: 'nothing-to-do',
  Stale: 'stale',
  Expired: 'expired',
  AlreadyDecided: 'already-decided',
  SelfApproval: 'self-approval',
  Unavailable: 'unavailable',
  /** The exposure policy or an applier's own guard refused it. */
  Policy: 'policy',
  /** A record or job in Redis failed verification against the signing key. */
  Tampered: 'tampered',
} as const;
export type UserErrorCode = (typeof UserErrorCode)[keyof typeof UserErrorCode];

export class UserError extends Error {
  override readonly name = 'UserError';
  constructor(
    readonly code: UserErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}

/** The outside systems labgate talks to; every error from one of them says which. */
export type System = 'kubernetes' | 'openbao' | 'router' | 'redis' | 'discord' | 'tailscale';

/** An error from an outside system, carrying what a log reader needs to find the cause. */
export class AdapterError extends Error {
  override readonly name: string = 'AdapterError';
  constructor(
    readonly system: System,
    readonly method: string,
    readonly target: string,
    readonly status: number | undefined,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
  /** True when retrying the same call later may succeed (network trouble, 5xx, 429, 409 conflicts). */
  get transient(): boolean {
    return this.status === undefined || this.status >= 500 || this.status === 429 || this.status === 409;
  }
}

type SystemErrorArgs = [method: string, target: string, status: number | undefined, message: string, options?: { cause?: unknown }];

/**
 * The class for one outside system's errors: an AdapterError with that system, named `name`
 * (as `err.name` and as the class's own name, so logs and `instanceof` read as a declared class would).
 */
function systemErrorClass<const N extends string>(system: System, name: N) {
  const SystemError = class extends AdapterError {
    override readonly name: N = name;
    constructor(...a: SystemErrorArgs) {
      super(system, ...a);
    }
  };
  Object.defineProperty(SystemError, 'name', { value: name });
  return SystemError;
}

/** One class per outside system: callers and renderers tell them apart by type, never by text. */
export const RedisError = systemErrorClass('redis', 'RedisError');
export const KubernetesError = systemErrorClass('kubernetes', 'KubernetesError');
export const OpenBaoError = systemErrorClass('openbao', 'OpenBaoError');
export const RouterError = systemErrorClass('router', 'RouterError');
export const DiscordError = systemErrorClass('discord', 'DiscordError');
export const TailscaleError = systemErrorClass('tailscale', 'TailscaleError');

// Each class is also the type of its errors (for annotations and casts).
export type RedisError = InstanceType<typeof RedisError>;
export type KubernetesError = InstanceType<typeof KubernetesError>;
export type OpenBaoError = InstanceType<typeof OpenBaoError>;
export type RouterError = InstanceType<typeof RouterError>;
export type DiscordError = InstanceType<typeof DiscordError>;
export type TailscaleError = InstanceType<typeof TailscaleError>;

const SYSTEM_NAMES: Record<System, string> = {
  kubernetes: 'the Kubernetes API',
  openbao: 'OpenBao',
  router: 'the router (RouterOS API)',
  redis: 'Redis',
  discord: 'Discord',
  tailscale: 'tailscale (in its pod)',
};

const SYSTEM_ADVICE: Record<System, string> = {
  kubernetes: 'check that the API server is up and that labgate\'s kubeconfig or service account reaches it',
  openbao: 'check that OpenBao is up and unsealed and that labgate\'s token is valid',
  router: 'check that the router\'s API service answers and that labgate\'s user may log in',
  redis: 'try again when it is back',
  discord: 'check Discord\'s status and the bot\'s permissions in this channel',
  tailscale: 'check the tailscale pod and that labgate may exec into it',
};

/** "the Kubernetes API", "OpenBao", …: how a message names a system. */
export function systemName(system: System): string {
  return SYSTEM_NAMES[system];
}

/** What a person can do when `system` failed. */
export function systemAdvice(system: System): string {
  return SYSTEM_ADVICE[system];
}

export function isSystem(v: unknown): v is System {
  return typeof v === 'string' && Object.hasOwn(SYSTEM_NAMES, v);
}

// Job failures cross Redis as strings; user errors are tagged so the waiting side can show them as they are.
const USER_ERROR_TAG = 'labgate-user-error:';

export function encodeUserError(e: UserError): string {
  return USER_ERROR_TAG + JSON.stringify({ code: e.code, message: e.message });
}

export function decodeUserError(reason: string | undefined): UserError | undefined {
  if (!reason?.startsWith(USER_ERROR_TAG)) return undefined;
  try {
    const { code, message } = JSON.parse(reason.slice(USER_ERROR_TAG.length)) as { code: UserErrorCode; message: string };
    return new UserError(code, message);
  } catch {
    return undefined;
  }
}
