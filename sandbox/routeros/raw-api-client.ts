import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls, type ConnectionOptions } from 'node:tls';
import { encodeSentence, SentenceDecoder } from './api-words.js';

/**
 * A bare RouterOS API client with no opinions: writes sentences, hands back every reply
 * sentence as words. For tests and debugging the sandbox, where the real client libraries
 * would hide what is on the wire.
 */
export class RawApiClient {
  private readonly decoder = new SentenceDecoder();
  private readonly received: string[][] = [];
  private waiters: Array<() => void> = [];
  private ended = false;
  /** Resolves when the server closes the connection. */
  readonly closed: Promise<void>;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.received.push(...this.decoder.push(chunk));
      this.wake();
    });
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        this.ended = true;
        this.wake();
        resolve();
      });
    });
    socket.on('error', () => {});
  }

  /** Connects over plain TCP, or TLS when `tls` options are given. */
  static connect(host: string, port: number, tls?: ConnectionOptions): Promise<RawApiClient> {
    return new Promise((resolve, reject) => {
      const socket = tls ? connectTls({ host, port, ...tls }) : connectTcp({ host, port });
      socket.once(tls ? 'secureConnect' : 'connect', () => {
        socket.off('error', reject);
        resolve(new RawApiClient(socket));
      });
      socket.once('error', reject);
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Writes one sentence. */
  send(words: readonly string[]): void {
    this.socket.write(encodeSentence(words));
  }

  /** Writes raw bytes, e.g. a hand-made length prefix. */
  sendBytes(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** The next reply sentence; rejects after `timeoutMs` or when the connection closes first. */
  async next(timeoutMs = 2000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const sentence = this.received.shift();
      if (sentence) return sentence;
      if (this.ended) throw new Error('connection closed');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no reply within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Reply sentences up to and including the `!done` (of `tag`, when given). */
  async untilDone(tag?: string, timeoutMs = 2000): Promise<string[][]> {
    const out: string[][] = [];
    for (;;) {
      const sentence = await this.next(timeoutMs);
      out.push(sentence);
      if (sentence[0] === '!done' && (tag === undefined || sentence.includes(`.tag=${tag}`))) return out;
    }
  }

  /** Sends a sentence and returns its replies up to `!done`. */
  async talk(words: readonly string[], timeoutMs = 2000): Promise<string[][]> {
    this.send(words);
    const tag = words.find((w) => w.startsWith('.tag='))?.slice(5);
    return this.untilDone(tag, timeoutMs);
  }

  /** Logs in with the plain (6.43+) method; throws with the router's message on failure. */
  async login(name: string, password: string): Promise<void> {
    const replies = await this.talk(['/login', `=name=${name}`, `=password=${password}`]);
    const trap = replies.find((r) => r[0] === '!trap');
    if (trap) throw new Error(trap.find((w) => w.startsWith('=message='))?.slice(9) ?? 'login failed');
  }

  close(): void {
    this.socket.destroy();
  }
}
