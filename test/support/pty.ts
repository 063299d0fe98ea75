import { spawn, type ChildProcess } from 'node:child_process';
import xtermHeadless from '@xterm/headless';

const { Terminal } = xtermHeadless;

export interface PtyOptions {
  env: Record<string, string>;
  cwd: string;
  cols?: number;
  rows?: number;
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Drops terminal escape sequences and carriage returns: the text as printed. */
export const plain = (s: string) => s.replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r/g, '');

/**
 * A program in a pseudo-terminal, driven as a person types: util-linux `script` gives it a real
 * tty of the given size (stdin and stdout are terminals, so readline, colour and widths behave
 * as they do for a person), and xterm.js (headless) keeps the screen, so a test reads what a
 * person would see. `raw` keeps every byte written, escape sequences included.
 */
export class Pty {
  raw = '';
  readonly child: ChildProcess;
  private readonly term: InstanceType<typeof Terminal>;
  private readonly closed: Promise<number | null>;

  constructor(command: string, o: PtyOptions) {
    const cols = o.cols ?? 100;
    const rows = o.rows ?? 40;
    this.term = new Terminal({ cols, rows, scrollback: 5000, allowProposedApi: true });
    // `stty` sizes the tty before the program starts; script -e passes its exit status on.
    const inner = `stty cols ${cols} rows ${rows}; exec ${command}`;
    this.child = spawn('script', ['-q', '-e', '-f', '-c', inner, '/dev/null'], {
      cwd: o.cwd,
      env: { TERM: 'xterm-256color', ...o.env, SHELL: '/bin/sh' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (d: string) => {
      this.raw += d;
      this.term.write(d);
    });
    this.child.stderr!.resume();
    this.closed = new Promise((resolve) => this.child.on('close', (code) => resolve(code)));
  }

  /** Runs argv (quoted for the shell) in a new pseudo-terminal. */
  static run(argv: string[], o: PtyOptions): Pty {
    return new Pty(argv.map(quote).join(' '), o);
  }

  /** Keys as typed: text, "\t" for Tab, "\r" for Enter, "\x1b[A" for Up, "\x04" for Ctrl-D. */
  type(keys: string): void {
    this.child.stdin!.write(keys);
  }

  /** Every line of the screen and its scrollback, right-trimmed. */
  lines(): string[] {
    const b = this.term.buffer.active;
    const out: string[] = [];
    for (let i = 0; i < b.length; i++) out.push(b.getLine(i)!.translateToString(true));
    while (out.length && !out[out.length - 1]) out.pop();
    return out;
  }

  screen(): string {
    return this.lines().join('\n');
  }

  /** The line the cursor is on (the prompt and what is typed at it). */
  cursorLine(): string {
    const b = this.term.buffer.active;
    return b.getLine(b.baseY + b.cursorY)!.translateToString(true);
  }

  /** Bounded poll until `test` holds for the screen; returns the screen. */
  async waitFor(test: RegExp | ((screen: string) => boolean), what: string, timeoutMs = 30_000): Promise<string> {
    const ok = typeof test === 'function' ? test : (s: string) => test.test(s);
    const until = Date.now() + timeoutMs;
    for (;;) {
      // xterm parses asynchronously: let it catch up with what arrived.
      await new Promise<void>((r) => this.term.write('', r));
      const s = this.screen();
      if (ok(s)) return s;
      if (this.child.exitCode !== null || Date.now() > until) throw new Error(`${what}: not seen ${this.child.exitCode !== null ? `(exited ${this.child.exitCode})` : `within ${timeoutMs} ms`}; screen:\n${s}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Waits until the process has ended; returns its exit code. */
  exit(): Promise<number | null> {
    return this.closed;
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}
