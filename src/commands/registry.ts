import { z } from 'zod';
import type { CommandModule } from './types.js';

const KINDS = ['change', 'read', 'local'] as const;
const HANDLER_OF = { change: 'plan', read: 'report', local: 'answer' } as const;

/**
 * Collects command modules: checks each has every part its kind needs and refuses
 * duplicate names. A broken module stops startup with a message naming it.
 */
export class CommandRegistry {
  private readonly byName = new Map<string, CommandModule>();

  constructor(modules: readonly Record<string, unknown>[]) {
    for (const m of modules) {
      const problems: string[] = [];
      const name = m.name;
      if (typeof name !== 'string' || !/^[a-z][a-z-]*( [a-z][a-z-]*)?$/.test(name)) problems.push('name must be "cmd" or "cmd sub" in lowercase');
      if (typeof m.description !== 'string' || !m.description || (m.description as string).length > 100) problems.push('description must be 1–100 characters');
      if (!(m.options instanceof z.ZodObject)) problems.push('options must be a zod object');
      if (!KINDS.includes(m.kind as never)) problems.push(`kind must be one of ${KINDS.join(', ')}`);
      else if (typeof m[HANDLER_OF[m.kind as (typeof KINDS)[number]]] !== 'function')
        problems.push(`a ${String(m.kind)} command must export ${HANDLER_OF[m.kind as (typeof KINDS)[number]]}()`);
      if (!Array.isArray(m.examples)) problems.push('examples must be an array');
      if (problems.length) throw new Error(`command module ${String(name)}: ${problems.join('; ')}`);
      if (this.byName.has(name as string)) throw new Error(`command /${String(name)} is defined twice`);
      this.byName.set(name as string, m as unknown as CommandModule);
    }
    for (const n of this.byName.keys()) {
      const top = n.split(' ')[0]!;
      if (n.includes(' ') && this.byName.has(top)) throw new Error(`/${top} cannot be both a command and a group of subcommands`);
    }
  }

  get(name: string): CommandModule | undefined {
    return this.byName.get(name);
  }

  all(): CommandModule[] {
    return [...this.byName.values()];
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  /** Subcommand names of a group ("route" → ["mode", "list"]). */
  subcommandsOf(top: string): string[] {
    return this.names()
      .filter((n) => n.startsWith(`${top} `))
      .map((n) => n.slice(top.length + 1));
  }
}
