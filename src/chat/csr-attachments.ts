import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { CsrSource } from '../core/command.js';
import type { Identity } from '../plan/model.js';

export type { CsrSource } from '../core/command.js';

const MAX_BYTES = 16 * 1024;
const DISCORD_HOSTS = ['cdn.discordapp.com', 'media.discordapp.net'];

/**
 * Reads CSRs: Discord attachments over HTTPS from Discord's CDN only (plus the configured
 * Discord API origin, which tests point at a loopback Discord), shell attachments as a local
 * file path. Both capped at 16 KiB: a CSR is about one.
 */
export class CsrAttachments implements CsrSource {
  private readonly origins: Set<string>;
  private readonly timeoutMs: number;

  constructor(opts: { discordApiBase?: string; fetchTimeoutMs?: number } = {}) {
    this.origins = new Set(DISCORD_HOSTS.map((h) => `https://${h}`));
    if (opts.discordApiBase) this.origins.add(new URL(opts.discordApiBase).origin);
    this.timeoutMs = opts.fetchTimeoutMs ?? 10_000;
  }

  async read(ref: string, from: Identity): Promise<string> {
    return from.platform === 'discord' ? this.fetchAttachment(ref) : this.readFile(ref);
  }

  private async fetchAttachment(ref: string): Promise<string> {
    let url: URL;
    try {
      url = new URL(ref);
    } catch {
      throw new Error('the csr option must be an attached file');
    }
    if (!this.origins.has(url.origin)) throw new Error(`labgate only reads attachments from Discord (${url.host} is not Discord's)`);
    const res = await fetch(url, { signal: AbortSignal.timeout(this.timeoutMs), redirect: 'error' }).catch((err: Error) => {
      throw new Error(`could not download the attachment: ${err.message}`);
    });
    if (!res.ok) throw new Error(`could not download the attachment: Discord answered ${res.status}`);
    const body = Buffer.from(await res.arrayBuffer());
    if (body.length > MAX_BYTES) throw new Error(`the attachment is ${body.length} bytes; a CSR is at most ${MAX_BYTES}`);
    return body.toString('utf8');
  }

  private async readFile(ref: string): Promise<string> {
    const path = resolve(ref);
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) throw new Error(`${ref}: no such file (give the path of the CSR, e.g. csr:./pixel-8.csr)`);
    if (info.size > MAX_BYTES) throw new Error(`${ref} is ${info.size} bytes; a CSR is at most ${MAX_BYTES}`);
    return readFile(path, 'utf8');
  }
}
