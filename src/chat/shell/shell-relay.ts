import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { Identity } from '../../plan/model.js';
import { SHELL_BROADCAST } from '../../messages/conversations.js';
import type { ConversationRef, MessageRef, OutMessage } from '../../messages/message.js';
import type { ChatNotifier, DmResult, OutgoingFile } from '../../messages/notifier.js';
import { writeDmFiles, type ShellOutput } from './shell-notifier.js';

interface Relayed {
  msg: OutMessage;
  messageId?: string;
  edit?: boolean;
  to?: string;
  /** The shell channel of the process that sent it (it printed it itself already). */
  origin?: string;
}

/**
 * Carries shell messages between processes on one Redis: one stream per shell conversation, so
 * a shell reads only its own, plus the broadcast streams (alerts). A DM's text can hold a secret
 * (a passphrase), so it never enters a stream: DM texts and files are written under the DM
 * folder (mode 0600), and the stream carries only where they are.
 */
export class ShellRelay {
  constructor(
    private readonly redis: Redis,
    private readonly streamOf: (channel: string) => string,
    private readonly dmFolder: string,
    /** This process's own shell channel, if it has one. */
    private readonly origin?: string,
  ) {}

  async send(to: ConversationRef, r: Relayed): Promise<void> {
    if (to.platform !== 'shell') throw new Error(`the shell relay cannot reach a ${to.platform} conversation`);
    await this.redis.xadd(this.streamOf(to.channel), 'MAXLEN', '~', '1000', '*', 'm', JSON.stringify({ ...r, ...(this.origin ? { origin: this.origin } : {}) }));
  }

  async dm(via: ConversationRef, to: Identity, msgs: OutMessage[], files: OutgoingFile[]): Promise<DmResult> {
    const { dir, written } = await writeDmFiles(this.dmFolder, to, files);
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const texts: { name: string; path: string }[] = [];
    for (const [i, m] of msgs.entries()) {
      const path = join(dir, `message-${stamp}-${i + 1}.txt`);
      await writeFile(path, [m.text, ...(m.lines ?? [])].join('\n') + '\n', { mode: 0o600 });
      texts.push({ name: `message ${i + 1}`, path });
    }
    await this.send(via, {
      to: to.name,
      msg: { kind: 'dm', text: `${msgs.length} message${msgs.length === 1 ? '' : 's'} and ${files.length} file${files.length === 1 ? '' : 's'} for ${to.name}, written under ${dir}`, files: [...texts, ...written] },
    });
    return { delivered: true, files: written };
  }
}

/** The notifier of a process without a terminal (`labgate worker`): everything shell-bound is relayed. */
export class ShellRelayNotifier implements ChatNotifier {
  private next = 1;

  constructor(private readonly relay: ShellRelay) {}

  async post(to: ConversationRef, msg: OutMessage): Promise<MessageRef> {
    const messageId = `w${process.pid}-${this.next++}`;
    await this.relay.send(to, { msg, messageId });
    return { conversation: to, messageId };
  }

  async edit(ref: MessageRef, msg: OutMessage): Promise<void> {
    await this.relay.send(ref.conversation, { msg, messageId: ref.messageId, edit: true });
  }

  async dm(to: Identity, msgs: OutMessage[], files: OutgoingFile[] = [], via?: ConversationRef): Promise<DmResult> {
    return this.relay.dm(via ?? { platform: 'shell', channel: SHELL_BROADCAST.alerts }, to, msgs, files);
  }
}

/**
 * The terminal side: prints what other processes relay to this shell's conversation and to the
 * broadcast channels, in order. `caughtUp()` resolves once everything relayed so far has been
 * printed, so a line's output is complete before the next line runs.
 */
export class ShellRelayReader {
  /** Per stream, the last id seen; absent until its tip is known (Redis was down when the reader started). */
  private readonly last = new Map<string, string>();
  private stopped = false;
  private waiters: { stream: string; id: string; resolve: () => void }[] = [];
  private loop?: Promise<void>;

  private constructor(
    private readonly blocking: Redis,
    private readonly client: Redis,
    private readonly streams: string[],
    private readonly out: ShellOutput,
    private readonly origin: string,
  ) {}

  /** Starts reading after what the streams hold now (older messages belong to earlier sessions). */
  static async start(blocking: Redis, client: Redis, opts: { channel: string; streamOf: (channel: string) => string; out: ShellOutput }): Promise<ShellRelayReader> {
    const streams = [opts.channel, ...Object.values(SHELL_BROADCAST)].map(opts.streamOf);
    const r = new ShellRelayReader(blocking, client, streams, opts.out, opts.channel);
    await r.learnTips(client);
    r.loop = r.run();
    return r;
  }

  /** What the streams already hold belongs to earlier sessions: start after it. False while Redis is down. */
  private async learnTips(via: Redis): Promise<boolean> {
    for (const s of this.streams) {
      if (this.last.has(s)) continue;
      const t = await via.xrevrange(s, '+', '-', 'COUNT', 1).catch(() => undefined);
      if (!t) return false;
      this.last.set(s, t[0]?.[0] ?? '0-0');
    }
    return true;
  }

  private async tip(stream: string): Promise<string | undefined> {
    const t = await this.client.xrevrange(stream, '+', '-', 'COUNT', 1).catch(() => []);
    return t[0]?.[0];
  }

  private static after(a: string, b: string): boolean {
    const [am, as] = a.split('-').map(Number) as [number, number];
    const [bm, bs] = b.split('-').map(Number) as [number, number];
    return am > bm || (am === bm && as >= bs);
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      if (this.last.size < this.streams.length) {
        if (!(await this.learnTips(this.blocking))) await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      const res = (await this.blocking.xread('BLOCK', 500, 'STREAMS', ...this.streams, ...this.streams.map((s) => this.last.get(s)!)).catch(() => null)) as [string, [string, string[]][]][] | null;
      for (const [stream, entries] of res ?? []) {
        for (const [id, fields] of entries) {
          const r = JSON.parse(fields[1]!) as Relayed;
          if (r.origin !== this.origin) this.out.message(r.msg, { messageId: r.messageId, edit: r.edit, to: r.to });
          this.last.set(stream, id);
        }
      }
      this.waiters = this.waiters.filter((w) => (ShellRelayReader.after(this.last.get(w.stream)!, w.id) ? (w.resolve(), false) : true));
    }
  }

  async caughtUp(): Promise<void> {
    const own = this.streams[0]!;
    const id = await this.tip(own);
    const seen = this.last.get(own);
    if (!id || !seen || ShellRelayReader.after(seen, id)) return;
    await new Promise<void>((resolve) => this.waiters.push({ stream: own, id, resolve }));
  }

  async close(): Promise<void> {
    this.stopped = true;
    // With Redis down a read on the blocking connection waits forever: wait for the loop a little, then cut it.
    await Promise.race([this.loop, new Promise<void>((r) => setTimeout(r, 1_000).unref())]);
    for (const w of this.waiters) w.resolve();
    this.blocking.disconnect();
  }
}
