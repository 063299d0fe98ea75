import type { FaultAction } from '../../../sandbox/faults.js';

/** An error answer in Discord's shape: `{code, message, errors?}` with an HTTP status. */
export class DiscordHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly errors?: Record<string, unknown>,
  ) {
    super(message);
  }

  get body(): Record<string, unknown> {
    return { message: this.message, code: this.code, ...(this.errors ? { errors: this.errors } : {}) };
  }
}

export const discordErrors = {
  unauthorized: () => new DiscordHttpError(401, 0, '401: Unauthorized'),
  notFound: () => new DiscordHttpError(404, 0, '404: Not Found'),
  methodNotAllowed: () => new DiscordHttpError(405, 0, '405: Method Not Allowed'),
  unknownApplication: () => new DiscordHttpError(404, 10002, 'Unknown Application'),
  unknownChannel: () => new DiscordHttpError(404, 10003, 'Unknown Channel'),
  unknownGuild: () => new DiscordHttpError(404, 10004, 'Unknown Guild'),
  unknownMember: () => new DiscordHttpError(404, 10007, 'Unknown Member'),
  unknownMessage: () => new DiscordHttpError(404, 10008, 'Unknown Message'),
  unknownUser: () => new DiscordHttpError(404, 10013, 'Unknown User'),
  unknownWebhook: () => new DiscordHttpError(404, 10015, 'Unknown Webhook'),
  unknownCommand: () => new DiscordHttpError(404, 10063, 'Unknown application command'),
  unknownInteraction: () => new DiscordHttpError(404, 10062, 'Unknown interaction'),
  alreadyAcknowledged: () => new DiscordHttpError(400, 40060, 'Interaction has already been acknowledged.'),
  cannotEditOthersMessage: () => new DiscordHttpError(403, 50005, 'Cannot edit a message authored by another user'),
  cannotSendToUser: () => new DiscordHttpError(403, 50007, 'Cannot send messages to this user'),
  cannotSendEmpty: () => new DiscordHttpError(400, 50006, 'Cannot send an empty message'),
  invalidWebhookToken: () => new DiscordHttpError(401, 50027, 'Invalid Webhook Token'),
  invalidJson: () => new DiscordHttpError(400, 50109, 'The request body contains invalid JSON.'),
  /** 50035 with Discord's nested `errors` object: `{path: {_errors: [{code, message}]}}`. */
  invalidFormBody: (errors: Record<string, unknown>) => new DiscordHttpError(400, 50035, 'Invalid Form Body', errors),
};

/** Builds one entry of a 50035 `errors` tree at a dotted path such as `0.options.1.name`. */
export function formError(path: (string | number)[], code: string, message: string): Record<string, unknown> {
  let node: Record<string, unknown> = { _errors: [{ code, message }] };
  for (const key of [...path].reverse()) node = { [String(key)]: node };
  return node;
}

/** Deep-merges 50035 error trees so several problems are reported together, as Discord does. */
export function mergeFormErrors(trees: Record<string, unknown>[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const tree of trees) {
    for (const [k, v] of Object.entries(tree)) {
      if (k === '_errors') {
        out._errors = [...((out._errors as unknown[]) ?? []), ...(v as unknown[])];
      } else {
        out[k] = out[k] ? mergeFormErrors([out[k] as Record<string, unknown>, v as Record<string, unknown>]) : v;
      }
    }
  }
  return out;
}

/** The failures a test can make the next matching request(s) answer with. */
export type DiscordFault =
  | { kind: 'cannot-send-to-user' }
  | { kind: 'unknown-interaction' }
  | { kind: 'unknown-message' }
  /** 429; `retryAfterSeconds` goes in the `Retry-After` header, which is what @discordjs/rest obeys. */
  | { kind: 'rate-limited'; retryAfterSeconds?: number; global?: boolean }
  | { kind: 'server-error'; status?: number };

/** Turns a Discord fault into a rule action for the shared FaultInjector. */
export function discordFaultAction(fault: DiscordFault): FaultAction {
  switch (fault.kind) {
    case 'cannot-send-to-user':
      return errorAction(discordErrors.cannotSendToUser());
    case 'unknown-interaction':
      return errorAction(discordErrors.unknownInteraction());
    case 'unknown-message':
      return errorAction(discordErrors.unknownMessage());
    case 'rate-limited': {
      const retryAfter = fault.retryAfterSeconds ?? 1;
      return {
        status: 429,
        headers: {
          'Retry-After': String(retryAfter),
          'X-RateLimit-Scope': fault.global ? 'global' : 'user',
          ...(fault.global ? { 'X-RateLimit-Global': 'true' } : {}),
        },
        body: rateLimitBody(retryAfter, fault.global ?? false),
      };
    }
    case 'server-error': {
      const status = fault.status ?? 500;
      return { status, body: { message: `${status}: Internal Server Error`, code: 0 } };
    }
  }
}

export function rateLimitBody(retryAfterSeconds: number, global: boolean): Record<string, unknown> {
  return { message: 'You are being rate limited.', retry_after: retryAfterSeconds, global };
}

function errorAction(e: DiscordHttpError): FaultAction {
  return { status: e.status, body: e.body };
}
