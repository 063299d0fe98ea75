import { DiscordAPIError, HTTPError, RateLimitError } from 'discord.js';

/** Discord JSON error codes labgate reacts to. */
export const DiscordCode = {
  UnknownChannel: 10003,
  UnknownMessage: 10008,
  UnknownUser: 10013,
  UnknownInteraction: 10062,
  AlreadyAcknowledged: 40060,
  CannotSendToUser: 50007,
} as const;

export function discordCode(err: unknown): number | undefined {
  return err instanceof DiscordAPIError && typeof err.code === 'number' ? err.code : undefined;
}

export function discordStatus(err: unknown): number | undefined {
  return err instanceof DiscordAPIError || err instanceof HTTPError ? err.status : err instanceof RateLimitError ? 429 : undefined;
}

// Interaction and webhook URLs carry the interaction token; everything else is an id.
const TOKEN_IN_PATH = /\/(webhooks\/\d+|interactions\/\d+)\/[^/?]+/g;

/**
 * What may be logged of a Discord failure. The library's error objects hold the request body
 * and files (a DM may carry a certificate bundle) and URLs with interaction tokens: never log them.
 */
export function describeDiscordError(err: unknown): { name: string; message: string; code?: number | string; status?: number; method?: string; path?: string } {
  if (err instanceof DiscordAPIError || err instanceof HTTPError) {
    const path = new URL(err.url, 'http://x').pathname.replace(TOKEN_IN_PATH, '/$1/[token]');
    return {
      name: err.name,
      message: err.message.replace(TOKEN_IN_PATH, '/$1/[token]'),
      ...(err instanceof DiscordAPIError ? { code: err.code } : {}),
      status: err.status,
      method: err.method,
      path,
    };
  }
  const e = err as Error;
  return { name: e?.name ?? 'Error', message: String(e?.message ?? err).replace(TOKEN_IN_PATH, '/$1/[token]') };
}
