import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Dispatcher } from '../../core/dispatcher.js';
import type { CommandRegistry } from '../../core/command-registry.js';
import type { Identity } from '../../plan/model.js';
import { parseShellLine } from './parse-line.js';
import { expandHome } from './paths.js';
import type { ShellOutput } from './shell-notifier.js';
import type { ShellTerminal } from './terminal.js';

export { SHELL_CONVERSATION } from '../../messages/conversations.js';
import { SHELL_CONVERSATION } from '../../messages/conversations.js';

export function shellIdentity(name: string): Identity {
  return { platform: 'shell', id: name, name, roles: [] };
}

export interface ShellOptions {
  dispatcher: Dispatcher;
  commands: CommandRegistry;
  out: ShellOutput;
  users: string[];
  /** Who you are when a line does not start with @USER. */
  user: string;
  input: Readable;
  /** Where the prompt and the echo of typed text go (a terminal). */
  output?: Writable;
  interactive: boolean;
  /** Resolves when what the line's jobs posted elsewhere has been printed (bot + separate workers). */
  settled?: () => Promise<void>;
  /** The interactive terminal (prompt, completion, history, status line); absent on a pipe. */
  terminal?: ShellTerminal;
  /** Subscribes to the steps of slow work this process waits for; returns the unsubscribe. */
  progress?: (listener: (step: string) => void) => () => void;
}

/** What the status line says while a line runs slowly. */
function workLabel(raw: string, commands: CommandRegistry): string {
  const line = parseShellLine(raw, commands);
  if (line.kind === 'decide') return line.action === 'approve' ? 'approving' : 'rejecting';
  if (line.kind !== 'command') return 'working';
  return commands.get(line.name)?.kind === 'change' ? 'planning' : `running /${line.name}`;
}

/**
 * The terminal chat. Lines are handled one at a time, each waiting until the jobs it started
 * have settled, so `approve` always sees the plan of the line before. Resolves with the exit
 * status: 0 when every line was handled (a refusal is handled), 1 when any hit a fault.
 */
export async function runShell(o: ShellOptions): Promise<number> {
  const terminal = o.terminal;
  const rl = terminal?.rl ?? createInterface({ input: o.input, ...(o.interactive && o.output ? { output: o.output, terminal: true } : { terminal: false }), crlfDelay: Infinity });
  const prompt = () => {
    if (terminal) terminal.prompt();
    else if (o.interactive) {
      rl.setPrompt(`${o.user}> `);
      rl.prompt();
    }
  };
  let faults = 0;

  const handle = async (raw: string): Promise<void> => {
    // Given the registry, a mistyped command, subcommand or option is refused here with the nearest name.
    const line = parseShellLine(raw, o.commands);
    if (line.kind === 'empty') return;
    const name = line.as ?? o.user;
    if (!o.users.includes(name)) {
      o.out.message({ kind: 'refusal', text: `unknown shell user ${name}; users: ${o.users.join(', ') || '(none configured in shell.users)'}` });
      return;
    }
    if (line.kind === 'invalid') {
      o.out.message({ kind: 'refusal', text: line.message });
      return;
    }
    if (line.kind === 'command') line.options = expandHome(line.options, o.commands.get(line.name)?.options.shape as never);
    const who = shellIdentity(name);
    const outcome =
      line.kind === 'decide'
        ? await o.dispatcher.decide({ action: line.action, planId: line.planId }, who, SHELL_CONVERSATION, { waitForApply: true })
        : await o.dispatcher.command({ name: line.name, options: line.options, text: line.text }, who, SHELL_CONVERSATION, { waitForApply: true });
    await o.settled?.();
    for (const r of outcome.replies) o.out.message(r);
    if (outcome.fault) faults++;
  };

  const unsubscribe = terminal && o.progress?.((step) => terminal.progress(step));
  prompt();
  try {
    for await (const raw of rl) {
      if (terminal && raw.trim()) terminal.busy(workLabel(raw, o.commands));
      try {
        await handle(raw);
      } catch (err) {
        faults++;
        o.out.message({ kind: 'error', text: `unexpected failure: ${(err as Error).message}` });
      }
      if (terminal) terminal.idle();
      else prompt();
    }
  } finally {
    unsubscribe?.();
  }
  return faults ? 1 : 0;
}
