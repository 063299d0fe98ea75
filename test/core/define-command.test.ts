import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { commandModules } from '../../src/commands/index.js';
import { CommandRegistry } from '../../src/core/command-registry.js';
import { defineCommand } from '../../src/core/command.js';

// The type checks here are what the suite's `tsc` run enforces; the assertions check the values.
describe('commands are typed by kind', () => {
  it('GIVEN a change command without plan() THEN it does not compile', () => {
    const bad = defineCommand({
      name: 'broken',
      description: 'a change command that forgot to plan',
      options: z.object({}),
      examples: [],
      kind: 'change',
      // @ts-expect-error a change command must have plan(), not report()
      report: async () => ({ kind: 'info' as const, text: 'nothing' }),
    });
    expect(bad.kind).toBe('change');
  });

  it('GIVEN the kind is known THEN its handler is there without a non-null assertion', () => {
    const registry = new CommandRegistry(commandModules);
    const expose = registry.get('expose')!;
    expect(expose.kind).toBe('change');
    if (expose.kind === 'change') expect(typeof expose.plan).toBe('function');
    const kinds = Object.fromEntries(registry.all().map((c) => [c.name, c.kind]));
    expect(kinds).toMatchObject({ expose: 'change', 'route list': 'read', help: 'local', audit: 'local' });
    for (const c of registry.all()) expect(typeof (c.kind === 'change' ? c.plan : c.kind === 'read' ? c.report : c.answer)).toBe('function');
  });

  it('GIVEN two commands with one name THEN the registry refuses to start, naming it', () => {
    expect(() => new CommandRegistry([commandModules[0]!, commandModules[0]!])).toThrow(`command /${commandModules[0]!.name} is defined twice`);
  });
});
