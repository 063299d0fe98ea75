import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Dispatcher } from '../../core/dispatcher.js';
import type { CommandRegistry } from '../../commands/registry.js';
import type { Identity } from '../../plan/model.js';
import { parseShellLine } from './parse-line.js';
import type { ShellOutput } from './shell-notifier.js';

export { SHELL_CONVERSATION } from '../conversations.js';
import { SHELL_CONVERSATION } from '../conversations.js';

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
}

/**
 * The terminal chat. Lines are handled one at a time, each waiting until the jobs it started
 * have settled, so `approve` always sees the plan of the line before. Resolves with the exit
 * status: 0 when every line was handled (a refusal is handled), 1 when any hit a fault.
 */
export async function runShell(o: ShellOptions): Promise<number> {
  const rl = createInterface({ input: o.input, ...(o.interactive && o.output ? { output: o.output, terminal: true } : { terminal: false }), crlfDelay: Infinity });
  const isGroup = (name: string) => o.commands.subcommandsOf(name).length > 0;
  const prompt = () => {
    if (o.interactive) {
      rl.setPrompt(`${o.user}> `);
      rl.prompt();
    }
  };
  let faults = 0;

  const handle = async (raw: string): Promise<void> => {
    const line = parseShellLine(raw, isGroup);
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
    const who = shellIdentity(name);
    const outcome =
      line.kind === 'decide'
        ? await o.dispatcher.decide({ action: line.action, planId: line.planId }, who, SHELL_CONVERSATION, { waitForApply: true })
        : await o.dispatcher.command({ name: line.name, options: line.options, text: line.text }, who, SHELL_CONVERSATION, { waitForApply: true });
    await o.settled?.();
    for (const r of outcome.replies) o.out.message(r);
    if (outcome.fault) faults++;
  };

  prompt();
  for await (const raw of rl) {
    try {
      await handle(raw);
    } catch (err) {
      faults++;
      o.out.message({ kind: 'error', text: `unexpected failure: ${(err as Error).message}` });
    }
    prompt();
  }
  return faults ? 1 : 0;
}
