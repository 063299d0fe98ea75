import { mkdir, writeFile, chmod } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Identity } from '../../plan/model.js';
import { isBroadcast } from '../../messages/conversations.js';
import type { ConversationRef, MessageRef, OutMessage } from '../../messages/message.js';
import type { ChatNotifier, DmResult, OutgoingFile } from '../../messages/notifier.js';
import { renderShellMessage } from './render.js';

/** Where shell output goes: text for people, or one JSON object per line for programs. */
export class ShellOutput {
  constructor(
    private readonly write: (line: string) => void,
    readonly json: boolean,
    readonly colour: boolean,
    /** The terminal's width now (it can change while the shell runs); undefined on a pipe. */
    private readonly width: () => number | undefined = () => undefined,
  ) {}

  message(msg: OutMessage, extra: { messageId?: string; edit?: boolean; to?: string; reply?: boolean } = {}): void {
    if (this.json) this.write(JSON.stringify({ ...msg, ...extra }));
    else this.write((extra.to ? `DM to ${extra.to}: ` : '') + renderShellMessage(msg, { colour: this.colour, edit: extra.edit, width: this.width() }));
  }

  note(text: string): void {
    if (!this.json) this.write(text);
  }
}

/** Writes a DM's files under the DM folder (mode 0600): the only copy outside memory. */
export async function writeDmFiles(dmFolder: string, to: Identity, files: OutgoingFile[]): Promise<{ dir: string; written: { name: string; path: string }[] }> {
  const dir = resolve(dmFolder, to.id.replace(/[^a-zA-Z0-9._-]/g, '_'));
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const written: { name: string; path: string }[] = [];
  for (const f of files) {
    const path = join(dir, f.name.replace(/[/\\]/g, '_'));
    await writeFile(path, f.data, { mode: 0o600 });
    await chmod(path, 0o600);
    written.push({ name: f.name, path });
  }
  return { dir, written };
}

/**
 * The shell chat's notifier in a process that has a terminal. What belongs to this process's
 * conversation is printed here; what a worker in this process does for another shell's
 * conversation is relayed to that shell through Redis (with `relay`), and broadcasts (alerts)
 * are printed here and relayed to every other shell. Without a relay (tests, a lone shell),
 * everything is printed here.
 */
/** Where messages for another shell's conversation go (ShellRelay, src/chat/shell/shell-relay.ts). */
export interface RelaySink {
  send(to: ConversationRef, r: { msg: OutMessage; messageId: string; edit?: boolean }): Promise<void>;
  dm(via: ConversationRef, to: Identity, msgs: OutMessage[], files: OutgoingFile[]): Promise<DmResult>;
}

export class ShellNotifier implements ChatNotifier {
  private next = 1;

  constructor(
    private readonly out: ShellOutput,
    private readonly dmFolder: string,
    private readonly opts: { channel?: string; relay?: RelaySink } = {},
  ) {}

  private mine(to: ConversationRef): boolean {
    return !this.opts.relay || (to.platform === 'shell' && to.channel === this.opts.channel);
  }

  async post(to: ConversationRef, msg: OutMessage): Promise<MessageRef> {
    const messageId = `m${process.pid}-${this.next++}`;
    if (this.mine(to) || isBroadcast(to)) this.out.message(msg, { messageId });
    if (!this.mine(to)) await this.opts.relay!.send(to, { msg, messageId });
    return { conversation: to, messageId };
  }

  async edit(ref: MessageRef, msg: OutMessage): Promise<void> {
    if (this.mine(ref.conversation) || isBroadcast(ref.conversation)) this.out.message(msg, { messageId: ref.messageId, edit: true });
    if (!this.mine(ref.conversation)) await this.opts.relay!.send(ref.conversation, { msg, messageId: ref.messageId, edit: true });
  }

  async dm(to: Identity, msgs: OutMessage[], files: OutgoingFile[] = [], via?: ConversationRef): Promise<DmResult> {
    if (via && !this.mine(via)) return this.opts.relay!.dm(via, to, msgs, files);
    const { written } = await writeDmFiles(this.dmFolder, to, files);
    for (const [i, msg] of msgs.entries()) {
      // Files travel with the first message, as a Discord DM would carry them.
      const withFiles = i === 0 && written.length ? { ...msg, files: written.map((w) => ({ name: w.name, path: w.path })) } : msg;
      this.out.message(withFiles, { to: to.name });
    }
    return { delivered: true, files: written };
  }
}
