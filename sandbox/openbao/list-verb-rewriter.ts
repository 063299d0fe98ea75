import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';

/** Header the rewriter adds to a former LIST request; its value is the server's nonce. */
export const LIST_MARKER_HEADER = 'x-openbao-sandbox-list-verb';

const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');
const MAX_HEAD = 64 * 1024;

type FramingState = 'head' | 'body' | 'chunk-size' | 'chunk-data' | 'chunk-crlf' | 'trailers' | 'passthrough';

/**
 * Node's HTTP parser rejects the `LIST` method before any handler runs (HPE_INVALID_METHOD),
 * but OpenBao clients send it. This follows HTTP/1.1 request framing on the raw byte stream
 * (heads, Content-Length and chunked bodies, so keep-alive connections with many requests
 * work) and rewrites each `LIST` request line to `GET`, adding a marker header that carries
 * the server's nonce so the handler knows it was a LIST.
 *
 * One instance per connection; `push` returns the bytes to pass on.
 */
export class ListVerbRewriter {
  private state: FramingState = 'head';
  private pending: Buffer = Buffer.alloc(0);
  private remaining = 0;

  constructor(private readonly nonce: string) {}

  /** Bytes to hand to the HTTP parser for this chunk of received bytes. */
  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let data: Buffer = chunk;
    while (data.length > 0) {
      switch (this.state) {
        case 'passthrough':
          out.push(data);
          data = Buffer.alloc(0);
          break;
        case 'head': {
          this.pending = this.pending.length ? Buffer.concat([this.pending, data]) : data;
          data = Buffer.alloc(0);
          while (this.pending.subarray(0, 2).equals(CRLF)) {
            out.push(this.pending.subarray(0, 2));
            this.pending = this.pending.subarray(2);
          }
          const end = this.pending.indexOf(HEAD_END);
          if (end < 0) {
            if (this.pending.length > MAX_HEAD) this.giveUp(out);
            break;
          }
          const head = this.pending.subarray(0, end + 4);
          data = this.pending.subarray(end + 4);
          this.pending = Buffer.alloc(0);
          out.push(this.rewriteHead(head));
          break;
        }
        case 'body':
        case 'chunk-data':
        case 'chunk-crlf': {
          const n = Math.min(this.remaining, data.length);
          out.push(data.subarray(0, n));
          data = data.subarray(n);
          this.remaining -= n;
          if (this.remaining === 0) {
            if (this.state === 'body') this.state = 'head';
            else if (this.state === 'chunk-data') {
              this.state = 'chunk-crlf';
              this.remaining = 2;
            } else this.state = 'chunk-size';
          }
          break;
        }
        case 'chunk-size':
        case 'trailers': {
          this.pending = this.pending.length ? Buffer.concat([this.pending, data]) : data;
          data = Buffer.alloc(0);
          const eol = this.pending.indexOf(CRLF);
          if (eol < 0) {
            if (this.pending.length > MAX_HEAD) this.giveUp(out);
            break;
          }
          const line = this.pending.subarray(0, eol).toString('latin1');
          out.push(this.pending.subarray(0, eol + 2));
          data = this.pending.subarray(eol + 2);
          this.pending = Buffer.alloc(0);
          if (this.state === 'trailers') {
            if (line === '') this.state = 'head';
          } else {
            const size = Number.parseInt(line.split(';')[0]!.trim(), 16);
            if (Number.isNaN(size)) this.state = 'passthrough';
            else if (size === 0) this.state = 'trailers';
            else {
              this.state = 'chunk-data';
              this.remaining = size;
            }
          }
          break;
        }
      }
    }
    return out;
  }

  /** Hands everything over unchanged from here on; the HTTP parser will judge it. */
  private giveUp(out: Buffer[]) {
    out.push(this.pending);
    this.pending = Buffer.alloc(0);
    this.state = 'passthrough';
  }

  private rewriteHead(head: Buffer): Buffer {
    const text = head.toString('latin1');
    const lines = text.split('\r\n');
    const requestLine = /^(\S+) (\S+) (HTTP\/\d\.\d)$/.exec(lines[0] ?? '');
    if (!requestLine) {
      this.state = 'passthrough';
      return head;
    }
    const headers = new Map<string, string>();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    const te = headers.get('transfer-encoding')?.toLowerCase() ?? '';
    const length = Number.parseInt(headers.get('content-length') ?? '0', 10);
    if (headers.has('upgrade') || requestLine[1] === 'CONNECT') this.state = 'passthrough';
    else if (te.includes('chunked')) this.state = 'chunk-size';
    else if (length > 0) {
      this.state = 'body';
      this.remaining = length;
    } else this.state = 'head';

    if (requestLine[1] !== 'LIST') return head;
    lines[0] = `GET ${requestLine[2]} ${requestLine[3]}`;
    lines.splice(1, 0, `${LIST_MARKER_HEADER}: ${this.nonce}`);
    return Buffer.from(lines.join('\r\n'), 'latin1');
  }
}

/** A socket whose incoming bytes pass through a ListVerbRewriter; writes go straight through. */
export class ListVerbSocket extends Duplex {
  private readonly rewriter: ListVerbRewriter;

  constructor(
    readonly inner: Socket,
    nonce: string,
  ) {
    super();
    this.rewriter = new ListVerbRewriter(nonce);
    inner.on('data', (chunk: Buffer) => {
      for (const part of this.rewriter.push(chunk)) if (!this.push(part)) inner.pause();
    });
    inner.on('end', () => this.push(null));
    inner.on('timeout', () => this.emit('timeout'));
    inner.on('error', (err) => this.destroy(err));
    inner.on('close', () => this.destroy());
  }

  override _read(): void {
    this.inner.resume();
  }

  override _write(chunk: Buffer, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.inner.write(chunk, encoding, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.inner.end(() => callback());
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.inner.destroy();
    callback(error);
  }

  // What http.Server and request handlers read or call on a socket.
  get remoteAddress() {
    return this.inner.remoteAddress;
  }
  get remotePort() {
    return this.inner.remotePort;
  }
  get remoteFamily() {
    return this.inner.remoteFamily;
  }
  get localAddress() {
    return this.inner.localAddress;
  }
  get localPort() {
    return this.inner.localPort;
  }
  address() {
    return this.inner.address();
  }
  setTimeout(ms: number, callback?: () => void): this {
    this.inner.setTimeout(ms);
    if (callback) this.once('timeout', callback);
    return this;
  }
  setNoDelay(noDelay?: boolean): this {
    this.inner.setNoDelay(noDelay);
    return this;
  }
  setKeepAlive(enable?: boolean, delay?: number): this {
    this.inner.setKeepAlive(enable, delay);
    return this;
  }
}
