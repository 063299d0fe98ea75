import { DefaultRestOptions, type RESTOptions } from 'discord.js';

type MakeRequest = RESTOptions['makeRequest'];
type Init = Parameters<MakeRequest>[1];

/**
 * @discordjs/rest's own transport, with multipart bodies encoded to bytes first.
 *
 * Why: @discordjs/rest (undici 6) hands a FormData body to undici's global dispatcher, and
 * @kubernetes/client-node brings undici 7, which installs itself as that global dispatcher when it
 * is loaded first. undici 7 cannot send undici 6's FormData ("action is not a function"), so
 * every upload (a long diff, a DM with a file) would fail depending on import order. Encoded
 * bytes with their multipart content type go through either version.
 */
export const discordRestTransport: MakeRequest = async (url, init) => {
  const body = (init as { body?: unknown }).body;
  if (!(body instanceof FormData)) return DefaultRestOptions.makeRequest(url, init);
  const encoded = new Response(body);
  const bytes = new Uint8Array(await encoded.arrayBuffer());
  const headers = { ...(init.headers as Record<string, string> | undefined), 'Content-Type': encoded.headers.get('content-type')! };
  return DefaultRestOptions.makeRequest(url, { ...init, headers, body: bytes } as Init);
};
