import { mkdir, writeFile, chmod } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Identity } from '../../plan/model.js';
import type { ConversationRef, MessageRef, OutMessage } from '../message.js';
import type { ChatNotifier, DmResult, OutgoingFile } from '../notifier.js';
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

  message(msg: OutMessage, extra: { messageId?: string; edit?: boolean; to?: string } = {}): void {
    if (this.json) this.write(JSON.stringify({ ...msg, ...extra }));
    else this.write((extra.to ? `DM to ${extra.to}: ` : '') + renderShellMessage(msg, { colour: this.colour, edit: extra.edit, width: this.width() }));
  }

  note(text: string): void {
    if (!this.json) this.write(text);
  }
}

/**
 * The shell chat's notifier: prints what workers post; DMs are printed to the terminal and
 * their files written under the DM folder (mode 0600), as the only copy outside memory.
 */
export class ShellNotifier implements ChatNotifier {
  private next = 1;

  constructor(
    private readonly out: ShellOutput,
    private readonly dmFolder: string,
  ) {}

  async post(to: ConversationRef, msg: OutMessage): Promise<MessageRef> {
    const messageId = `m${this.next++}`;
    this.out.message(msg, { messageId });
    return { conversation: to, messageId };
  }

  async edit(ref: MessageRef, msg: OutMessage): Promise<void> {
    this.out.message(msg, { messageId: ref.messageId, edit: true });
  }

  async dm(to: Identity, msgs: OutMessage[], files: OutgoingFile[] = []): Promise<DmResult> {
    const dir = resolve(this.dmFolder, to.id.replace(/[^a-zA-Z0-9._-]/g, '_'));
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const written: { name: string; path: string }[] = [];
    for (const f of files) {
      const path = join(dir, f.name.replace(/[/\\]/g, '_'));
      await writeFile(path, f.data, { mode: 0o600 });
      await chmod(path, 0o600);
      written.push({ name: f.name, path });
    }
    for (const [i, msg] of msgs.entries()) {
      // Files travel with the first message, as a Discord DM would carry them.
      const withFiles = i === 0 && written.length ? { ...msg, files: written.map((w) => ({ name: w.name, path: w.path })) } : msg;
      this.out.message(withFiles, { to: to.name });
    }
    return { delivered: true, files: written };
  }
}
