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

/** An error from an outside system, carrying what a log reader needs to find the cause. */
export class AdapterError extends Error {
  override readonly name = 'AdapterError';
  constructor(
    readonly system: 'kubernetes' | 'openbao' | 'router' | 'redis' | 'discord' | 'tailscale',
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
