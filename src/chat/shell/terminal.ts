import { clearScreenDown, createInterface, cursorTo, moveCursor, type Interface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Completion } from './completer.js';
import { HISTORY_SIZE, loadHistory, saveHistory } from './history.js';

export interface TerminalOptions {
  input: Readable;
  output: Writable;
  prompt: string;
  colour: boolean;
  completer?: (lineToCursor: string) => Promise<Completion>;
  /** Lines typed are kept here across restarts; none when absent. */
  historyFile?: string;
}

/** How long work may run before the terminal says it is working on it. */
export const PROGRESS_AFTER_MS = 300;

/**
 * The interactive shell chat's terminal: readline with completion and saved history, plus the
 * rule that anything printed while someone types (an alert from a worker) goes above the prompt,
 * and the prompt comes back with what was typed. While a line runs the prompt is away and input
 * waits; after PROGRESS_AFTER_MS a status line says what is happening ("planning… asking 3
 * nodes: 1 done") and is rewritten in place. Nothing of that status reaches a pipe or --json.
 */
export class ShellTerminal {
  readonly rl: Interface;
  private working = false;
  /** The status line as shown, when it is. */
  private status?: string;
  private label = '';
  private step?: string;
  private timer?: NodeJS.Timeout;

  constructor(private readonly o: TerminalOptions) {
    this.rl = createInterface({
      input: o.input,
      output: o.output,
      terminal: true,
      prompt: o.prompt,
      historySize: HISTORY_SIZE,
      history: o.historyFile ? loadHistory(o.historyFile) : [],
      removeHistoryDuplicates: true,
      ...(o.completer ? { completer: (line: string, cb: (err: Error | null, result: Completion) => void) => void o.completer!(line).then((r) => cb(null, r), () => cb(null, [[], line])) } : {}),
    });
    if (o.historyFile) this.rl.on('history', (h: string[]) => saveHistory(o.historyFile!, h));
    // Ctrl-C clears what was typed, as a shell does; on an empty line it quits like Ctrl-D.
    this.rl.on('SIGINT', () => {
      if (!this.rl.line) return this.rl.close();
      this.o.output.write('^C\n');
      (this.rl as unknown as { line: string; cursor: number }).line = '';
      (this.rl as unknown as { cursor: number }).cursor = 0;
      this.prompt();
    });
  }

  private dim(text: string): string {
    return this.o.colour ? `\x1b[2m${text}\x1b[0m` : text;
  }

  /** Prints a message: above the prompt and what is typed at it, or above the status line. */
  print(text: string): void {
    const out = this.o.output;
    if (this.working) {
      if (this.status !== undefined) this.clearRow();
      out.write(text + '\n');
      if (this.status !== undefined) out.write(this.dim(this.status));
      return;
    }
    // Back to the prompt's first row (the typed line may wrap), clear, print, then redraw prompt and line.
    const rows = this.rl.getCursorPos().rows;
    if (rows) moveCursor(out, 0, -rows);
    cursorTo(out, 0);
    clearScreenDown(out);
    out.write(text + '\n');
    // readline redraws relative to the row it last left the cursor on; that row is gone now.
    (this.rl as unknown as { prevRows: number }).prevRows = 0;
    this.rl.prompt(true);
  }

  prompt(): void {
    this.rl.prompt();
  }

  /** A line is running: input waits (typing ahead is kept) and, if it takes long, a status line shows `label`. */
  busy(label: string): void {
    this.working = true;
    this.status = undefined;
    this.rl.pause();
    this.label = label;
    this.timer = setTimeout(() => this.showStatus(label), PROGRESS_AFTER_MS);
  }

  /** The step slow work is on; shown once the status line is. */
  progress(step: string): void {
    this.step = step;
    if (this.working && this.status !== undefined) this.showStatus(this.label);
  }

  private showStatus(label: string): void {
    if (!this.working) return;
    const text = `${label}…${this.step ? ` ${this.step}` : ''}`;
    if (this.status !== undefined) this.clearRow();
    this.status = text;
    this.o.output.write(this.dim(text));
  }

  private clearRow(): void {
    cursorTo(this.o.output, 0);
    clearScreenDown(this.o.output);
  }

  /** The line is done: the status line goes, the prompt comes back, input resumes. */
  idle(): void {
    clearTimeout(this.timer);
    if (this.status !== undefined) this.clearRow();
    this.working = false;
    this.status = undefined;
    this.step = undefined;
    this.rl.resume();
    this.prompt();
  }

  close(): void {
    clearTimeout(this.timer);
    this.rl.close();
  }
}
