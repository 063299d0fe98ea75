import type { IncomingMessage } from 'node:http';
import { discordErrors } from './discord-errors.js';

/** One file part of a multipart request (`files[n]`), bytes kept for assertions. */
export interface UploadedFile {
  field: string;
  filename: string;
  contentType: string;
  size: number;
  bytes: Buffer;
}

/** A REST request as the fake Discord saw it. */
export interface RecordedRequest {
  method: string;
  /** Route path without the `/api/v10` prefix, percent-decoded (`/webhooks/1/tok/messages/@original`). */
  path: string;
  query: Record<string, string>;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  /** The JSON body, or `payload_json` (plus plain form fields) of a multipart body. */
  json?: unknown;
  files?: UploadedFile[];
  /** `multipart` when the body was multipart/form-data. */
  bodyKind: 'none' | 'json' | 'multipart' | 'other';
  /** Epoch ms when the request arrived. */
  at: number;
  /** The status the harness answered with (set once answered). */
  status?: number;
}

const MAX_BODY = 26 * 1024 * 1024;

/** Reads and parses a request body the way Discord accepts it: JSON, or multipart with `payload_json`. */
export async function readDiscordBody(
  req: IncomingMessage,
): Promise<Pick<RecordedRequest, 'json' | 'files' | 'bodyKind'>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new Error('request body too large');
    chunks.push(chunk as Buffer);
  }
  const raw = Buffer.concat(chunks);
  if (raw.length === 0) return { bodyKind: 'none' };
  const contentType = req.headers['content-type'] ?? '';
  if (contentType.startsWith('application/json')) {
    try {
      return { bodyKind: 'json', json: JSON.parse(raw.toString('utf8')) };
    } catch {
      throw discordErrors.invalidJson();
    }
  }
  if (contentType.startsWith('multipart/form-data')) {
    // Node's fetch implementation parses multipart exactly as a browser would; no extra dependency.
    const form = await new Response(raw, { headers: { 'content-type': contentType } }).formData();
    const files: UploadedFile[] = [];
    let json: Record<string, unknown> | undefined;
    const fields: Record<string, unknown> = {};
    for (const [field, value] of form.entries()) {
      if (typeof value === 'string') {
        if (field === 'payload_json') {
          try {
            json = JSON.parse(value) as Record<string, unknown>;
          } catch {
            throw discordErrors.invalidJson();
          }
        } else {
          fields[field] = value;
        }
      } else {
        const bytes = Buffer.from(await value.arrayBuffer());
        files.push({
          field,
          filename: value.name,
          contentType: value.type || 'application/octet-stream',
          size: bytes.length,
          bytes,
        });
      }
    }
    return { bodyKind: 'multipart', json: { ...fields, ...(json ?? {}) }, files };
  }
  return { bodyKind: 'other', json: raw.toString('utf8') };
}

/** The index a `files[n]` part refers to (what `attachments[].id` points at); parts named otherwise count by position. */
export function fileIndex(file: UploadedFile, position: number): number {
  const m = /^files\[(\d+)\]$/.exec(file.field);
  return m ? Number(m[1]) : position;
}
