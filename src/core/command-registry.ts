import type { CommandModule } from './command.js';

/**
 * Collects the commands (declared with defineCommand, whose types already require the handler
 * each kind needs); refuses bad names and duplicates. A broken one stops startup, named.
 */
export class CommandRegistry {
  private readonly byName = new Map<string, CommandModule>();

  constructor(modules: readonly CommandModule[]) {
    for (const m of modules) {
      const problems: string[] = [];
      const { name } = m;
      if (!/^[a-z][a-z-]*( [a-z][a-z-]*)?$/.test(name)) problems.push('name must be "cmd" or "cmd sub" in lowercase');
      if (!m.description || m.description.length > 100) problems.push('description must be 1–100 characters');
      if (problems.length) throw new Error(`command module ${name}: ${problems.join('; ')}`);
      if (this.byName.has(name)) throw new Error(`command /${name} is defined twice`);
      this.byName.set(name, m);
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
