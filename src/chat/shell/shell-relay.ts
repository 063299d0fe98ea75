import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Redis } from 'ioredis';
import type { Identity } from '../../plan/model.js';
import type { ConversationRef, MessageRef, OutMessage } from '../message.js';
import type { ChatNotifier, DmResult, OutgoingFile } from '../notifier.js';
import type { ShellOutput } from './shell-notifier.js';

interface Relayed {
  msg: OutMessage;
  messageId?: string;
  edit?: boolean;
  to?: string;
}

/**
 * The shell chat's notifier in a `labgate worker` that runs apart from `labgate bot`: what it
 * posts goes through a Redis stream to the bot's terminal. A DM's text can hold a secret (a
 * passphrase), so it never enters the stream: DM texts and files are written under the DM
 * folder (mode 0600), and the stream carries only where they are.
 */
export class ShellRelayNotifier implements ChatNotifier {
  private next = 1;

  constructor(
    private readonly redis: Redis,
    private readonly stream: string,
    private readonly dmFolder: string,
  ) {}

  private async send(r: Relayed): Promise<void> {
    await this.redis.xadd(this.stream, 'MAXLEN', '~', '1000', '*', 'm', JSON.stringify(r));
  }

  async post(to: ConversationRef, msg: OutMessage): Promise<MessageRef> {
    const messageId = `w${process.pid}-${this.next++}`;
    await this.send({ msg, messageId });
    return { conversation: to, messageId };
  }

  async edit(ref: MessageRef, msg: OutMessage): Promise<void> {
    await this.send({ msg, messageId: ref.messageId, edit: true });
  }

  async dm(to: Identity, msgs: OutMessage[], files: OutgoingFile[] = []): Promise<DmResult> {
    const dir = resolve(this.dmFolder, to.id.replace(/[^a-zA-Z0-9._-]/g, '_'));
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const written: { name: string; path: string }[] = [];
    for (const [i, m] of msgs.entries()) {
      const path = join(dir, `message-${stamp}-${i + 1}.txt`);
      await writeFile(path, [m.text, ...(m.lines ?? [])].join('\n') + '\n', { mode: 0o600 });
      written.push({ name: `message ${i + 1}`, path });
    }
    for (const f of files) {
      const path = join(dir, f.name.replace(/[/\\]/g, '_'));
      await writeFile(path, f.data, { mode: 0o600 });
      written.push({ name: f.name, path });
    }
    await this.send({ to: to.name, msg: { kind: 'dm', text: `${msgs.length} message${msgs.length === 1 ? '' : 's'} and ${files.length} file${files.length === 1 ? '' : 's'} for ${to.name}, written under ${dir}`, files: written } });
    return { delivered: true, files: written.filter((w) => files.some((f) => w.path.endsWith(f.name.replace(/[/\\]/g, '_')))) };
  }
}

/**
 * The bot side: prints what workers relay, in order. `caughtUp()` resolves once everything
 * relayed so far has been printed, so a line's output is complete before the next line runs.
 */
export class ShellRelayReader {
  /** Undefined until the stream's tip is known (Redis was down when the reader started). */
  private last?: string;
  private printedUpTo = '0-0';
  private stopped = false;
  private waiters: { id: string; resolve: () => void }[] = [];
  private loop?: Promise<void>;

  private constructor(
    private readonly blocking: Redis,
    private readonly client: Redis,
    private readonly stream: string,
    private readonly out: ShellOutput,
  ) {}

  /** Starts reading after what the stream holds now (older messages belong to earlier sessions). */
  static async start(blocking: Redis, client: Redis, stream: string, out: ShellOutput): Promise<ShellRelayReader> {
    const r = new ShellRelayReader(blocking, client, stream, out);
    const tip = await client.xrevrange(stream, '+', '-', 'COUNT', 1).catch(() => undefined);
    if (tip) r.last = r.printedUpTo = tip[0]?.[0] ?? '0-0';
    r.loop = r.run();
    return r;
  }

  private static after(a: string, b: string): boolean {
    const [am, as] = a.split('-').map(Number) as [number, number];
    const [bm, bs] = b.split('-').map(Number) as [number, number];
    return am > bm || (am === bm && as >= bs);
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      if (this.last === undefined) {
        // Redis is back: what the stream already holds belongs to earlier sessions.
        const tip = await this.blocking.xrevrange(this.stream, '+', '-', 'COUNT', 1).catch(() => undefined);
        if (tip) this.last = this.printedUpTo = tip[0]?.[0] ?? '0-0';
        else await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      const res = (await this.blocking.xread('BLOCK', 500, 'STREAMS', this.stream, this.last).catch(() => null)) as [string, [string, string[]][]][] | null;
      for (const [, entries] of res ?? []) {
        for (const [id, fields] of entries) {
          const r = JSON.parse(fields[1]!) as Relayed;
          this.out.message(r.msg, { messageId: r.messageId, edit: r.edit, to: r.to });
          this.last = this.printedUpTo = id;
        }
      }
      this.waiters = this.waiters.filter((w) => (ShellRelayReader.after(this.printedUpTo, w.id) ? (w.resolve(), false) : true));
    }
  }

  async caughtUp(): Promise<void> {
    const tip = await this.client.xrevrange(this.stream, '+', '-', 'COUNT', 1).catch(() => []);
    const id = tip[0]?.[0];
    if (!id || ShellRelayReader.after(this.printedUpTo, id)) return;
    await new Promise<void>((resolve) => this.waiters.push({ id, resolve }));
  }

  async close(): Promise<void> {
    this.stopped = true;
    // Bounded: while Redis is down the loop waits on a command that only disconnecting ends.
    await Promise.race([this.loop, new Promise((r) => setTimeout(r, 1000).unref())]);
    for (const w of this.waiters) w.resolve();
    this.blocking.disconnect();
  }
}
